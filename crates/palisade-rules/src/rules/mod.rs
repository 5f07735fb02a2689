//! Every rule, one file each, grouped by area. Rules of the Pod Security Standards (`pss`),
//! RBAC (`rbac`) and NetworkPolicy (`network`) areas live in their own modules, listed here in
//! the same way when they are added.

pub mod audit;
pub mod exposure;
pub mod image;
pub mod input;
pub mod mesh;
pub mod namespace;
pub mod network;
pub mod pss;
pub mod rbac;
pub mod secrets;
pub(crate) mod util;
pub mod workload;

use crate::Rule;

/// The registry: every rule, in ID order (`registry_is_sorted_unique_and_documented` checks it).
pub static ALL: &[&dyn Rule] = &[
    &audit::sensitive_bodies::SensitiveBodies,
    &audit::missing_catch_all::MissingCatchAll,
    &image::latest_tag::LatestTag,
    &image::no_digest::NoDigest,
    &image::pull_policy::PullPolicy,
    &image::registry_allow_list::RegistryAllowList,
    &mesh::split_rule_conditions::SplitRuleConditions,
    &mesh::allow_empty_rule::AllowEmptyRule,
    &mesh::peer_authentication_not_strict::PeerAuthenticationNotStrict,
    &network::no_default_deny_ingress::NoDefaultDenyIngress,
    &network::no_default_deny_egress::NoDefaultDenyEgress,
    &network::workload_not_selected::WorkloadNotSelected,
    &network::allow_all_ingress::AllowAllIngress,
    &network::metadata_egress::MetadataEgress,
    &network::selector_matches_nothing::SelectorMatchesNothing,
    &network::unknown_named_port::UnknownNamedPort,
    &namespace::no_enforce_label::NoEnforceLabel,
    &namespace::enforce_privileged::EnforcePrivileged,
    &namespace::old_enforce_version::OldEnforceVersion,
    &namespace::weaker_warn_audit::WeakerWarnAudit,
    &namespace::invalid_pss_label::InvalidPssLabel,
    &workload::privileged_container::PrivilegedContainer,
    &workload::allow_privilege_escalation::AllowPrivilegeEscalation,
    &workload::host_path_volume::HostPathVolume,
    &workload::missing_resource_limits::MissingResourceLimits,
    &workload::run_as_root::RunAsRoot,
    &workload::read_only_root_filesystem::ReadOnlyRootFilesystem,
    &workload::capabilities_not_dropped::CapabilitiesNotDropped,
    &workload::dangerous_capabilities::DangerousCapabilities,
    &workload::host_namespaces::HostNamespaces,
    &workload::host_port::HostPort,
    &workload::seccomp_profile::SeccompProfile,
    &workload::apparmor_unconfined::AppArmorUnconfined,
    &workload::proc_mount::ProcMount,
    &workload::unsafe_sysctls::UnsafeSysctls,
    &workload::empty_dir_size_limit::EmptyDirSizeLimit,
    &workload::automount_token::AutomountToken,
    &workload::default_service_account::DefaultServiceAccount,
    &workload::default_namespace::DefaultNamespace,
    &workload::share_process_namespace::ShareProcessNamespace,
    &workload::agent_privileged::AgentPrivileged,
    &pss::app_armor_profile::RULE,
    &pss::capabilities_baseline::RULE,
    &pss::host_namespaces::RULE,
    &pss::host_path_volumes::RULE,
    &pss::host_ports::RULE,
    &pss::host_probes_and_host_lifecycle::RULE,
    &pss::privileged::RULE,
    &pss::proc_mount::RULE,
    &pss::se_linux_options::RULE,
    &pss::seccomp_profile_baseline::RULE,
    &pss::sysctls::RULE,
    &pss::windows_host_process::RULE,
    &pss::allow_privilege_escalation::RULE,
    &pss::capabilities_restricted::RULE,
    &pss::proc_mount_restricted::RULE,
    &pss::restricted_volumes::RULE,
    &pss::run_as_non_root::RULE,
    &pss::run_as_user::RULE,
    &pss::seccomp_profile_restricted::RULE,
    &rbac::RBAC001,
    &rbac::RBAC002,
    &rbac::RBAC003,
    &rbac::RBAC004,
    &rbac::RBAC005,
    &rbac::RBAC006,
    &rbac::RBAC007,
    &rbac::RBAC008,
    &rbac::RBAC009,
    &rbac::RBAC010,
    &rbac::RBAC011,
    &rbac::RBAC012,
    &rbac::RBAC013,
    &secrets::env_literal_secret::EnvLiteralSecret,
    &secrets::credential_format::CredentialFormat,
    &secrets::secret_object::SecretObject,
    &secrets::legacy_token_secret::LegacyTokenSecret,
    &secrets::secret_env_var::SecretEnvVar,
    &exposure::load_balancer_source_ranges::LoadBalancerSourceRanges,
    &exposure::node_port::NodePort,
    &exposure::external_ips::ExternalIps,
    &exposure::ingress_without_tls::IngressWithoutTls,
    &exposure::metadata_address::MetadataAddress,
    &input::duplicate_key::DuplicateKey,
];
