//! Workload hardening rules: pod and container security settings.

pub mod agent_privileged;
pub mod allow_privilege_escalation;
pub mod apparmor_unconfined;
pub mod automount_service_account_token;
pub mod capabilities_not_dropped;
pub mod dangerous_capabilities;
pub mod default_namespace;
pub mod default_service_account;
pub mod empty_dir_size_limit;
pub mod git_sync_git_command;
pub mod host_namespaces;
pub mod host_path_volume;
pub mod host_port;
pub mod missing_resource_limits;
pub mod non_default_capabilities;
pub mod privileged_container;
pub mod run_as_root;
pub mod seccomp_profile;
pub(crate) mod service_account;
pub mod share_process_namespace;
pub mod unmasked_proc_mount;
pub mod unsafe_sysctls;
pub mod windows_host_process;
pub mod writable_root_filesystem;
