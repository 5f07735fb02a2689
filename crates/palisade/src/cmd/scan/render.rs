//! Inputs that are rendered before they are scanned: Helm charts (`helm template`) and
//! Kustomize directories (`kubectl kustomize` or `kustomize build`).
//!
//! The rendered text is scanned like standard input. Each of its documents remembers where it
//! came from (Helm's `# Source:` comments, Kustomize's `config.kubernetes.io/origin`
//! annotations), and [`remap`] then moves the findings to that file and to the line of their
//! field there, where it can be found.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use palisade_core::rule::Finding;
use palisade_core::{load_path, load_str, pointer, Limits, LoadError, LoadErrorKind, Object, Pos};

use crate::input::Input;

/// The text of a rendered chart or kustomization, and where its documents came from.
pub struct Rendered {
    /// The name the scan gives the rendered text, e.g. `charts/web (helm template)`.
    pub display: String,
    pub text: String,
    /// The origin of each document of `text`, by document index.
    origins: HashMap<usize, Origin>,
}

/// Where a rendered document came from.
enum Origin {
    /// A Helm template (it is not YAML until rendered): the finding goes to the line of the
    /// deepest key of its pointer found in the template's `segment`-th document.
    Template {
        path: PathBuf,
        display: String,
        segment: usize,
        of: usize,
    },
    /// A manifest that Kustomize read: the finding goes to its field in the object of that kind
    /// and name there (or its nearest parent).
    Manifest {
        path: PathBuf,
        display: String,
        kind: String,
        name: String,
    },
    /// A kustomization whose generator made the object: the finding goes to the generator.
    Generator {
        path: PathBuf,
        display: String,
        key: String,
    },
}

/// What rendering the inputs gave: texts to scan, errors, and notices for the report.
#[derive(Default)]
pub struct Renders {
    pub rendered: Vec<Rendered>,
    pub errors: Vec<LoadError>,
    pub notices: Vec<String>,
}

fn error(file: &str, message: String) -> LoadError {
    LoadError {
        file: file.to_owned(),
        pos: Pos::new(1, 1),
        kind: LoadErrorKind::Io,
        message,
    }
}

/// The last lines of a tool's standard error, for an error message.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join("; ")
}

fn display_of(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_owned()
}

// ---------------------------------------------------------------------------------------------
// Helm

/// Takes the Helm charts out of `inputs`: every directory with a `Chart.yaml` among them is a
/// chart, and the files under its `templates/` (which are not YAML until rendered) are removed.
/// Returns the outermost charts (subcharts are rendered with their parent).
pub fn take_charts(inputs: &mut Vec<Input>) -> Vec<(PathBuf, String)> {
    let dirs: Vec<(PathBuf, String)> = inputs
        .iter()
        .filter_map(|input| match input {
            Input::File { path, display } if path.file_name() == Some("Chart.yaml".as_ref()) => {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf();
                let shown = Path::new(display)
                    .parent()
                    .map(display_of)
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| ".".to_owned());
                Some((dir, shown))
            }
            _ => None,
        })
        .collect();
    if dirs.is_empty() {
        return dirs;
    }
    inputs.retain(|input| match input {
        Input::File { path, .. } => !dirs
            .iter()
            .any(|(dir, _)| path.starts_with(dir.join("templates"))),
        _ => true,
    });
    dirs.iter()
        .filter(|(dir, _)| {
            !dirs
                .iter()
                .any(|(other, _)| other != dir && dir.starts_with(other))
        })
        .cloned()
        .collect()
}

/// Renders each chart with `helm template`, or, when `helm` is not on the PATH, says once per
/// chart that its templates were not scanned.
pub fn render_charts(charts: &[(PathBuf, String)], limits: &Limits, out: &mut Renders) {
    for (dir, shown) in charts {
        let chart_file = format!("{}/Chart.yaml", shown.trim_end_matches('/'));
        let output = Command::new("helm").arg("template").arg(dir).output();
        let output = match output {
            Ok(output) => output,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                out.notices.push(format!(
                    "{shown}: a Helm chart, whose templates/ were not scanned: `helm` is not on \
                     the PATH (install it to render and scan the chart)"
                ));
                continue;
            }
            Err(err) => {
                out.errors.push(error(
                    &chart_file,
                    format!("cannot run `helm template`: {err}"),
                ));
                continue;
            }
        };
        if !output.status.success() {
            out.errors.push(error(
                &chart_file,
                format!(
                    "`helm template` failed ({}): {}",
                    output.status,
                    tail(&output.stderr)
                ),
            ));
            continue;
        }
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let display = format!("{shown} (helm template)");
        let origins = helm_origins(&text, &display, dir, shown, limits);
        out.rendered.push(Rendered {
            display,
            text,
            origins,
        });
    }
}

/// The template of each document of `helm template`'s output, from the `# Source:
/// <chart>/templates/<file>` comment before it, when that file is in the chart directory.
fn helm_origins(
    text: &str,
    display: &str,
    dir: &Path,
    shown: &str,
    limits: &Limits,
) -> HashMap<usize, Origin> {
    let lines: Vec<&str> = text.lines().collect();
    let loaded = load_str(text, display, limits);
    let mut sources: Vec<(usize, String)> = Vec::new();
    for object in &loaded.objects {
        let first = object.spans.value.line as usize;
        let source = lines[..first.saturating_sub(1).min(lines.len())]
            .iter()
            .rev()
            .take_while(|l| !l.starts_with("---"))
            .find_map(|l| l.strip_prefix("# Source: "));
        if let Some(source) = source {
            sources.push((object.document, source.trim().to_owned()));
        }
    }
    let mut origins = HashMap::new();
    for (document, source) in &sources {
        // `<chart name>/templates/x.yaml`, or `<chart>/charts/<sub>/templates/x.yaml`.
        let Some((_, inside)) = source.split_once('/') else {
            continue;
        };
        let path = dir.join(inside);
        if !path.is_file() {
            continue;
        }
        let same: Vec<usize> = sources
            .iter()
            .filter(|(_, s)| s == source)
            .map(|(d, _)| *d)
            .collect();
        let segment = same.iter().position(|d| d == document).unwrap_or(0);
        let display = if shown == "." {
            inside.to_owned()
        } else {
            format!("{}/{inside}", shown.trim_end_matches('/'))
        };
        origins.insert(
            *document,
            Origin::Template {
                path,
                display,
                segment,
                of: same.len(),
            },
        );
    }
    origins
}

/// The line of the deepest key of `pointer` found in a Helm template (its `segment`-th
/// document when it has `of` of them), following indentation and list items and passing over
/// template actions. Line 1 when not even the first key is found.
fn template_pos(text: &str, pointer: &str, segment: usize, of: usize) -> Pos {
    let lines: Vec<&str> = text.lines().collect();
    // The documents of the template; used only when they are as many as those rendered.
    let mut starts = vec![0];
    starts.extend(
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with("---"))
            .map(|(i, _)| i + 1),
    );
    let segments: Vec<(usize, usize)> = starts
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, starts.get(i + 1).map_or(lines.len(), |&n| n - 1)))
        .filter(|&(s, e)| lines[s..e].iter().any(|l| content(l).is_some()))
        .collect();
    let (begin, end) = match segments.get(segment) {
        Some(&range) if segments.len() == of => range,
        _ => (0, lines.len()),
    };
    let mut found = Pos::new(1, 1);
    let mut at = begin;
    // Where the current block ends: lines indented less than this, or as much without being
    // a list item, or (for a list item) as much.
    let mut block = Block::Root;
    for token in pointer::tokens(pointer) {
        if let Ok(index) = token.parse::<usize>() {
            let Block::Key(indent) = block else { break };
            let items: Vec<(usize, usize)> = (at..end)
                .map_while(|i| {
                    let (raw, rest) = content(lines[i]).unwrap_or((usize::MAX, ""));
                    (raw == usize::MAX || raw > indent || (raw == indent && rest.starts_with('-')))
                        .then_some((i, raw))
                })
                .filter(|&(i, _)| content(lines[i]).is_some_and(|(_, r)| r.starts_with('-')))
                .collect();
            let Some(&(_, raw)) = items.first() else {
                break;
            };
            let same: Vec<usize> = items
                .iter()
                .filter(|&&(_, r)| r == raw)
                .map(|&(i, _)| i)
                .collect();
            let Some(&line) = same.get(index) else { break };
            found = Pos::new(line as u32 + 1, raw as u32 + 1);
            at = line;
            block = Block::Item(raw);
            continue;
        }
        let mut hit = None;
        // The column of the block's own keys: that of its first.
        let mut level = None;
        for (i, line) in lines.iter().enumerate().take(end).skip(at) {
            let Some((raw, rest)) = content(line) else {
                continue;
            };
            let leaves = match block {
                Block::Root => false,
                Block::Key(indent) => raw < indent || (raw == indent && !rest.starts_with('-')),
                Block::Item(indent) => i != at && raw <= indent,
            };
            if leaves {
                break;
            }
            let mut key_col = raw;
            let mut rest = rest;
            while let Some(after) = rest.strip_prefix("- ") {
                let trimmed = after.trim_start();
                key_col += rest.len() - trimmed.len();
                rest = trimmed;
            }
            let level = *level.get_or_insert(key_col);
            if key_col == level && is_key(rest, &token) {
                hit = Some((i, key_col));
                break;
            }
        }
        let Some((line, col)) = hit else { break };
        found = Pos::new(line as u32 + 1, col as u32 + 1);
        at = line + 1;
        block = Block::Key(col);
    }
    found
}

#[derive(Clone, Copy)]
enum Block {
    Root,
    Key(usize),
    Item(usize),
}

/// The indentation and text of a line of YAML content: not blank, a comment or a template
/// action alone on its line.
fn content(line: &str) -> Option<(usize, &str)> {
    let rest = line.trim_start();
    if rest.is_empty() || rest.starts_with('#') || rest.starts_with("{{") {
        return None;
    }
    Some((line.len() - rest.len(), rest))
}

/// Whether `rest` starts with the mapping key `key` (plain or quoted).
fn is_key(rest: &str, key: &str) -> bool {
    let unquoted = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_prefix(key))
        .and_then(|r| r.strip_prefix('"'))
        .or_else(|| {
            rest.strip_prefix('\'')
                .and_then(|r| r.strip_prefix(key))
                .and_then(|r| r.strip_prefix('\''))
        })
        .or_else(|| rest.strip_prefix(key));
    unquoted.is_some_and(|r| r.trim_start().starts_with(':'))
}

// ---------------------------------------------------------------------------------------------
// Kustomize

/// Renders a kustomization directory with `kubectl kustomize` (or `kustomize build` when there
/// is no `kubectl`), through a temporary kustomization that includes it and asks for origin
/// annotations, so that each object says which file it came from.
pub fn render_kustomization(dir: &str, limits: &Limits, out: &mut Renders) {
    let shown = dir.trim_end_matches('/');
    let shown = if shown.is_empty() { "/" } else { shown };
    match kustomize(Path::new(dir)) {
        Ok((text, wrapper)) => {
            let display = format!("{shown} (kustomize)");
            let origins = kustomize_origins(&text, &display, wrapper.path(), limits);
            out.rendered.push(Rendered {
                display,
                text,
                origins,
            });
        }
        Err(message) => out.errors.push(error(shown, message)),
    }
}

/// The rendered text, and the temporary directory of the wrapping kustomization (origin paths
/// are relative to it).
fn kustomize(dir: &Path) -> Result<(String, tempfile::TempDir), String> {
    let target = std::fs::canonicalize(dir).map_err(|err| format!("cannot read: {err}"))?;
    if !["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|name| target.join(name).is_file())
    {
        return Err("not a kustomization directory (no kustomization.yaml)".to_owned());
    }
    let wrapper = tempfile::Builder::new()
        .prefix("palisade-kustomize-")
        .tempdir()
        .map_err(|err| format!("cannot create a temporary directory: {err}"))?;
    let base = std::fs::canonicalize(wrapper.path())
        .map_err(|err| format!("cannot read the temporary directory: {err}"))?;
    let relative = relative_path(&base, &target);
    let kustomization = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nbuildMetadata: \
         [originAnnotations]\nresources:\n  - {}\n",
        serde_json::Value::String(relative.to_string_lossy().into_owned())
    );
    std::fs::write(base.join("kustomization.yaml"), kustomization)
        .map_err(|err| format!("cannot write the temporary kustomization: {err}"))?;
    let attempts: [(&str, &[&str]); 2] = [("kubectl", &["kustomize"]), ("kustomize", &["build"])];
    for (program, args) in attempts {
        let output = match Command::new(program).args(args).arg(&base).output() {
            Ok(output) => output,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(format!("cannot run `{program}`: {err}")),
        };
        if !output.status.success() {
            return Err(format!(
                "`{program} {}` failed ({}): {}",
                args.join(" "),
                output.status,
                tail(&output.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        return Ok((text, wrapper));
    }
    Err("neither `kubectl` nor `kustomize` is on the PATH".to_owned())
}

/// The path from directory `from` to `to`, both absolute.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in common..from.len() {
        path.push("..");
    }
    for part in &to[common..] {
        path.push(part);
    }
    path
}

/// `base` joined with `relative`, with `.` and `..` resolved lexically.
fn normalize(base: &Path, relative: &str) -> PathBuf {
    let mut path = PathBuf::new();
    for part in base.join(relative).components() {
        match part {
            Component::ParentDir => {
                path.pop();
            }
            Component::CurDir => {}
            other => path.push(other),
        }
    }
    path
}

/// How a source file is shown: relative to the current directory when it is under it.
fn shown_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| std::fs::canonicalize(cwd).ok())
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(display_of))
        .unwrap_or_else(|| display_of(path))
}

const ORIGIN: &str = "config.kubernetes.io/origin";

/// The origin of each rendered object, from its `config.kubernetes.io/origin` annotation:
/// `path:` for a file (remote ones, with `repo:`, are left as rendered), `configuredIn:` for a
/// generated object.
fn kustomize_origins(
    text: &str,
    display: &str,
    wrapper: &Path,
    limits: &Limits,
) -> HashMap<usize, Origin> {
    let base = std::fs::canonicalize(wrapper).unwrap_or_else(|_| wrapper.to_path_buf());
    let mut origins = HashMap::new();
    for object in load_str(text, display, limits).objects {
        let Some(origin) = object
            .value
            .pointer(&format!(
                "/metadata/annotations/{}",
                ORIGIN.replace('/', "~1")
            ))
            .and_then(|v| v.as_str())
        else {
            continue;
        };
        let field = |name: &str| {
            origin.lines().find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|r| r.strip_prefix(':'))
                    .map(|v| v.trim().trim_matches('"').to_owned())
            })
        };
        if field("repo").is_some() {
            continue;
        }
        if let Some(file) = field("path") {
            let path = normalize(&base, &file);
            origins.insert(
                object.document,
                Origin::Manifest {
                    display: shown_path(&path),
                    path,
                    kind: object.kind().to_owned(),
                    name: object.name().to_owned(),
                },
            );
        } else if let Some(file) = field("configuredIn") {
            let path = normalize(&base, &file);
            let kind = origin
                .lines()
                .find_map(|l| l.trim().strip_prefix("kind:"))
                .map(|k| k.trim())
                .unwrap_or_default();
            // `ConfigMapGenerator` is configured under `configMapGenerator:`.
            let mut key: String = kind.chars().take(1).flat_map(char::to_lowercase).collect();
            key.extend(kind.chars().skip(1));
            origins.insert(
                object.document,
                Origin::Generator {
                    display: shown_path(&path),
                    path,
                    key,
                },
            );
        }
    }
    origins
}

/// The object of `kind` in a source file that became the rendered object `name` (Kustomize
/// may add a prefix, a suffix or a hash): the same name, else one whose name the rendered name
/// contains, else the first of that kind.
fn source_object<'a>(objects: &'a [Object], kind: &str, name: &str) -> Option<&'a Object> {
    let of_kind = || objects.iter().filter(move |o| o.kind() == kind);
    of_kind()
        .find(|o| o.name() == name)
        .or_else(|| of_kind().find(|o| !o.name().is_empty() && name.contains(o.name())))
        .or_else(|| of_kind().next())
}

/// Moves each finding on a rendered document to the file it came from, at the line of its
/// field there when it can be found.
pub fn remap(findings: &mut [Finding], rendered: &[Rendered], limits: &Limits) {
    if rendered.is_empty() {
        return;
    }
    let by_display: HashMap<&str, &Rendered> =
        rendered.iter().map(|r| (r.display.as_str(), r)).collect();
    let mut texts: HashMap<PathBuf, Option<String>> = HashMap::new();
    let mut manifests: HashMap<PathBuf, Vec<Object>> = HashMap::new();
    for finding in findings {
        let Some(origin) = by_display
            .get(finding.file.as_str())
            .and_then(|r| r.origins.get(&finding.document))
        else {
            continue;
        };
        let (display, pos) = match origin {
            Origin::Template {
                path,
                display,
                segment,
                of,
            } => {
                let text = texts
                    .entry(path.clone())
                    .or_insert_with(|| std::fs::read_to_string(path).ok());
                let Some(text) = text else { continue };
                (display, template_pos(text, &finding.pointer, *segment, *of))
            }
            Origin::Manifest {
                path,
                display,
                kind,
                name,
            } => {
                let objects = manifests
                    .entry(path.clone())
                    .or_insert_with(|| load_path(path, &display_of(path), limits).objects);
                let Some(object) = source_object(objects, kind, name) else {
                    continue;
                };
                (display, object.locate(&finding.pointer))
            }
            Origin::Generator { path, display, key } => {
                let text = texts
                    .entry(path.clone())
                    .or_insert_with(|| std::fs::read_to_string(path).ok());
                let Some(text) = text else { continue };
                let pos = text
                    .lines()
                    .enumerate()
                    .find_map(|(i, l)| {
                        let rest = l.trim_start();
                        is_key(rest, key)
                            .then(|| Pos::new(i as u32 + 1, (l.len() - rest.len()) as u32 + 1))
                    })
                    .unwrap_or(Pos::new(1, 1));
                (display, pos)
            }
        };
        finding.file = display.clone();
        finding.pos = pos;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n        {{- range .Values.sidecars }}\n        - name: {{ .name }}\n        {{- end }}\n        - name: web\n          image: {{ .Values.image | quote }}\n          securityContext:\n            {{- toYaml .Values.sc | nindent 12 }}\n";

    #[test]
    fn a_pointer_maps_to_the_deepest_key_found_in_the_template() {
        let at = |p: &str| template_pos(TEMPLATE, p, 0, 1);
        assert_eq!(at("/spec/template/spec/containers"), Pos::new(8, 7));
        // The second item as written (the range is one item in the text).
        assert_eq!(
            at("/spec/template/spec/containers/1/image"),
            Pos::new(13, 11)
        );
        assert_eq!(
            at("/spec/template/spec/containers/1/securityContext/privileged"),
            Pos::new(14, 11)
        );
        assert_eq!(at("/metadata/name"), Pos::new(4, 3));
        assert_eq!(at("/nothing/here"), Pos::new(1, 1));
        // An item beyond those written stops at the list.
        assert_eq!(at("/spec/template/spec/containers/5/image"), Pos::new(8, 7));
    }

    #[test]
    fn the_documents_of_a_template_are_told_apart() {
        let text = "kind: A\nspec:\n  x: 1\n---\nkind: B\nspec:\n  x: 2\n";
        assert_eq!(template_pos(text, "/spec/x", 1, 2), Pos::new(7, 3));
        assert_eq!(template_pos(text, "/spec/x", 0, 2), Pos::new(3, 3));
        // Not as many documents as rendered: the whole file.
        assert_eq!(template_pos(text, "/spec/x", 1, 3), Pos::new(3, 3));
    }

    #[test]
    fn relative_paths_and_normalisation() {
        assert_eq!(
            relative_path(Path::new("/tmp/x"), Path::new("/work/a/b")),
            PathBuf::from("../../work/a/b")
        );
        assert_eq!(
            normalize(Path::new("/tmp/x"), "../../work/a/../b/f.yaml"),
            PathBuf::from("/work/b/f.yaml")
        );
    }
}
