//! Namespace labels and the admission plugin's configuration, resolved as Pod Security
//! Admission resolves them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use palisade_core::Object;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::level::{Level, LevelVersion, Version};
use crate::text::quote;

/// Prefix of the namespace labels (`pod-security.kubernetes.io/enforce`, ...).
pub const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";

/// An admission mode: what happens to a pod that violates the mode's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The pod is rejected.
    Enforce,
    /// The violation is recorded in the audit log.
    Audit,
    /// The client gets a warning.
    Warn,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Enforce, Mode::Audit, Mode::Warn];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
            Mode::Warn => "warn",
        }
    }

    /// `pod-security.kubernetes.io/<mode>`.
    pub fn level_label(self) -> String {
        format!("{LABEL_PREFIX}{}", self.as_str())
    }

    /// `pod-security.kubernetes.io/<mode>-version`.
    pub fn version_label(self) -> String {
        format!("{LABEL_PREFIX}{}-version", self.as_str())
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The level and version of each mode for a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Policy {
    pub enforce: LevelVersion,
    pub audit: LevelVersion,
    pub warn: LevelVersion,
}

impl Default for Policy {
    /// `privileged:latest` for every mode: admission's built-in default.
    fn default() -> Policy {
        let lv = LevelVersion::new(Level::Privileged, Version::Latest);
        Policy {
            enforce: lv,
            audit: lv,
            warn: lv,
        }
    }
}

impl Policy {
    pub fn get(&self, mode: Mode) -> LevelVersion {
        match mode {
            Mode::Enforce => self.enforce,
            Mode::Audit => self.audit,
            Mode::Warn => self.warn,
        }
    }

    fn get_mut(&mut self, mode: Mode) -> &mut LevelVersion {
        match mode {
            Mode::Enforce => &mut self.enforce,
            Mode::Audit => &mut self.audit,
            Mode::Warn => &mut self.warn,
        }
    }

    /// Every mode is `privileged`: nothing is checked.
    pub fn fully_privileged(&self) -> bool {
        Mode::ALL
            .iter()
            .all(|&m| self.get(m).level == Level::Privileged)
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldErrorKind {
    Invalid,
    Duplicate,
}

/// An invalid label or configuration field, printed like the API server's field errors:
/// `metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of
/// privileged, baseline, restricted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Field path (`metadata.labels[pod-security.kubernetes.io/enforce]`,
    /// `exemptions.namespaces[0]`).
    pub field: String,
    pub value: String,
    pub kind: FieldErrorKind,
    /// Why the value is invalid (empty for duplicates).
    pub message: String,
}

impl FieldError {
    fn invalid(field: String, value: &str, message: impl ToString) -> FieldError {
        FieldError {
            field,
            value: value.to_owned(),
            kind: FieldErrorKind::Invalid,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FieldErrorKind::Invalid => write!(
                f,
                "{}: Invalid value: {}: {}",
                self.field,
                quote(&self.value),
                self.message
            ),
            FieldErrorKind::Duplicate => {
                write!(f, "{}: Duplicate value: {}", self.field, quote(&self.value))
            }
        }
    }
}

/// The text of a label value; the API server only stores strings, anything else is shown as
/// written so it fails to parse.
fn label_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Resolves a namespace's labels to its policy, starting from `defaults` (the admission
/// configuration's defaults) for every label that is absent.
///
/// Invalid values behave as in admission: an invalid enforce level enforces `restricted`, an
/// invalid audit or warn level falls back to `privileged`, an invalid version means `latest`;
/// each is reported as a [`FieldError`]. When the enforce level is set validly and stricter
/// than the warn level, and no warn label is set, warn follows enforce (level, and the version
/// unless a warn-version label is set).
pub fn policy_from_labels(
    labels: Option<&Map<String, Value>>,
    defaults: &Policy,
) -> (Policy, Vec<FieldError>) {
    let mut policy = *defaults;
    let mut errors = Vec::new();
    let Some(labels) = labels.filter(|l| !l.is_empty()) else {
        return (policy, errors);
    };
    let field = |label: &str| format!("metadata.labels[{label}]");
    let mut enforce_level_set = false;
    let mut warn_level_set = false;
    let mut warn_version_set = false;
    for mode in Mode::ALL {
        let level_label = mode.level_label();
        if let Some(value) = labels.get(&level_label) {
            let text = label_text(value);
            match text.parse::<Level>() {
                Ok(level) => {
                    policy.get_mut(mode).level = level;
                    enforce_level_set |= mode == Mode::Enforce;
                }
                Err(err) => {
                    policy.get_mut(mode).level = match mode {
                        Mode::Enforce => Level::Restricted,
                        Mode::Audit | Mode::Warn => Level::Privileged,
                    };
                    errors.push(FieldError::invalid(field(&level_label), &text, err));
                }
            }
            warn_level_set |= mode == Mode::Warn;
        }
        let version_label = mode.version_label();
        if let Some(value) = labels.get(&version_label) {
            let text = label_text(value);
            policy.get_mut(mode).version = text.parse().unwrap_or_else(|err| {
                errors.push(FieldError::invalid(field(&version_label), &text, err));
                Version::Latest
            });
            warn_version_set |= mode == Mode::Warn;
        }
    }
    if !warn_level_set && enforce_level_set && policy.enforce.level > policy.warn.level {
        policy.warn.level = policy.enforce.level;
        if !warn_version_set {
            policy.warn.version = policy.enforce.version;
        }
    }
    (policy, errors)
}

/// [`policy_from_labels`] for a Namespace object's `metadata.labels`.
pub fn namespace_policy(namespace: &Value, defaults: &Policy) -> (Policy, Vec<FieldError>) {
    let labels = namespace
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object);
    policy_from_labels(labels, defaults)
}

/// Whether a Namespace object carries any Pod Security label.
pub fn has_pss_labels(namespace: &Value) -> bool {
    namespace
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .is_some_and(|labels| labels.keys().any(|k| k.starts_with(LABEL_PREFIX)))
}

/// The Namespace definition a namespace of the input is judged by, with its policy.
#[derive(Debug, Clone)]
pub struct NamespacePolicy<'a> {
    /// The definition chosen (see [`namespace_policies`]).
    pub namespace: &'a Object,
    /// Its policy under the defaults.
    pub policy: Policy,
    /// The invalid Pod Security labels of that definition.
    pub errors: Vec<FieldError>,
    /// Whether that definition carries Pod Security labels; without them the policy is the
    /// defaults.
    pub labelled: bool,
    /// How many definitions of the namespace carry Pod Security labels.
    pub labelled_definitions: usize,
    /// Whether those definitions set different policies.
    pub conflicting: bool,
}

/// The policy of every namespace the input defines (core `v1` Namespace objects with a name),
/// under `defaults` for the modes their labels leave unset. When the input defines a namespace
/// more than once (overlays, alternative components), definitions with Pod Security labels win
/// over those without (applying a manifest without the labels leaves them in place), and among
/// those the least strict definition wins, the one enforcing the lowest level (the first of
/// those in input order): only what every definition rejects is certain to be rejected.
pub fn namespace_policies<'a>(
    objects: &'a [Object],
    defaults: &Policy,
) -> BTreeMap<&'a str, NamespacePolicy<'a>> {
    let mut all: BTreeMap<&str, Vec<(&Object, Policy, bool)>> = BTreeMap::new();
    for object in objects
        .iter()
        .filter(|o| o.kind() == "Namespace" && o.api_version() == "v1" && !o.name().is_empty())
    {
        let (policy, _) = namespace_policy(&object.value, defaults);
        let labelled = has_pss_labels(&object.value);
        all.entry(object.name())
            .or_default()
            .push((object, policy, labelled));
    }
    let mut policies = BTreeMap::new();
    for (name, definitions) in all {
        let labelled: Vec<&(&Object, Policy, bool)> =
            definitions.iter().filter(|(_, _, l)| *l).collect();
        let chosen = labelled
            .iter()
            .copied()
            .min_by_key(|(_, policy, _)| policy.enforce.level)
            .or(definitions.first());
        let Some(&(namespace, policy, is_labelled)) = chosen else {
            continue;
        };
        policies.insert(
            name,
            NamespacePolicy {
                namespace,
                policy,
                errors: namespace_policy(&namespace.value, defaults).1,
                labelled: is_labelled,
                labelled_definitions: labelled.len(),
                conflicting: labelled.iter().any(|(_, p, _)| *p != policy),
            },
        );
    }
    policies
}

/// Requests, namespaces and runtime classes admission does not check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Exemptions {
    pub usernames: Vec<String>,
    pub namespaces: Vec<String>,
    pub runtime_classes: Vec<String>,
}

/// Why an object is exempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "camelCase")]
pub enum Exemption {
    Namespace(String),
    RuntimeClass(String),
}

/// The PodSecurity admission plugin's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PodSecurityConfig {
    /// Policy for namespaces without labels (and for each absent label).
    pub defaults: Policy,
    pub exemptions: Exemptions,
}

impl PodSecurityConfig {
    pub fn exempt_namespace(&self, namespace: &str) -> bool {
        !namespace.is_empty() && self.exemptions.namespaces.iter().any(|n| n == namespace)
    }

    pub fn exempt_username(&self, username: &str) -> bool {
        !username.is_empty() && self.exemptions.usernames.iter().any(|n| n == username)
    }

    pub fn exempt_runtime_class(&self, runtime_class: Option<&str>) -> bool {
        runtime_class.is_some_and(|rc| {
            !rc.is_empty() && self.exemptions.runtime_classes.iter().any(|n| n == rc)
        })
    }

    /// Whether admission skips an object: its namespace is exempt, or its pod spec names an
    /// exempt `runtimeClassName`.
    pub fn exemption(&self, object: &Value) -> Option<Exemption> {
        let namespace = object
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if self.exempt_namespace(namespace) {
            return Some(Exemption::Namespace(namespace.to_owned()));
        }
        let spec = palisade_core::views::pod_spec(object)?;
        let runtime_class = spec.spec.get("runtimeClassName").and_then(Value::as_str);
        if self.exempt_runtime_class(runtime_class) {
            return runtime_class.map(|rc| Exemption::RuntimeClass(rc.to_owned()));
        }
        None
    }

    /// The policy of a Namespace object under this configuration's defaults.
    pub fn namespace_policy(&self, namespace: &Value) -> (Policy, Vec<FieldError>) {
        namespace_policy(namespace, &self.defaults)
    }
}

/// Why a configuration could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "camelCase")]
pub enum ConfigError {
    /// Not a configuration admission would decode.
    Decode(String),
    /// The PodSecurity plugin's configuration is in another file (`plugins[].path`, relative to
    /// the AdmissionConfiguration's own file); parse that file instead.
    ExternalPath(String),
    /// Decoded, but fails validation.
    Invalid(Vec<FieldError>),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Decode(message) => f.write_str(message),
            ConfigError::ExternalPath(path) => {
                write!(
                    f,
                    "the PodSecurity configuration is in another file: {path}"
                )
            }
            ConfigError::Invalid(errors) => {
                let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                if list.len() == 1 {
                    f.write_str(&list[0])
                } else {
                    write!(f, "[{}]", list.join(", "))
                }
            }
        }
    }
}

impl std::error::Error for ConfigError {}

const CONFIG_GROUP: &str = "pod-security.admission.config.k8s.io";
const CONFIG_VERSIONS: [&str; 3] = ["v1", "v1beta1", "v1alpha1"];
const ADMISSION_CONFIG_API_VERSIONS: [&str; 3] = [
    "apiserver.config.k8s.io/v1",
    "apiserver.config.k8s.io/v1alpha1",
    "apiserver.k8s.io/v1alpha1",
];

/// Parses an `AdmissionConfiguration` (the API server's `--admission-control-config-file`; its
/// `PodSecurity` plugin entry) or a bare `PodSecurityConfiguration` (as given to the webhook).
///
/// The PodSecurityConfiguration is decoded strictly (unknown fields are errors), empty defaults
/// become `privileged` / `latest`, and the result is validated as admission validates it. An
/// AdmissionConfiguration without a PodSecurity entry, or whose entry has no configuration,
/// yields the built-in default.
pub fn parse_config(value: &Value) -> Result<PodSecurityConfig, ConfigError> {
    let kind = value.get("kind").and_then(Value::as_str);
    let api_version = value.get("apiVersion").and_then(Value::as_str);
    if kind == Some("AdmissionConfiguration") {
        let api_version = api_version.unwrap_or("");
        if !ADMISSION_CONFIG_API_VERSIONS.contains(&api_version) {
            return Err(ConfigError::Decode(format!(
                "no kind \"AdmissionConfiguration\" is registered for version \"{api_version}\""
            )));
        }
        let plugins = match value.get("plugins") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(items)) => items.as_slice(),
            Some(_) => return Err(ConfigError::Decode("plugins must be a list".to_owned())),
        };
        let Some(plugin) = plugins
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some("PodSecurity"))
        else {
            return Ok(PodSecurityConfig::default());
        };
        if let Some(configuration) = plugin.get("configuration").filter(|c| !c.is_null()) {
            return parse_pod_security_configuration(configuration);
        }
        return match plugin.get("path").and_then(Value::as_str) {
            Some(path) if !path.is_empty() => Err(ConfigError::ExternalPath(path.to_owned())),
            _ => Ok(PodSecurityConfig::default()),
        };
    }
    parse_pod_security_configuration(value)
}

fn parse_pod_security_configuration(value: &Value) -> Result<PodSecurityConfig, ConfigError> {
    let decode = |message: String| Err(ConfigError::Decode(message));
    let Some(map) = value.as_object() else {
        return decode("PodSecurityConfiguration must be a mapping".to_owned());
    };
    let api_version = match map.get("apiVersion") {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        _ => return decode("Object 'apiVersion' is missing".to_owned()),
    };
    let kind = match map.get("kind") {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        _ => return decode("Object 'Kind' is missing".to_owned()),
    };
    let known_version = api_version.split_once('/').is_some_and(|(group, version)| {
        group == CONFIG_GROUP && CONFIG_VERSIONS.contains(&version)
    });
    if !known_version || kind != "PodSecurityConfiguration" {
        return decode(format!(
            "no kind \"{kind}\" is registered for version \"{api_version}\""
        ));
    }
    for key in map.keys() {
        if !matches!(
            key.as_str(),
            "apiVersion" | "kind" | "defaults" | "exemptions"
        ) {
            return decode(format!("unknown field \"{key}\""));
        }
    }
    let defaults = sub_object(map, "defaults")?;
    let exemptions = sub_object(map, "exemptions")?;
    let mut errors = Vec::new();
    let mut policy = Policy::default();
    for mode in [Mode::Enforce, Mode::Warn, Mode::Audit] {
        let level_key = mode.as_str().to_owned();
        let version_key = format!("{level_key}-version");
        let level = string_field(&defaults, "defaults", &level_key)?.unwrap_or("privileged");
        match level.parse() {
            Ok(level) => policy.get_mut(mode).level = level,
            Err(err) => errors.push(FieldError::invalid(
                format!("defaults.{level_key}"),
                level,
                err,
            )),
        }
        let version = string_field(&defaults, "defaults", &version_key)?.unwrap_or("latest");
        match version.parse() {
            Ok(version) => policy.get_mut(mode).version = version,
            Err(err) => errors.push(FieldError::invalid(
                format!("defaults.{version_key}"),
                version,
                err,
            )),
        }
    }
    check_keys(
        &defaults,
        "defaults",
        &[
            "enforce",
            "enforce-version",
            "audit",
            "audit-version",
            "warn",
            "warn-version",
        ],
    )?;
    check_keys(
        &exemptions,
        "exemptions",
        &["usernames", "namespaces", "runtimeClasses"],
    )?;
    let usernames = string_list(&exemptions, "usernames")?;
    let namespaces = string_list(&exemptions, "namespaces")?;
    let runtime_classes = string_list(&exemptions, "runtimeClasses")?;
    validate_list(&namespaces, "exemptions.namespaces", &mut errors, |ns| {
        dns_label(ns)
    });
    validate_list(
        &runtime_classes,
        "exemptions.runtimeClasses",
        &mut errors,
        dns_subdomain,
    );
    validate_list(&usernames, "exemptions.usernames", &mut errors, |u| {
        if u.is_empty() {
            Some("username must not be empty".to_owned())
        } else {
            None
        }
    });
    if !errors.is_empty() {
        return Err(ConfigError::Invalid(errors));
    }
    Ok(PodSecurityConfig {
        defaults: policy,
        exemptions: Exemptions {
            usernames,
            namespaces,
            runtime_classes,
        },
    })
}

fn sub_object(map: &Map<String, Value>, key: &str) -> Result<Map<String, Value>, ConfigError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ConfigError::Decode(format!("{key} must be a mapping"))),
    }
}

fn check_keys(map: &Map<String, Value>, parent: &str, known: &[&str]) -> Result<(), ConfigError> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(ConfigError::Decode(format!(
            "unknown field \"{parent}.{key}\""
        ))),
        None => Ok(()),
    }
}

/// A string field; empty and null count as unset.
fn string_field<'a>(
    map: &'a Map<String, Value>,
    parent: &str,
    key: &str,
) -> Result<Option<&'a str>, ConfigError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ConfigError::Decode(format!(
            "{parent}.{key} must be a string"
        ))),
    }
}

fn string_list(map: &Map<String, Value>, key: &str) -> Result<Vec<String>, ConfigError> {
    let not_strings = || ConfigError::Decode(format!("exemptions.{key} must be a list of strings"));
    match map.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(not_strings))
            .collect(),
        Some(_) => Err(not_strings()),
    }
}

fn validate_list(
    items: &[String],
    field: &str,
    errors: &mut Vec<FieldError>,
    check: impl Fn(&str) -> Option<String>,
) {
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{field}[{i}]");
        if let Some(message) = check(item) {
            errors.push(FieldError::invalid(path, item, message));
        } else if !seen.insert(item.as_str()) {
            errors.push(FieldError {
                field: path,
                value: item.clone(),
                kind: FieldErrorKind::Duplicate,
                message: String::new(),
            });
        }
    }
}

fn dns_label_ok(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
}

/// Namespace names: RFC 1123 labels.
fn dns_label(s: &str) -> Option<String> {
    let mut problems = Vec::new();
    if s.len() > 63 {
        problems.push("must be no more than 63 characters");
    }
    if !dns_label_ok(s) {
        problems.push(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \
             '-', and must start and end with an alphanumeric character",
        );
    }
    (!problems.is_empty()).then(|| problems.join(", "))
}

/// Runtime class names: RFC 1123 subdomains.
fn dns_subdomain(s: &str) -> Option<String> {
    let mut problems = Vec::new();
    if s.len() > 253 {
        problems.push("must be no more than 253 characters");
    }
    if !s.split('.').all(dns_label_ok) {
        problems.push(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \
             '-' or '.', and must start and end with an alphanumeric character",
        );
    }
    (!problems.is_empty()).then(|| problems.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(dns_label("kube-system").is_none());
        assert!(dns_label("Kube").is_some());
        assert!(dns_label("-a").is_some());
        assert!(dns_label("a.b").is_some());
        assert!(dns_label(&"a".repeat(64)).is_some());
        assert!(dns_subdomain("gvisor.example.com").is_none());
        assert!(dns_subdomain("a..b").is_some());
        assert!(dns_subdomain("").is_some());
    }
}
