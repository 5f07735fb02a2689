//! Secret hygiene rules: credentials written into manifests.

use palisade_core::rule::{Framework, Reference};

pub mod credential_in_manifest;
pub mod legacy_service_account_token;
pub mod names;
pub mod secret_as_env_var;
pub mod secret_committed;
pub mod secret_in_configmap;
pub mod secret_in_env_value;

use crate::rules::util::is_placeholder;

/// References of the rules that find a credential written where it is readable.
pub(crate) const LEAKED_CREDENTIAL_REFERENCES: &[Reference] = &[
    Reference::new(Framework::Cis, "5.4.1"),
    Reference::new(Framework::NsaCisa, "Secrets: protect sensitive data"),
    Reference::url(
        Framework::Mitre,
        "T1552.007",
        "https://attack.mitre.org/techniques/T1552/007/",
    ),
];

/// A credential found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential<'t> {
    /// What it is, with an article: `a private key`.
    pub kind: &'static str,
    /// The credential itself, a slice of the text (a whole PEM block for a private key).
    pub value: &'t str,
}

/// The first credential in a known format that `text` contains, if any. Example and placeholder
/// values (`AKIAIOSFODNN7EXAMPLE`, `ghp_xxxx…`, `https://user:${PASSWORD}@host`) do not count.
pub fn find_credential(text: &str) -> Option<Credential<'_>> {
    if let Some(value) = private_key(text) {
        return Some(Credential {
            kind: "a private key",
            value,
        });
    }
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || "_-.:/".contains(c))) {
        if let Some(kind) = token_kind(token) {
            return Some(Credential { kind, value: token });
        }
    }
    url_password(text).map(|value| Credential {
        kind: "a URL with a password",
        value,
    })
}

/// The PEM block of a private key: from its `-----BEGIN` line to the end of its `-----END`
/// line, or to the end of the text when that is missing.
fn private_key(text: &str) -> Option<&str> {
    let marker = text.find("PRIVATE KEY-----")?;
    let begin = text[..marker].rfind("-----BEGIN")?;
    let end = text[marker..]
        .find("-----END")
        .map(|at| marker + at + "-----END".len())
        .and_then(|after| {
            text[after..]
                .find("-----")
                .map(|at| after + at + "-----".len())
        })
        .unwrap_or(text.len());
    Some(&text[begin..end])
}

/// The password of the first URL in `text` that carries one (`scheme://user:password@host`).
fn url_password(text: &str) -> Option<&str> {
    text.match_indices("://").find_map(|(at, scheme_end)| {
        let rest = &text[at + scheme_end.len()..];
        let authority_end = rest
            .find(|c: char| "/?#\"'<>".contains(c) || c.is_whitespace())
            .unwrap_or(rest.len());
        let (userinfo, _) = rest[..authority_end].rsplit_once('@')?;
        let (_, password) = userinfo.split_once(':')?;
        real_password(password)
    })
}

/// The password of an image reference written with one (`user:password@registry/app:1.0`),
/// which container runtimes refuse but manifests and their reports would still show.
pub fn image_password(image: &str) -> Option<&str> {
    let (userinfo, rest) = image.split_once('@')?;
    let is_digest = rest.split_once(':').is_some_and(|(algorithm, hex)| {
        !algorithm.is_empty()
            && algorithm.bytes().all(|b| b.is_ascii_alphanumeric())
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if userinfo.contains('/') || is_digest {
        return None;
    }
    let (_, password) = userinfo.split_once(':')?;
    real_password(password)
}

fn real_password(password: &str) -> Option<&str> {
    (!is_placeholder(password)).then_some(password)
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
    use super::{find_credential, image_password};

    fn credential_kind(text: &str) -> Option<&'static str> {
        find_credential(text).map(|c| c.kind)
    }

    #[test]
    fn finds_known_formats() {
        let cases = [
            ("AKIA2E0A8F3B244C9986", "an AWS access key ID"),
            ("token ghp_R2d9kQx7LmP4sT8vW1yZ3aB6cD0eF5gH2jK9 here", "a GitHub token"),
            ("xoxb-2049485860-4821936405-Zk3Hq8Lm2Pw9", "a Slack token"),
            ("https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/q8W9e0R1t2Y3u4I5", "a Slack webhook URL"),
            ("AIzaSyD3kQ8m-Lp2Wx7Rt9Vb4Nc6Yh1Jf5Gs0Ze", "a Google API key"),
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", "a private key"),
            ("postgres://app:Sup3rS3cretValue@db:5432/app", "a URL with a password"),
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
            "https://$(ES_USER):$(ES_PASSWORD)@localhost:9200",
            "https://user@example.com/path:with-colon",
        ] {
            assert_eq!(credential_kind(text), None, "{text}");
        }
    }

    #[test]
    fn finds_the_credential_itself() {
        let pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBk3\n-----END EC PRIVATE KEY-----";
        let text =
            format!("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n{pem}\ntrailer");
        assert_eq!(find_credential(&text).map(|c| c.value), Some(pem));
        let truncated = "-----BEGIN PRIVATE KEY-----\nMIIEvQ";
        assert_eq!(find_credential(truncated).map(|c| c.value), Some(truncated));
        assert_eq!(
            find_credential("token: ghp_R2d9kQx7LmP4sT8vW1yZ3aB6cD0eF5gH2jK9, more")
                .map(|c| c.value),
            Some("ghp_R2d9kQx7LmP4sT8vW1yZ3aB6cD0eF5gH2jK9")
        );
        assert_eq!(
            find_credential("redis://:Hunter2Hunter2@cache:6379/0").map(|c| c.value),
            Some("Hunter2Hunter2")
        );
    }

    #[test]
    fn finds_passwords_in_image_references() {
        assert_eq!(
            image_password("deploy:Sup3rS3cret@registry.example.com:5000/team/app:1.2"),
            Some("Sup3rS3cret")
        );
        for image in [
            "nginx:1.25@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
            "registry.example.com/app@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
            "deploy@registry.example.com/app",
            "deploy:${REGISTRY_PASSWORD}@registry.example.com/app",
            "nginx:1.25",
        ] {
            assert_eq!(image_password(image), None, "{image}");
        }
    }
}
