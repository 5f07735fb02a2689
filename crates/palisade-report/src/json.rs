use std::borrow::Cow;
use std::io::{self, Write};

use palisade_core::rule::{Finding, Fix, Severity};
use palisade_core::{LoadError, LoadErrorKind, ObjectRef, Redactor};
use rayon::prelude::*;
use serde::ser::Serializer;
use serde::Serialize;

use crate::{Report, VERSION};

/// The JSON report (documented in docs/json-output.md), written as it is serialized: findings
/// are never copied into an intermediate document. Batches of findings are serialized in
/// parallel, each finding into its own buffer, and written in order: the bytes are those of
/// `serde_json::to_writer_pretty` on the whole document.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"{\n  \"version\": ")?;
    serde_json::to_writer(&mut *out, VERSION)?;
    out.write_all(b",\n  \"findings\": ")?;
    write_findings(report.findings, report.redactor, out)?;
    out.write_all(b",\n  \"errors\": ")?;
    write_nested(&Errors(report.errors, report.redactor), INDENT, out)?;
    out.write_all(b",\n  \"warnings\": ")?;
    write_nested(report.warnings, INDENT, out)?;
    out.write_all(b",\n  \"summary\": ")?;
    write_nested(&report.summary, INDENT, out)?;
    out.write_all(b"\n}\n")
}

/// The indentation of one level of `serde_json`'s pretty printer.
const INDENT: &[u8] = b"  ";

/// Findings serialized on the worker threads at a time: enough to keep them busy, few enough
/// that a large report is not held in memory twice.
const BATCH: usize = 1024;

/// The `findings` array, at the document's second level.
fn write_findings(
    findings: &[Finding],
    redactor: &Redactor,
    out: &mut dyn Write,
) -> io::Result<()> {
    if findings.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    for (n, batch) in findings.chunks(BATCH).enumerate() {
        let buffers: Vec<io::Result<Vec<u8>>> = batch
            .par_chunks(32)
            .enumerate()
            .map(|(m, chunk)| {
                let mut buffer = Vec::with_capacity(chunk.len() * 1024);
                for (k, finding) in chunk.iter().enumerate() {
                    if n + m + k > 0 {
                        buffer.push(b',');
                    }
                    buffer.extend_from_slice(b"\n    ");
                    write_nested(&JsonFinding::new(finding, redactor), b"    ", &mut buffer)?;
                }
                Ok(buffer)
            })
            .collect();
        for buffer in buffers {
            out.write_all(&buffer?)?;
        }
    }
    out.write_all(b"\n  ]")
}

/// `value` pretty-printed as `serde_json` prints it nested at the depth `indent` stands for:
/// each of its lines after the first indented by `indent` more (JSON strings hold no line
/// breaks, so every line break is the printer's).
fn write_nested<T: Serialize + ?Sized, W: Write + ?Sized>(
    value: &T,
    indent: &[u8],
    out: &mut W,
) -> io::Result<()> {
    let formatter = Nested {
        base: indent,
        level: 0,
        has_value: false,
    };
    let mut serializer = serde_json::Serializer::with_formatter(out, formatter);
    value.serialize(&mut serializer)?;
    Ok(())
}

/// `serde_json`'s `PrettyFormatter` (two spaces a level) for a value nested in a document: every
/// line break is followed by `base` before the printer's own indentation.
struct Nested<'a> {
    base: &'a [u8],
    level: usize,
    has_value: bool,
}

impl Nested<'_> {
    fn line<W: Write + ?Sized>(&self, writer: &mut W, start: &[u8]) -> io::Result<()> {
        writer.write_all(start)?;
        writer.write_all(self.base)?;
        for _ in 0..self.level {
            writer.write_all(INDENT)?;
        }
        Ok(())
    }

    fn open<W: Write + ?Sized>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: Write + ?Sized>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(writer, b"\n")?;
        }
        writer.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Nested<'_> {
    fn begin_array<W: Write + ?Sized>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: Write + ?Sized>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: Write + ?Sized>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.line(writer, if first { b"\n" } else { b",\n" })
    }

    fn end_array_value<W: Write + ?Sized>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: Write + ?Sized>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: Write + ?Sized>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: Write + ?Sized>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.line(writer, if first { b"\n" } else { b",\n" })
    }

    fn begin_object_value<W: Write + ?Sized>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: Write + ?Sized>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Summary;
    use palisade_core::rule::{Applicability, RuleMeta};
    use palisade_core::Pos;

    /// The JSON writer before it serialized findings in parallel: the whole document through
    /// `serde_json::to_writer_pretty`.
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

    fn old_write(report: &Report<'_>) -> String {
        let document = Document {
            version: VERSION,
            findings: Findings(report.findings, report.redactor),
            errors: Errors(report.errors, report.redactor),
            warnings: report.warnings,
            summary: &report.summary,
        };
        serde_json::to_string_pretty(&document).expect("serializes") + "\n"
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

    fn finding(n: usize) -> Finding {
        Finding {
            rule: &META,
            severity: Severity::High,
            message: format!("privileged \"{n}\"\nwith token sk-secret-value-123456"),
            file: format!("dir/{n}.yaml"),
            pos: Pos::new(n as u32 + 1, 3),
            pointer: "/spec/containers/0".to_owned(),
            object: std::sync::Arc::new(ObjectRef {
                api_version: "v1".to_owned(),
                kind: "Pod".to_owned(),
                namespace: n.is_multiple_of(2).then(|| "shop".to_owned()),
                name: "web".to_owned(),
                uid: None,
            }),
            document: n % 3,
            item: n.is_multiple_of(5).then_some(n),
            fix: n.is_multiple_of(7).then(|| Fix {
                description: "d sk-secret-value-123456".to_owned(),
                patch: Vec::new(),
                applicability: Applicability::Unsafe,
            }),
            related: if n.is_multiple_of(4) {
                vec![&META]
            } else {
                Vec::new()
            },
            secrets: Vec::new(),
            policy: n.is_multiple_of(6).then(|| "K8sPolicy/name".to_owned()),
        }
    }

    #[test]
    fn the_parallel_report_is_the_whole_document_report_byte_for_byte() {
        let errors = [LoadError {
            file: "bad.yaml".to_owned(),
            pos: Pos::new(2, 1),
            kind: LoadErrorKind::Syntax,
            message: "broken sk-secret-value-123456".to_owned(),
        }];
        let warnings = ["a warning".to_owned()];
        let redactor = Redactor::new(["sk-secret-value-123456"]).expect("masks");
        // Around the batch and chunk sizes, and none at all.
        for count in [0, 1, 2, 32, 33, BATCH, BATCH + 1, 2 * BATCH + 40] {
            let findings: Vec<Finding> = (0..count).map(finding).collect();
            for (errors, warnings) in [(&errors[..], &warnings[..]), (&[][..], &[][..])] {
                let report = Report {
                    findings: &findings,
                    errors,
                    warnings,
                    rules: &[],
                    summary: Report::summarize(&findings, errors, 2, 3, 0),
                    redactor: &redactor,
                };
                let mut written = Vec::new();
                write(&report, &mut written).expect("writes to memory");
                let written = String::from_utf8(written).expect("UTF-8");
                assert_eq!(written, old_write(&report), "{count} findings");
                assert!(!written.contains("sk-secret"));
            }
        }
    }
}
