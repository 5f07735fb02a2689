//! `palisade fix`: the automatic fixes of findings, as a diff or written to the files.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use palisade_core::rule::Finding;
use palisade_core::Limits;
use palisade_fix::{fix_text, replace_file, unified_diff, ObjectFix};
use palisade_rules::Engine;
use rayon::prelude::*;

use crate::cmd::scan::{load_config, redactor, scan};
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
    /// Configuration file (default: .palisade.yaml in the current directory or a parent).
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// Do not read any configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Print the credentials the diff shows in full (they are masked by default).
    #[arg(long)]
    pub show_secrets: bool,
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
            report(format!("error: {reason}; run without --write for a diff"));
            return Ok(ExitCode::from(2));
        }
    }
    let config = match load_config(args.config.as_deref(), args.no_config) {
        Ok(c) => c,
        Err(err) => {
            report(format!("error: {err}"));
            return Ok(ExitCode::from(2));
        }
    };
    let engine = match Engine::new(&config, &args.select, &args.ignore) {
        Ok(e) => e,
        Err(err) => {
            report(format!("error: {err}"));
            return Ok(ExitCode::from(2));
        }
    };
    let outcome = scan(&engine, &args.input, &config)?;
    let mut failed = !outcome.errors.is_empty();
    for err in &outcome.errors {
        report(format!("error: {err}"));
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
    let mut fixed = 0;
    let mut changed = 0;
    let mut rules = BTreeSet::new();
    // Files are fixed in parallel; results are reported in file order.
    let results: Vec<Result<Option<Fixed>, String>> = files
        .par_iter()
        .map(|group| fix_file(group, &outcome.streamed, &limits, args.write))
        .collect();
    let redactor = redactor(&outcome, args.show_secrets)?;
    let mut stdout = std::io::stdout().lock();
    for (group, result) in files.iter().zip(results) {
        match result {
            Err(err) => {
                report(format_args!("error: {}: {err}", group.file));
                failed = true;
            }
            Ok(None) => {}
            Ok(Some(done)) => {
                if let Some(diff) = done.diff {
                    let _ = stdout.write_all(redactor.redact(&diff).as_bytes());
                }
                changed += 1;
                fixed += done.applied.len();
                rules.extend(done.applied.iter().map(|f| f.rule.id));
            }
        }
    }
    let summary = summary(args.write, fixed, changed, &rules, unfixable);
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

/// A file whose fixes were applied: the diff to print, unless it was rewritten, and the
/// findings whose fixes hold in the new text.
struct Fixed<'a> {
    diff: Option<String>,
    applied: Vec<&'a Finding>,
}

/// Applies a file's fixes: rewrites it with `write`, else returns its diff. `None` when the
/// fixes change nothing. Inputs that cannot be read again (`streamed`, by name) are fixed from
/// the text the scan read.
fn fix_file<'a>(
    group: &FileFixes<'a>,
    streamed: &HashMap<String, String>,
    limits: &Limits,
    write: bool,
) -> Result<Option<Fixed<'a>>, String> {
    let old = match streamed.get(group.file) {
        Some(text) => text.clone(),
        None => {
            std::fs::read_to_string(group.file).map_err(|err| format!("cannot read file: {err}"))?
        }
    };
    let (findings, fixes): (Vec<&Finding>, Vec<ObjectFix>) = group
        .findings
        .iter()
        .filter_map(|&f| {
            let fix = ObjectFix {
                document: f.document,
                item: f.item,
                ops: f.fix.as_ref()?.patch.clone(),
            };
            Some((f, fix))
        })
        .unzip();
    let fixed = fix_text(&old, &fixes, limits).map_err(|err| {
        let ids: BTreeSet<&str> = group.findings.iter().map(|f| f.rule.id).collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        format!("not fixed ({}): {err}", ids.join(", "))
    })?;
    if fixed.text == old {
        return Ok(None);
    }
    let applied = findings
        .into_iter()
        .zip(fixed.applied)
        .filter_map(|(f, applied)| applied.then_some(f))
        .collect();
    if write {
        replace_file(Path::new(group.file), fixed.text.as_bytes())
            .map_err(|err| format!("cannot write file: {err}; it was left unchanged"))?;
        return Ok(Some(Fixed {
            diff: None,
            applied,
        }));
    }
    Ok(Some(Fixed {
        diff: Some(unified_diff(&old, &fixed.text, group.file, 3)),
        applied,
    }))
}

fn summary(
    write: bool,
    fixed: usize,
    files: usize,
    rules: &BTreeSet<&str>,
    unfixable: usize,
) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let mut text = if fixed == 0 {
        "No fixes to apply.".to_owned()
    } else {
        let verb = if write { "Fixed" } else { "Would fix" };
        let ids = rules.iter().copied().collect::<Vec<_>>().join(", ");
        format!(
            "{verb} {} in {} ({ids}).",
            plural(fixed, "finding"),
            plural(files, "file")
        )
    };
    if fixed > 0 && !write {
        text.push_str(" Run with --write to apply.");
    }
    if unfixable > 0 {
        text.push_str(&format!(
            " {} without an automatic fix.",
            plural(unfixable, "finding")
        ));
    }
    text
}
