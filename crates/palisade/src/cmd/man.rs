//! `palisade man`: man pages generated from the command-line definitions.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, CommandFactory};
use clap_mangen::Man;

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write palisade.1 and a page per subcommand (palisade-scan.1, palisade-netpol-list.1, …)
    /// into this directory, created if missing. Without it, palisade.1 goes to standard output.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: ManArgs) -> anyhow::Result<ExitCode> {
    // Built once, so that every subcommand has its display name (`palisade-netpol-list`).
    let mut command = crate::Cli::command().disable_help_subcommand(true);
    command.build();
    match args.dir {
        None => {
            let mut page = Vec::new();
            page_of(command).render(&mut page)?;
            std::io::stdout().lock().write_all(&page)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            write_pages(command, &dir)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The page of one command, titled in capitals as man pages are (`.TH PALISADE-SCAN 1`), with
/// palisade's version as its source on every page, subcommands included.
fn page_of(command: clap::Command) -> Man {
    let title = command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
        .to_uppercase();
    Man::new(command)
        .title(title)
        .source(concat!("palisade ", env!("CARGO_PKG_VERSION")))
}

/// Writes the page of `command` and, recursively, of each of its visible subcommands.
fn write_pages(command: clap::Command, dir: &Path) -> anyhow::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir)?;
    }
    let page = page_of(command);
    let path = dir.join(page.get_filename());
    let mut text = Vec::new();
    page.render(&mut text)?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
