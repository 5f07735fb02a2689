use palisade_core::rule::Severity;

use crate::Report;

/// GitHub Actions workflow commands (`::error file=…,line=…,col=…::message`).
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for e in report.errors {
        out.push_str(&format!(
            "::error file={},line={},col={},title={}::{}\n",
            property(&e.file),
            e.pos.line,
            e.pos.col,
            property("palisade: input error"),
            data(&report.redactor.redact(&e.message))
        ));
    }
    for w in report.warnings {
        out.push_str(&format!(
            "::warning title=palisade configuration::{}\n",
            data(w)
        ));
    }
    for f in report.findings {
        let level = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium | Severity::Low => "warning",
            Severity::Info => "notice",
        };
        let mut title = format!("{} {} ({})", f.rule.id, f.rule.slug, f.severity);
        for related in &f.related {
            title.push_str(&format!(", also {} {}", related.id, related.slug));
        }
        out.push_str(&format!(
            "::{level} file={},line={},col={},title={}::{} [{}]\n",
            property(&f.file),
            f.pos.line,
            f.pos.col,
            property(&title),
            data(&report.redactor.redact(&f.message)),
            data(&f.object.to_string())
        ));
    }
    out
}

/// Escapes a workflow command message.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
