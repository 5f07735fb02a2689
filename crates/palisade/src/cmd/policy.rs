//! `palisade policy`: policy as code (Gatekeeper ConstraintTemplates and Constraints).
//!
//! `palisade policy test` runs gator `Suite` files (`test.gatekeeper.sh/v1alpha1`) as
//! `gator verify` does: every case of every test, one line per case, exit 0 when all pass.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use palisade_policy::suite::{run_suite, Status};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run Gatekeeper test suites (kind Suite, test.gatekeeper.sh/v1alpha1) like `gator
    /// verify`: exit 0 when every case passes, 1 when one fails.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Suite files, or directories searched for them (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print only failing cases and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Test(args) => test(args),
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// The YAML files under `path`, in a stable order.
fn yaml_files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if !hidden && (entry.is_dir() || is_yaml(&entry)) {
                yaml_files(&entry, out)?;
            }
        }
    } else if path.exists() {
        out.push(path.to_owned());
    } else {
        bail!("{}: no such file or directory", path.display());
    }
    Ok(())
}

/// Whether a file may hold a Suite (read cheaply before decoding it).
fn mentions_suite(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains("kind: Suite"))
}

fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let mut files = Vec::new();
    for root in &roots {
        let explicit = root.is_file();
        let mut found = Vec::new();
        yaml_files(root, &mut found)?;
        files.extend(found.into_iter().filter(|f| explicit || mentions_suite(f)));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut passed, mut failed, mut skipped, mut suites) = (0usize, 0usize, 0usize, 0usize);
    for file in &files {
        let results = match run_suite(file) {
            Ok(results) => results,
            Err(e) => {
                writeln!(out, "FAIL {}: {e}", file.display())?;
                failed += 1;
                continue;
            }
        };
        if results.is_empty() {
            continue;
        }
        suites += 1;
        for r in results {
            let name = if r.case.is_empty() {
                format!("{} {}", file.display(), r.test)
            } else {
                format!("{} {}/{}", file.display(), r.test, r.case)
            };
            match r.status {
                Status::Pass => {
                    passed += 1;
                    if !args.quiet {
                        writeln!(out, "ok   {name}")?;
                    }
                }
                Status::Skip => {
                    skipped += 1;
                    if !args.quiet {
                        writeln!(out, "skip {name}")?;
                    }
                }
                Status::Fail(why) => {
                    failed += 1;
                    writeln!(out, "FAIL {name}: {why}")?;
                }
            }
        }
    }
    if suites == 0 && failed == 0 {
        bail!("no Suite (test.gatekeeper.sh/v1alpha1) found");
    }
    writeln!(
        out,
        "{passed} passed, {failed} failed, {skipped} skipped in {suites} suite(s)"
    )?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
