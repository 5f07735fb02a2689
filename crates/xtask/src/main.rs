//! Repository tasks, run with `cargo xtask <task>`.
//!
//! `new-rule` creates what a rule needs (see docs/architecture.md, "Adding a rule"): the rule
//! file declared with `declare_rule!`, its module line, its entry in the registry `ALL` at its
//! place in ID order, a fixture, and its docs page.

mod scaffold;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use scaffold::{Checks, NewRule};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Repository tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Create a rule: its file, module line, registry entry, fixture and docs page.
    NewRule {
        /// Stable ID, e.g. POD022.
        #[arg(long)]
        id: String,
        /// Stable kebab-case name; the rule file is named after it.
        #[arg(long)]
        slug: String,
        /// Area: the directory under crates/palisade-rules/src/rules/ (created if new).
        #[arg(long)]
        category: String,
        /// One line, without a final period.
        #[arg(long)]
        title: String,
        /// What the rule reads.
        #[arg(long, value_enum, default_value = "object")]
        checks: Checks,
        /// Do not regenerate docs/rules (which builds and runs the docs test).
        #[arg(long)]
        no_docs: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .context("the repository root")?
        .to_owned();
    match cli.task {
        Task::NewRule {
            id,
            slug,
            category,
            title,
            checks,
            no_docs,
        } => {
            let rule = NewRule::new(&id, &slug, &category, &title, checks)?;
            for path in rule.write(&root)? {
                let path = path.strip_prefix(&root).unwrap_or(&path);
                println!("created or updated {}", path.display());
            }
            if !no_docs {
                let status = Command::new(env!("CARGO"))
                    .args([
                        "test",
                        "-q",
                        "-p",
                        "palisade-rules",
                        "--test",
                        "docs",
                        "rule_docs_are_fresh",
                    ])
                    .env("PALISADE_UPDATE_DOCS", "1")
                    .current_dir(&root)
                    .status()
                    .context("running the docs test")?;
                if !status.success() {
                    bail!("regenerating docs/rules failed");
                }
                println!("regenerated docs/rules");
            }
            println!(
                "next: write the check in {}, and in {} the cases it must report (the fixture \
                 test fails until there is one); then run `cargo test -p palisade-rules` and \
                 review `palisade scan ../shared/corpus --select {}`",
                rule.rule_file().display(),
                rule.fixture_file().display(),
                rule.id
            );
            Ok(())
        }
    }
}
