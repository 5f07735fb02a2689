//! Secret hygiene rules: credentials written into manifests.

pub mod credential_format;
pub mod env_literal_secret;
pub mod legacy_token_secret;
pub mod secret_env_var;
pub mod secret_object;

use crate::rules::util::is_placeholder;

/// Names the kind of credential `text` contains, if it contains one in a known format. Example
/// and placeholder values (`AKIAIOSFODNN7EXAMPLE`, `ghp_xxxx…`) do not count.
pub fn credential_kind(text: &str) -> Option<&'static str> {
    if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
        return Some("a private key");
    }
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || "_-.:/".contains(c))) {
        if let Some(kind) = token_kind(token) {
            return Some(kind);
        }
    }
    None
}

fn token_kind(token: &str) -> Option<&'static str> {
    // Every format below is at least 20 characters long.
    if token.len() < 20 {
        return None;
    }
    let alnum = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    let upper_digit = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    let kind = if token.len() == 20
        && (token.starts_with("AKIA") || token.starts_with("ASIA"))
        && upper_digit(token)
    {
        "an AWS access key ID"
    } else if (["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
        .iter()
        .any(|p| token.starts_with(p))
        && token.len() == 40
        && alnum(&token[4..]))
        || (token.starts_with("github_pat_") && token.len() >= 50)
    {
        "a GitHub token"
    } else if token.starts_with("xox")
        && token.len() >= 20
        && matches!(
            token.as_bytes().get(3),
            Some(b'a' | b'b' | b'p' | b'r' | b's')
        )
        && token.as_bytes().get(4) == Some(&b'-')
    {
        "a Slack token"
    } else if token.contains("hooks.slack.com/services/T") {
        "a Slack webhook URL"
    } else if token.starts_with("AIza")
        && token.len() == 39
        && token[4..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        "a Google API key"
    } else if is_jwt(token) {
        "a JSON Web Token"
    } else {
        return None;
    };
    (!is_placeholder(token) && distinct_chars(token) >= 8).then_some(kind)
}

fn is_jwt(token: &str) -> bool {
    if !token.starts_with("eyJ") {
        return false;
    }
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts.iter().all(|p| {
            p.len() >= 10
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// How many different characters a value uses: a low count marks a made-up value
/// (`AKIAAAAAAAAAAAAAAAAA`), the secondary signal next to the format.
fn distinct_chars(text: &str) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    seen.extend(text.chars());
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::credential_kind;

    #[test]
    fn finds_known_formats() {
        let cases = [
            ("AKIA2E0A8F3B244C9986", "an AWS access key ID"),
            ("token ghp_R2d9kQx7LmP4sT8vW1yZ3aB6cD0eF5gH2jK9 here", "a GitHub token"),
            ("xoxb-2049485860-4821936405-Zk3Hq8Lm2Pw9", "a Slack token"),
            ("https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/q8W9e0R1t2Y3u4I5", "a Slack webhook URL"),
            ("AIzaSyD3kQ8m-Lp2Wx7Rt9Vb4Nc6Yh1Jf5Gs0Ze", "a Google API key"),
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", "a private key"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "a JSON Web Token",
            ),
        ];
        for (text, kind) in cases {
            assert_eq!(credential_kind(text), Some(kind), "{text}");
        }
    }

    #[test]
    fn ignores_examples_and_lookalikes() {
        for text in [
            "AKIAIOSFODNN7EXAMPLE",
            "AKIAAAAAAAAAAAAAAAAA",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "-----BEGIN CERTIFICATE-----",
            "eyJhbGciOiJIUzI1NiJ9",
            "xoxb-",
        ] {
            assert_eq!(credential_kind(text), None, "{text}");
        }
    }
}
