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
