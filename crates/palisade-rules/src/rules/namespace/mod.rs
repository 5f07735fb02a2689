//! Namespace rules: how Namespaces set up Pod Security Admission with their
//! `pod-security.kubernetes.io/*` labels.

pub mod namespace_no_pss_enforce;
pub mod namespace_pss_enforce_privileged;
pub mod namespace_pss_invalid_label;
pub mod namespace_pss_old_enforce_version;
pub mod namespace_pss_warn_audit_weaker;

use palisade_core::pointer;
use palisade_core::Object;
use palisade_pss::Policy;

use crate::Settings;

pub(crate) const KINDS: &[&str] = &["Namespace"];

/// Whether the Namespace is one of the configured system namespaces.
pub(crate) fn is_system(object: &Object, settings: &Settings) -> bool {
    settings
        .system_namespaces
        .iter()
        .any(|s| s == object.name())
}

/// The Namespace's policy under admission's built-in defaults.
pub(crate) fn policy(object: &Object) -> Policy {
    palisade_pss::namespace_policy(&object.value, &Policy::default()).0
}

/// The text of a label, if set.
pub(crate) fn label<'a>(object: &'a Object, key: &str) -> Option<&'a str> {
    object.labels()?.get(key)?.as_str()
}

/// The pointer of a label.
pub(crate) fn label_pointer(key: &str) -> String {
    pointer::push("/metadata/labels", key)
}
