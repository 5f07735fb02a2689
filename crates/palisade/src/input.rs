//! Finding the files to scan and loading them.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use globset::{Glob, GlobSet, GlobSetBuilder};
use palisade_core::{
    load_bytes, read_path, Limits, LoadError, LoadErrorKind, Loaded, NodeBudget, Pos,
};
use rayon::prelude::*;

/// Options shared by every command that reads manifests.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Files and directories to read (`-` for standard input). Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Do not respect .gitignore and .ignore files.
    #[arg(long)]
    pub no_ignore: bool,
    /// Largest file read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_file_size)]
    pub max_file_size: u64,
    /// Deepest nesting of mappings and sequences in a document.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_depth)]
    pub max_depth: usize,
    /// Most nodes aliases may expand to in one document.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_alias_nodes)]
    pub max_alias_nodes: usize,
    /// Most YAML nodes decoded from one file; a file with more is refused.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_file_nodes)]
    pub max_file_nodes: usize,
    /// Most YAML nodes of the objects held until the end of the run (all of them, or for
    /// `scan` those that cross-object rules read); a file whose objects do not fit is an error.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_run_nodes)]
    pub max_run_nodes: usize,
}

impl InputArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_file_size: self.max_file_size,
            max_depth: self.max_depth,
            max_alias_nodes: self.max_alias_nodes,
            max_file_nodes: self.max_file_nodes,
            max_run_nodes: self.max_run_nodes,
        }
    }
}

/// One input to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File {
        path: PathBuf,
        display: String,
    },
    /// A path that is not a regular file: a pipe (`/dev/stdin`, `<(cmd)`), a FIFO or a
    /// device. It can be read only once.
    Stream {
        path: PathBuf,
        display: String,
    },
}

/// A file extension palisade reads when walking directories.
fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_owned()
}

/// Builds the exclude matcher from globs.
pub fn exclude_set(globs: &[String]) -> anyhow::Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(Glob::new(glob)?);
    }
    Ok(builder.build()?)
}

/// Expands paths into inputs: directories recursively (skipping hidden entries and, unless
/// `no_ignore`, what .gitignore excludes), in a stable order. Paths that do not exist become
/// errors.
pub fn collect(args: &InputArgs, exclude: &GlobSet) -> (Vec<Input>, Vec<LoadError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let paths = if args.paths.is_empty() {
        vec![".".to_owned()]
    } else {
        args.paths.clone()
    };
    for given in paths {
        if given == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(&given);
        let metadata = match std::fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(err) => {
                errors.push(LoadError {
                    file: given.clone(),
                    pos: Pos::new(1, 1),
                    kind: LoadErrorKind::Io,
                    message: match err.kind() {
                        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
                        _ => format!("cannot read file: {err}"),
                    },
                });
                continue;
            }
        };
        if !metadata.is_dir() {
            let display = display_path(&path);
            if !exclude.is_match(&display) {
                inputs.push(if metadata.is_file() {
                    Input::File { path, display }
                } else {
                    Input::Stream { path, display }
                });
            }
            continue;
        }
        // Walked on several threads (directories are read and .gitignore files parsed in
        // parallel), then sorted.
        let found = std::sync::Mutex::new(Vec::new());
        let failed = std::sync::Mutex::new(Vec::new());
        ignore::WalkBuilder::new(&path)
            .hidden(true)
            .git_ignore(!args.no_ignore)
            .git_exclude(!args.no_ignore)
            .ignore(!args.no_ignore)
            .parents(!args.no_ignore)
            .require_git(false)
            .build_parallel()
            .run(|| {
                Box::new(|entry| {
                    match entry {
                        Ok(entry) => {
                            let p = entry.path();
                            if entry.file_type().is_some_and(|t| t.is_file())
                                && is_manifest(p)
                                && !exclude.is_match(display_path(p))
                            {
                                if let Ok(mut found) = found.lock() {
                                    found.push(p.to_path_buf());
                                }
                            }
                        }
                        Err(err) => {
                            if let Ok(mut failed) = failed.lock() {
                                failed.push(err.to_string());
                            }
                        }
                    }
                    ignore::WalkState::Continue
                })
            });
        let mut found = found.into_inner().unwrap_or_default();
        let mut failed = failed.into_inner().unwrap_or_default();
        failed.sort();
        errors.extend(failed.into_iter().map(|message| LoadError {
            file: given.clone(),
            pos: Pos::new(1, 1),
            kind: LoadErrorKind::Io,
            message,
        }));
        found.sort();
        inputs.extend(found.into_iter().map(|path| Input::File {
            display: display_path(&path),
            path,
        }));
    }
    (inputs, errors)
}

/// Collects and loads every input (no excludes), in order: objects, errors and skipped
/// documents of all of them together. A file whose objects do not fit in the run's node budget
/// is an error and its objects are dropped.
pub fn load_all(args: &InputArgs) -> Loaded {
    let (inputs, errors) = collect(args, &GlobSet::empty());
    let limits = args.limits();
    let run = NodeBudget::run(&limits);
    let mut all = Loaded {
        errors,
        ..Loaded::default()
    };
    let loaded: Vec<Loaded> = inputs
        .par_iter()
        .map(|i| {
            let mut loaded = i.load(&limits);
            if let Err(error) = run.hold(&loaded.objects) {
                loaded.objects.clear();
                loaded.errors.push(error);
            }
            loaded
        })
        .collect();
    for loaded in loaded {
        all.objects.extend(loaded.objects);
        all.errors.extend(loaded.errors);
        all.skipped += loaded.skipped;
    }
    all
}

impl Input {
    /// The name reports use: the path as given, or `-`.
    pub fn display(&self) -> &str {
        match self {
            Input::File { display, .. } | Input::Stream { display, .. } => display,
            Input::Stdin => "-",
        }
    }

    /// Whether the input can be read only once (standard input, a pipe, a FIFO): whoever
    /// needs its text later must keep it.
    pub fn is_stream(&self) -> bool {
        !matches!(self, Input::File { .. })
    }

    /// Reads the input's bytes, enforcing the size limit.
    pub fn read(&self, limits: &Limits) -> Result<Vec<u8>, LoadError> {
        match self {
            Input::File { path, display } | Input::Stream { path, display } => {
                read_path(path, display, limits)
            }
            Input::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .lock()
                    .take(limits.max_file_size + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|err| LoadError {
                        file: "-".to_owned(),
                        pos: Pos::new(1, 1),
                        kind: LoadErrorKind::Io,
                        message: format!("cannot read standard input: {err}"),
                    })?;
                Ok(bytes)
            }
        }
    }

    /// Reads and decodes the input.
    pub fn load(&self, limits: &Limits) -> Loaded {
        match self.read(limits) {
            Ok(bytes) => load_bytes(&bytes, self.display(), limits),
            Err(error) => Loaded::failed(error),
        }
    }
}
