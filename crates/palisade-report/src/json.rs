use serde_json::{json, Value};

use crate::{Report, VERSION};

/// The JSON report (documented in docs/json-output.md).
pub fn render(report: &Report<'_>) -> String {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut v = json!({
                "rule": f.rule.id,
                "slug": f.rule.slug,
                "title": f.rule.title,
                "severity": f.severity,
                "category": f.rule.category,
                "message": f.message,
                "file": f.file,
                "line": f.pos.line,
                "column": f.pos.col,
                "pointer": f.pointer,
                "object": f.object,
                "document": f.document,
            });
            if let Some(item) = f.item {
                v["item"] = json!(item);
            }
            if let Some(fix) = &f.fix {
                v["fix"] = json!(fix);
            }
            v
        })
        .collect();
    let errors: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "file": e.file,
                "line": e.pos.line,
                "column": e.pos.col,
                "kind": e.kind,
                "message": e.message,
            })
        })
        .collect();
    let out = json!({
        "version": VERSION,
        "findings": findings,
        "errors": errors,
        "warnings": report.warnings,
        "summary": report.summary,
    });
    let mut text = serde_json::to_string_pretty(&out).unwrap_or_default();
    text.push('\n');
    text
}
