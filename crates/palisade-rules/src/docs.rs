//! Rule documentation rendered from the registry: `palisade explain`, `docs/rules/`.

use palisade_core::rule::{Applicability, FixSafety};

use crate::registry::{registry, Rule};

/// The kind of a rule's fixes, as the rule table says it.
fn fix_kind(safety: Option<FixSafety>) -> &'static str {
    match safety.map(|s| s.applicability) {
        None => "no",
        Some(Some(Applicability::Safe)) => "safe",
        Some(Some(Applicability::Unsafe)) => "unsafe",
        Some(None) => "safe or unsafe",
    }
}

/// The fixture of a rule, relative to the repository root.
pub fn fixture_path(id: &str) -> String {
    format!("crates/palisade-rules/tests/fixtures/{id}.yaml")
}

/// The Markdown page of one rule.
pub fn rule_markdown(rule_impl: &dyn Rule) -> String {
    let rule = rule_impl.meta();
    let mut out = format!("# {} `{}`: {}\n\n", rule.id, rule.slug, rule.title);
    out.push_str(&format!(
        "| severity | category | kinds | automatic fix |\n|---|---|---|---|\n| {} | {} | {} | {} |\n\n",
        rule.severity,
        rule.category,
        rule.kinds.join(", "),
        fix_kind(rule_impl.fix_safety())
    ));
    out.push_str(&format!("## What it finds\n\n{}\n\n", rule.summary));
    out.push_str(&format!("## Why it matters\n\n{}\n\n", rule.rationale));
    out.push_str(&format!("## How to fix it\n\n{}\n\n", rule.remediation));
    if let Some(safety) = rule_impl.fix_safety() {
        let kind = match safety.applicability {
            Some(Applicability::Safe) => {
                "Its automatic fix is **safe**: `palisade fix` applies it.".to_owned()
            }
            Some(Applicability::Unsafe) => "Its automatic fix is **unsafe**: `palisade fix` \
applies it only with `--unsafe-fixes`, and the webhook only where `webhook.mutate` names the \
rule itself."
                .to_owned(),
            None => "Its automatic fix is **safe** or **unsafe** depending on the object; \
`palisade fix` applies the unsafe ones only with `--unsafe-fixes`."
                .to_owned(),
        };
        out.push_str(&format!(
            "## Automatic fix\n\n{kind} {}\n\nA fix that would leave the object invalid for \
the API server is not applied.\n\n",
            safety.reason
        ));
    }
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
        "## Source\n\nDeclared in [`{source}`](../../{source}); its fixture, with the findings it \
must produce inline, is [`{fixture}`](../../{fixture}).\n\n",
        source = rule.source,
        fixture = fixture_path(rule.id),
    ));
    let same_control = crate::rules::pss::same_control(rule.id);
    if !same_control.is_empty() {
        let links: Vec<String> = same_control
            .iter()
            .map(|id| format!("[{id}]({id}.md)"))
            .collect();
        out.push_str(&format!(
            "## Reported once with {}\n\n{} judge{} the same control. Where both rules find the \
same field of an object (Pod Security rules report only in namespaces whose Pod Security labels \
the input holds), `palisade scan` reports one finding there: the hardening rule's, with its \
fix, at the higher of the two severities, its message followed by the Pod Security rule's, \
naming the Pod Security rule in `related` (JSON), `relatedRules` (SARIF) and after the rule ID \
in text (`[POD001, PSS007]`). Suppressing or deselecting either rule leaves the other reported \
alone.\n\n",
            same_control.join(", "),
            links.join(", "),
            if same_control.len() == 1 { "s" } else { "" }
        ));
        for other in &same_control {
            let (check, hardening) = if rule.category == "pss" {
                (rule.id, *other)
            } else {
                (*other, rule.id)
            };
            if crate::rules::pss::pod_wide(check, hardening) {
                out.push_str(&format!(
                    "{hardening} reports a pod once, at a field of the pod, for what {check} \
reports per container: the findings of {check} for the containers that the pod's setting \
covers are merged into it.\n\n"
                ));
            }
        }
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
A Pod Security rule (`PSS…`) and the hardening rule that judges the same control (`POD…`) \
that find the same field are reported as one finding naming both; suppressing either leaves the \
other reported alone. Each rule's page names its partners.\n\n\
| ID | slug | severity | category | title | fix |\n|---|---|---|---|---|---|\n",
    );
    for rule in registry() {
        let m = rule.meta();
        let fix = match fix_kind(rule.fix_safety()) {
            "no" => "",
            kind => kind,
        };
        out.push_str(&format!(
            "| [{id}]({id}.md) | `{}` | {} | {} | {} | {} |\n",
            m.slug,
            m.severity,
            m.category,
            m.title,
            fix,
            id = m.id,
        ));
    }
    out
}

/// Every generated file of `docs/rules/`, as (file name, content).
pub fn generated_files() -> Vec<(String, String)> {
    let mut files = vec![("README.md".to_owned(), index_markdown())];
    for rule in registry() {
        files.push((format!("{}.md", rule.meta().id), rule_markdown(*rule)));
    }
    files
}
