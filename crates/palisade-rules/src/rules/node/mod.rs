//! Node rules: the CIS Kubernetes Benchmark checks of a node's files (`palisade node`), one
//! rule per automated check of CIS 1.12 sections 1 to 4. `palisade_node` evaluates the checks;
//! each rule reports its check's failing values where they are written. The `encryption_*`
//! rules are per-object rules on an `EncryptionConfiguration`: `palisade node` runs them on the
//! file `--encryption-provider-config` names, and `palisade scan` on any such file.

use palisade_core::rule::Severity;
use palisade_node::Outcome;

use crate::{NodeCx, NodeEmit};

/// What node rules read: a node's files.
pub const NODE_KINDS: &[&str] = &["NodeFile"];

/// Reports the result of the check with CIS ID `id`: each failing value of a FAIL, or of a WARN
/// of an unscored check, at the rule's severity, and a check that could not be tested (a missing
/// or unreadable file) at `info`, with the path and the reason.
pub(crate) fn report(cx: &NodeCx<'_>, id: &str, out: &mut Vec<NodeEmit>) {
    let Some(result) = cx.audit.result(id) else {
        return;
    };
    match result.outcome {
        Outcome::Pass | Outcome::Info => {}
        Outcome::Fail | Outcome::Warn => {
            let outcome = result.outcome.as_str();
            if let Some(unchecked) = &result.unchecked {
                out.push(NodeEmit {
                    location: unchecked.location.clone(),
                    message: format!("CIS {id} {outcome}: not checked: {}", unchecked.reason),
                    severity: Some(Severity::Info),
                });
            }
            for observation in result.observations.iter().filter(|o| !o.ok) {
                out.push(NodeEmit {
                    location: observation.location.clone(),
                    message: format!("CIS {id} {outcome}: {}", observation.message),
                    severity: None,
                });
            }
        }
    }
}

pub mod admin_kubeconfig_owner;
pub mod admin_kubeconfig_permissions;
pub mod apiserver_always_admit;
pub mod apiserver_always_pull_images;
pub mod apiserver_anonymous_auth;
pub mod apiserver_audit_log_maxage;
pub mod apiserver_audit_log_maxbackup;
pub mod apiserver_audit_log_maxsize;
pub mod apiserver_audit_log_path;
pub mod apiserver_audit_policy;
pub mod apiserver_audit_policy_unreadable;
pub mod apiserver_authorization_always_allow;
pub mod apiserver_authorization_node;
pub mod apiserver_authorization_rbac;
pub mod apiserver_client_ca_file;
pub mod apiserver_deny_service_external_ips;
pub mod apiserver_encryption_provider_config;
pub mod apiserver_encryption_providers;
pub mod apiserver_etcd_cafile;
pub mod apiserver_etcd_client_cert;
pub mod apiserver_event_rate_limit;
pub mod apiserver_extend_token_expiration;
pub mod apiserver_kubelet_certificate_authority;
pub mod apiserver_kubelet_client_cert;
pub mod apiserver_manifest_owner;
pub mod apiserver_manifest_permissions;
pub mod apiserver_namespace_lifecycle;
pub mod apiserver_no_audit_backend;
pub mod apiserver_node_restriction;
pub mod apiserver_profiling;
pub mod apiserver_service_account_key_file;
pub mod apiserver_service_account_lookup;
pub mod apiserver_service_account_plugin;
pub mod apiserver_tls_cert;
pub mod apiserver_tls_cipher_suites;
pub mod apiserver_token_auth_file;
pub mod cni_file_owner;
pub mod cni_file_permissions;
pub mod cni_without_network_policy;
pub mod controller_manager_bind_address;
pub mod controller_manager_kubeconfig_owner;
pub mod controller_manager_kubeconfig_permissions;
pub mod controller_manager_manifest_owner;
pub mod controller_manager_manifest_permissions;
pub mod controller_manager_profiling;
pub mod controller_manager_root_ca_file;
pub mod controller_manager_rotate_kubelet_server_certificate;
pub mod controller_manager_service_account_credentials;
pub mod controller_manager_service_account_private_key;
pub mod controller_manager_terminated_pod_gc;
pub(crate) mod encryption;
pub mod encryption_identity_fallback;
pub mod encryption_invalid_key;
pub mod encryption_not_encrypted;
pub mod encryption_weak_provider;
pub mod etcd_auto_tls;
pub mod etcd_client_cert_auth;
pub mod etcd_data_dir_owner;
pub mod etcd_data_dir_permissions;
pub mod etcd_manifest_owner;
pub mod etcd_manifest_permissions;
pub mod etcd_peer_auto_tls;
pub mod etcd_peer_client_cert_auth;
pub mod etcd_peer_tls;
pub mod etcd_tls;
pub mod etcd_trusted_ca;
pub mod kubelet_anonymous_auth;
pub mod kubelet_authorization_always_allow;
pub mod kubelet_client_ca_file;
pub mod kubelet_client_ca_owner;
pub mod kubelet_client_ca_permissions;
pub mod kubelet_config_owner;
pub mod kubelet_config_permissions;
pub mod kubelet_event_qps;
pub mod kubelet_hostname_override;
pub mod kubelet_iptables_util_chains;
pub mod kubelet_kubeconfig_owner;
pub mod kubelet_kubeconfig_permissions;
pub mod kubelet_pod_pids_limit;
pub mod kubelet_read_only_port;
pub mod kubelet_rotate_certificates;
pub mod kubelet_rotate_server_certificate;
pub mod kubelet_seccomp_default;
pub mod kubelet_service_owner;
pub mod kubelet_service_permissions;
pub mod kubelet_streaming_idle_timeout;
pub mod kubelet_tls_cert;
pub mod kubelet_tls_cipher_suites;
pub mod pki_certificate_permissions;
pub mod pki_key_permissions;
pub mod pki_owner;
pub mod proxy_kubeconfig_owner;
pub mod proxy_kubeconfig_permissions;
pub mod proxy_metrics_bind_address;
pub mod scheduler_bind_address;
pub mod scheduler_kubeconfig_owner;
pub mod scheduler_kubeconfig_permissions;
pub mod scheduler_manifest_owner;
pub mod scheduler_manifest_permissions;
pub mod scheduler_profiling;
