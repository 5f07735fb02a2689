use std::borrow::Cow;
use std::io::{self, Write};

use palisade_core::rule::{Finding, Fix, Severity};
use palisade_core::{LoadError, LoadErrorKind, ObjectRef, Redactor};
use serde::ser::Serializer;
use serde::Serialize;

use crate::{Report, Summary, VERSION};

/// The JSON report (documented in docs/json-output.md), written as it is serialized: findings
/// are never copied into an intermediate document.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        version: VERSION,
        findings: Findings(report.findings, report.redactor),
        errors: Errors(report.errors, report.redactor),
        warnings: report.warnings,
        summary: &report.summary,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct Document<'a> {
    version: &'static str,
    findings: Findings<'a>,
    errors: Errors<'a>,
    warnings: &'a [String],
    summary: &'a Summary,
}

struct Findings<'a>(&'a [Finding], &'a Redactor);

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|f| JsonFinding::new(f, self.1)))
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'static str,
    /// The policy of a policy-as-code finding (`K8sAllowedRepos/name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<&'a str>,
    slug: &'static str,
    title: &'static str,
    severity: Severity,
    category: &'static str,
    message: Cow<'a, str>,
    file: &'a str,
    line: u32,
    column: u32,
    pointer: &'a str,
    object: &'a ObjectRef,
    document: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<Cow<'a, Fix>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<&'static str>,
}

impl<'a> JsonFinding<'a> {
    fn new(f: &'a Finding, redactor: &Redactor) -> Self {
        JsonFinding {
            rule: f.rule.id,
            policy: f.policy.as_deref(),
            slug: f.rule.slug,
            title: f.rule.title,
            severity: f.severity,
            category: f.rule.category,
            message: redactor.redact(&f.message),
            file: &f.file,
            line: f.pos.line,
            column: f.pos.col,
            pointer: &f.pointer,
            object: &f.object,
            document: f.document,
            item: f.item,
            fix: f.fix.as_ref().map(|fix| redactor.redact_fix(fix)),
            related: f.related.iter().map(|r| r.id).collect(),
        }
    }
}

struct Errors<'a>(&'a [LoadError], &'a Redactor);

impl Serialize for Errors<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|e| JsonError {
            file: &e.file,
            line: e.pos.line,
            column: e.pos.col,
            kind: e.kind,
            message: self.1.redact(&e.message),
        }))
    }
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    kind: LoadErrorKind,
    message: Cow<'a, str>,
}
