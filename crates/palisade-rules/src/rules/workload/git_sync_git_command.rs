use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::image::parse_image;
use crate::rules::util::describe;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// git-sync containers told to run another program as their git command.
    pub struct GitSyncGitCommand;
    checks: Object,
    id: "POD023",
    slug: "git-sync-git-command",
    title: "git-sync runs a git command other than its own",
    severity: Severity::High,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A git-sync container (its image's name contains `git-sync`) chooses the program it \
runs as git: an `env` entry `GITSYNC_GIT` or `GIT_SYNC_GIT` with a value other than `git` or \
`/usr/bin/git`, or taken from a ConfigMap or Secret (`valueFrom`), or a `--git` / `-git` flag with \
such a value in its `command` or `args`. Reported at the value. Variables that `envFrom` brings \
in are not seen.",
    rationale: "git-sync runs that program for every sync, with the container's identity, \
its service-account token and its mounted credentials. Pointed at a file of the synced \
repository or of a shared volume, it runs whatever whoever can push there or write the \
environment chose: code execution that looks like a configuration setting (the technique \
shown against git-sync in 2024).",
    remediation: "Remove the variable or flag: git-sync's own image ships the git it needs. \
Keep credentials for the repository in a Secret mounted read-only, not in variables that \
change which programs run.",
    references: &[
        Reference::url(
            Framework::Docs,
            "git-sync flags",
            "https://github.com/kubernetes/git-sync#manual",
        ),
    ],
    fix: None,
}

/// The variables git-sync reads its git command from (v4, and v3 and v4's older name).
const GIT_VARIABLES: [&str; 2] = ["GITSYNC_GIT", "GIT_SYNC_GIT"];

/// Whether a command names git-sync's own git.
fn own_git(command: &str) -> bool {
    matches!(command.trim(), "git" | "/usr/bin/git")
}

fn is_git_sync(image: &str) -> bool {
    let name = parse_image(image).name;
    name.rsplit('/')
        .next()
        .is_some_and(|last| last.contains("git-sync"))
}

impl ObjectRule for GitSyncGitCommand {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.pod.is_none() {
            return;
        }
        for container in &cx.containers {
            let c = container.container;
            if !c
                .get("image")
                .and_then(Value::as_str)
                .is_some_and(is_git_sync)
            {
                continue;
            }
            let mut found = Vec::new();
            if let Some(Value::Array(env)) = c.get("env") {
                for (index, var) in env.iter().enumerate() {
                    let Some(name) = var.get("name").and_then(Value::as_str) else {
                        continue;
                    };
                    if !GIT_VARIABLES.contains(&name) {
                        continue;
                    }
                    match var.get("value").and_then(Value::as_str) {
                        Some(value) if !value.is_empty() && !own_git(value) => found.push((
                            format!("env/{index}/value"),
                            format!("sets {name} to \"{value}\""),
                        )),
                        None if var.get("valueFrom").is_some_and(Value::is_object) => found.push((
                            format!("env/{index}/valueFrom"),
                            format!("takes {name} from another object"),
                        )),
                        _ => {}
                    }
                }
            }
            // The process's arguments: `command` then `args`, so a flag ending `command` takes
            // its value from `args`.
            let argv: Vec<(String, Option<&str>)> = ["command", "args"]
                .into_iter()
                .flat_map(|field| {
                    let items = match c.get(field) {
                        Some(Value::Array(items)) => items.as_slice(),
                        _ => &[],
                    };
                    items
                        .iter()
                        .enumerate()
                        .map(move |(index, item)| (format!("{field}/{index}"), item.as_str()))
                })
                .collect();
            for (index, (path, item)) in argv.iter().enumerate() {
                let Some(item) = item else { continue };
                let (at, value) = match item.split_once('=') {
                    Some(("--git" | "-git", value)) => (path, Some(value)),
                    None if matches!(*item, "--git" | "-git") => match argv.get(index + 1) {
                        Some((next, value)) => (next, *value),
                        None => continue,
                    },
                    _ => continue,
                };
                if let Some(value) = value.filter(|v| !v.is_empty() && !own_git(v)) {
                    found.push((at.clone(), format!("passes --git \"{value}\"")));
                }
            }
            for (path, what) in found {
                out.push(Emit::new(
                    container.field(&path),
                    format!(
                        "git-sync {} {what}: it runs that program, not its own git, at every sync; remove it",
                        describe(container)
                    ),
                ));
            }
        }
    }
}
