//! The benchmark's checks as data: what each one reads and how it compares, transcribed from
//! kube-bench's `cfg/cis-1.12` (sections 1 to 4). Nothing is read from kube-bench at run time.

use serde::Serialize;

use crate::{Component, Section};

/// One check of the benchmark.
#[derive(Debug, Serialize)]
pub struct Check {
    /// The CIS ID, e.g. `1.2.1`.
    pub id: &'static str,
    pub section: Section,
    /// The benchmark's recommendation, as kube-bench words it.
    pub text: &'static str,
    /// Whether the check is scored: a failed test of an unscored check is a WARN, not a FAIL.
    pub scored: bool,
    #[serde(skip)]
    pub test: Test,
}

/// What a check tests.
#[derive(Debug)]
pub enum Test {
    /// The check cannot be automated: always WARN.
    Manual,
    /// The mode of each file of `target` has no permission bit outside `mask` (kube-bench's
    /// `bitmask`).
    Mode { target: Target, mask: u32 },
    /// Each file of `target` is owned by `owner` (`user:group`); with `missing_ok`, a missing
    /// file passes.
    Owner {
        target: Target,
        owner: &'static str,
        missing_ok: bool,
    },
    /// Flags of a component (and, for the kubelet and kube-proxy, fields of its configuration
    /// file), combined with `op`.
    Flags {
        component: Component,
        op: BinOp,
        items: &'static [Item],
    },
    /// The first provider of each resource of the `EncryptionConfiguration` named by
    /// `--encryption-provider-config` is one of `allowed`.
    EncryptionProviders { allowed: &'static [&'static str] },
}

/// The files a mode or owner check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The component's static pod manifest (or other configuration file).
    ComponentConf(Component),
    /// etcd's `--data-dir`.
    EtcdDataDir,
    /// `/etc/kubernetes/admin.conf` and `/etc/kubernetes/super-admin.conf`, where present.
    AdminConfs,
    SchedulerKubeconfig,
    ControllerManagerKubeconfig,
    /// `/etc/kubernetes/pki/` and everything in it.
    Pki,
    /// The `*.crt` files under `/etc/kubernetes/pki/`.
    PkiCerts,
    /// The `*.key` files under `/etc/kubernetes/pki/`.
    PkiKeys,
    /// The CNI configuration files (`--cni-conf-dir`, `/etc/cni/net.d`) and
    /// `/var/lib/cni/networks`.
    Cni,
    /// The kubelet's systemd unit (kubeadm's drop-in).
    KubeletService,
    ProxyKubeconfig,
    KubeletKubeconfig,
    /// The kubelet's `--client-ca-file` (or `authentication.x509.clientCAFile`).
    KubeletCaFile,
    /// The kubelet's configuration file (`--config`).
    KubeletConfig,
}

/// How the items of a flag test combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
}

/// One test item: a flag (or, for the kubelet and kube-proxy, also a configuration field, the
/// flag taking precedence as it does in the kubelet), an environment variable for etcd, and
/// what must hold.
#[derive(Debug)]
pub struct Item {
    /// The flag, e.g. `--anonymous-auth`; a name without dashes is a feature gate of
    /// `--feature-gates`.
    pub flag: &'static str,
    /// The field of the configuration file, as keys from the root; empty when the setting is a
    /// flag only.
    pub path: &'static [&'static str],
    /// The environment variable that sets it (etcd's `ETCD_*`), in an environment-file
    /// configuration.
    pub env: Option<&'static str>,
    /// `Some(false)`: the item holds when the setting is absent; `Some(true)` or `None` with a
    /// comparison: it must be present and compare true; `None` without one: present.
    pub set: Option<bool>,
    pub compare: Option<Compare>,
}

/// A comparison of a setting's value.
#[derive(Debug, Clone, Copy)]
pub struct Compare {
    pub op: Op,
    pub value: &'static str,
}

/// kube-bench's comparisons of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    NotEq,
    /// Numerically greater or equal.
    Gte,
    /// Contains the text.
    Has,
    /// Does not contain the text.
    NotHave,
    /// Every comma-separated element is one of the comma-separated values.
    ValidElements,
}

/// The check with a CIS ID.
pub fn find(id: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.id == id)
}

/// Every check of CIS Kubernetes Benchmark 1.12 in sections 1 to 4, as kube-bench's `cfg/cis-1.12` tests it.
pub static CHECKS: &[Check] = &[
    Check {
        id: "1.1.1",
        section: Section::Master,
        text: "Ensure that the API server pod specification file permissions are set to 600 or more restrictive (Automated)",
        scored: true,
        test: Test::Mode { target: Target::ComponentConf(Component::Apiserver), mask: 0o600 },
    },
    Check {
        id: "1.1.2",
        section: Section::Master,
        text: "Ensure that the API server pod specification file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::ComponentConf(Component::Apiserver), owner: "root:root", missing_ok: false },
    },
    Check {
        id: "1.1.3",
        section: Section::Master,
        text: "Ensure that the controller manager pod specification file permissions are set to 600 or more restrictive (Automated)",
        scored: true,
        test: Test::Mode { target: Target::ComponentConf(Component::ControllerManager), mask: 0o600 },
    },
    Check {
        id: "1.1.4",
        section: Section::Master,
        text: "Ensure that the controller manager pod specification file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::ComponentConf(Component::ControllerManager), owner: "root:root", missing_ok: false },
    },
    Check {
        id: "1.1.5",
        section: Section::Master,
        text: "Ensure that the scheduler pod specification file permissions are set to 600 or more restrictive (Automated)",
        scored: true,
        test: Test::Mode { target: Target::ComponentConf(Component::Scheduler), mask: 0o600 },
    },
    Check {
        id: "1.1.6",
        section: Section::Master,
        text: "Ensure that the scheduler pod specification file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::ComponentConf(Component::Scheduler), owner: "root:root", missing_ok: false },
    },
    Check {
        id: "1.1.7",
        section: Section::Master,
        text: "Ensure that the etcd pod specification file permissions are set to 600 or more restrictive (Automated)",
        scored: true,
        test: Test::Mode { target: Target::ComponentConf(Component::Etcd), mask: 0o600 },
    },
    Check {
        id: "1.1.8",
        section: Section::Master,
        text: "Ensure that the etcd pod specification file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::ComponentConf(Component::Etcd), owner: "root:root", missing_ok: false },
    },
    Check {
        id: "1.1.9",
        section: Section::Master,
        text: "Ensure that the Container Network Interface file permissions are set to 600 or more restrictive (Manual)",
        scored: false,
        test: Test::Mode { target: Target::Cni, mask: 0o600 },
    },
    Check {
        id: "1.1.10",
        section: Section::Master,
        text: "Ensure that the Container Network Interface file ownership is set to root:root (Manual)",
        scored: false,
        test: Test::Owner { target: Target::Cni, owner: "root:root", missing_ok: false },
    },
    Check {
        id: "1.1.11",
        section: Section::Master,
        text: "Ensure that the etcd data directory permissions are set to 700 or more restrictive (Automated)",
        scored: true,
        test: Test::Mode { target: Target::EtcdDataDir, mask: 0o700 },
    },
    Check {
        id: "1.1.12",
        section: Section::Master,
        text: "Ensure that the etcd data directory ownership is set to etcd:etcd (Automated)",
        scored: true,
        test: Test::Owner { target: Target::EtcdDataDir, owner: "etcd:etcd", missing_ok: false },
    },
    Check {
        id: "1.1.13",
        section: Section::Master,
        text: "Ensure that the default administrative credential file permissions are set to 600 (Automated)",
        scored: true,
        test: Test::Mode { target: Target::AdminConfs, mask: 0o600 },
    },
    Check {
        id: "1.1.14",
        section: Section::Master,
        text: "Ensure that the default administrative credential file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::AdminConfs, owner: "root:root", missing_ok: false },
    },
    Check {
        id: "1.1.15",
        section: Section::Master,
        text: "Ensure that the scheduler.conf file permissions are set to 600 or more restrictive (Automated)",
        scored: true,
        test: Test::Mode { target: Target::SchedulerKubeconfig, mask: 0o600 },
    },
    Check {
        id: "1.1.16",
        section: Section::Master,
        text: "Ensure that the scheduler.conf file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::SchedulerKubeconfig, owner: "root:root", missing_ok: false },
    },
    Check {
        id: "1.1.17",
        section: Section::Master,
        text: "Ensure that the controller-manager.conf file permissions are set to 600 or more restrictive (Automated)",
        scored: true,
        test: Test::Mode { target: Target::ControllerManagerKubeconfig, mask: 0o600 },
    },
    Check {
        id: "1.1.18",
        section: Section::Master,
        text: "Ensure that the controller-manager.conf file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::ControllerManagerKubeconfig, owner: "root:root", missing_ok: false },
    },
    Check {
        id: "1.1.19",
        section: Section::Master,
        text: "Ensure that the Kubernetes PKI directory and file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::Pki, owner: "root:root", missing_ok: false },
    },
    Check {
        id: "1.1.20",
        section: Section::Master,
        text: "Ensure that the Kubernetes PKI certificate file permissions are set to 644 or more restrictive (Manual)",
        scored: false,
        test: Test::Mode { target: Target::PkiCerts, mask: 0o644 },
    },
    Check {
        id: "1.1.21",
        section: Section::Master,
        text: "Ensure that the Kubernetes PKI key file permissions are set to 600 (Manual)",
        scored: false,
        test: Test::Mode { target: Target::PkiKeys, mask: 0o600 },
    },
    Check {
        id: "1.2.1",
        section: Section::Master,
        text: "Ensure that the --anonymous-auth argument is set to false (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--anonymous-auth", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "false" }) },
        ] },
    },
    Check {
        id: "1.2.2",
        section: Section::Master,
        text: "Ensure that the --token-auth-file parameter is not set (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--token-auth-file", path: &[], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "1.2.3",
        section: Section::Master,
        text: "Ensure that the --DenyServiceExternalIPs is set (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::Or, items: &[
            Item { flag: "--enable-admission-plugins", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Has, value: "DenyServiceExternalIPs" }) },
        ] },
    },
    Check {
        id: "1.2.4",
        section: Section::Master,
        text: "Ensure that the --kubelet-client-certificate and --kubelet-client-key arguments are set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--kubelet-client-certificate", path: &[], env: None, set: None, compare: None },
            Item { flag: "--kubelet-client-key", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.2.5",
        section: Section::Master,
        text: "Ensure that the --kubelet-certificate-authority argument is set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--kubelet-certificate-authority", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.2.6",
        section: Section::Master,
        text: "Ensure that the --authorization-mode argument is not set to AlwaysAllow (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--authorization-mode", path: &[], env: None, set: None, compare: Some(Compare { op: Op::NotHave, value: "AlwaysAllow" }) },
        ] },
    },
    Check {
        id: "1.2.7",
        section: Section::Master,
        text: "Ensure that the --authorization-mode argument includes Node (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--authorization-mode", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Has, value: "Node" }) },
        ] },
    },
    Check {
        id: "1.2.8",
        section: Section::Master,
        text: "Ensure that the --authorization-mode argument includes RBAC (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--authorization-mode", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Has, value: "RBAC" }) },
        ] },
    },
    Check {
        id: "1.2.9",
        section: Section::Master,
        text: "Ensure that the admission control plugin EventRateLimit is set (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--enable-admission-plugins", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Has, value: "EventRateLimit" }) },
        ] },
    },
    Check {
        id: "1.2.10",
        section: Section::Master,
        text: "Ensure that the admission control plugin AlwaysAdmit is not set (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::Or, items: &[
            Item { flag: "--enable-admission-plugins", path: &[], env: None, set: None, compare: Some(Compare { op: Op::NotHave, value: "AlwaysAdmit" }) },
            Item { flag: "--enable-admission-plugins", path: &[], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "1.2.11",
        section: Section::Master,
        text: "Ensure that the admission control plugin AlwaysPullImages is set (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--enable-admission-plugins", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Has, value: "AlwaysPullImages" }) },
        ] },
    },
    Check {
        id: "1.2.12",
        section: Section::Master,
        text: "Ensure that the admission control plugin ServiceAccount is set (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::Or, items: &[
            Item { flag: "--disable-admission-plugins", path: &[], env: None, set: None, compare: Some(Compare { op: Op::NotHave, value: "ServiceAccount" }) },
            Item { flag: "--disable-admission-plugins", path: &[], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "1.2.13",
        section: Section::Master,
        text: "Ensure that the admission control plugin NamespaceLifecycle is set (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::Or, items: &[
            Item { flag: "--disable-admission-plugins", path: &[], env: None, set: None, compare: Some(Compare { op: Op::NotHave, value: "NamespaceLifecycle" }) },
            Item { flag: "--disable-admission-plugins", path: &[], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "1.2.14",
        section: Section::Master,
        text: "Ensure that the admission control plugin NodeRestriction is set (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--enable-admission-plugins", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Has, value: "NodeRestriction" }) },
        ] },
    },
    Check {
        id: "1.2.15",
        section: Section::Master,
        text: "Ensure that the --profiling argument is set to false (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--profiling", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "false" }) },
        ] },
    },
    Check {
        id: "1.2.16",
        section: Section::Master,
        text: "Ensure that the --audit-log-path argument is set (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--audit-log-path", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.2.17",
        section: Section::Master,
        text: "Ensure that the --audit-log-maxage argument is set to 30 or as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--audit-log-maxage", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Gte, value: "30" }) },
        ] },
    },
    Check {
        id: "1.2.18",
        section: Section::Master,
        text: "Ensure that the --audit-log-maxbackup argument is set to 10 or as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--audit-log-maxbackup", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Gte, value: "10" }) },
        ] },
    },
    Check {
        id: "1.2.19",
        section: Section::Master,
        text: "Ensure that the --audit-log-maxsize argument is set to 100 or as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--audit-log-maxsize", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Gte, value: "100" }) },
        ] },
    },
    Check {
        id: "1.2.20",
        section: Section::Master,
        text: "Ensure that the --request-timeout argument is set as appropriate (Manual)",
        scored: false,
        test: Test::Manual,
    },
    Check {
        id: "1.2.21",
        section: Section::Master,
        text: "Ensure that the --service-account-lookup argument is set to true (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::Or, items: &[
            Item { flag: "--service-account-lookup", path: &[], env: None, set: Some(false), compare: None },
            Item { flag: "--service-account-lookup", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "true" }) },
        ] },
    },
    Check {
        id: "1.2.22",
        section: Section::Master,
        text: "Ensure that the --service-account-key-file argument is set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--service-account-key-file", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.2.23",
        section: Section::Master,
        text: "Ensure that the --etcd-certfile and --etcd-keyfile arguments are set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--etcd-certfile", path: &[], env: None, set: None, compare: None },
            Item { flag: "--etcd-keyfile", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.2.24",
        section: Section::Master,
        text: "Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--tls-cert-file", path: &[], env: None, set: None, compare: None },
            Item { flag: "--tls-private-key-file", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.2.25",
        section: Section::Master,
        text: "Ensure that the --client-ca-file argument is set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--client-ca-file", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.2.26",
        section: Section::Master,
        text: "Ensure that the --etcd-cafile argument is set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--etcd-cafile", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.2.27",
        section: Section::Master,
        text: "Ensure that the --encryption-provider-config argument is set as appropriate (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--encryption-provider-config", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.2.28",
        section: Section::Master,
        text: "Ensure that encryption providers are appropriately configured (Manual)",
        scored: false,
        test: Test::EncryptionProviders { allowed: &["aescbc", "kms", "secretbox"] },
    },
    Check {
        id: "1.2.29",
        section: Section::Master,
        text: "Ensure that the API Server only makes use of Strong Cryptographic Ciphers (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--tls-cipher-suites", path: &[], env: None, set: None, compare: Some(Compare { op: Op::ValidElements, value: "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" }) },
        ] },
    },
    Check {
        id: "1.2.30",
        section: Section::Master,
        text: "Ensure that the --service-account-extend-token-expiration parameter is set to false (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--service-account-extend-token-expiration", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "false" }) },
        ] },
    },
    Check {
        id: "1.3.1",
        section: Section::Master,
        text: "Ensure that the --terminated-pod-gc-threshold argument is set as appropriate (Manual)",
        scored: false,
        test: Test::Flags { component: Component::ControllerManager, op: BinOp::And, items: &[
            Item { flag: "--terminated-pod-gc-threshold", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.3.2",
        section: Section::Master,
        text: "Ensure that the --profiling argument is set to false (Automated)",
        scored: true,
        test: Test::Flags { component: Component::ControllerManager, op: BinOp::And, items: &[
            Item { flag: "--profiling", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "false" }) },
        ] },
    },
    Check {
        id: "1.3.3",
        section: Section::Master,
        text: "Ensure that the --use-service-account-credentials argument is set to true (Automated)",
        scored: true,
        test: Test::Flags { component: Component::ControllerManager, op: BinOp::And, items: &[
            Item { flag: "--use-service-account-credentials", path: &[], env: None, set: None, compare: Some(Compare { op: Op::NotEq, value: "false" }) },
        ] },
    },
    Check {
        id: "1.3.4",
        section: Section::Master,
        text: "Ensure that the --service-account-private-key-file argument is set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::ControllerManager, op: BinOp::And, items: &[
            Item { flag: "--service-account-private-key-file", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.3.5",
        section: Section::Master,
        text: "Ensure that the --root-ca-file argument is set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::ControllerManager, op: BinOp::And, items: &[
            Item { flag: "--root-ca-file", path: &[], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "1.3.6",
        section: Section::Master,
        text: "Ensure that the RotateKubeletServerCertificate argument is set to true (Automated)",
        scored: true,
        test: Test::Flags { component: Component::ControllerManager, op: BinOp::Or, items: &[
            Item { flag: "--feature-gates", path: &[], env: None, set: Some(true), compare: Some(Compare { op: Op::NotHave, value: "RotateKubeletServerCertificate=false" }) },
            Item { flag: "--feature-gates", path: &[], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "1.3.7",
        section: Section::Master,
        text: "Ensure that the --bind-address argument is set to 127.0.0.1 (Automated)",
        scored: true,
        test: Test::Flags { component: Component::ControllerManager, op: BinOp::Or, items: &[
            Item { flag: "--bind-address", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "127.0.0.1" }) },
            Item { flag: "--bind-address", path: &[], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "1.4.1",
        section: Section::Master,
        text: "Ensure that the --profiling argument is set to false (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Scheduler, op: BinOp::And, items: &[
            Item { flag: "--profiling", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "false" }) },
        ] },
    },
    Check {
        id: "1.4.2",
        section: Section::Master,
        text: "Ensure that the --bind-address argument is set to 127.0.0.1 (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Scheduler, op: BinOp::Or, items: &[
            Item { flag: "--bind-address", path: &[], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "127.0.0.1" }) },
            Item { flag: "--bind-address", path: &[], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "2.1",
        section: Section::Etcd,
        text: "Ensure that the --cert-file and --key-file arguments are set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Etcd, op: BinOp::And, items: &[
            Item { flag: "--cert-file", path: &[], env: Some("ETCD_CERT_FILE"), set: None, compare: None },
            Item { flag: "--key-file", path: &[], env: Some("ETCD_KEY_FILE"), set: None, compare: None },
        ] },
    },
    Check {
        id: "2.2",
        section: Section::Etcd,
        text: "Ensure that the --client-cert-auth argument is set to true (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Etcd, op: BinOp::And, items: &[
            Item { flag: "--client-cert-auth", path: &[], env: Some("ETCD_CLIENT_CERT_AUTH"), set: None, compare: Some(Compare { op: Op::Eq, value: "true" }) },
        ] },
    },
    Check {
        id: "2.3",
        section: Section::Etcd,
        text: "Ensure that the --auto-tls argument is not set to true (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Etcd, op: BinOp::Or, items: &[
            Item { flag: "--auto-tls", path: &[], env: Some("ETCD_AUTO_TLS"), set: Some(false), compare: None },
            Item { flag: "--auto-tls", path: &[], env: Some("ETCD_AUTO_TLS"), set: None, compare: Some(Compare { op: Op::Eq, value: "false" }) },
        ] },
    },
    Check {
        id: "2.4",
        section: Section::Etcd,
        text: "Ensure that the --peer-cert-file and --peer-key-file arguments are set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Etcd, op: BinOp::And, items: &[
            Item { flag: "--peer-cert-file", path: &[], env: Some("ETCD_PEER_CERT_FILE"), set: None, compare: None },
            Item { flag: "--peer-key-file", path: &[], env: Some("ETCD_PEER_KEY_FILE"), set: None, compare: None },
        ] },
    },
    Check {
        id: "2.5",
        section: Section::Etcd,
        text: "Ensure that the --peer-client-cert-auth argument is set to true (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Etcd, op: BinOp::And, items: &[
            Item { flag: "--peer-client-cert-auth", path: &[], env: Some("ETCD_PEER_CLIENT_CERT_AUTH"), set: None, compare: Some(Compare { op: Op::Eq, value: "true" }) },
        ] },
    },
    Check {
        id: "2.6",
        section: Section::Etcd,
        text: "Ensure that the --peer-auto-tls argument is not set to true (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Etcd, op: BinOp::Or, items: &[
            Item { flag: "--peer-auto-tls", path: &[], env: Some("ETCD_PEER_AUTO_TLS"), set: Some(false), compare: None },
            Item { flag: "--peer-auto-tls", path: &[], env: Some("ETCD_PEER_AUTO_TLS"), set: None, compare: Some(Compare { op: Op::Eq, value: "false" }) },
        ] },
    },
    Check {
        id: "2.7",
        section: Section::Etcd,
        text: "Ensure that a unique Certificate Authority is used for etcd (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Etcd, op: BinOp::And, items: &[
            Item { flag: "--trusted-ca-file", path: &[], env: Some("ETCD_TRUSTED_CA_FILE"), set: None, compare: None },
        ] },
    },
    Check {
        id: "3.1.1",
        section: Section::ControlPlane,
        text: "Client certificate authentication should not be used for users (Manual)",
        scored: false,
        test: Test::Manual,
    },
    Check {
        id: "3.1.2",
        section: Section::ControlPlane,
        text: "Service account token authentication should not be used for users (Manual)",
        scored: false,
        test: Test::Manual,
    },
    Check {
        id: "3.1.3",
        section: Section::ControlPlane,
        text: "Bootstrap token authentication should not be used for users (Manual)",
        scored: false,
        test: Test::Manual,
    },
    Check {
        id: "3.2.1",
        section: Section::ControlPlane,
        text: "Ensure that a minimal audit policy is created (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Apiserver, op: BinOp::And, items: &[
            Item { flag: "--audit-policy-file", path: &[], env: None, set: Some(true), compare: None },
        ] },
    },
    Check {
        id: "3.2.2",
        section: Section::ControlPlane,
        text: "Ensure that the audit policy covers key security concerns (Manual)",
        scored: false,
        test: Test::Manual,
    },
    Check {
        id: "4.1.1",
        section: Section::Node,
        text: "Ensure that the kubelet service file permissions are set to 600 or more restrictive (Automated)",
        scored: true,
        test: Test::Mode { target: Target::KubeletService, mask: 0o600 },
    },
    Check {
        id: "4.1.2",
        section: Section::Node,
        text: "Ensure that the kubelet service file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::KubeletService, owner: "root:root", missing_ok: true },
    },
    Check {
        id: "4.1.3",
        section: Section::Node,
        text: "If proxy kubeconfig file exists ensure permissions are set to 600 or more restrictive (Manual)",
        scored: false,
        test: Test::Mode { target: Target::ProxyKubeconfig, mask: 0o600 },
    },
    Check {
        id: "4.1.4",
        section: Section::Node,
        text: "If proxy kubeconfig file exists ensure ownership is set to root:root (Manual)",
        scored: false,
        test: Test::Owner { target: Target::ProxyKubeconfig, owner: "root:root", missing_ok: false },
    },
    Check {
        id: "4.1.5",
        section: Section::Node,
        text: "Ensure that the --kubeconfig kubelet.conf file permissions are set to 600 or more restrictive (Automated)",
        scored: true,
        test: Test::Mode { target: Target::KubeletKubeconfig, mask: 0o600 },
    },
    Check {
        id: "4.1.6",
        section: Section::Node,
        text: "Ensure that the --kubeconfig kubelet.conf file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::KubeletKubeconfig, owner: "root:root", missing_ok: false },
    },
    Check {
        id: "4.1.7",
        section: Section::Node,
        text: "Ensure that the certificate authorities file permissions are set to 644 or more restrictive (Manual)",
        scored: false,
        test: Test::Mode { target: Target::KubeletCaFile, mask: 0o644 },
    },
    Check {
        id: "4.1.8",
        section: Section::Node,
        text: "Ensure that the client certificate authorities file ownership is set to root:root (Manual)",
        scored: false,
        test: Test::Owner { target: Target::KubeletCaFile, owner: "root:root", missing_ok: false },
    },
    Check {
        id: "4.1.9",
        section: Section::Node,
        text: "If the kubelet config.yaml configuration file is being used validate permissions set to 600 or more restrictive (Automated)",
        scored: true,
        test: Test::Mode { target: Target::KubeletConfig, mask: 0o600 },
    },
    Check {
        id: "4.1.10",
        section: Section::Node,
        text: "If the kubelet config.yaml configuration file is being used validate file ownership is set to root:root (Automated)",
        scored: true,
        test: Test::Owner { target: Target::KubeletConfig, owner: "root:root", missing_ok: false },
    },
    Check {
        id: "4.2.1",
        section: Section::Node,
        text: "Ensure that the --anonymous-auth argument is set to false (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::And, items: &[
            Item { flag: "--anonymous-auth", path: &["authentication", "anonymous", "enabled"], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "false" }) },
        ] },
    },
    Check {
        id: "4.2.2",
        section: Section::Node,
        text: "Ensure that the --authorization-mode argument is not set to AlwaysAllow (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::And, items: &[
            Item { flag: "--authorization-mode", path: &["authorization", "mode"], env: None, set: None, compare: Some(Compare { op: Op::NotHave, value: "AlwaysAllow" }) },
        ] },
    },
    Check {
        id: "4.2.3",
        section: Section::Node,
        text: "Ensure that the --client-ca-file argument is set as appropriate (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::And, items: &[
            Item { flag: "--client-ca-file", path: &["authentication", "x509", "clientCAFile"], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "4.2.4",
        section: Section::Node,
        text: "Verify that if defined, the --read-only-port argument is set to 0 (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::Or, items: &[
            Item { flag: "--read-only-port", path: &["readOnlyPort"], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "0" }) },
            Item { flag: "--read-only-port", path: &["readOnlyPort"], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "4.2.5",
        section: Section::Node,
        text: "Ensure that the --streaming-connection-idle-timeout argument is not set to 0 (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::Or, items: &[
            Item { flag: "--streaming-connection-idle-timeout", path: &["streamingConnectionIdleTimeout"], env: None, set: None, compare: Some(Compare { op: Op::NotEq, value: "0" }) },
            Item { flag: "--streaming-connection-idle-timeout", path: &["streamingConnectionIdleTimeout"], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "4.2.6",
        section: Section::Node,
        text: "Ensure that the --make-iptables-util-chains argument is set to true (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::Or, items: &[
            Item { flag: "--make-iptables-util-chains", path: &["makeIPTablesUtilChains"], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "true" }) },
            Item { flag: "--make-iptables-util-chains", path: &["makeIPTablesUtilChains"], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "4.2.7",
        section: Section::Node,
        text: "Ensure that the --hostname-override argument is not set (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::And, items: &[
            Item { flag: "--hostname-override", path: &[], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "4.2.8",
        section: Section::Node,
        text: "Ensure that the eventRecordQPS argument is set to a level which ensures appropriate event capture (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::Or, items: &[
            Item { flag: "--event-qps", path: &["eventRecordQPS"], env: None, set: None, compare: Some(Compare { op: Op::Gte, value: "0" }) },
            Item { flag: "--event-qps", path: &["eventRecordQPS"], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "4.2.9",
        section: Section::Node,
        text: "Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::And, items: &[
            Item { flag: "--tls-cert-file", path: &["tlsCertFile"], env: None, set: None, compare: None },
            Item { flag: "--tls-private-key-file", path: &["tlsPrivateKeyFile"], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "4.2.10",
        section: Section::Node,
        text: "Ensure that the --rotate-certificates argument is not set to false (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::Or, items: &[
            Item { flag: "--rotate-certificates", path: &["rotateCertificates"], env: None, set: None, compare: Some(Compare { op: Op::Eq, value: "true" }) },
            Item { flag: "--rotate-certificates", path: &["rotateCertificates"], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "4.2.11",
        section: Section::Node,
        text: "Verify that the RotateKubeletServerCertificate argument is set to true (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::Or, items: &[
            Item { flag: "RotateKubeletServerCertificate", path: &["featureGates", "RotateKubeletServerCertificate"], env: None, set: None, compare: Some(Compare { op: Op::NotHave, value: "false" }) },
            Item { flag: "RotateKubeletServerCertificate", path: &["featureGates", "RotateKubeletServerCertificate"], env: None, set: Some(false), compare: None },
        ] },
    },
    Check {
        id: "4.2.12",
        section: Section::Node,
        text: "Ensure that the Kubelet only makes use of Strong Cryptographic Ciphers (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::And, items: &[
            Item { flag: "--tls-cipher-suites", path: &["tlsCipherSuites"], env: None, set: None, compare: Some(Compare { op: Op::ValidElements, value: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" }) },
        ] },
    },
    Check {
        id: "4.2.13",
        section: Section::Node,
        text: "Ensure that a limit is set on pod PIDs (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::And, items: &[
            Item { flag: "--pod-max-pids", path: &["podPidsLimit"], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "4.2.14",
        section: Section::Node,
        text: "Ensure that the --seccomp-default parameter is set to true (Manual)",
        scored: false,
        test: Test::Flags { component: Component::Kubelet, op: BinOp::And, items: &[
            Item { flag: "--seccomp-default", path: &["seccompDefault"], env: None, set: None, compare: None },
        ] },
    },
    Check {
        id: "4.3.1",
        section: Section::Node,
        text: "Ensure that the kube-proxy metrics service is bound to localhost (Automated)",
        scored: true,
        test: Test::Flags { component: Component::Proxy, op: BinOp::Or, items: &[
            Item { flag: "--metrics-bind-address", path: &["metricsBindAddress"], env: None, set: None, compare: Some(Compare { op: Op::Has, value: "127.0.0.1" }) },
            Item { flag: "--metrics-bind-address", path: &["metricsBindAddress"], env: None, set: Some(false), compare: None },
        ] },
    },
];
