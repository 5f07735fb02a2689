use std::borrow::Cow;

use anstyle::{AnsiColor, Style};
use palisade_core::rule::{Applicability, Severity};
use palisade_core::Redactor;

use crate::Report;

/// Gives the text of a source line, for code frames.
pub trait SourceLines {
    fn line(&self, file: &str, line: u32) -> Option<String>;
}

/// Options of the text report.
pub struct TextOptions<'a> {
    /// Where code frames come from; `None` prints no frames.
    pub sources: Option<&'a dyn SourceLines>,
}

fn severity_style(severity: Severity) -> Style {
    let color = match severity {
        Severity::Critical => AnsiColor::BrightRed,
        Severity::High => AnsiColor::Red,
        Severity::Medium => AnsiColor::Yellow,
        Severity::Low => AnsiColor::Cyan,
        Severity::Info => AnsiColor::BrightBlack,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

/// How much of the text report is gathered before it is written.
const FLUSH_BYTES: usize = 64 * 1024;

/// Text for people: findings grouped by file, each with a code frame and a caret under the
/// offending field, then a summary line. Colours are ANSI codes; the caller strips them when the
/// output is not a terminal (or `NO_COLOR` is set). Written to `sink` as it is rendered, a
/// piece at a time: a large report is never held whole.
pub fn write(
    report: &Report<'_>,
    options: &TextOptions<'_>,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let bold = Style::new().bold();
    let dim = Style::new()
        .fg_color(Some(AnsiColor::BrightBlue.into()))
        .bold();
    let mut out = String::new();
    let mut current_file: Option<&str> = None;
    for warning in report.warnings {
        out.push_str(&format!(
            "{}warning{}: {warning}\n",
            severity_style(Severity::Medium).render(),
            severity_style(Severity::Medium).render_reset()
        ));
    }
    for e in report.errors {
        // An error without a position (a cluster read) is named by its URL alone.
        let place = if e.pos.line == 0 {
            e.file.clone()
        } else {
            format!("{}:{}", e.file, e.pos)
        };
        out.push_str(&format!(
            "{}error{}: {place}: {}\n",
            severity_style(Severity::Critical).render(),
            severity_style(Severity::Critical).render_reset(),
            report.redactor.redact(&e.message)
        ));
    }
    if !report.errors.is_empty() {
        out.push('\n');
    }
    for f in report.findings {
        if out.len() >= FLUSH_BYTES {
            sink.write_all(out.as_bytes())?;
            out.clear();
        }
        if current_file != Some(f.file.as_str()) {
            if current_file.is_some() {
                out.push('\n');
            }
            out.push_str(&format!(
                "{}{}{}\n",
                bold.render(),
                f.file,
                bold.render_reset()
            ));
            current_file = Some(&f.file);
        }
        let sev = severity_style(f.severity);
        let ids: Vec<&str> = std::iter::once(f.rule)
            .chain(f.related.iter().copied())
            .map(|r| r.id)
            .collect();
        let slugs: Vec<&str> = std::iter::once(f.rule)
            .chain(f.related.iter().copied())
            .map(|r| r.slug)
            .collect();
        // A policy-as-code finding names its policy after the rule.
        let label = match &f.policy {
            Some(policy) => format!("{} {policy}", ids.join(", ")),
            None => ids.join(", "),
        };
        out.push_str(&format!(
            "{}{}[{}]{} {}{}{}\n",
            sev.render(),
            f.severity,
            label,
            sev.render_reset(),
            bold.render(),
            report.redactor.redact(&f.message),
            bold.render_reset()
        ));
        let gutter = if f.pos.line == 0 {
            0
        } else {
            f.pos.line.to_string().len()
        };
        if f.pos.line == 0 {
            // An object read from a cluster has no lines: its apiVersion, uid and the field.
            out.push_str(&format!(
                "{}-->{} {} {}{}{}{}\n",
                dim.render(),
                dim.render_reset(),
                f.object.api_version,
                f.object,
                f.object
                    .uid
                    .as_deref()
                    .map(|uid| format!(" (uid {uid})"))
                    .unwrap_or_default(),
                if f.pointer.is_empty() { "" } else { " at " },
                f.pointer
            ));
        } else {
            out.push_str(&format!(
                "{:gutter$}{}-->{} {}:{}:{}\n",
                "",
                dim.render(),
                dim.render_reset(),
                f.file,
                f.pos.line,
                f.pos.col
            ));
            if let Some(text) = options.sources.and_then(|s| s.line(&f.file, f.pos.line)) {
                let text = text.trim_end_matches(['\r', '\n']).replace('\t', " ");
                let (text, start, width) = frame(
                    report.redactor,
                    &text,
                    (f.pos.col as usize).saturating_sub(1),
                );
                out.push_str(&format!(
                    "{:gutter$} {}|{}\n",
                    "",
                    dim.render(),
                    dim.render_reset()
                ));
                out.push_str(&format!(
                    "{}{}{} {}|{} {}\n",
                    dim.render(),
                    f.pos.line,
                    dim.render_reset(),
                    dim.render(),
                    dim.render_reset(),
                    text
                ));
                out.push_str(&format!(
                    "{:gutter$} {}|{} {:start$}{}{}{}\n",
                    "",
                    dim.render(),
                    dim.render_reset(),
                    "",
                    sev.render(),
                    "^".repeat(width),
                    sev.render_reset()
                ));
            }
        }
        let fix = match f.fix.as_ref().map(|fix| fix.applicability) {
            Some(Applicability::Safe) => " · safe fix",
            Some(Applicability::Unsafe) => " · unsafe fix (--unsafe-fixes)",
            None => "",
        };
        out.push_str(&format!(
            "{:gutter$} {}={} {} · {}{fix}\n",
            "",
            dim.render(),
            dim.render_reset(),
            f.object,
            slugs.join(", ")
        ));
    }
    if !report.findings.is_empty() {
        out.push('\n');
    }
    let s = &report.summary;
    let counts: Vec<String> = s
        .by_severity
        .iter()
        .rev()
        .map(|(sev, n)| format!("{n} {sev}"))
        .collect();
    let breakdown = if counts.is_empty() {
        String::new()
    } else {
        format!(" ({})", counts.join(", "))
    };
    let safe = s.fixable - s.unsafe_fixable;
    let fixable = match (safe, s.unsafe_fixable) {
        (0, 0) => String::new(),
        (safe, 0) => format!("; {safe} fixable with `palisade fix`"),
        (0, more) => format!("; {more} fixable with `palisade fix --unsafe-fixes`"),
        (safe, more) => {
            format!("; {safe} fixable with `palisade fix`, {more} more with `--unsafe-fixes`")
        }
    };
    let mut line = format!(
        "{} finding{}{breakdown} in {} object{} from {} file{}",
        s.findings,
        plural(s.findings),
        s.objects,
        plural(s.objects),
        s.files,
        plural(s.files)
    );
    if s.errors > 0 {
        line.push_str(&format!("; {} input error{}", s.errors, plural(s.errors)));
    }
    if s.skipped > 0 {
        line.push_str(&format!(
            "; {} non-Kubernetes document{} skipped",
            s.skipped,
            plural(s.skipped)
        ));
    }
    if let Some(baseline) = s.baseline {
        line.push_str(&format!(
            "; {} finding{} hidden by the baseline, {} baseline finding{} no longer found",
            baseline.hidden,
            plural(baseline.hidden),
            baseline.gone,
            plural(baseline.gone)
        ));
    }
    out.push_str(&format!(
        "{}{line}{fixable}{}\n",
        bold.render(),
        bold.render_reset()
    ));
    sink.write_all(out.as_bytes())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The line of a code frame with credentials masked, and the column (in characters) and width
/// of the caret under the token that starts at character `start` of the unmasked line.
fn frame(redactor: &Redactor, line: &str, start: usize) -> (String, usize, usize) {
    let shown = redactor.redact(line);
    let width = token_width(line, start);
    if let Cow::Borrowed(_) = shown {
        return (line.to_owned(), start, width);
    }
    let before: String = line.chars().take(start).collect();
    let token: String = line.chars().skip(start).take(width).collect();
    let masked_before = redactor.redact(&before);
    // A masked value before the token shifts it; a masked token changes its width.
    let start = if shown.starts_with(masked_before.as_ref()) {
        masked_before.chars().count()
    } else {
        start
    };
    let width = redactor.redact(&token).chars().count();
    (shown.into_owned(), start, width)
}

/// Width of the caret: the key or token that starts at `start`.
fn token_width(line: &str, start: usize) -> usize {
    let rest: String = line.chars().skip(start).collect();
    let rest = rest.strip_prefix("- ").unwrap_or(&rest);
    let width = rest
        .chars()
        .take_while(|c| *c != ':' && !c.is_whitespace())
        .count();
    width.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_mask_credentials_and_keep_the_caret_on_its_token() {
        let redactor = Redactor::new(["Sup3rS3cretValue!42"]).expect("one pattern builds");
        let line = r#"    - {value: "Sup3rS3cretValue!42", name: DB_PASSWORD}"#;
        let name = line.find("name").expect("the line has a name key");
        let under = |(shown, start, width): (String, usize, usize)| -> (String, String) {
            let caret = shown.chars().skip(start).take(width).collect();
            (shown, caret)
        };
        let (shown, caret) = under(frame(&redactor, line, name));
        assert_eq!(
            shown,
            r#"    - {value: "Sup3…(19 chars)", name: DB_PASSWORD}"#
        );
        assert_eq!(caret, "name");
        let value = line.find('"').expect("the value is quoted");
        let (_, caret) = under(frame(&redactor, line, value));
        assert_eq!(caret, r#""Sup3…(19 chars)","#);
        let (shown, caret) = under(frame(&Redactor::default(), line, value));
        assert_eq!(shown, line);
        assert_eq!(caret, r#""Sup3rS3cretValue!42","#);
    }
}
