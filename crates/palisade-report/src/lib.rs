//! Reports of a scan: `text` for people, `json` for tools, `sarif` for code-scanning upload,
//! `junit` for CI test views and `github` for workflow annotations. Every format is
//! deterministic: findings are sorted by file, line, column and rule.
//!
//! Every format passes the text it takes from the input (messages, code frames, fixes, input
//! errors) through the report's [`Redactor`], so the credentials findings carry are masked
//! unless the caller chose an empty redactor (`--show-secrets`).

mod github;
mod json;
mod junit;
mod sarif;
mod text;

use palisade_core::rule::{Applicability, Finding, RuleMeta, Severity};
use palisade_core::{LoadError, Redactor};
use serde::Serialize;

pub use text::{SourceLines, TextOptions};

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
    Github,
}

impl Format {
    pub const NAMES: [&'static str; 5] = ["text", "json", "sarif", "junit", "github"];

    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "text" => Format::Text,
            "json" => Format::Json,
            "sarif" => Format::Sarif,
            "junit" => Format::Junit,
            "github" => Format::Github,
            _ => return None,
        })
    }
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub objects: usize,
    /// Documents that are not Kubernetes objects.
    pub skipped: usize,
    pub findings: usize,
    pub errors: usize,
    /// Findings by severity, in severity order from `info` up to `critical` (the order of the
    /// JSON keys).
    pub by_severity: std::collections::BTreeMap<Severity, usize>,
    /// Findings that have an automatic fix.
    pub fixable: usize,
    /// Of those, the findings whose fix is unsafe (applied only with `--unsafe-fixes`).
    pub unsafe_fixable: usize,
    /// What the baseline did, when the scan had one (`--baseline` or `--write-baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSummary>,
}

/// Findings a baseline hid, and findings of the baseline that the scan no longer found.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct BaselineSummary {
    pub hidden: usize,
    pub gone: usize,
}

/// Everything a report shows.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub errors: &'a [LoadError],
    /// Configuration warnings (expired suppressions, ignore annotations naming unknown rules).
    pub warnings: &'a [String],
    /// The rules that ran, for SARIF rule metadata.
    pub rules: &'a [&'static RuleMeta],
    pub summary: Summary,
    /// Masks credentials in everything the report writes; empty to show them.
    pub redactor: &'a Redactor,
}

impl Report<'_> {
    /// Computes the summary counts from the findings and errors.
    pub fn summarize(
        findings: &[Finding],
        errors: &[LoadError],
        files: usize,
        objects: usize,
        skipped: usize,
    ) -> Summary {
        let mut by_severity = std::collections::BTreeMap::new();
        for f in findings {
            *by_severity.entry(f.severity).or_insert(0) += 1;
        }
        Summary {
            files,
            objects,
            skipped,
            findings: findings.len(),
            errors: errors.len(),
            by_severity,
            fixable: findings.iter().filter(|f| f.fix.is_some()).count(),
            unsafe_fixable: findings
                .iter()
                .filter(|f| {
                    f.fix
                        .as_ref()
                        .is_some_and(|fix| fix.applicability == Applicability::Unsafe)
                })
                .count(),
            baseline: None,
        }
    }
}

/// Renders a report in `format`.
pub fn render(report: &Report<'_>, format: Format, text: &TextOptions<'_>) -> String {
    let mut out = Vec::new();
    write(report, format, text, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("reports are UTF-8")
}

/// Writes a report in `format` to `out`. The JSON, SARIF and text reports are written to `out`
/// as they are serialized, so a large report is never held in memory whole.
pub fn write(
    report: &Report<'_>,
    format: Format,
    text: &TextOptions<'_>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let rendered = match format {
        Format::Json => return json::write(report, out),
        Format::Text => return text::write(report, text, out),
        Format::Sarif => return sarif::write(report, out),
        Format::Junit => junit::render(report),
        Format::Github => github::render(report),
    };
    out.write_all(rendered.as_bytes())
}

/// The palisade version written into reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
