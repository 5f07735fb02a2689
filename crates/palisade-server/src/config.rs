//! The `webhook:` section: what the webhook does with each finding, per rule and per namespace.
//!
//! ```yaml
//! webhook:
//!   mode: enforce              # default for rules not listed: enforce, warn, audit or off
//!   enforce-severity: high     # default-mode findings below this severity only warn
//!   rules:                     # per rule (ID, slug or category): always wins over `mode`
//!     POD004: warn
//!     image: audit
//!   namespaces:                # per namespace (names or globs); wins over the global settings
//!     dev-*:
//!       mode: warn
//!       rules: { POD001: enforce }
//!   exempt-namespaces: [kube-system, palisade]
//!   mutate: [POD002, POD004]   # rules whose fixes /mutate returns (`ALL`: every fixable rule);
//!                              # unsafe fixes only of the rules named by ID or slug
//!   updates: no-worse          # or `judge` (default): see [`UpdatePolicy`]
//!   honor-ignore-annotations: false
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_json::Value;

use palisade_core::rule::Severity;
use palisade_core::Limits;
use palisade_rules::config::{FIELDS, WEBHOOK_FIELD};
use palisade_rules::{find, resolve_selector};

/// What the webhook does with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Deny the request.
    Enforce,
    /// Allow it and return a warning to the client.
    Warn,
    /// Allow it silently: the finding goes to the log, the metrics and the audit annotations.
    Audit,
    /// Ignore the rule.
    Off,
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Mode, D::Error> {
        use serde::de::Error;
        // YAML 1.1 reads a bare `off` as the boolean false.
        match Value::deserialize(deserializer)? {
            Value::Bool(false) => Ok(Mode::Off),
            Value::String(text) => match text.as_str() {
                "enforce" => Ok(Mode::Enforce),
                "warn" => Ok(Mode::Warn),
                "audit" => Ok(Mode::Audit),
                "off" => Ok(Mode::Off),
                _ => Err(D::Error::custom(format!(
                    "unknown mode {text:?}; expected enforce, warn, audit or off"
                ))),
            },
            other => Err(D::Error::custom(format!(
                "expected a mode (enforce, warn, audit or off), found {other}"
            ))),
        }
    }
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Audit => "audit",
            Mode::Off => "off",
        }
    }
}

/// How UPDATE requests are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdatePolicy {
    /// The new object is judged like a new one.
    #[default]
    Judge,
    /// Enforced findings already present in the old object (same rule, same field) only warn,
    /// so an update that does not make things worse is never denied.
    NoWorse,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
struct RawNamespace {
    mode: Option<Mode>,
    enforce_severity: Option<Severity>,
    rules: BTreeMap<String, Mode>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
struct RawWebhook {
    mode: Option<Mode>,
    enforce_severity: Option<Severity>,
    rules: BTreeMap<String, Mode>,
    namespaces: BTreeMap<String, RawNamespace>,
    exempt_namespaces: Vec<String>,
    mutate: Vec<String>,
    updates: UpdatePolicy,
    honor_ignore_annotations: bool,
}

/// Modes of one scope (global or one namespace pattern).
#[derive(Debug, Clone, Default)]
struct Modes {
    default: Option<Mode>,
    enforce_severity: Option<Severity>,
    /// Explicit modes by rule ID.
    rules: HashMap<&'static str, Mode>,
}

/// The parsed `webhook:` section.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    global: Modes,
    namespace_globs: Vec<GlobSet>,
    namespaces: Vec<Modes>,
    exempt: GlobSet,
    mutate: HashSet<&'static str>,
    /// The rules `mutate` names by ID or slug: their unsafe fixes apply too.
    mutate_unsafe: HashSet<&'static str>,
    /// How UPDATE requests are judged.
    pub updates: UpdatePolicy,
    /// Whether the `palisade.dev/ignore` annotation of an admitted object is honoured. Off by
    /// default: whoever may create the object could otherwise exempt it from every rule.
    pub honor_ignore_annotations: bool,
}

/// A webhook configuration error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct WebhookConfigError {
    pub file: String,
    pub message: String,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig::from_raw(RawWebhook::default()).expect("the empty configuration is valid")
    }
}

impl WebhookConfig {
    /// Reads a file whose `webhook:` key holds the section.
    pub fn from_file(path: &Path) -> Result<WebhookConfig, WebhookConfigError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| WebhookConfigError {
            file: display.clone(),
            message: format!("cannot read: {err}"),
        })?;
        WebhookConfig::parse(&text, &display)
    }

    /// Parses a document whose `webhook:` key holds the section. Other top-level keys must be
    /// those of the rules configuration.
    pub fn parse(text: &str, display: &str) -> Result<WebhookConfig, WebhookConfigError> {
        let fail = |message: String| WebhookConfigError {
            file: display.to_owned(),
            message,
        };
        let document = palisade_core::decode_first_document(text, &Limits::default())
            .map_err(|err| fail(format!("{}: {}", err.pos, err.message)))?;
        let section = match document {
            None | Some(Value::Null) => Value::Null,
            Some(Value::Object(mut map)) => {
                // The keys of the rules configuration are accepted, so that one file can hold both.
                if let Some(key) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
                    return Err(fail(format!(
                        "unknown top-level field `{key}`; the webhook settings go under `webhook:`"
                    )));
                }
                map.remove(WEBHOOK_FIELD).unwrap_or(Value::Null)
            }
            Some(_) => return Err(fail("the document must be a mapping".to_owned())),
        };
        WebhookConfig::from_section(section, display)
    }

    /// The settings of a `webhook:` section already decoded, such as the one of the rules
    /// configuration file (`Config::webhook`).
    pub fn from_section(
        section: Value,
        display: &str,
    ) -> Result<WebhookConfig, WebhookConfigError> {
        let fail = |message: String| WebhookConfigError {
            file: display.to_owned(),
            message,
        };
        let raw: RawWebhook = if section.is_null() {
            RawWebhook::default()
        } else {
            serde_json::from_value(section).map_err(|err| fail(format!("webhook: {err}")))?
        };
        WebhookConfig::from_raw(raw).map_err(fail)
    }

    fn from_raw(raw: RawWebhook) -> Result<WebhookConfig, String> {
        let global = Modes {
            default: raw.mode,
            enforce_severity: raw.enforce_severity,
            rules: rule_modes(&raw.rules).map_err(|e| format!("webhook.rules: {e}"))?,
        };
        let mut namespace_globs = Vec::new();
        let mut namespaces = Vec::new();
        for (pattern, ns) in &raw.namespaces {
            namespace_globs.push(
                glob_set(std::slice::from_ref(pattern))
                    .map_err(|e| format!("webhook.namespaces: {e}"))?,
            );
            namespaces.push(Modes {
                default: ns.mode,
                enforce_severity: ns.enforce_severity,
                rules: rule_modes(&ns.rules)
                    .map_err(|e| format!("webhook.namespaces.{pattern}.rules: {e}"))?,
            });
        }
        let exempt = glob_set(&raw.exempt_namespaces)
            .map_err(|e| format!("webhook.exempt-namespaces: {e}"))?;
        let mut mutate = HashSet::new();
        let mut mutate_unsafe = HashSet::new();
        for selector in &raw.mutate {
            let rules = resolve_selector(selector).map_err(|e| format!("webhook.mutate: {e}"))?;
            for rule in rules.iter().map(|r| r.meta()).filter(|m| m.fixable) {
                mutate.insert(rule.id);
                // A category or `ALL` brings the safe fixes only.
                if find(selector).is_some_and(|named| named.meta().id == rule.id) {
                    mutate_unsafe.insert(rule.id);
                }
            }
        }
        Ok(WebhookConfig {
            global,
            namespace_globs,
            namespaces,
            exempt,
            mutate,
            mutate_unsafe,
            updates: raw.updates,
            honor_ignore_annotations: raw.honor_ignore_annotations,
        })
    }

    /// Uses `severity` as the global `enforce-severity` when the section sets none, so that by
    /// default admission denies exactly what makes `scan` fail.
    pub(crate) fn inherit_fail_on(&mut self, severity: Option<Severity>) {
        if self.global.enforce_severity.is_none() {
            self.global.enforce_severity = severity;
        }
    }

    /// Whether requests in this namespace are admitted without any check.
    pub fn exempt(&self, namespace: Option<&str>) -> bool {
        namespace.is_some_and(|ns| self.exempt.is_match(ns))
    }

    /// Whether /mutate applies the (safe) fixes of this rule.
    pub fn mutates(&self, rule: &str) -> bool {
        self.mutate.contains(rule)
    }

    /// Whether /mutate applies the unsafe fixes of this rule too: `mutate` names it by ID or
    /// slug.
    pub fn mutates_unsafe(&self, rule: &str) -> bool {
        self.mutate_unsafe.contains(rule)
    }

    /// The mode of a finding of `rule` with `severity` in `namespace`. The first scope that
    /// decides wins: the namespace's rule entry, its default mode, the global rule entry, the
    /// global default mode (`enforce`). A default `enforce` turns into `warn` for findings below
    /// the scope's `enforce-severity` (default: the rules configuration's `fail-on`, else `low`).
    pub fn mode(&self, rule: &str, severity: Severity, namespace: Option<&str>) -> Mode {
        let scoped = namespace.and_then(|ns| {
            self.namespace_globs
                .iter()
                .position(|g| g.is_match(ns))
                .map(|i| &self.namespaces[i])
        });
        let threshold = scoped
            .and_then(|s| s.enforce_severity)
            .or(self.global.enforce_severity)
            .unwrap_or(Severity::Low);
        let by_default = |mode: Mode| {
            if mode == Mode::Enforce && severity < threshold {
                Mode::Warn
            } else {
                mode
            }
        };
        if let Some(scope) = scoped {
            if let Some(mode) = scope.rules.get(rule) {
                return *mode;
            }
            if let Some(mode) = scope.default {
                return by_default(mode);
            }
        }
        if let Some(mode) = self.global.rules.get(rule) {
            return *mode;
        }
        by_default(self.global.default.unwrap_or(Mode::Enforce))
    }
}

/// Explicit modes by rule ID: categories first, then rule IDs and slugs, which override them.
fn rule_modes(entries: &BTreeMap<String, Mode>) -> Result<HashMap<&'static str, Mode>, String> {
    let names_rule = |selector: &str| find(selector).is_some();
    let mut modes = HashMap::new();
    for specific in [false, true] {
        for (selector, mode) in entries {
            if names_rule(selector) != specific {
                continue;
            }
            for rule in resolve_selector(selector).map_err(|e| e.to_string())? {
                modes.insert(rule.meta().id, *mode);
            }
        }
    }
    Ok(modes)
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(Glob::new(pattern).map_err(|e| format!("bad pattern {pattern:?}: {e}"))?);
    }
    builder.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> WebhookConfig {
        WebhookConfig::parse(text, "w.yaml").unwrap()
    }

    #[test]
    fn defaults_enforce_everything_above_info() {
        let config = WebhookConfig::default();
        assert_eq!(
            config.mode("POD001", Severity::Critical, None),
            Mode::Enforce
        );
        assert_eq!(
            config.mode("POD004", Severity::Low, Some("a")),
            Mode::Enforce
        );
        assert_eq!(config.mode("X", Severity::Info, Some("a")), Mode::Warn);
        assert!(!config.exempt(Some("kube-system")));
        assert!(!config.mutates("POD002"));
        assert_eq!(config.updates, UpdatePolicy::Judge);
    }

    #[test]
    fn rule_and_namespace_modes() {
        let config = parse(
            "webhook:\n  mode: enforce\n  enforce-severity: high\n  rules:\n    image: audit\n    IMG001: warn\n    host-path-volume: off\n    POD002: 'off'\n  namespaces:\n    dev-*:\n      mode: warn\n      rules: {POD001: enforce}\n    lab:\n      enforce-severity: critical\n  exempt-namespaces: [kube-*, palisade]\n  mutate: [POD002, IMG001, workload]\n  updates: no-worse\n",
        );
        // Default enforce below the threshold only warns.
        assert_eq!(config.mode("POD004", Severity::Low, None), Mode::Warn);
        assert_eq!(
            config.mode("POD001", Severity::Critical, None),
            Mode::Enforce
        );
        // A category applies to its rules; a rule entry overrides its category.
        assert_eq!(config.mode("IMG002", Severity::Low, None), Mode::Audit);
        assert_eq!(config.mode("IMG001", Severity::High, None), Mode::Warn);
        assert_eq!(config.mode("POD003", Severity::High, None), Mode::Off);
        assert_eq!(config.mode("POD002", Severity::High, None), Mode::Off);
        // Namespace scope: rule entry, then default mode.
        assert_eq!(
            config.mode("POD001", Severity::Critical, Some("dev-a")),
            Mode::Enforce
        );
        assert_eq!(
            config.mode("POD003", Severity::High, Some("dev-a")),
            Mode::Warn
        );
        // A namespace threshold without a mode keeps the global entries and default.
        assert_eq!(
            config.mode("POD004", Severity::High, Some("lab")),
            Mode::Warn
        );
        assert_eq!(
            config.mode("IMG001", Severity::High, Some("lab")),
            Mode::Warn
        );
        assert!(config.exempt(Some("kube-system")));
        assert!(config.exempt(Some("palisade")));
        assert!(!config.exempt(Some("palisade-dev")));
        assert!(!config.exempt(None));
        // Only fixable rules mutate, whatever the selector names.
        assert!(config.mutates("POD002"));
        assert!(config.mutates("POD004"));
        assert!(!config.mutates("POD003"));
        assert!(!config.mutates("IMG001"));
        // Unsafe fixes only of the rules named by ID or slug, not through a category.
        assert!(config.mutates_unsafe("POD002"));
        assert!(!config.mutates_unsafe("POD004"));
        assert_eq!(config.updates, UpdatePolicy::NoWorse);
    }

    #[test]
    fn shares_the_rules_file() {
        let config = parse("select: [ALL]\nsuppressions: []\nwebhook:\n  mode: warn\n");
        assert_eq!(config.mode("POD001", Severity::Critical, None), Mode::Warn);
        // Every field of the rules configuration may stand beside the section.
        let every_field: String = FIELDS.iter().map(|f| format!("{f}:\n")).collect();
        assert_eq!(
            parse(&every_field).mode("POD001", Severity::Critical, None),
            Mode::Enforce
        );
        let empty = parse("select: [ALL]\n");
        assert_eq!(
            empty.mode("POD001", Severity::Critical, None),
            Mode::Enforce
        );
    }

    #[test]
    fn rejects_bad_input() {
        let err = |text: &str| WebhookConfig::parse(text, "w.yaml").unwrap_err().message;
        assert!(err("webhok:\n  mode: warn\n").contains("unknown top-level field `webhok`"));
        assert!(err("webhook:\n  mode: deny\n").contains("unknown mode \"deny\""));
        assert!(err("webhook:\n  mode: on\n").contains("found true"));
        assert!(err("webhook:\n  rules: {POD999: warn}\n").contains("POD999"));
        assert!(err("webhook:\n  mutate: [nope]\n").contains("webhook.mutate"));
        assert!(err("webhook:\n  exempt-namespaces: ['[']\n").contains("bad pattern"));
        assert!(err("webhook:\n  namespaces: {a: {mode: warn, extra: 1}}\n").contains("extra"));
        assert!(err("- a\n").contains("mapping"));
    }
}
