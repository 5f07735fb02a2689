//! Workload hardening rules: pod and container security settings.

pub mod allow_privilege_escalation;
pub mod host_path_volume;
pub mod missing_resource_limits;
pub mod privileged_container;
