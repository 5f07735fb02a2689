//! Rule documentation rendered from the registry: `palisade explain`, `docs/rules/`.

use palisade_core::rule::RuleMeta;

use crate::registry::registry;

/// The Markdown page of one rule.
pub fn rule_markdown(rule: &RuleMeta) -> String {
    let mut out = format!("# {} `{}`: {}\n\n", rule.id, rule.slug, rule.title);
    out.push_str(&format!(
        "| severity | category | kinds | automatic fix |\n|---|---|---|---|\n| {} | {} | {} | {} |\n\n",
        rule.severity,
        rule.category,
        rule.kinds.join(", "),
        if rule.fixable { "yes" } else { "no" }
    ));
    out.push_str(&format!("## What it finds\n\n{}\n\n", rule.summary));
    out.push_str(&format!("## Why it matters\n\n{}\n\n", rule.rationale));
    out.push_str(&format!("## How to fix it\n\n{}\n\n", rule.remediation));
    if !rule.references.is_empty() {
        out.push_str("## References\n\n");
        for r in rule.references {
            match r.url {
                Some(url) => {
                    out.push_str(&format!("- {}: [{}]({url})\n", r.framework.label(), r.id))
                }
                None => out.push_str(&format!("- {}: {}\n", r.framework.label(), r.id)),
            }
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "## Suppressing it\n\nFor one object, annotate it with `palisade.dev/ignore: \"{}\"` and \
`palisade.dev/ignore-reason`; for many, add a suppression with a `reason` (and an `expires` \
date) to `.palisade.yaml`.\n",
        rule.id
    ));
    out
}

/// The index page of `docs/rules/`.
pub fn index_markdown() -> String {
    let mut out = String::from(
        "# Rules\n\nGenerated from the rule registry (`palisade rules`); do not edit by hand. \
Regenerate with `PALISADE_UPDATE_DOCS=1 cargo test -p palisade-rules --test docs`.\n\n\
| ID | slug | severity | category | title | fix |\n|---|---|---|---|---|---|\n",
    );
    for rule in registry() {
        let m = rule.meta();
        out.push_str(&format!(
            "| [{id}]({id}.md) | `{}` | {} | {} | {} | {} |\n",
            m.slug,
            m.severity,
            m.category,
            m.title,
            if m.fixable { "yes" } else { "" },
            id = m.id,
        ));
    }
    out
}

/// Every generated file of `docs/rules/`, as (file name, content).
pub fn generated_files() -> Vec<(String, String)> {
    let mut files = vec![("README.md".to_owned(), index_markdown())];
    for rule in registry() {
        let m = rule.meta();
        files.push((format!("{}.md", m.id), rule_markdown(m)));
    }
    files
}
