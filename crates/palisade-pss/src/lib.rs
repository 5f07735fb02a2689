//! Pod Security Standards, evaluated exactly as Kubernetes Pod Security Admission decides:
//! the 19 checks of the baseline and restricted levels at every policy version, admission's
//! messages, namespace labels, the admission configuration and level suggestions.

mod checks;
mod eval;
mod level;
mod namespace;
mod suggest;
mod text;

pub use checks::CheckInfo;
pub use eval::{
    check, checks, evaluate, forbidden_detail, forbidden_message, warning_message, Evaluation,
    Violation,
};
pub use level::{Level, LevelError, LevelVersion, Version, VersionError, NEWEST_POLICY_MINOR};
pub use namespace::{
    namespace_policy, parse_config, policy_from_labels, ConfigError, Exemption, Exemptions,
    FieldError, FieldErrorKind, Mode, PodSecurityConfig, Policy, LABEL_PREFIX,
};
pub use suggest::{suggest, Blocker, Suggestion};
