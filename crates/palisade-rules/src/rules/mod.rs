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
    &audit::audit_logs_secret_bodies::SensitiveBodies,
    &audit::audit_policy_no_catch_all::MissingCatchAll,
    &image::image_latest_tag::LatestTag,
    &image::image_no_digest::NoDigest,
    &image::image_pull_policy::PullPolicy,
    &image::image_registry_not_allowed::RegistryAllowList,
    &mesh::authz_split_rule::SplitRuleConditions,
    &mesh::authz_allow_all::AllowEmptyRule,
    &mesh::mtls_not_strict::PeerAuthenticationNotStrict,
    &network::no_default_deny_ingress::NoDefaultDenyIngress,
    &network::no_default_deny_egress::NoDefaultDenyEgress,
    &network::workload_not_selected_by_policy::WorkloadNotSelected,
    &network::policy_allows_all_ingress::AllowAllIngress,
    &network::egress_to_metadata_allowed::MetadataEgress,
    &network::policy_selects_nothing::SelectorMatchesNothing,
    &network::unknown_named_port::UnknownNamedPort,
    &namespace::namespace_no_pss_enforce::NoEnforceLabel,
    &namespace::namespace_pss_enforce_privileged::EnforcePrivileged,
    &namespace::namespace_pss_old_enforce_version::OldEnforceVersion,
    &namespace::namespace_pss_warn_audit_weaker::WeakerWarnAudit,
    &namespace::namespace_pss_invalid_label::InvalidPssLabel,
    &workload::privileged_container::PrivilegedContainer,
    &workload::allow_privilege_escalation::AllowPrivilegeEscalation,
    &workload::host_path_volume::HostPathVolume,
    &workload::missing_resource_limits::MissingResourceLimits,
    &workload::run_as_root::RunAsRoot,
    &workload::writable_root_filesystem::ReadOnlyRootFilesystem,
    &workload::capabilities_not_dropped::CapabilitiesNotDropped,
    &workload::dangerous_capabilities::DangerousCapabilities,
    &workload::host_namespaces::HostNamespaces,
    &workload::host_port::HostPort,
    &workload::seccomp_profile::SeccompProfile,
    &workload::apparmor_unconfined::AppArmorUnconfined,
    &workload::unmasked_proc_mount::ProcMount,
    &workload::unsafe_sysctls::UnsafeSysctls,
    &workload::empty_dir_size_limit::EmptyDirSizeLimit,
    &workload::automount_service_account_token::AutomountToken,
    &workload::default_service_account::DefaultServiceAccount,
    &workload::default_namespace::DefaultNamespace,
    &workload::share_process_namespace::ShareProcessNamespace,
    &workload::agent_privileged::AgentPrivileged,
    &pss::pss_app_armor_profile::AppArmorProfile,
    &pss::pss_capabilities_baseline::CapabilitiesBaseline,
    &pss::pss_host_namespaces::HostNamespaces,
    &pss::pss_host_path_volumes::HostPathVolumes,
    &pss::pss_host_ports::HostPorts,
    &pss::pss_host_probes_and_host_lifecycle::HostProbesAndHostLifecycle,
    &pss::pss_privileged::Privileged,
    &pss::pss_proc_mount::ProcMount,
    &pss::pss_se_linux_options::SeLinuxOptions,
    &pss::pss_seccomp_profile_baseline::SeccompProfileBaseline,
    &pss::pss_sysctls::Sysctls,
    &pss::pss_windows_host_process::WindowsHostProcess,
    &pss::pss_allow_privilege_escalation::AllowPrivilegeEscalation,
    &pss::pss_capabilities_restricted::CapabilitiesRestricted,
    &pss::pss_proc_mount_restricted::ProcMountRestricted,
    &pss::pss_restricted_volumes::RestrictedVolumes,
    &pss::pss_run_as_non_root::RunAsNonRoot,
    &pss::pss_run_as_user::RunAsUser,
    &pss::pss_seccomp_profile_restricted::SeccompProfileRestricted,
    &rbac::rbac_secrets_read::SecretsRead,
    &rbac::rbac_workload_write::WorkloadWrite,
    &rbac::rbac_pod_exec::PodExec,
    &rbac::rbac_escalate_bind::EscalateBind,
    &rbac::rbac_impersonate::Impersonate,
    &rbac::rbac_serviceaccount_token_create::TokenCreate,
    &rbac::rbac_nodes_proxy::NodesProxy,
    &rbac::rbac_csr_approve::CsrApprove,
    &rbac::rbac_admission_webhook_write::WebhookWrite,
    &rbac::rbac_wildcard::Wildcard,
    &rbac::rbac_cluster_admin_binding::ClusterAdminBinding,
    &rbac::rbac_public_binding::PublicBinding,
    &rbac::rbac_default_serviceaccount_binding::DefaultServiceAccountBinding,
    &rbac::rbac_binding_missing_role::BindingMissingRole,
    &rbac::rbac_conflicting_definition::ConflictingDefinition,
    &secrets::secret_in_env_value::EnvLiteralSecret,
    &secrets::credential_in_manifest::CredentialFormat,
    &secrets::secret_committed::SecretObject,
    &secrets::legacy_service_account_token::LegacyTokenSecret,
    &secrets::secret_as_env_var::SecretEnvVar,
    &exposure::load_balancer_open::LoadBalancerSourceRanges,
    &exposure::node_port_service::NodePort,
    &exposure::service_external_ips::ExternalIps,
    &exposure::ingress_without_tls::IngressWithoutTls,
    &exposure::route_to_metadata_service::MetadataAddress,
    &input::duplicate_key::DuplicateKey,
];
