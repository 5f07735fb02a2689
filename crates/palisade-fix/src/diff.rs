//! Unified diffs of two texts, line by line (Myers' shortest edit script).

/// One line of an edit script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// A unified diff from `old` to `new` with `context` lines around each change, headed
/// `--- a/<name>` and `+++ b/<name>`. Empty when the texts are equal. A line ending in a lone
/// `\r` (as every line of a file with carriage return line endings does) is a line of its own,
/// printed with a `\n` after it.
pub fn unified_diff(old: &str, new: &str, name: &str, context: usize) -> String {
    if old == new {
        return String::new();
    }
    let a = lines(old);
    let b = lines(new);
    let script = edit_script(&a, &b);
    let mut out = format!("--- a/{name}\n+++ b/{name}\n");
    // Indices into the script where changes are.
    let changes: Vec<usize> = script
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, Line::Same(_)))
        .map(|(i, _)| i)
        .collect();
    let mut i = 0;
    while i < changes.len() {
        let start = changes[i].saturating_sub(context);
        let mut end = changes[i];
        while i + 1 < changes.len() && changes[i + 1] <= end + 2 * context + 1 {
            i += 1;
            end = changes[i];
        }
        let end = (end + context + 1).min(script.len());
        let (old_start, new_start) = positions(&script[..start]);
        let (old_len, new_len) = positions(&script[start..end]);
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(old_start, old_len),
            range(new_start, new_len)
        ));
        for line in &script[start..end] {
            let (sign, text) = match line {
                Line::Same(t) => (' ', t),
                Line::Removed(t) => ('-', t),
                Line::Added(t) => ('+', t),
            };
            out.push(sign);
            out.push_str(text);
            if text.ends_with('\r') {
                out.push('\n');
            } else if !text.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
        i += 1;
    }
    out
}

/// The lines of a text with their line endings: `\n`, `\r\n` or a lone `\r`.
fn lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for (at, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(at + 1) != Some(&b'\n')) {
            out.push(&text[start..=at]);
            start = at + 1;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Lines of the old and new text in a part of the script.
fn positions(script: &[Line<'_>]) -> (usize, usize) {
    script.iter().fold((0, 0), |(a, b), l| match l {
        Line::Same(_) => (a + 1, b + 1),
        Line::Removed(_) => (a + 1, b),
        Line::Added(_) => (a, b + 1),
    })
}

fn range(before: usize, len: usize) -> String {
    match len {
        0 => format!("{before},0"),
        1 => format!("{}", before + 1),
        _ => format!("{},{len}", before + 1),
    }
}

/// The shortest edit script from `a` to `b`.
fn edit_script<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Line<'a>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (n + m) as usize;
    let offset = max as isize + 1;
    let mut v = vec![0isize; 2 * max + 3];
    // The frontier before each step d, for diagonals -d..=d (all that step reads).
    let mut trace: Vec<Vec<isize>> = Vec::new();
    'outer: for d in 0..=max as isize {
        trace.push(v[(offset - d) as usize..=(offset + d) as usize].to_vec());
        let mut k = -d;
        while k <= d {
            let idx = (k + offset) as usize;
            let mut x = if k == -d || (k != d && v[idx - 1] < v[idx + 1]) {
                v[idx + 1]
            } else {
                v[idx - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[idx] = x;
            if x >= n && y >= m {
                break 'outer;
            }
            k += 2;
        }
    }
    // Walk back through the saved frontiers.
    let mut script = Vec::new();
    let (mut x, mut y) = (n, m);
    for (d, v) in trace.iter().enumerate().rev() {
        let d = d as isize;
        let at = |k: isize| v[(k + d) as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && at(k - 1) < at(k + 1)) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = if d == 0 { 0 } else { at(prev_k) };
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            x -= 1;
            y -= 1;
            script.push(Line::Same(a[x as usize]));
        }
        if d > 0 {
            if x == prev_x {
                y -= 1;
                script.push(Line::Added(b[y as usize]));
            } else {
                x -= 1;
                script.push(Line::Removed(a[x as usize]));
            }
        }
    }
    script.reverse();
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_has_hunks_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let new = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\n";
        assert_eq!(
            unified_diff(old, new, "x.yaml", 1),
            "--- a/x.yaml\n+++ b/x.yaml\n@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n@@ -9 +9,2 @@\n i\n+j\n"
        );
        assert_eq!(unified_diff(old, old, "x", 3), "");
    }

    #[test]
    fn diff_marks_missing_final_newline() {
        let diff = unified_diff("a", "b", "x", 3);
        assert_eq!(
            diff,
            "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn carriage_returns_alone_end_lines() {
        assert_eq!(lines("a\rb\r\nc\nd"), ["a\r", "b\r\n", "c\n", "d"]);
        assert_eq!(
            unified_diff("a\rb\rc\r", "a\rB\rc\r", "x", 0),
            "--- a/x\n+++ b/x\n@@ -2 +2 @@\n-b\r\n+B\r\n"
        );
    }

    #[test]
    fn script_rebuilds_both_texts() {
        let mut seed = 7u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) % 4
        };
        let words = ["a\n", "b\n", "c\n", "d\n"];
        for _ in 0..200 {
            let a: Vec<&str> = (0..next() * 3).map(|_| words[next() as usize]).collect();
            let b: Vec<&str> = (0..next() * 3).map(|_| words[next() as usize]).collect();
            let script = edit_script(&a, &b);
            let old: Vec<&str> = script
                .iter()
                .filter_map(|l| match l {
                    Line::Same(t) | Line::Removed(t) => Some(*t),
                    Line::Added(_) => None,
                })
                .collect();
            let new: Vec<&str> = script
                .iter()
                .filter_map(|l| match l {
                    Line::Same(t) | Line::Added(t) => Some(*t),
                    Line::Removed(_) => None,
                })
                .collect();
            assert_eq!((old, new), (a, b));
        }
    }

    #[test]
    fn script_is_minimal() {
        let a = ["x\n", "y\n", "z\n"];
        let b = ["y\n", "z\n", "w\n"];
        let script = edit_script(&a, &b);
        let changed = script
            .iter()
            .filter(|l| !matches!(l, Line::Same(_)))
            .count();
        assert_eq!(changed, 2);
    }
}
