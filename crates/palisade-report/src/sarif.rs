use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use palisade_core::rule::{RuleMeta, Severity};
use serde::ser::Serializer;
use serde::Serialize;
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
#[derive(Serialize)]
struct Physical {
    #[serde(rename = "artifactLocation")]
    artifact_location: Artifact,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct Artifact {
    uri: String,
}

#[derive(Serialize)]
struct Region {
    #[serde(rename = "startLine")]
    start_line: u32,
    #[serde(rename = "startColumn")]
    start_column: u32,
}

fn physical(file: &str, pos: palisade_core::Pos) -> Physical {
    Physical {
        artifact_location: Artifact { uri: uri(file) },
        region: (pos.line != 0).then_some(Region {
            start_line: pos.line,
            start_column: pos.col,
        }),
    }
}

#[derive(Serialize)]
struct Text<'a> {
    text: Cow<'a, str>,
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation<'a>; 1],
    #[serde(rename = "columnKind")]
    column_kind: &'static str,
    results: Results<'a>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
struct Driver {
    name: &'static str,
    version: &'static str,
    #[serde(rename = "semanticVersion")]
    semantic_version: &'static str,
    #[serde(rename = "informationUri")]
    information_uri: &'static str,
    rules: Vec<Value>,
}

#[derive(Serialize)]
struct Invocation<'a> {
    #[serde(rename = "executionSuccessful")]
    execution_successful: bool,
    #[serde(rename = "toolExecutionNotifications")]
    notifications: Notifications<'a>,
}

/// The load errors, then the warnings, serialized one at a time.
struct Notifications<'a>(&'a Report<'a>);

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locations: Option<[NotificationLocation; 1]>,
}

#[derive(Serialize)]
struct NotificationLocation {
    #[serde(rename = "physicalLocation")]
    physical_location: Physical,
}

impl Serialize for Notifications<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        let errors = report.errors.iter().map(|e| Notification {
            level: "error",
            message: Text {
                text: report.redactor.redact(&e.message),
            },
            locations: Some([NotificationLocation {
                physical_location: physical(&e.file, e.pos),
            }]),
        });
        let warnings = report.warnings.iter().map(|w| Notification {
            level: "warning",
            message: Text {
                text: Cow::Borrowed(w),
            },
            locations: None,
        });
        serializer.collect_seq(errors.chain(warnings))
    }
}

/// The findings, each serialized as it is converted.
struct Results<'a> {
    report: &'a Report<'a>,
    rule_index: HashMap<&'static str, usize>,
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let index_of = |id: &str| self.rule_index.get(id).copied().unwrap_or(0);
        let redactor = self.report.redactor;
        serializer.collect_seq(self.report.findings.iter().map(|f| {
            let logical = format!("{}/{}", f.object.kind, f.object.name);
            let fully_qualified = match &f.object.namespace {
                Some(ns) => format!("{ns}/{}/{}{}", f.object.kind, f.object.name, f.pointer),
                None => format!("{}/{}{}", f.object.kind, f.object.name, f.pointer),
            };
            SarifResult {
                rule_id: f.rule.id,
                rule_index: index_of(f.rule.id),
                level: level(f.severity),
                message: Text {
                    text: redactor.redact(&f.message),
                },
                locations: [Location {
                    physical_location: physical(&f.file, f.pos),
                    logical_locations: [Logical {
                        name: logical,
                        fully_qualified_name: fully_qualified,
                        kind: "object",
                    }],
                }],
                partial_fingerprints: Fingerprints {
                    v1: fingerprint(&[f.rule.id, &f.file, &f.object.to_string(), &f.pointer]),
                },
                properties: Properties {
                    severity: f.severity.as_str(),
                    fix: f.fix.as_ref().map(|fix| fix.applicability.as_str()),
                    related_rules: f.related.iter().map(|r| r.id).collect(),
                },
            }
        }))
    }
}

#[derive(Serialize)]
struct SarifResult<'a> {
    #[serde(rename = "ruleId")]
    rule_id: &'static str,
    #[serde(rename = "ruleIndex")]
    rule_index: usize,
    level: &'static str,
    message: Text<'a>,
    locations: [Location; 1],
    #[serde(rename = "partialFingerprints")]
    partial_fingerprints: Fingerprints,
    properties: Properties,
}

#[derive(Serialize)]
struct Location {
    #[serde(rename = "physicalLocation")]
    physical_location: Physical,
    #[serde(rename = "logicalLocations")]
    logical_locations: [Logical; 1],
}

#[derive(Serialize)]
struct Logical {
    name: String,
    #[serde(rename = "fullyQualifiedName")]
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "palisade/v1")]
    v1: String,
}

/// A result's properties: its severity, the kind of its automatic fix when it has one, and the
/// other rules that found the same problem there.
#[derive(Serialize)]
struct Properties {
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'static str>,
    #[serde(rename = "relatedRules", skip_serializing_if = "Vec::is_empty")]
    related_rules: Vec<&'static str>,
}

/// SARIF 2.1.0, accepted by Microsoft's SARIF validator and GitHub code scanning, written as it
/// is serialized: results are never collected into an intermediate document.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut rules: Vec<&RuleMeta> = report.rules.to_vec();
    for f in report.findings {
        if !rules.iter().any(|r| r.id == f.rule.id) {
            rules.push(f.rule);
        }
    }
    rules.sort_by_key(|r| r.id);
    // The first of equal IDs, as a search from the start finds it.
    let mut rule_index = HashMap::new();
    for (index, rule) in rules.iter().enumerate() {
        rule_index.entry(rule.id).or_insert(index);
    }
    let document = Document {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "palisade",
                    version: VERSION,
                    semantic_version: VERSION,
                    information_uri: INFORMATION_URI,
                    rules: rules.iter().map(|r| rule_descriptor(r)).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: report.errors.is_empty(),
                notifications: Notifications(report),
            }],
            column_kind: "unicodeCodePoints",
            results: Results { report, rule_index },
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    out.write_all(b"\n")
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The SARIF writer before it streamed, which built a `serde_json::Value` of the report.
    /// Where a result is: its file and region, or only its URL for an object read from a cluster,
    /// which has no lines (SARIF lines start at 1).
    fn old_physical(file: &str, pos: palisade_core::Pos) -> Value {
        if pos.line == 0 {
            return json!({"artifactLocation": {"uri": uri(file)}});
        }
        json!({
            "artifactLocation": {"uri": uri(file)},
            "region": {"startLine": pos.line, "startColumn": pos.col}
        })
    }

    /// SARIF 2.1.0, accepted by Microsoft's SARIF validator and GitHub code scanning.
    fn old_render(report: &Report<'_>) -> String {
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
                        "physicalLocation": old_physical(&f.file, f.pos),
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
                    "properties": old_properties(f)
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
                        "physicalLocation": old_physical(&e.file, e.pos)
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

    /// A result's properties: its severity, the kind of its automatic fix when it has one, and the
    /// other rules that found the same problem there.
    fn old_properties(finding: &palisade_core::rule::Finding) -> Value {
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

    static META: RuleMeta = RuleMeta {
        id: "POD001",
        slug: "privileged-container",
        title: "Privileged container",
        severity: Severity::Critical,
        category: "workload",
        kinds: &["Pod"],
        summary: "s",
        rationale: "r",
        remediation: "m",
        references: &[],
        fixable: true,
        source: "x.rs",
    };
    static OTHER: RuleMeta = RuleMeta {
        id: "PSS007",
        slug: "pss-privileged",
        title: "Pod Security baseline: privileged",
        severity: Severity::High,
        category: "pss",
        ..META
    };

    fn finding(file: &str, line: u32, namespace: Option<&str>) -> palisade_core::rule::Finding {
        palisade_core::rule::Finding {
            rule: &META,
            severity: Severity::High,
            message: "privileged with token sk-secret-value-123456".to_owned(),
            file: file.to_owned(),
            pos: palisade_core::Pos::new(line, 3),
            pointer: "/spec/containers/0".to_owned(),
            object: std::sync::Arc::new(palisade_core::ObjectRef {
                api_version: "v1".to_owned(),
                kind: "Pod".to_owned(),
                namespace: namespace.map(str::to_owned),
                name: "web".to_owned(),
                uid: None,
            }),
            document: 0,
            item: None,
            fix: None,
            related: Vec::new(),
            secrets: Vec::new(),
            policy: None,
        }
    }

    #[test]
    fn the_streamed_report_is_the_value_tree_report_byte_for_byte() {
        let mut with_fix = finding("a b/x.yaml", 4, Some("shop"));
        with_fix.fix = Some(palisade_core::rule::Fix {
            description: "d".to_owned(),
            patch: Vec::new(),
            applicability: palisade_core::rule::Applicability::Unsafe,
        });
        with_fix.related = vec![&OTHER];
        let findings = [
            with_fix,
            finding("https://cluster/api/v1/pods/web", 0, None),
            finding("/abs/y.yaml", 9, None),
        ];
        let errors = [palisade_core::LoadError {
            file: "bad.yaml".to_owned(),
            pos: palisade_core::Pos::new(2, 1),
            kind: palisade_core::LoadErrorKind::Syntax,
            message: "broken sk-secret-value-123456".to_owned(),
        }];
        let warnings = vec!["a warning".to_owned()];
        let redactor = palisade_core::Redactor::new(["sk-secret-value-123456"]).expect("masks");
        let rules = [&OTHER];
        for (findings, errors) in [(&findings[..], &errors[..]), (&[][..], &[][..])] {
            let report = Report {
                findings,
                errors,
                warnings: &warnings,
                rules: &rules,
                summary: Report::summarize(findings, errors, 2, 3, 0),
                redactor: &redactor,
            };
            let mut streamed = Vec::new();
            write(&report, &mut streamed).expect("writes to memory");
            let streamed = String::from_utf8(streamed).expect("UTF-8");
            assert_eq!(streamed, old_render(&report));
            assert!(!streamed.contains("sk-secret"), "{streamed}");
        }
    }

    #[test]
    fn uris_are_relative_references() {
        assert_eq!(uri("examples/a b.yaml"), "examples/a%20b.yaml");
        assert_eq!(uri("./x.yaml"), "x.yaml");
        assert_eq!(uri("/abs/x.yaml"), "file:///abs/x.yaml");
        assert_eq!(pascal("privileged-container"), "PrivilegedContainer");
    }
}
