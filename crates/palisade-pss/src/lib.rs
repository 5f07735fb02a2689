//! Pod Security Standards, evaluated exactly as Kubernetes Pod Security Admission decides:
//! the 19 checks of the baseline and restricted levels at every policy version, admission's
//! messages, namespace labels, the admission configuration and level suggestions.

mod checks;
pub mod controls;
mod eval;
mod level;
mod namespace;
mod suggest;
mod text;

pub use checks::{CheckId, CheckInfo, UnknownCheck};
pub use eval::{
    check, checks, evaluate, forbidden_detail, forbidden_message, warning_message, Evaluation,
    Violation,
};
pub use level::{Level, LevelError, LevelVersion, Version, VersionError, NEWEST_POLICY_MINOR};
pub use namespace::{
    has_pss_labels, namespace_policies, namespace_policy, parse_config, policy_from_labels,
    ConfigError, Exemption, Exemptions, FieldError, FieldErrorKind, Mode, NamespacePolicy,
    PodSecurityConfig, Policy, LABEL_PREFIX,
};
pub use suggest::{suggest, Blocker, Suggestion};

/// The fields of a pod spec that [`evaluate`] reads, relative to the pod spec (`*`: every
/// element): holders of many pods keep these and drop the rest.
pub const POD_SPEC_READS: &[&str] = &[
    "/hostNetwork",
    "/hostPID",
    "/hostIPC",
    "/hostUsers",
    "/securityContext",
    "/volumes",
    "/os",
    "/runtimeClassName",
    "/containers/*/name",
    "/containers/*/image",
    "/containers/*/securityContext",
    "/containers/*/ports",
    "/containers/*/lifecycle",
    "/containers/*/livenessProbe",
    "/containers/*/readinessProbe",
    "/containers/*/startupProbe",
    "/initContainers/*/name",
    "/initContainers/*/image",
    "/initContainers/*/securityContext",
    "/initContainers/*/ports",
    "/initContainers/*/lifecycle",
    "/initContainers/*/livenessProbe",
    "/initContainers/*/readinessProbe",
    "/initContainers/*/startupProbe",
    "/ephemeralContainers/*/name",
    "/ephemeralContainers/*/image",
    "/ephemeralContainers/*/securityContext",
    "/ephemeralContainers/*/ports",
    "/ephemeralContainers/*/lifecycle",
    "/ephemeralContainers/*/livenessProbe",
    "/ephemeralContainers/*/readinessProbe",
    "/ephemeralContainers/*/startupProbe",
];

/// The fields of a pod's metadata that [`evaluate`] reads (AppArmor and seccomp annotations).
pub const POD_METADATA_READS: &[&str] = &["/annotations"];
