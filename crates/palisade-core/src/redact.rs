//! Masking the credentials a run found before any output shows them.
//!
//! Rules that find a credential attach its value to their finding
//! ([`Finding::secrets`](crate::rule::Finding::secrets)); a [`Redactor`] built from a run's
//! credentials replaces every occurrence of them in text about to be written (report messages,
//! code frames, fix diffs) with [`mask`]`(value)`: the first characters of the value and its
//! length, e.g. `Sup3…(19 chars)`.
//!
//! A value of at least [`ANYWHERE_CHARS`] characters is masked wherever it occurs. A shorter one
//! (a weak password such as `mysql`) is masked only where it stands alone: not inside a longer
//! word, name or path (`mysql:8.0`, `cluster-admin`, `registry.k8s.io/test`), which would garble
//! the report without hiding anything; a password between `:` and `@` in a URL stands alone.
//!
//! Besides the value itself, the redactor masks the forms it takes in a manifest: each line of
//! a multi-line value (a PEM key in a block scalar; the `-----BEGIN/END …-----` armour lines are
//! left readable), the value with JSON or YAML double-quoted escapes (`\"`, `\\`, `\n`) and with
//! YAML single-quoted escapes (`''`). Rules attach the value as written too where it differs
//! from what they checked (the base64 `data:` of a Secret).

use std::borrow::Cow;
use std::collections::BTreeSet;

use aho_corasick::{AhoCorasick, BuildError, Input, MatchKind};
use serde_json::Value;

use crate::patch::PatchOp;
use crate::rule::Fix;

/// Values (and lines of values) shorter than this many characters are left as they are: masking
/// them would garble unrelated text, and rules do not treat such short values as credentials.
pub const MIN_SECRET_CHARS: usize = 4;

/// Values (and lines of values) at least this long are masked wherever they occur; shorter ones
/// only where they stand alone.
pub const ANYWHERE_CHARS: usize = 16;

/// Longest prefix of a value [`mask`] keeps.
const MAX_KEPT_CHARS: usize = 4;

/// How a masked value is shown: its first characters (a quarter of the value, at most four)
/// then `…` and its length in characters: `Sup3…(19 chars)`, `ab…(8 chars)`.
pub fn mask(secret: &str) -> String {
    let chars = secret.chars().count();
    let kept: String = secret
        .chars()
        .take((chars / 4).min(MAX_KEPT_CHARS))
        .collect();
    format!("{kept}…({chars} chars)")
}

/// Masks known credentials in text. The default redactor masks nothing (`--show-secrets`).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// `None` when there is nothing to mask.
    matcher: Option<AhoCorasick>,
    /// The replacement of each pattern of `matcher`, by pattern index.
    masks: Vec<String>,
    /// Whether each pattern is masked inside longer words too ([`ANYWHERE_CHARS`]).
    anywhere: Vec<bool>,
}

impl Redactor {
    /// A redactor for these credential values. Fails only when the values are too many or too
    /// large for one automaton; output must then not be written at all.
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Result<Self, BuildError> {
        let mut patterns = BTreeSet::new();
        for secret in secrets {
            add_forms(secret.as_ref(), &mut patterns);
        }
        if patterns.is_empty() {
            return Ok(Redactor::default());
        }
        let patterns: Vec<String> = patterns.into_iter().collect();
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)?;
        Ok(Redactor {
            matcher: Some(matcher),
            masks: patterns.iter().map(|p| mask(p)).collect(),
            anywhere: patterns
                .iter()
                .map(|p| p.chars().count() >= ANYWHERE_CHARS)
                .collect(),
        })
    }

    /// Whether the redactor masks nothing.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// `text` with every credential masked; borrowed when it holds none.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(matcher) = &self.matcher else {
            return Cow::Borrowed(text);
        };
        let mut out = String::new();
        let mut copied = 0;
        let mut from = 0;
        while let Some(found) = matcher.find(Input::new(text).range(from..)) {
            let pattern = found.pattern().as_usize();
            if self.anywhere[pattern] || stands_alone(text, found.start(), found.end()) {
                out.push_str(&text[copied..found.start()]);
                out.push_str(&self.masks[pattern]);
                copied = found.end();
                from = found.end();
            } else {
                // A shorter pattern may still stand alone further on in this match.
                from = found.start()
                    + text[found.start()..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8);
            }
        }
        if copied == 0 {
            return Cow::Borrowed(text);
        }
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }

    /// A fix with credentials masked in its description and in the values its patch writes.
    pub fn redact_fix<'f>(&self, fix: &'f Fix) -> Cow<'f, Fix> {
        let mut written = fix.patch.iter().filter_map(|op| match op {
            PatchOp::Add { value, .. } | PatchOp::Replace { value, .. } => Some(value),
            PatchOp::Remove { .. } => None,
        });
        if self.is_empty() || !(self.masks(&fix.description) || written.any(|v| self.masks_in(v))) {
            return Cow::Borrowed(fix);
        }
        let mut masked = fix.clone();
        masked.description = self.redact(&fix.description).into_owned();
        for op in &mut masked.patch {
            if let PatchOp::Add { value, .. } | PatchOp::Replace { value, .. } = op {
                self.redact_value(value);
            }
        }
        Cow::Owned(masked)
    }

    /// Whether `text` holds a credential to mask.
    fn masks(&self, text: &str) -> bool {
        matches!(self.redact(text), Cow::Owned(_))
    }

    /// Whether some string of a JSON value holds a credential to mask.
    fn masks_in(&self, value: &Value) -> bool {
        match value {
            Value::String(text) => self.masks(text),
            Value::Array(items) => items.iter().any(|v| self.masks_in(v)),
            Value::Object(map) => map.values().any(|v| self.masks_in(v)),
            _ => false,
        }
    }

    /// Masks credentials in every string of a JSON value.
    fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                if let Cow::Owned(masked) = self.redact(text) {
                    *text = masked;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_value(v)),
            _ => {}
        }
    }
}

/// Whether `text[start..end]` is not part of a longer word, name, path or tag: the characters
/// around it are not letters, digits, `-_./:@` or a backquote (code in a message), except a `:` before and an `@` after (the
/// password of `user:password@host`).
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let joins = |c: char| c.is_alphanumeric() || "-_./:@`".contains(c);
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let url_password = before == Some(':') && after == Some('@');
    url_password || (!before.is_some_and(joins) && !after.is_some_and(|c| c != '@' && joins(c)))
}

/// Adds the forms `secret` can take in a manifest or a report: the value, each of its lines,
/// and their escaped spellings.
fn add_forms(secret: &str, patterns: &mut BTreeSet<String>) {
    let lines = secret
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----"));
    for form in std::iter::once(secret).chain(lines) {
        if form.chars().count() < MIN_SECRET_CHARS {
            continue;
        }
        let json = serde_json::to_string(form).unwrap_or_default();
        let escaped = json
            .strip_prefix('"')
            .and_then(|j| j.strip_suffix('"'))
            .unwrap_or(form);
        patterns.insert(escaped.to_owned());
        patterns.insert(form.replace('\'', "''"));
        patterns.insert(form.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secrets: &[&str]) -> Redactor {
        Redactor::new(secrets).expect("a few short patterns build")
    }

    #[test]
    fn masks_keep_a_quarter_of_the_value_at_most_four_characters() {
        assert_eq!(mask("Sup3rS3cretValue!42"), "Sup3…(19 chars)");
        assert_eq!(mask("hunter22"), "hu…(8 chars)");
        assert_eq!(mask("abcd"), "a…(4 chars)");
        assert_eq!(mask("pässwörd"), "pä…(8 chars)");
    }

    #[test]
    fn masks_every_occurrence() {
        let r = redactor(&["Sup3rS3cretValue!42"]);
        assert_eq!(
            r.redact(r#"value: "Sup3rS3cretValue!42" # Sup3rS3cretValue!42"#),
            r#"value: "Sup3…(19 chars)" # Sup3…(19 chars)"#
        );
    }

    #[test]
    fn text_without_secrets_is_borrowed() {
        let r = redactor(&["Sup3rS3cretValue!42"]);
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        assert!(Redactor::default().is_empty());
        assert!(matches!(
            Redactor::default().redact("Sup3rS3cretValue!42"),
            Cow::Borrowed("Sup3rS3cretValue!42")
        ));
    }

    #[test]
    fn masks_each_line_of_a_multi_line_value_but_not_its_armour() {
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1x2y3z\n  QWERTYuiop0987\n-----END RSA PRIVATE KEY-----\n";
        let r = redactor(&[key]);
        assert_eq!(
            r.redact("    -----BEGIN RSA PRIVATE KEY-----"),
            "    -----BEGIN RSA PRIVATE KEY-----"
        );
        assert_eq!(
            r.redact("    MIIEpAIBAAKCAQEA1x2y3z"),
            "    MIIE…(22 chars)"
        );
        assert_eq!(r.redact("  QWERTYuiop0987"), "  QWE…(14 chars)");
        let inline = serde_json::to_string(key).expect("a string serializes");
        assert!(!r.redact(&inline).contains("MIIEpAIB"));
    }

    #[test]
    fn masks_escaped_spellings() {
        let r = redactor(&[r#"pa"ss\wo'rd"#]);
        assert_eq!(
            r.redact(r#"password: "pa\"ss\\wo'rd""#),
            r#"password: "pa\…(13 chars)""#
        );
        assert_eq!(
            r.redact(r#"password: 'pa"ss\wo''rd'"#),
            r#"password: 'pa"…(12 chars)'"#
        );
    }

    #[test]
    fn short_values_are_masked_only_where_they_stand_alone() {
        let r = redactor(&["mysql", "latest"]);
        for alone in [
            "value: mysql",
            "value: \"mysql\"",
            "- {name: DB_PASSWORD, value: mysql}",
            "password=mysql;",
            "mysql://root:mysql@db:3306",
        ] {
            assert!(r.redact(alone).contains("m…(5 chars)"), "{alone}");
        }
        for inside in [
            "image: mysql:8.0",
            "image: quay.io/argoproj/argocd:latest",
            "pin a version tag instead of `latest`",
            "name: mysql-primary",
            "registry.k8s.io/mysql",
            "mysqladmin",
        ] {
            assert_eq!(r.redact(inside), inside);
        }
        // Rejected where it joins a word, the value is still found after it.
        assert_eq!(r.redact("mysqlmysql mysql"), "mysqlmysql m…(5 chars)");
    }

    #[test]
    fn long_values_are_masked_inside_words_too() {
        let r = redactor(&["Sup3rS3cretValue"]);
        assert_eq!(r.redact("x:Sup3rS3cretValue-1"), "x:Sup3…(16 chars)-1");
    }

    #[test]
    fn short_values_are_not_masked() {
        let r = redactor(&["abc", "x\ny"]);
        assert!(r.is_empty());
        assert_eq!(r.redact("abc x y"), "abc x y");
    }

    #[test]
    fn the_longest_form_wins() {
        let r = redactor(&["token-1234", "token-1234-and-more"]);
        assert_eq!(r.redact("x token-1234-and-more y"), "x toke…(19 chars) y");
    }

    #[test]
    fn fixes_are_masked_in_description_and_values() {
        let r = redactor(&["Sup3rS3cretValue!42"]);
        let fix = Fix {
            description: "drop Sup3rS3cretValue!42".into(),
            patch: vec![PatchOp::Add {
                path: "/a".into(),
                value: serde_json::json!({"k": ["Sup3rS3cretValue!42", 1]}),
            }],
            applicability: crate::rule::Applicability::Safe,
        };
        let masked = r.redact_fix(&fix);
        assert_eq!(masked.description, "drop Sup3…(19 chars)");
        assert_eq!(
            masked.patch[0],
            PatchOp::Add {
                path: "/a".into(),
                value: serde_json::json!({"k": ["Sup3…(19 chars)", 1]}),
            }
        );
        let clean = Fix {
            description: "set readOnlyRootFilesystem".into(),
            patch: vec![
                PatchOp::Add {
                    path: "/a".into(),
                    value: serde_json::json!({"readOnlyRootFilesystem": true, "k": ["Sup3r"]}),
                },
                PatchOp::Remove { path: "/b".into() },
            ],
            applicability: crate::rule::Applicability::Safe,
        };
        assert!(matches!(r.redact_fix(&clean), Cow::Borrowed(_)));
        let only_in_a_value = Fix {
            description: "set k".into(),
            ..fix.clone()
        };
        assert_eq!(
            r.redact_fix(&only_in_a_value).patch[0],
            masked.patch[0],
            "a credential in a written value alone is masked"
        );
    }
}
