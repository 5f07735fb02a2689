//! Every rule, one file each, grouped by area.

pub mod image;
pub mod input;
pub(crate) mod util;
pub mod workload;

use crate::Rule;

/// The registry: every rule, in ID order (a test checks the order and uniqueness).
pub static ALL: &[&dyn Rule] = &[
    &image::latest_tag::LatestTag,
    &workload::privileged_container::PrivilegedContainer,
    &workload::allow_privilege_escalation::AllowPrivilegeEscalation,
    &workload::host_path_volume::HostPathVolume,
    &workload::missing_resource_limits::MissingResourceLimits,
    &input::duplicate_key::DuplicateKey,
];
