//! `palisade fix`: the automatic fixes of findings, as a diff or written to the files.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use palisade_core::rule::{Applicability, Finding};
use palisade_core::{load_str, Limits};
use palisade_fix::{fix_text, replace_file, unified_diff, ObjectFix};
use palisade_rules::fixes::{plan, Outcome};
use palisade_rules::Engine;
use rayon::prelude::*;

use crate::cmd::scan::{redactor, scan};
use crate::config::ConfigArgs;
use crate::input::InputArgs;

#[derive(Debug, Args)]
pub struct FixArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Rewrite the files instead of printing a diff (each through a temporary file renamed
    /// over it, so that it is never left half-written).
    #[arg(long)]
    pub write: bool,
    /// Fix only the findings of these rules (IDs, slugs or categories).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,
    /// Do not fix the findings of these rules (IDs, slugs or categories).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print the credentials the diff shows in full (they are masked by default).
    #[arg(long)]
    pub show_secrets: bool,
    /// Apply unsafe fixes too: those that may change what the workload can do at run time
    /// (run as non-root, read-only root file system, no host namespaces or privileges,
    /// resource limits). `palisade explain RULE` says which kind a rule's fixes are and why.
    #[arg(long)]
    pub unsafe_fixes: bool,
}

/// The fixable findings of one file, in report order.
struct FileFixes<'a> {
    file: &'a str,
    findings: Vec<&'a Finding>,
}

/// Writes a line to standard error. A closed or full standard error must not end the command
/// (`eprintln!` panics when the write fails).
fn report(line: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Why `--write` cannot rewrite an input named on the command line: standard input, pipes,
/// FIFOs and devices can only be read once.
fn not_rewritable(path: &str) -> Option<String> {
    if path == "-" {
        return Some("--write cannot rewrite standard input".to_owned());
    }
    let metadata = std::fs::metadata(path).ok()?;
    (!metadata.is_file() && !metadata.is_dir()).then(|| {
        format!("--write cannot rewrite {path}: not a regular file (a pipe, FIFO or device)")
    })
}

pub fn run(args: FixArgs) -> anyhow::Result<ExitCode> {
    if args.write {
        if let Some(reason) = args.input.paths.iter().find_map(|p| not_rewritable(p)) {
            anyhow::bail!("{reason}; run without --write for a diff");
        }
    }
    let config = args.config.load(None)?.rules;
    let engine = Engine::new(&config, &args.select, &args.ignore)?;
    let outcome = scan(&engine, &args.input, &config)?;
    let mut failed = !outcome.errors.is_empty();
    for err in &outcome.errors {
        report(format!("error: {err}"));
    }
    for warning in &outcome.warnings {
        report(format!("warning: {warning}"));
    }
    let limits = args.input.limits();
    let mut files: Vec<FileFixes<'_>> = Vec::new();
    for finding in outcome.findings.iter().filter(|f| f.fix.is_some()) {
        match files.last_mut() {
            Some(last) if last.file == finding.file => last.findings.push(finding),
            _ => files.push(FileFixes {
                file: &finding.file,
                findings: vec![finding],
            }),
        }
    }
    let unfixable = outcome.findings.iter().filter(|f| f.fix.is_none()).count();
    let mut counts = Counts::default();
    let mut changed = 0;
    let mut rules = BTreeSet::new();
    // Files are fixed in parallel; results are reported in file order.
    let results: Vec<Result<Fixed, String>> = files
        .par_iter()
        .map(|group| {
            fix_file(
                group,
                &outcome.streamed,
                &limits,
                args.write,
                args.unsafe_fixes,
            )
        })
        .collect();
    let redactor = redactor(&outcome, args.show_secrets)?;
    let mut stdout = std::io::stdout().lock();
    for (group, result) in files.iter().zip(results) {
        match result {
            Err(err) => {
                report(format_args!("error: {}: {err}", group.file));
                failed = true;
            }
            Ok(done) => {
                for (finding, reason) in &done.invalid {
                    report(redactor.redact(&format!(
                        "{}:{}: {} fix not applied: the object would be invalid: {reason}",
                        finding.file, finding.pos, finding.rule.id
                    )));
                }
                counts.invalid += done.invalid.len();
                counts.unsafe_skipped += done.unsafe_skipped;
                if let Some(diff) = done.diff {
                    let _ = stdout.write_all(redactor.redact(&diff).as_bytes());
                }
                if !done.applied.is_empty() {
                    changed += 1;
                }
                for finding in &done.applied {
                    match finding.fix.as_ref().map(|f| f.applicability) {
                        Some(Applicability::Unsafe) => counts.unsafe_fixed += 1,
                        _ => counts.safe_fixed += 1,
                    }
                }
                rules.extend(done.applied.iter().map(|f| f.rule.id));
            }
        }
    }
    counts.unfixable = unfixable;
    let summary = summary(args.write, &counts, changed, &rules);
    if args.write {
        let _ = writeln!(stdout, "{summary}");
    } else {
        report(summary);
    }
    let _ = stdout.flush();
    Ok(if failed {
        ExitCode::from(2)
    } else if changed > 0 && !args.write {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What became of one file's fixes: the diff to print (unless the file was rewritten or
/// nothing changed), the findings whose fixes hold in the new text, the unsafe fixes left out
/// and the fixes refused because the object would be invalid.
#[derive(Default)]
struct Fixed<'a> {
    diff: Option<String>,
    applied: Vec<&'a Finding>,
    unsafe_skipped: usize,
    invalid: Vec<(&'a Finding, String)>,
}

/// An object of a file: its document, and its item in a `List`.
type ObjectKey = (usize, Option<usize>);

/// Counts for the summary line.
#[derive(Default)]
struct Counts {
    safe_fixed: usize,
    unsafe_fixed: usize,
    unsafe_skipped: usize,
    invalid: usize,
    unfixable: usize,
}

/// Applies a file's fixes: rewrites it with `write`, else returns its diff. The fixes of each
/// object are planned together ([`plan`]): unsafe ones only with `unsafe_fixes`, none that
/// would leave the object invalid. Inputs that cannot be read again (`streamed`, by name) are
/// fixed from the text the scan read.
fn fix_file<'a>(
    group: &FileFixes<'a>,
    streamed: &HashMap<String, String>,
    limits: &Limits,
    write: bool,
    unsafe_fixes: bool,
) -> Result<Fixed<'a>, String> {
    let old = match streamed.get(group.file) {
        Some(text) => text.clone(),
        None => {
            std::fs::read_to_string(group.file).map_err(|err| format!("cannot read file: {err}"))?
        }
    };
    let loaded = load_str(&old, group.file, limits);
    // The findings of each object, objects in the order they first appear.
    let mut objects: Vec<(ObjectKey, Vec<&'a Finding>)> = Vec::new();
    for &finding in &group.findings {
        let key = (finding.document, finding.item);
        match objects.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(finding),
            None => objects.push((key, vec![finding])),
        }
    }
    let mut done = Fixed::default();
    let mut findings = Vec::new();
    let mut fixes = Vec::new();
    for ((document, item), list) in objects {
        let object = loaded
            .objects
            .iter()
            .find(|o| o.document == document && o.item == item)
            .ok_or_else(|| {
                let item = item.map(|i| format!(" item {i}")).unwrap_or_default();
                format!("not fixed: no object at document {document}{item}")
            })?;
        let planned: Vec<_> = list
            .iter()
            .filter_map(|f| Some((f.fix.as_ref()?, unsafe_fixes)))
            .collect();
        let plan = plan(&object.value, &planned);
        for (finding, outcome) in list.iter().zip(&plan.outcomes) {
            match outcome {
                Outcome::Unsafe => done.unsafe_skipped += 1,
                Outcome::Invalid(reason) => done.invalid.push((finding, reason.clone())),
                Outcome::Applied | Outcome::Unchanged => {}
            }
        }
        for (index, ops) in plan.applied {
            findings.push(list[index]);
            fixes.push(ObjectFix {
                document,
                item,
                ops,
            });
        }
    }
    if fixes.is_empty() {
        return Ok(done);
    }
    let fixed = fix_text(&old, &fixes, limits).map_err(|err| {
        let ids: BTreeSet<&str> = findings.iter().map(|f| f.rule.id).collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        format!("not fixed ({}): {err}", ids.join(", "))
    })?;
    if fixed.text == old {
        return Ok(done);
    }
    done.applied = findings
        .into_iter()
        .zip(fixed.applied)
        .filter_map(|(f, applied)| applied.then_some(f))
        .collect();
    if write {
        replace_file(Path::new(group.file), fixed.text.as_bytes())
            .map_err(|err| format!("cannot write file: {err}; it was left unchanged"))?;
    } else {
        done.diff = Some(unified_diff(&old, &fixed.text, group.file, 3));
    }
    Ok(done)
}

fn summary(write: bool, counts: &Counts, files: usize, rules: &BTreeSet<&str>) -> String {
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let plural = |n: usize, word: &str| count(n, word, &format!("{word}s"));
    let fixes = |n: usize, kind: &str| count(n, &format!("{kind}fix"), &format!("{kind}fixes"));
    let fixed = counts.safe_fixed + counts.unsafe_fixed;
    let mut text = if fixed == 0 {
        "No fixes to apply.".to_owned()
    } else {
        let verb = if write { "Fixed" } else { "Would fix" };
        let ids = rules.iter().copied().collect::<Vec<_>>().join(", ");
        let kinds = if counts.unsafe_fixed > 0 {
            format!(
                " with {} and {}",
                fixes(counts.safe_fixed, "safe "),
                fixes(counts.unsafe_fixed, "unsafe ")
            )
        } else {
            String::new()
        };
        format!(
            "{verb} {} in {} ({ids}){kinds}.",
            plural(fixed, "finding"),
            plural(files, "file")
        )
    };
    if fixed > 0 && !write {
        text.push_str(" Run with --write to apply.");
    }
    if counts.unsafe_skipped > 0 {
        text.push_str(&format!(
            " {} not applied (run with --unsafe-fixes to apply them too).",
            fixes(counts.unsafe_skipped, "unsafe ")
        ));
    }
    if counts.invalid > 0 {
        text.push_str(&format!(
            " {} not applied: the object would be invalid.",
            fixes(counts.invalid, "")
        ));
    }
    if counts.unfixable > 0 {
        text.push_str(&format!(
            " {} without an automatic fix.",
            plural(counts.unfixable, "finding")
        ));
    }
    text
}
