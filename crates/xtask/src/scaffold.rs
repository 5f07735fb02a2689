//! `cargo xtask new-rule`: the files and lines a new rule needs.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

const RULES: &str = "crates/palisade-rules/src/rules";
const FIXTURES: &str = "crates/palisade-rules/tests/fixtures";

/// What a rule reads: the trait its file implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Checks {
    /// One object at a time (`ObjectRule`).
    Object,
    /// The whole input (`InventoryRule`).
    Inventory,
}

/// A rule to create.
#[derive(Debug, Clone)]
pub struct NewRule {
    pub id: String,
    pub slug: String,
    pub category: String,
    pub title: String,
    pub checks: Checks,
}

impl NewRule {
    pub fn new(
        id: &str,
        slug: &str,
        category: &str,
        title: &str,
        checks: Checks,
    ) -> anyhow::Result<NewRule> {
        let letters = id.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = &id[letters.len()..];
        if letters.is_empty()
            || !letters.chars().all(|c| c.is_ascii_uppercase())
            || digits.len() != 3
        {
            bail!("the ID {id:?} is not upper-case letters and three digits (e.g. POD022)");
        }
        let kebab = |s: &str| {
            !s.is_empty()
                && !s.starts_with('-')
                && !s.ends_with('-')
                && !s.contains("--")
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if !kebab(slug) {
            bail!("the slug {slug:?} is not kebab-case (lower case letters, digits, '-')");
        }
        if !category.chars().all(|c| c.is_ascii_lowercase()) || category.is_empty() {
            bail!("the category {category:?} is not a lower-case word");
        }
        if title.is_empty() || title.ends_with('.') || title.contains('"') {
            bail!("the title must be one line without quotes or a final period");
        }
        Ok(NewRule {
            id: id.to_owned(),
            slug: slug.to_owned(),
            category: category.to_owned(),
            title: title.to_owned(),
            checks,
        })
    }

    /// The file stem: the slug with underscores.
    pub fn stem(&self) -> String {
        self.slug.replace('-', "_")
    }

    /// The struct: the slug in upper camel case.
    pub fn struct_name(&self) -> String {
        self.slug
            .split('-')
            .map(|word| {
                let mut chars = word.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect()
    }

    pub fn rule_file(&self) -> PathBuf {
        Path::new(RULES)
            .join(&self.category)
            .join(format!("{}.rs", self.stem()))
    }

    pub fn fixture_file(&self) -> PathBuf {
        Path::new(FIXTURES).join(format!("{}.yaml", self.id))
    }

    /// Creates the rule file and fixture and adds the module and registry lines under `root`
    /// (the repository). Refuses an ID or slug already in use. Returns the paths it wrote.
    pub fn write(&self, root: &Path) -> anyhow::Result<Vec<PathBuf>> {
        let rules = root.join(RULES);
        for file in rule_files(&rules)? {
            let text = fs::read_to_string(&file)?;
            if text.contains(&format!("id: \"{}\",", self.id)) {
                bail!("{} is already declared in {}", self.id, file.display());
            }
            if text.contains(&format!("slug: \"{}\",", self.slug)) {
                bail!(
                    "the slug {} is already used in {}",
                    self.slug,
                    file.display()
                );
            }
        }
        let rule_file = root.join(self.rule_file());
        let fixture = root.join(self.fixture_file());
        for path in [&rule_file, &fixture] {
            if path.exists() {
                bail!("{} already exists", path.display());
            }
        }
        let mut written = Vec::new();
        let family = rules.join(&self.category);
        let family_mod = family.join("mod.rs");
        if !family.is_dir() {
            fs::create_dir_all(&family)?;
            fs::write(
                &family_mod,
                format!("//! Rules of the `{}` area.\n\n", self.category),
            )?;
            let top = rules.join("mod.rs");
            update(&top, |text| add_module(text, &self.category))?;
            written.push(top);
        }
        update(&family_mod, |text| add_module(text, &self.stem()))?;
        written.push(family_mod);
        fs::write(&rule_file, self.rule_source())?;
        written.push(rule_file);
        let registry = rules.join("mod.rs");
        update(&registry, |text| {
            add_to_registry(text, &self.id, &self.entry(), |entry| {
                id_of_entry(&rules, entry)
            })
        })?;
        written.push(registry);
        fs::write(&fixture, self.fixture_source())?;
        written.push(fixture);
        Ok(written)
    }

    /// The line of `ALL` that registers the rule.
    fn entry(&self) -> String {
        format!(
            "&{}::{}::{}",
            self.category,
            self.stem(),
            self.struct_name()
        )
    }

    pub fn rule_source(&self) -> String {
        let (trait_name, check) = match self.checks {
            Checks::Object => (
                "ObjectRule",
                "    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        // One `Emit::new(pointer, message)` per finding, at the offending field of
        // `cx.object` (or its nearest existing parent).
        let _ = (cx, out);
    }",
            ),
            Checks::Inventory => (
                "InventoryRule",
                "    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        // One `(index of the object in inventory.objects, Emit::new(pointer, message))` per
        // finding; an analysis several rules share is built once with `inventory.shared`.
        let _ = (inventory, out);
    }",
            ),
        };
        let uses = match self.checks {
            Checks::Object => "declare_rule, Emit, ObjectCx, ObjectRule",
            Checks::Inventory => "declare_rule, Emit, Inventory, InventoryRule",
        };
        format!(
            r#"use palisade_core::rule::{{Framework, Reference, Severity}};

use crate::{{{uses}}};

declare_rule! {{
    /// {title}.
    pub struct {name};
    checks: {checks:?},
    id: "{id}",
    slug: "{slug}",
    title: "{title}",
    severity: Severity::Medium,
    category: "{category}",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "What the rule finds, in the terms of the manifest.",
    rationale: "The attack or failure it enables.",
    remediation: "How to fix it, with a YAML example where it helps.",
    references: &[Reference::new(Framework::Docs, "The Kubernetes documentation page it follows")],
    fix: None,
}}

impl {trait_name} for {name} {{
{check}
}}
"#,
            title = self.title,
            name = self.struct_name(),
            checks = self.checks,
            id = self.id,
            slug = self.slug,
            category = self.category,
        )
    }

    pub fn fixture_source(&self) -> String {
        format!(
            "# {id}: objects the rule must report, each offending line ending in an expect comment\n\
             # with the rule ID (and `(safe)` or `(unsafe)` when the finding has a fix; see\n\
             # docs/architecture.md), and objects it must not report.\n\
             apiVersion: v1\nkind: Pod\nmetadata:\n  name: compliant\nspec:\n  containers:\n  \
             - name: app\n    image: registry.example/app:1.0\n",
            id = self.id
        )
    }
}

/// Every `.rs` file under the rules directory.
fn rule_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(rule_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(out)
}

fn update(path: &Path, change: impl FnOnce(&str) -> anyhow::Result<String>) -> anyhow::Result<()> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    fs::write(path, change(&text)?).with_context(|| format!("writing {}", path.display()))
}

/// `text` with `pub mod name;` among its `pub mod` lines, in name order.
pub fn add_module(text: &str, name: &str) -> anyhow::Result<String> {
    let line = format!("pub mod {name};");
    let mut lines: Vec<&str> = text.lines().collect();
    if lines.contains(&line.as_str()) {
        bail!("{line} is already there");
    }
    let modules: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("pub mod ") || lines[i].starts_with("pub(crate) mod "))
        .collect();
    let at = modules
        .iter()
        .copied()
        .find(|&i| module_name(lines[i]) > name)
        .or_else(|| modules.last().map(|i| i + 1))
        .unwrap_or(lines.len());
    lines.insert(at, &line);
    Ok(lines.join("\n") + "\n")
}

fn module_name(line: &str) -> &str {
    line.rsplit(' ').next().unwrap_or("").trim_end_matches(';')
}

/// `text` (the registry module) with `entry` in `ALL` before the first entry whose ID sorts
/// after `id`. Entries whose ID `id_of` cannot tell are passed over.
pub fn add_to_registry(
    text: &str,
    id: &str,
    entry: &str,
    id_of: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("pub static ALL:"))
        .context("no `pub static ALL` in the registry")?;
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.trim() == "];")
            .context("`ALL` is not closed")?;
    let at = (start + 1..end)
        .find(|&i| {
            id_of(lines[i].trim().trim_end_matches(',')).is_some_and(|other| other.as_str() > id)
        })
        .unwrap_or(end);
    lines.insert(at, format!("    {entry},"));
    Ok(lines.join("\n") + "\n")
}

/// The ID declared by the file an `ALL` entry (`&family::stem::Struct`) points to.
fn id_of_entry(rules: &Path, entry: &str) -> Option<String> {
    let mut parts = entry.trim_start_matches('&').split("::");
    let (family, stem) = (parts.next()?, parts.next()?);
    let text = fs::read_to_string(rules.join(family).join(format!("{stem}.rs"))).ok()?;
    let rest = &text[text.find("    id: \"")? + 9..];
    Some(rest[..rest.find('"')?].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(checks: Checks) -> NewRule {
        NewRule::new(
            "POD030",
            "pod-thing",
            "workload",
            "Pod does a thing",
            checks,
        )
        .unwrap()
    }

    #[test]
    fn names_follow_the_slug() {
        let r = rule(Checks::Object);
        assert_eq!(r.stem(), "pod_thing");
        assert_eq!(r.struct_name(), "PodThing");
        assert_eq!(
            r.rule_file(),
            Path::new("crates/palisade-rules/src/rules/workload/pod_thing.rs")
        );
        assert_eq!(
            r.fixture_file(),
            Path::new("crates/palisade-rules/tests/fixtures/POD030.yaml")
        );
    }

    #[test]
    fn bad_names_are_refused() {
        for (id, slug, category, title) in [
            ("pod030", "a", "workload", "T"),
            ("POD30", "a", "workload", "T"),
            ("POD030", "Bad-Slug", "workload", "T"),
            ("POD030", "a--b", "workload", "T"),
            ("POD030", "a", "Work", "T"),
            ("POD030", "a", "workload", "Ends with a period."),
        ] {
            assert!(
                NewRule::new(id, slug, category, title, Checks::Object).is_err(),
                "{id} {slug} {category} {title}"
            );
        }
    }

    #[test]
    fn modules_are_inserted_in_name_order() {
        let text = "//! Doc.\n\npub mod alpha;\npub mod gamma;\npub(crate) mod util;\n\nuse x;\n";
        assert_eq!(
            add_module(text, "beta").unwrap(),
            "//! Doc.\n\npub mod alpha;\npub mod beta;\npub mod gamma;\npub(crate) mod util;\n\nuse x;\n"
        );
        assert_eq!(
            add_module("//! Doc.\n\n", "first").unwrap(),
            "//! Doc.\n\npub mod first;\n"
        );
        assert!(add_module(text, "alpha").is_err());
    }

    #[test]
    fn the_registry_entry_goes_to_its_place_in_id_order() {
        let text = "pub static ALL: &[&dyn Rule] = &[\n    &a::x::X,\n    &b::unknown::U,\n    &c::z::Z,\n];\n";
        let id_of = |entry: &str| match entry {
            "&a::x::X" => Some("AAA001".to_owned()),
            "&c::z::Z" => Some("CCC001".to_owned()),
            _ => None,
        };
        let out = add_to_registry(text, "BBB001", "&b::y::Y", id_of).unwrap();
        assert_eq!(
            out,
            "pub static ALL: &[&dyn Rule] = &[\n    &a::x::X,\n    &b::unknown::U,\n    &b::y::Y,\n    &c::z::Z,\n];\n"
        );
        let last = add_to_registry(text, "ZZZ001", "&z::y::Y", id_of).unwrap();
        assert!(last.ends_with("    &c::z::Z,\n    &z::y::Y,\n];\n"));
    }

    /// The scaffold on a copy of the real rules directory: every file and line in place, and
    /// an ID or slug in use refused.
    #[test]
    fn scaffolds_a_rule_in_a_copy_of_the_repository() {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&repo.join(RULES), &tmp.path().join(RULES));
        fs::create_dir_all(tmp.path().join(FIXTURES)).unwrap();
        let r = NewRule::new(
            "POD999",
            "pod-scaffolded",
            "workload",
            "Pod is scaffolded",
            Checks::Inventory,
        )
        .unwrap();
        r.write(tmp.path()).unwrap();

        let source = fs::read_to_string(tmp.path().join(r.rule_file())).unwrap();
        assert!(source.contains("pub struct PodScaffolded;"));
        assert!(source.contains("checks: Inventory,"));
        assert!(source.contains("impl InventoryRule for PodScaffolded"));
        let family = fs::read_to_string(tmp.path().join(RULES).join("workload/mod.rs")).unwrap();
        assert!(family.contains("pub mod pod_scaffolded;"));
        let registry = fs::read_to_string(tmp.path().join(RULES).join("mod.rs")).unwrap();
        let entries: Vec<&str> = registry
            .lines()
            .filter(|l| l.starts_with("    &"))
            .map(str::trim)
            .collect();
        let at = entries
            .iter()
            .position(|e| *e == "&workload::pod_scaffolded::PodScaffolded,")
            .expect("registered");
        let ids: Vec<Option<String>> = entries
            .iter()
            .map(|e| id_of_entry(&tmp.path().join(RULES), e.trim_end_matches(',')))
            .collect();
        assert_eq!(ids[at].as_deref(), Some("POD999"));
        let before = ids[..at].iter().flatten().last().expect("a rule before it");
        assert!(before.as_str() < "POD999", "{before}");
        if let Some(after) = ids[at + 1..].iter().flatten().next() {
            assert!(after.as_str() > "POD999", "{after}");
        }
        assert!(tmp.path().join(r.fixture_file()).is_file());

        let again = NewRule::new(
            "POD998",
            "pod-scaffolded",
            "workload",
            "Again",
            Checks::Object,
        )
        .unwrap();
        assert!(again
            .write(tmp.path())
            .unwrap_err()
            .to_string()
            .contains("already used"));
        let taken =
            NewRule::new("POD999", "pod-other", "workload", "Again", Checks::Object).unwrap();
        assert!(taken
            .write(tmp.path())
            .unwrap_err()
            .to_string()
            .contains("already declared"));

        let new_area = NewRule::new(
            "ZZZ001",
            "zzz-first",
            "zzz",
            "First of its area",
            Checks::Object,
        )
        .unwrap();
        new_area.write(tmp.path()).unwrap();
        let top = fs::read_to_string(tmp.path().join(RULES).join("mod.rs")).unwrap();
        assert!(top.contains("pub mod zzz;"));
        assert!(
            fs::read_to_string(tmp.path().join(RULES).join("zzz/mod.rs"))
                .unwrap()
                .contains("pub mod zzz_first;")
        );
    }

    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy_dir(&path, &target);
            } else {
                fs::copy(&path, &target).unwrap();
            }
        }
    }
}
