//! The CIS Kubernetes Benchmark checks of one node's files, as kube-bench encodes them for
//! CIS 1.12: the control plane's static pod manifests, etcd, the kubelet (its flags and its
//! configuration file), kube-proxy, the kubeconfigs and the PKI, and their modes and owners.
//!
//! [`audit`] finds the components under a root folder (`/` on a live node, or a copy of a
//! node's files) the way kube-bench's `cfg/config.yaml` does, and evaluates every automated
//! check of [`CHECKS`] with kube-bench's comparisons. Each result is a typed fact: the check,
//! its [`Outcome`] and, for each value it looked at, where that value is (`file:line:col` of
//! the flag or configuration field, or of the place it belongs when it is missing). The
//! engine names no rule: the rules in `palisade-rules` turn the facts into findings.
//!
//! Bad input never stops the audit: a missing, unreadable or malformed file, or a symlink
//! loop, makes the checks that need it [`Outcome::Warn`] with the path and the reason, and the
//! other checks still run.

mod checks;
mod cni;
mod discover;
mod eval;
mod flags;

use std::path::{Path, PathBuf};

use palisade_core::{LoadError, Object, Pos};
use serde::Serialize;

pub use checks::CHECKS;
pub use cni::CniConfig;
pub use flags::{Flag, Flags};

/// A section of the benchmark, as kube-bench groups its control files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    /// 1: control plane components (`master.yaml`).
    Master,
    /// 2: etcd (`etcd.yaml`).
    Etcd,
    /// 3: control plane configuration (`controlplane.yaml`).
    ControlPlane,
    /// 4: worker nodes (`node.yaml`).
    Node,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Master,
        Section::Etcd,
        Section::ControlPlane,
        Section::Node,
    ];

    /// kube-bench's name of the section (its control file).
    pub fn name(self) -> &'static str {
        match self {
            Section::Master => "master",
            Section::Etcd => "etcd",
            Section::ControlPlane => "controlplane",
            Section::Node => "node",
        }
    }

    /// The benchmark's title of the section.
    pub fn title(self) -> &'static str {
        match self {
            Section::Master => "Control Plane Security Configuration",
            Section::Etcd => "Etcd Node Configuration",
            Section::ControlPlane => "Control Plane Configuration",
            Section::Node => "Worker Node Security Configuration",
        }
    }
}

/// A node component whose flags the checks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    Apiserver,
    ControllerManager,
    Scheduler,
    Etcd,
    Kubelet,
    Proxy,
}

impl Component {
    pub const ALL: [Component; 6] = [
        Component::Apiserver,
        Component::ControllerManager,
        Component::Scheduler,
        Component::Etcd,
        Component::Kubelet,
        Component::Proxy,
    ];

    /// The binary's name.
    pub fn binary(self) -> &'static str {
        match self {
            Component::Apiserver => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Etcd => "etcd",
            Component::Kubelet => "kubelet",
            Component::Proxy => "kube-proxy",
        }
    }
}

/// kube-bench's outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
    /// The test is satisfied.
    Pass,
    /// The test is not satisfied, and the check is scored.
    Fail,
    /// The test is not satisfied and the check is not scored, or there was nothing to test (a
    /// missing or unreadable file, a component without its configuration): [`CheckResult::reason`]
    /// says which.
    Warn,
    /// The check does not apply to this node (its component does not run here).
    Info,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Warn => "WARN",
            Outcome::Info => "INFO",
        }
    }
}

/// Where a value is: the file (under the audited root, as it was read) and the line and column
/// of the flag or field, of the place it belongs when it is missing, or line 0 for a file as a
/// whole (its mode, its owner).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub file: String,
    pub pos: Pos,
}

impl Location {
    pub fn new(file: impl Into<String>, pos: Pos) -> Self {
        Location {
            file: file.into(),
            pos,
        }
    }

    /// A file as a whole.
    pub fn file(file: impl Into<String>) -> Self {
        Location::new(file, Pos::default())
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.pos.line == 0 {
            f.write_str(&self.file)
        } else {
            write!(f, "{}:{}", self.file, self.pos)
        }
    }
}

/// One value a check looked at: a flag, a configuration field, a file's mode or owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub location: Location,
    /// What was found and what the check expects, e.g. `--anonymous-auth=true, expected false`.
    pub message: String,
    /// Whether this value satisfies the check.
    pub ok: bool,
}

/// Why a check could not test anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unchecked {
    /// The path that was missing or unreadable, or where the component's settings were looked
    /// for.
    pub location: Location,
    pub reason: String,
}

/// The result of one check on the node.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The CIS ID, e.g. `1.2.1`.
    pub id: &'static str,
    pub section: Section,
    pub outcome: Outcome,
    /// The values the check tested, the failing ones with `ok: false`.
    pub observations: Vec<Observation>,
    /// For a [`Outcome::Warn`] or [`Outcome::Info`] without a test: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchecked: Option<Unchecked>,
}

impl CheckResult {
    /// The check of the benchmark table this result is for.
    pub fn check(&self) -> &'static checks::Check {
        checks::find(self.id).expect("results are made from the table")
    }
}

pub use checks::{BinOp, Check, Compare, Item, Op, Target, Test};

/// What to audit.
#[derive(Debug, Clone)]
pub struct Options {
    /// The node's root folder: `/` on a live node, or a copy of a node's files.
    pub root: PathBuf,
    /// Whether to read the running processes' command lines from `<root>/proc` (a live node).
    pub processes: bool,
    /// The limits for the YAML files read.
    pub limits: palisade_core::Limits,
}

impl Options {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let processes = root.join("proc/self").exists() || root == Path::new("/");
        Options {
            root,
            processes,
            limits: palisade_core::Limits::default(),
        }
    }
}

/// Everything the audit found on one node.
#[derive(Debug)]
pub struct NodeAudit {
    /// One result per automated check of [`CHECKS`], in table order.
    pub results: Vec<CheckResult>,
    /// The configuration files the components name, decoded for the per-object rules: the
    /// `EncryptionConfiguration` of `--encryption-provider-config` and the audit `Policy` of
    /// `--audit-policy-file`.
    pub objects: Vec<Object>,
    /// Files that could not be decoded (a malformed manifest or configuration).
    pub errors: Vec<LoadError>,
    /// Where each component's settings were read from (for the report).
    pub sources: Vec<(Component, Location)>,
    /// The API server's audit settings, when its flags could be read.
    pub audit: Option<AuditSettings>,
    /// The CNI configuration the container runtime uses, when there is one.
    pub cni: Option<CniConfig>,
}

/// Where the API server's audit settings are, beyond what the benchmark checks: whether the
/// policy it names can be read, and whether any backend (log file or webhook) receives events.
#[derive(Debug, Clone, Serialize)]
pub struct AuditSettings {
    /// `--audit-policy-file`: where it is set, and why the policy cannot be used (`None` when it
    /// was read and is an audit `Policy`).
    pub policy: Option<(Location, Option<String>)>,
    /// `--audit-log-path`, where set.
    pub log_path: Option<Location>,
    /// `--audit-webhook-config-file`, where set.
    pub webhook: Option<Location>,
    /// Where a missing flag belongs (the manifest's `command`).
    pub anchor: Location,
}

impl NodeAudit {
    /// PASS, FAIL, WARN and INFO counts of one section, like kube-bench's totals.
    pub fn counts(&self, section: Section) -> Counts {
        let mut counts = Counts::default();
        for r in self.results.iter().filter(|r| r.section == section) {
            match r.outcome {
                Outcome::Pass => counts.pass += 1,
                Outcome::Fail => counts.fail += 1,
                Outcome::Warn => counts.warn += 1,
                Outcome::Info => counts.info += 1,
            }
        }
        counts
    }

    /// The result of a check by CIS ID.
    pub fn result(&self, id: &str) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.id == id)
    }
}

/// Outcome counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub info: usize,
}

/// Audits the node under `options.root`.
pub fn audit(options: &Options) -> NodeAudit {
    let node = discover::Node::discover(options);
    let results = CHECKS.iter().map(|check| eval::run(check, &node)).collect();
    let cni = cni::find(&node);
    NodeAudit {
        cni,
        results,
        objects: node.objects,
        errors: node.errors,
        sources: node.sources,
        audit: node.audit,
    }
}
