use palisade_core::rule::Severity;

use crate::Report;

/// GitHub Actions workflow commands (`::error file=…,line=…,col=…::message`).
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for e in report.errors {
        out.push_str(&format!(
            "::error {}title={}::{}\n",
            location(&e.file, e.pos),
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
            "::{level} {}title={}::{} [{}]\n",
            location(&f.file, f.pos),
            property(&title),
            data(&report.redactor.redact(&f.message)),
            data(&f.object.to_string())
        ));
    }
    out
}

/// The `file`, `line` and `col` properties, none for an object read from a cluster (it has no
/// file in the repository; the message names it).
fn location(file: &str, pos: palisade_core::Pos) -> String {
    if pos.line == 0 {
        return String::new();
    }
    format!("file={},line={},col={},", property(file), pos.line, pos.col)
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
