use palisade_core::rule::{RuleMeta, Severity};
use serde_json::{json, Value};

use crate::{Report, VERSION};

const INFORMATION_URI: &str = "https://github.com/palisade-dev/palisade";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
        Severity::Info => "note",
    }
}

/// GitHub code scanning ranks security results by this number (0.1–10).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn rule_descriptor(rule: &RuleMeta) -> Value {
    let references: Vec<String> = rule
        .references
        .iter()
        .map(|r| match r.url {
            Some(url) => format!("- {} {}: <{url}>", r.framework.label(), r.id),
            None => format!("- {} {}", r.framework.label(), r.id),
        })
        .collect();
    let markdown = format!(
        "{}\n\n**Why:** {}\n\n**Fix:** {}\n\n**References:**\n{}",
        rule.summary,
        rule.rationale,
        rule.remediation,
        references.join("\n")
    );
    let text = format!(
        "{} Why: {} Fix: {}",
        rule.summary, rule.rationale, rule.remediation
    );
    let mut tags = vec!["security".to_owned(), rule.category.to_owned()];
    tags.extend(
        rule.references
            .iter()
            .map(|r| format!("{}:{}", r.framework.label(), r.id)),
    );
    json!({
        "id": rule.id,
        "name": pascal(rule.slug),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.summary},
        "help": {"text": text, "markdown": markdown},
        "helpUri": format!("{INFORMATION_URI}/blob/main/docs/rules/{}.md", rule.id),
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {
            "tags": tags,
            "precision": "high",
            "problem.severity": level(rule.severity),
            "security-severity": security_severity(rule.severity),
        }
    })
}

fn pascal(slug: &str) -> String {
    slug.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// A relative URI reference for a path as given on the command line.
fn uri(path: &str) -> String {
    // An object read from a cluster is located by its URL.
    if path.starts_with("https://") || path.starts_with("http://") {
        return path.to_owned();
    }
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if path.starts_with('/') {
        format!("file://{out}")
    } else {
        out.trim_start_matches("./").to_owned()
    }
}

/// Where a result is: its file and region, or only its URL for an object read from a cluster,
/// which has no lines (SARIF lines start at 1).
fn physical(file: &str, pos: palisade_core::Pos) -> Value {
    if pos.line == 0 {
        return json!({"artifactLocation": {"uri": uri(file)}});
    }
    json!({
        "artifactLocation": {"uri": uri(file)},
        "region": {"startLine": pos.line, "startColumn": pos.col}
    })
}

/// SARIF 2.1.0, accepted by Microsoft's SARIF validator and GitHub code scanning.
pub fn render(report: &Report<'_>) -> String {
    let mut rules: Vec<&RuleMeta> = report.rules.to_vec();
    for f in report.findings {
        if !rules.iter().any(|r| r.id == f.rule.id) {
            rules.push(f.rule);
        }
    }
    rules.sort_by_key(|r| r.id);
    let index_of = |id: &str| rules.iter().position(|r| r.id == id).unwrap_or(0);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let logical = format!("{}/{}", f.object.kind, f.object.name);
            let fully_qualified = match &f.object.namespace {
                Some(ns) => format!("{ns}/{}/{}{}", f.object.kind, f.object.name, f.pointer),
                None => format!("{}/{}{}", f.object.kind, f.object.name, f.pointer),
            };
            json!({
                "ruleId": f.rule.id,
                "ruleIndex": index_of(f.rule.id),
                "level": level(f.severity),
                "message": {"text": report.redactor.redact(&f.message)},
                "locations": [{
                    "physicalLocation": physical(&f.file, f.pos),
                    "logicalLocations": [{
                        "name": logical,
                        "fullyQualifiedName": fully_qualified,
                        "kind": "object"
                    }]
                }],
                "partialFingerprints": {
                    "palisade/v1": fingerprint(&[
                        f.rule.id,
                        &f.file,
                        &f.object.to_string(),
                        &f.pointer,
                    ])
                },
                "properties": properties(f)
            })
        })
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": {"text": report.redactor.redact(&e.message)},
                "locations": [{
                    "physicalLocation": physical(&e.file, e.pos)
                }]
            })
        })
        .chain(
            report
                .warnings
                .iter()
                .map(|w| json!({"level": "warning", "message": {"text": w}})),
        )
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "palisade",
                "version": VERSION,
                "semanticVersion": VERSION,
                "informationUri": INFORMATION_URI,
                "rules": rules.iter().map(|r| rule_descriptor(r)).collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    text.push('\n');
    text
}

/// A stable 64-bit FNV-1a hash, hex encoded.
fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// A result's properties: its severity, the kind of its automatic fix when it has one, and the
/// other rules that found the same problem there.
fn properties(finding: &palisade_core::rule::Finding) -> Value {
    let mut properties = json!({"severity": finding.severity.as_str()});
    if let Some(fix) = &finding.fix {
        properties["fix"] = json!(fix.applicability.as_str());
    }
    if !finding.related.is_empty() {
        let ids: Vec<&str> = finding.related.iter().map(|r| r.id).collect();
        properties["relatedRules"] = json!(ids);
    }
    properties
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_references() {
        assert_eq!(uri("examples/a b.yaml"), "examples/a%20b.yaml");
        assert_eq!(uri("./x.yaml"), "x.yaml");
        assert_eq!(uri("/abs/x.yaml"), "file:///abs/x.yaml");
        assert_eq!(pascal("privileged-container"), "PrivilegedContainer");
    }
}
