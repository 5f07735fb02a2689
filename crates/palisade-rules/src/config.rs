//! `.palisade.yaml`: rule selection, severity overrides, path excludes, rule settings and
//! suppressions with a reason and an optional expiry date.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use palisade_core::rule::Severity;
use palisade_core::{load_str, nearest, Limits};

use crate::registry::{find, registry};
use crate::selection::{resolve_selector, SelectorError};
use crate::settings::Settings;

/// The configuration file name looked up in the current directory and its parents.
pub const CONFIG_FILE: &str = ".palisade.yaml";

/// A parsed configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Rules to run (IDs, slugs or categories). Empty: every rule.
    pub select: Vec<String>,
    /// Rules not to run (IDs, slugs or categories).
    pub ignore: Vec<String>,
    /// Lowest severity that fails the run.
    pub fail_on: Option<Severity>,
    /// Severity overrides by rule ID or slug.
    pub severity: std::collections::BTreeMap<String, Severity>,
    /// Path globs not to scan.
    pub exclude: Vec<String>,
    /// Rule settings.
    pub rules: Settings,
    pub suppressions: Vec<Suppression>,
    /// Admission webhook settings, undecoded: the webhook crate reads them (`palisade serve`
    /// uses them unless `--webhook-config` names another file).
    pub webhook: Option<Value>,
}

/// A decision not to report a rule for some objects, with the reason and an optional expiry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Suppression {
    /// Rule ID or slug.
    pub rule: String,
    /// Glob of the files it applies to.
    pub path: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// Why the finding is accepted. Required.
    pub reason: String,
    /// Date (`YYYY-MM-DD`) after which the suppression stops applying.
    pub expires: Option<String>,
}

/// A configuration error, with the nearest valid name when one is close.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

/// The top-level fields of the configuration file; `webhook` is read by the admission webhook.
pub const FIELDS: &[&str] = &[
    "select",
    "ignore",
    "fail-on",
    "severity",
    "exclude",
    "rules",
    "suppressions",
    WEBHOOK_FIELD,
];
/// The field that holds the admission webhook settings.
pub const WEBHOOK_FIELD: &str = "webhook";
const SETTINGS: &[&str] = &[
    "allowed-registries",
    "system-namespaces",
    "default-resources",
];
const SUPPRESSION: &[&str] = &[
    "rule",
    "path",
    "kind",
    "namespace",
    "name",
    "reason",
    "expires",
];

impl Config {
    /// Finds `.palisade.yaml` in `dir` or its nearest parent.
    pub fn discover(dir: &Path) -> Option<PathBuf> {
        dir.ancestors()
            .map(|d| d.join(CONFIG_FILE))
            .find(|p| p.is_file())
    }

    /// Reads and validates a configuration file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
            file: display.clone(),
            message: format!("cannot read: {err}"),
        })?;
        Config::parse(&text, &display)
    }

    /// Parses and validates configuration text.
    pub fn parse(text: &str, display: &str) -> Result<Config, ConfigError> {
        let fail = |message: String| ConfigError {
            file: display.to_owned(),
            message,
        };
        let loaded = load_str(text, display, &Limits::default());
        let value = raw_documents(text, display)?;
        if let Some(err) = loaded
            .errors
            .iter()
            .find(|e| e.kind != palisade_core::LoadErrorKind::Empty)
        {
            return Err(fail(format!("{}: {}", err.pos, err.message)));
        }
        let Some(value) = value else {
            return Ok(Config::default());
        };
        check_fields(&value, FIELDS, "").map_err(&fail)?;
        if let Some(rules) = value.get("rules") {
            check_fields(rules, SETTINGS, "rules.").map_err(&fail)?;
        }
        if let Some(Value::Array(items)) = value.get("suppressions") {
            for (i, item) in items.iter().enumerate() {
                check_fields(item, SUPPRESSION, &format!("suppressions[{i}].")).map_err(&fail)?;
            }
        }
        let config: Config =
            serde_json::from_value(value).map_err(|err| fail(format!("invalid value: {err}")))?;
        config.validate().map_err(fail)?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        for selector in self.select.iter().chain(&self.ignore) {
            resolve_selector(selector).map_err(|e| e.to_string())?;
        }
        for rule in self.severity.keys() {
            check_rule_name(rule)?;
        }
        for (i, s) in self.suppressions.iter().enumerate() {
            check_rule_name(&s.rule).map_err(|e| format!("suppressions[{i}]: {e}"))?;
            if s.reason.trim().is_empty() {
                return Err(format!(
                    "suppressions[{i}] ({}): a `reason` is required",
                    s.rule
                ));
            }
            if let Some(date) = &s.expires {
                if parse_date(date).is_none() {
                    return Err(format!(
                        "suppressions[{i}]: `expires` must be a date YYYY-MM-DD, found {date:?}"
                    ));
                }
            }
            if let Some(glob) = &s.path {
                globset::Glob::new(glob)
                    .map_err(|e| format!("suppressions[{i}]: bad path glob: {e}"))?;
            }
        }
        for glob in &self.exclude {
            globset::Glob::new(glob).map_err(|e| format!("exclude: bad glob {glob:?}: {e}"))?;
        }
        Ok(())
    }
}

/// The first non-empty document of the config, as a JSON value.
fn raw_documents(text: &str, display: &str) -> Result<Option<Value>, ConfigError> {
    // The loader keeps only Kubernetes objects; decode the config document directly.
    palisade_core::decode_first_document(text, &Limits::default()).map_err(|err| ConfigError {
        file: display.to_owned(),
        message: format!("{}: {}", err.pos, err.message),
    })
}

fn check_rule_name(name: &str) -> Result<(), String> {
    if find(name).is_some() {
        return Ok(());
    }
    let names = registry().iter().flat_map(|r| [r.meta().id, r.meta().slug]);
    Err(match nearest(name, names) {
        Some(near) => format!("unknown rule {name:?}; did you mean {near:?}?"),
        None => format!("unknown rule {name:?}"),
    })
}

fn check_fields(value: &Value, allowed: &[&str], prefix: &str) -> Result<(), String> {
    let Value::Object(map) = value else {
        if value.is_null() {
            return Ok(());
        }
        return Err(format!("{prefix} must be a mapping"));
    };
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(match nearest(key, allowed.iter().copied()) {
                Some(near) => format!("unknown field `{prefix}{key}`; did you mean `{near}`?"),
                None => format!(
                    "unknown field `{prefix}{key}`; expected one of: {}",
                    allowed.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.get(..2)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil date (proleptic Gregorian), after H. Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Today, in days since 1970-01-01 (UTC). `PALISADE_TODAY` (YYYY-MM-DD) overrides it for tests.
pub fn today() -> i64 {
    if let Some(day) = std::env::var("PALISADE_TODAY")
        .ok()
        .and_then(|d| parse_date(&d))
    {
        return day;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    secs.div_euclid(86_400)
}

impl From<SelectorError> for String {
    fn from(err: SelectorError) -> String {
        err.to_string()
    }
}

/// The commented default configuration `palisade init` writes.
pub const DEFAULT_CONFIG: &str = include_str!("default-config.yaml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("soon"), None);
    }

    #[test]
    fn suggests_nearest_field() {
        let err = Config::parse("selct: [POD001]\n", "c.yaml").unwrap_err();
        assert!(err.message.contains("did you mean `select`"), "{err}");
        let err =
            Config::parse("suppressions:\n- rule: POD001\n  reson: x\n", "c.yaml").unwrap_err();
        assert!(err.message.contains("did you mean `reason`"), "{err}");
    }

    #[test]
    fn requires_reason_and_valid_date() {
        let err = Config::parse(
            "suppressions:\n- rule: privileged-container\n  reason: ''\n",
            "c.yaml",
        )
        .unwrap_err();
        assert!(err.message.contains("`reason` is required"), "{err}");
        let err = Config::parse(
            "suppressions:\n- rule: POD001\n  reason: ok\n  expires: someday\n",
            "c.yaml",
        )
        .unwrap_err();
        assert!(err.message.contains("must be a date"), "{err}");
    }

    #[test]
    fn webhook_section_is_accepted() {
        let config = Config::parse("select: [POD001]\nwebhook:\n  mode: warn\n", "c.yaml").unwrap();
        assert_eq!(config.select, vec!["POD001"]);
        assert!(config.webhook.is_some());
    }

    #[test]
    fn default_config_parses() {
        let config = Config::parse(DEFAULT_CONFIG, "default").unwrap();
        assert_eq!(config.fail_on, Some(Severity::Low));
    }
}
