use std::io::{self, Write};

use palisade_core::rule::{Finding, Fix, Severity};
use palisade_core::{LoadError, LoadErrorKind, ObjectRef};
use serde::ser::Serializer;
use serde::Serialize;

use crate::{Report, Summary, VERSION};

/// The JSON report (documented in docs/json-output.md), written as it is serialized: findings
/// are never copied into an intermediate document.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        version: VERSION,
        findings: Findings(report.findings),
        errors: Errors(report.errors),
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

struct Findings<'a>(&'a [Finding]);

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(JsonFinding::from))
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'static str,
    slug: &'static str,
    title: &'static str,
    severity: Severity,
    category: &'static str,
    message: &'a str,
    file: &'a str,
    line: u32,
    column: u32,
    pointer: &'a str,
    object: &'a ObjectRef,
    document: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a Fix>,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        JsonFinding {
            rule: f.rule.id,
            slug: f.rule.slug,
            title: f.rule.title,
            severity: f.severity,
            category: f.rule.category,
            message: &f.message,
            file: &f.file,
            line: f.pos.line,
            column: f.pos.col,
            pointer: &f.pointer,
            object: &f.object,
            document: f.document,
            item: f.item,
            fix: f.fix.as_ref(),
        }
    }
}

struct Errors<'a>(&'a [LoadError]);

impl Serialize for Errors<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|e| JsonError {
            file: &e.file,
            line: e.pos.line,
            column: e.pos.col,
            kind: e.kind,
            message: &e.message,
        }))
    }
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    kind: LoadErrorKind,
    message: &'a str,
}
