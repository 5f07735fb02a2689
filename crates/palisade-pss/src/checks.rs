//! The 19 checks of the baseline and restricted levels, each with its metadata and its rule at
//! every policy version.

use palisade_core::pointer::At;
use std::collections::BTreeSet;

use palisade_core::pointer;
use palisade_core::views::{ContainerKind, ContainerView, PodSpecView};
use serde::Serialize;
use serde_json::Value;

use crate::controls::{self, field, flag, integer, object, string};
use crate::level::{Level, Version};
use crate::text::{containers_phrase, join_quote, plural, quote};

/// A check of the baseline and restricted levels. The variants are in admission's order (see
/// [`CheckId::ALL`]); [`CheckId::as_str`] is the name admission uses in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    /// `appArmorProfile`
    AppArmorProfile,
    /// `capabilities_baseline`
    CapabilitiesBaseline,
    /// `hostNamespaces`
    HostNamespaces,
    /// `hostPathVolumes`
    HostPathVolumes,
    /// `hostPorts`
    HostPorts,
    /// `hostProbesAndHostLifecycle`
    HostProbesAndHostLifecycle,
    /// `privileged`
    Privileged,
    /// `procMount`
    ProcMount,
    /// `seLinuxOptions`
    SeLinuxOptions,
    /// `seccompProfile_baseline`
    SeccompProfileBaseline,
    /// `sysctls`
    Sysctls,
    /// `windowsHostProcess`
    WindowsHostProcess,
    /// `allowPrivilegeEscalation`
    AllowPrivilegeEscalation,
    /// `capabilities_restricted`
    CapabilitiesRestricted,
    /// `procMount_restricted`
    ProcMountRestricted,
    /// `restrictedVolumes`
    RestrictedVolumes,
    /// `runAsNonRoot`
    RunAsNonRoot,
    /// `runAsUser`
    RunAsUser,
    /// `seccompProfile_restricted`
    SeccompProfileRestricted,
}

impl CheckId {
    /// Every check, in admission's order.
    pub const ALL: [CheckId; 19] = [
        CheckId::AppArmorProfile,
        CheckId::CapabilitiesBaseline,
        CheckId::HostNamespaces,
        CheckId::HostPathVolumes,
        CheckId::HostPorts,
        CheckId::HostProbesAndHostLifecycle,
        CheckId::Privileged,
        CheckId::ProcMount,
        CheckId::SeLinuxOptions,
        CheckId::SeccompProfileBaseline,
        CheckId::Sysctls,
        CheckId::WindowsHostProcess,
        CheckId::AllowPrivilegeEscalation,
        CheckId::CapabilitiesRestricted,
        CheckId::ProcMountRestricted,
        CheckId::RestrictedVolumes,
        CheckId::RunAsNonRoot,
        CheckId::RunAsUser,
        CheckId::SeccompProfileRestricted,
    ];

    /// The check's name as admission spells it (`privileged`, `procMount`,
    /// `capabilities_baseline`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CheckId::AppArmorProfile => "appArmorProfile",
            CheckId::CapabilitiesBaseline => "capabilities_baseline",
            CheckId::HostNamespaces => "hostNamespaces",
            CheckId::HostPathVolumes => "hostPathVolumes",
            CheckId::HostPorts => "hostPorts",
            CheckId::HostProbesAndHostLifecycle => "hostProbesAndHostLifecycle",
            CheckId::Privileged => "privileged",
            CheckId::ProcMount => "procMount",
            CheckId::SeLinuxOptions => "seLinuxOptions",
            CheckId::SeccompProfileBaseline => "seccompProfile_baseline",
            CheckId::Sysctls => "sysctls",
            CheckId::WindowsHostProcess => "windowsHostProcess",
            CheckId::AllowPrivilegeEscalation => "allowPrivilegeEscalation",
            CheckId::CapabilitiesRestricted => "capabilities_restricted",
            CheckId::ProcMountRestricted => "procMount_restricted",
            CheckId::RestrictedVolumes => "restrictedVolumes",
            CheckId::RunAsNonRoot => "runAsNonRoot",
            CheckId::RunAsUser => "runAsUser",
            CheckId::SeccompProfileRestricted => "seccompProfile_restricted",
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of admission's check names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCheck(pub String);

impl std::fmt::Display for UnknownCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown Pod Security check {:?}", self.0)
    }
}

impl std::error::Error for UnknownCheck {}

impl std::str::FromStr for CheckId {
    type Err = UnknownCheck;

    fn from_str(name: &str) -> Result<CheckId, UnknownCheck> {
        CheckId::ALL
            .into_iter()
            .find(|id| id.as_str() == name)
            .ok_or_else(|| UnknownCheck(name.to_owned()))
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What a check forbids, where it applies and how it changed across policy versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckInfo {
    /// The check (admission names it [`CheckId::as_str`]).
    pub id: CheckId,
    /// The lowest level that runs the check.
    pub level: Level,
    pub title: &'static str,
    /// What the check forbids and why.
    pub description: &'static str,
    /// First policy minor version (`v1.N`) where the check applies.
    pub since: u32,
    /// Later minor versions where the rule changed, with what changed.
    pub changes: &'static [(u32, &'static str)],
    /// For a baseline check: the restricted check that replaces it at the restricted level, and
    /// the minor version from which it does.
    pub overridden_by: Option<(CheckId, u32)>,
}

impl CheckInfo {
    /// Whether the check runs when evaluating at `level` and `version`.
    pub fn applies(&self, level: Level, version: Version) -> bool {
        let minor = version.policy_minor();
        if level == Level::Privileged || minor < self.since || level < self.level {
            return false;
        }
        match self.overridden_by {
            Some((_, from)) => level == Level::Baseline || minor < from,
            None => true,
        }
    }
}

/// A failed check.
pub(crate) struct Finding {
    pub reason: String,
    pub detail: String,
    pub pointers: Vec<String>,
}

impl Finding {
    fn new(reason: impl Into<String>, detail: String, pointers: Vec<String>) -> Finding {
        Finding {
            reason: reason.into(),
            detail,
            pointers: dedup(pointers),
        }
    }
}

fn dedup(pointers: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    pointers
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

/// The pod being evaluated, with the object it sits in.
pub(crate) struct Pod<'a> {
    pub root: &'a Value,
    pub view: PodSpecView<'a>,
    pub containers: Vec<ContainerView<'a>>,
    /// Pods (not templates) that use the host network get each port's `hostPort` defaulted to
    /// its `containerPort` by the API server.
    pub host_ports_defaulted: bool,
}

impl<'a> Pod<'a> {
    fn spec(&self) -> &'a Value {
        self.view.spec
    }

    fn security_context(&self) -> Option<&'a Value> {
        object(self.spec(), "securityContext")
    }

    fn windows(&self) -> bool {
        controls::windows(self.spec())
    }

    fn user_namespace(&self) -> bool {
        flag(self.spec(), "hostUsers") == Some(false)
    }

    fn pod_field(&self, path: &str) -> String {
        self.view.field(path)
    }

    /// The pointer itself if it exists in the object, else its nearest existing parent.
    fn nearest(&self, pointer: &str) -> String {
        let mut current = pointer;
        while self.root.at(current).is_none() {
            match pointer::parent(current) {
                Some(parent) => current = parent,
                None => break,
            }
        }
        current.to_owned()
    }

    fn annotation_pointer(&self, key: &str) -> String {
        pointer::push(&format!("{}/annotations", self.view.metadata_pointer), key)
    }
}

fn strings<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a str)> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| v.as_str().map(|s| (i, s)))
}

fn container_sc<'a>(container: &ContainerView<'a>) -> Option<&'a Value> {
    object(container.container, "securityContext")
}

/// `pod and containers "a", "b"` style subject lists.
fn setters(pod: bool, containers: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    if pod {
        out.push("pod".to_owned());
    }
    if !containers.is_empty() {
        out.push(containers_phrase(containers));
    }
    out
}

type CheckFn = fn(&Pod, u32) -> Option<Finding>;

pub(crate) struct Check {
    pub info: CheckInfo,
    pub run: CheckFn,
}

/// Every check, baseline IDs in byte order then restricted IDs in byte order: the order in
/// which admission lists failures.
pub(crate) static CHECKS: [Check; 19] = [
    Check {
        info: CheckInfo {
            id: CheckId::AppArmorProfile,
            level: Level::Baseline,
            title: "AppArmor profile",
            description: "Pods and containers may not switch AppArmor off. A profile set in the \
                security context must be RuntimeDefault or Localhost, and the legacy per-container \
                annotations may only name runtime/default or a localhost/ profile. Unconfined \
                processes lose the kernel's mandatory access control.",
            since: 0,
            changes: &[],
            overridden_by: None,
        },
        run: app_armor_profile,
    },
    Check {
        info: CheckInfo {
            id: CheckId::CapabilitiesBaseline,
            level: Level::Baseline,
            title: "Non-default capabilities",
            description: "Containers may only add Linux capabilities from the container runtime's \
                default set (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, \
                NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT). Others such as \
                NET_RAW or SYS_ADMIN hand the process kernel powers useful for attacks.",
            since: 0,
            changes: &[],
            overridden_by: Some((CheckId::CapabilitiesRestricted, 22)),
        },
        run: capabilities_baseline,
    },
    Check {
        info: CheckInfo {
            id: CheckId::HostNamespaces,
            level: Level::Baseline,
            title: "Host namespaces",
            description: "Pods may not share the node's network, process or IPC namespace \
                (hostNetwork, hostPID, hostIPC), which would expose the node's traffic, processes \
                and shared memory to the pod.",
            since: 0,
            changes: &[],
            overridden_by: None,
        },
        run: host_namespaces,
    },
    Check {
        info: CheckInfo {
            id: CheckId::HostPathVolumes,
            level: Level::Baseline,
            title: "HostPath volumes",
            description: "Pods may not mount directories of the node with hostPath volumes: \
                access to the node's file system is an easy way out of the container.",
            since: 0,
            changes: &[],
            overridden_by: Some((CheckId::RestrictedVolumes, 0)),
        },
        run: host_path_volumes,
    },
    Check {
        info: CheckInfo {
            id: CheckId::HostPorts,
            level: Level::Baseline,
            title: "Host ports",
            description: "Containers may not bind ports of the node (ports[].hostPort), which \
                bypasses network policies and exposes the pod on the node's address.",
            since: 0,
            changes: &[],
            overridden_by: None,
        },
        run: host_ports,
    },
    Check {
        info: CheckInfo {
            id: CheckId::HostProbesAndHostLifecycle,
            level: Level::Baseline,
            title: "Probe and lifecycle hosts",
            description: "HTTP and TCP probes and lifecycle handlers may not name a host: the \
                kubelet would connect to that address on the pod's behalf, a way to reach \
                services on the node or elsewhere.",
            since: 34,
            changes: &[],
            overridden_by: None,
        },
        run: host_probes_and_host_lifecycle,
    },
    Check {
        info: CheckInfo {
            id: CheckId::Privileged,
            level: Level::Baseline,
            title: "Privileged containers",
            description: "Containers may not run privileged: a privileged container has every \
                capability and the node's devices, with almost no isolation left.",
            since: 0,
            changes: &[],
            overridden_by: None,
        },
        run: privileged,
    },
    Check {
        info: CheckInfo {
            id: CheckId::ProcMount,
            level: Level::Baseline,
            title: "/proc mount type",
            description: "Containers must keep the default masked /proc (procMount Default); an \
                unmasked /proc exposes kernel interfaces of the node.",
            since: 0,
            changes: &[(35, "any procMount is allowed in pods with a user namespace (hostUsers: false)")],
            overridden_by: Some((CheckId::ProcMountRestricted, 35)),
        },
        run: proc_mount_baseline,
    },
    Check {
        info: CheckInfo {
            id: CheckId::SeLinuxOptions,
            level: Level::Baseline,
            title: "SELinux options",
            description: "SELinux options may only select a container domain type \
                (container_t, container_init_t, container_kvm_t) and may not set a user or role, \
                so that SELinux confinement stays in force.",
            since: 0,
            changes: &[(31, "container_engine_t is allowed too")],
            overridden_by: None,
        },
        run: se_linux_options,
    },
    Check {
        info: CheckInfo {
            id: CheckId::SeccompProfileBaseline,
            level: Level::Baseline,
            title: "Seccomp profile",
            description: "A seccomp profile, when set, must be RuntimeDefault or Localhost; \
                Unconfined removes the system-call filter that shields the kernel.",
            since: 0,
            changes: &[(
                19,
                "the securityContext.seccompProfile fields are checked instead of the legacy seccomp annotations",
            )],
            overridden_by: Some((CheckId::SeccompProfileRestricted, 19)),
        },
        run: seccomp_profile_baseline,
    },
    Check {
        info: CheckInfo {
            id: CheckId::Sysctls,
            level: Level::Baseline,
            title: "Sysctls",
            description: "Pods may only set the namespaced sysctls known to be safe (isolated from \
                other pods on the node); other kernel parameters can affect the whole node.",
            since: 0,
            changes: &[
                (27, "net.ipv4.ip_local_reserved_ports is allowed"),
                (
                    29,
                    "net.ipv4.tcp_keepalive_time, tcp_fin_timeout, tcp_keepalive_intvl and tcp_keepalive_probes are allowed",
                ),
                (32, "net.ipv4.tcp_rmem and net.ipv4.tcp_wmem are allowed"),
                (
                    37,
                    "net.ipv4.tcp_slow_start_after_idle and net.ipv4.tcp_notsent_lowat are allowed",
                ),
            ],
            overridden_by: None,
        },
        run: sysctls,
    },
    Check {
        info: CheckInfo {
            id: CheckId::WindowsHostProcess,
            level: Level::Baseline,
            title: "Windows host processes",
            description: "Pods and containers may not run as Windows HostProcess containers, \
                which run directly on the Windows node with host access.",
            since: 0,
            changes: &[],
            overridden_by: None,
        },
        run: windows_host_process,
    },
    Check {
        info: CheckInfo {
            id: CheckId::AllowPrivilegeEscalation,
            level: Level::Restricted,
            title: "Privilege escalation",
            description: "Every container must set allowPrivilegeEscalation: false, so no process \
                can gain more privileges than its parent (for example through setuid binaries).",
            since: 8,
            changes: &[(25, "Windows pods (spec.os.name: windows) are exempt")],
            overridden_by: None,
        },
        run: allow_privilege_escalation,
    },
    Check {
        info: CheckInfo {
            id: CheckId::CapabilitiesRestricted,
            level: Level::Restricted,
            title: "Unrestricted capabilities",
            description: "Every container must drop ALL capabilities and may add back only \
                NET_BIND_SERVICE, so processes keep no kernel privileges they do not need.",
            since: 22,
            changes: &[(25, "Windows pods (spec.os.name: windows) are exempt")],
            overridden_by: None,
        },
        run: capabilities_restricted,
    },
    Check {
        info: CheckInfo {
            id: CheckId::ProcMountRestricted,
            level: Level::Restricted,
            title: "/proc mount type",
            description: "Containers must keep the default masked /proc (procMount Default), \
                even in pods with a user namespace.",
            since: 35,
            changes: &[],
            overridden_by: None,
        },
        run: proc_mount_restricted,
    },
    Check {
        info: CheckInfo {
            id: CheckId::RestrictedVolumes,
            level: Level::Restricted,
            title: "Volume types",
            description: "Volumes may only be configMap, csi, downwardAPI, emptyDir, ephemeral, \
                image, persistentVolumeClaim, projected or secret. Other inline sources (hostPath, \
                network file systems, cloud disks) reach outside the pod's storage abstraction.",
            since: 0,
            changes: &[],
            overridden_by: None,
        },
        run: restricted_volumes,
    },
    Check {
        info: CheckInfo {
            id: CheckId::RunAsNonRoot,
            level: Level::Restricted,
            title: "Run as non-root",
            description: "The pod or every container must set runAsNonRoot: true so the kubelet \
                refuses to start a process as root.",
            since: 0,
            changes: &[(35, "pods with a user namespace (hostUsers: false) are exempt")],
            overridden_by: None,
        },
        run: run_as_non_root,
    },
    Check {
        info: CheckInfo {
            id: CheckId::RunAsUser,
            level: Level::Restricted,
            title: "Run as user 0",
            description: "Neither the pod nor a container may set runAsUser: 0, which would run \
                processes as root.",
            since: 23,
            changes: &[(35, "pods with a user namespace (hostUsers: false) are exempt")],
            overridden_by: None,
        },
        run: run_as_user,
    },
    Check {
        info: CheckInfo {
            id: CheckId::SeccompProfileRestricted,
            level: Level::Restricted,
            title: "Seccomp profile required",
            description: "The pod or every container must set a seccomp profile of type \
                RuntimeDefault or Localhost, so system calls are always filtered.",
            since: 19,
            changes: &[(25, "Windows pods (spec.os.name: windows) are exempt")],
            overridden_by: None,
        },
        run: seccomp_profile_restricted,
    },
];

// ---- baseline ----

fn app_armor_profile(pod: &Pod, _minor: u32) -> Option<Finding> {
    let allowed_type = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let mut bad_values = BTreeSet::new();
    let mut pointers = Vec::new();
    let mut pod_bad = false;
    if let Some(profile) = pod
        .security_context()
        .and_then(|sc| object(sc, "appArmorProfile"))
    {
        let kind = string(profile, "type").unwrap_or("");
        if !allowed_type(kind) {
            pod_bad = true;
            bad_values.insert(kind.to_owned());
            pointers.push(pod.nearest(&pod.pod_field("securityContext/appArmorProfile/type")));
        }
    }
    let mut bad_containers = Vec::new();
    for c in &pod.containers {
        let Some(profile) = container_sc(c).and_then(|sc| object(sc, "appArmorProfile")) else {
            continue;
        };
        let kind = string(profile, "type").unwrap_or("");
        if !allowed_type(kind) {
            bad_containers.push(c.name());
            bad_values.insert(kind.to_owned());
            pointers.push(pod.nearest(&c.field("securityContext/appArmorProfile/type")));
        }
    }
    let mut subjects = setters(pod_bad, &bad_containers);
    let mut values: Vec<String> = bad_values.into_iter().collect();
    let mut annotations = Vec::new();
    if let Some(map) = pod
        .view
        .metadata
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
    {
        for (key, value) in map {
            let Some(value) = value.as_str() else {
                continue;
            };
            let allowed =
                value.is_empty() || value == "runtime/default" || value.starts_with("localhost/");
            if key.starts_with("container.apparmor.security.beta.kubernetes.io/") && !allowed {
                annotations.push(format!("{key}={}", quote(value)));
                pointers.push(pod.annotation_pointer(key));
            }
        }
    }
    if !annotations.is_empty() {
        annotations.sort();
        subjects.push(plural("annotation", "annotations", annotations.len()).to_owned());
        values.extend(annotations);
    }
    if subjects.is_empty() {
        return None;
    }
    Some(Finding::new(
        plural(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            values.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            subjects.join(" and "),
            join_quote(&values)
        ),
        pointers,
    ))
}

fn capabilities_baseline(pod: &Pod, _minor: u32) -> Option<Finding> {
    let mut bad_containers = Vec::new();
    let mut bad_caps = BTreeSet::new();
    let mut pointers = Vec::new();
    for c in &pod.containers {
        let Some(caps) = container_sc(c).and_then(|sc| object(sc, "capabilities")) else {
            continue;
        };
        let mut valid = true;
        for (i, cap) in strings(caps, "add") {
            if !controls::baseline_capability(cap) {
                valid = false;
                bad_caps.insert(cap);
                pointers.push(c.field(&format!("securityContext/capabilities/add/{i}")));
            }
        }
        if !valid {
            bad_containers.push(c.name());
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    Some(Finding::new(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad_containers),
            join_quote(bad_caps)
        ),
        pointers,
    ))
}

fn host_namespaces(pod: &Pod, _minor: u32) -> Option<Finding> {
    let mut set = Vec::new();
    let mut pointers = Vec::new();
    for key in controls::HOST_NAMESPACES {
        if controls::host_namespace(pod.spec(), key) {
            set.push(format!("{key}=true"));
            pointers.push(pod.pod_field(key));
        }
    }
    if set.is_empty() {
        return None;
    }
    Some(Finding::new("host namespaces", set.join(", "), pointers))
}

/// The pod's volumes that are mappings, with their indexes.
fn volumes<'a>(pod: &Pod<'a>) -> impl Iterator<Item = (usize, &'a Value)> {
    pod.spec()
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, v)| v.is_object())
}

fn host_path_volumes(pod: &Pod, _minor: u32) -> Option<Finding> {
    let mut names = Vec::new();
    let mut pointers = Vec::new();
    for (i, volume) in volumes(pod) {
        if field(volume, "hostPath").is_some() {
            names.push(string(volume, "name").unwrap_or(""));
            pointers.push(pod.pod_field(&format!("volumes/{i}/hostPath")));
        }
    }
    if names.is_empty() {
        return None;
    }
    Some(Finding::new(
        "hostPath volumes",
        format!(
            "{} {}",
            plural("volume", "volumes", names.len()),
            join_quote(&names)
        ),
        pointers,
    ))
}

fn host_ports(pod: &Pod, _minor: u32) -> Option<Finding> {
    let mut bad_containers = Vec::new();
    let mut ports = BTreeSet::new();
    let mut pointers = Vec::new();
    for c in &pod.containers {
        let defaulted = pod.host_ports_defaulted && c.kind != ContainerKind::Ephemeral;
        let mut valid = true;
        let list = c.container.get("ports").and_then(Value::as_array);
        for (j, port) in list.into_iter().flatten().enumerate() {
            let host = controls::host_port(port).unwrap_or(0);
            let (value, key) = if host == 0 && defaulted {
                let container = port.get("containerPort").and_then(integer).unwrap_or(0);
                (container, "containerPort")
            } else {
                (host, "hostPort")
            };
            if value != 0 {
                valid = false;
                ports.insert(value.to_string());
                pointers.push(c.field(&format!("ports/{j}/{key}")));
            }
        }
        if !valid {
            bad_containers.push(c.name());
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.into_iter().collect();
    Some(Finding::new(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad_containers),
            plural("uses", "use", bad_containers.len()),
            plural("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
        pointers,
    ))
}

fn host_probes_and_host_lifecycle(pod: &Pod, _minor: u32) -> Option<Finding> {
    let mut bad_containers = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    let mut pointers = Vec::new();
    for c in &pod.containers {
        let mut handlers = Vec::new();
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            handlers.push((probe.to_owned(), object(c.container, probe)));
        }
        if let Some(lifecycle) = object(c.container, "lifecycle") {
            for hook in ["postStart", "preStop"] {
                handlers.push((format!("lifecycle/{hook}"), object(lifecycle, hook)));
            }
        }
        for (path, handler) in handlers {
            let Some(handler) = handler else { continue };
            for action in ["httpGet", "tcpSocket"] {
                let host = object(handler, action).and_then(|a| string(a, "host"));
                if let Some(host) = host.filter(|h| !h.is_empty()) {
                    bad_containers.insert(c.name());
                    hosts.insert(host);
                    pointers.push(c.field(&format!("{path}/{action}/host")));
                }
            }
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    let names: Vec<&str> = bad_containers.into_iter().collect();
    Some(Finding::new(
        "probe or lifecycle host",
        format!(
            "{} {} {} {}",
            containers_phrase(&names),
            plural("uses", "use", names.len()),
            plural(
                "probe or lifecycle host",
                "probe or lifecycle hosts",
                hosts.len()
            ),
            join_quote(hosts)
        ),
        pointers,
    ))
}

fn privileged(pod: &Pod, _minor: u32) -> Option<Finding> {
    let mut bad = Vec::new();
    let mut pointers = Vec::new();
    for c in &pod.containers {
        if controls::privileged(c.container) {
            bad.push(c.name());
            pointers.push(c.field("securityContext/privileged"));
        }
    }
    if bad.is_empty() {
        return None;
    }
    Some(Finding::new(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&bad)
        ),
        pointers,
    ))
}

fn proc_mount(pod: &Pod) -> Option<Finding> {
    let mut bad = Vec::new();
    let mut types = BTreeSet::new();
    let mut pointers = Vec::new();
    for c in &pod.containers {
        if let Some(mount) = controls::unmasked_proc_mount(c.container) {
            bad.push(c.name());
            types.insert(mount.as_str().unwrap_or(""));
            pointers.push(c.field("securityContext/procMount"));
        }
    }
    if bad.is_empty() {
        return None;
    }
    Some(Finding::new(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad),
            join_quote(types)
        ),
        pointers,
    ))
}

fn proc_mount_baseline(pod: &Pod, minor: u32) -> Option<Finding> {
    if minor >= 35 && pod.user_namespace() {
        return None;
    }
    proc_mount(pod)
}

fn se_linux_options(pod: &Pod, minor: u32) -> Option<Finding> {
    let mut allowed = vec!["", "container_t", "container_init_t", "container_kvm_t"];
    if minor >= 31 {
        allowed.push("container_engine_t");
    }
    let mut bad_types = BTreeSet::new();
    let mut set_user = false;
    let mut set_role = false;
    let mut pointers = Vec::new();
    let mut valid = |opts: &Value, base: String| {
        let mut ok = true;
        let kind = string(opts, "type").unwrap_or("");
        if !allowed.contains(&kind) {
            ok = false;
            bad_types.insert(kind.to_owned());
            pointers.push(format!("{base}/type"));
        }
        if string(opts, "user").is_some_and(|u| !u.is_empty()) {
            ok = false;
            set_user = true;
            pointers.push(format!("{base}/user"));
        }
        if string(opts, "role").is_some_and(|r| !r.is_empty()) {
            ok = false;
            set_role = true;
            pointers.push(format!("{base}/role"));
        }
        ok
    };
    let mut pod_bad = false;
    if let Some(opts) = pod
        .security_context()
        .and_then(|sc| object(sc, "seLinuxOptions"))
    {
        pod_bad = !valid(opts, pod.pod_field("securityContext/seLinuxOptions"));
    }
    let mut bad_containers = Vec::new();
    for c in &pod.containers {
        if let Some(opts) = container_sc(c).and_then(|sc| object(sc, "seLinuxOptions")) {
            if !valid(opts, c.field("securityContext/seLinuxOptions")) {
                bad_containers.push(c.name());
            }
        }
    }
    let subjects = setters(pod_bad, &bad_containers);
    if subjects.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    if !bad_types.is_empty() {
        data.push(format!(
            "{} {}",
            plural("type", "types", bad_types.len()),
            join_quote(&bad_types)
        ));
    }
    if set_user {
        data.push("user may not be set".to_owned());
    }
    if set_role {
        data.push("role may not be set".to_owned());
    }
    let pointers = pointers.iter().map(|p| pod.nearest(p)).collect();
    Some(Finding::new(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            subjects.join(" and "),
            data.join("; ")
        ),
        pointers,
    ))
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn valid_seccomp_type(kind: &str) -> bool {
    kind == "RuntimeDefault" || kind == "Localhost"
}

/// The seccomp profile type of a security context, if a profile is set (`""` when it has no
/// type).
fn seccomp_type(sc: Option<&Value>) -> Option<&str> {
    let profile = object(sc?, "seccompProfile")?;
    Some(string(profile, "type").unwrap_or(""))
}

fn seccomp_profile_baseline(pod: &Pod, minor: u32) -> Option<Finding> {
    if minor < 19 {
        seccomp_annotations(pod)
    } else {
        seccomp_fields(pod, false)
    }
}

fn seccomp_annotations(pod: &Pod) -> Option<Finding> {
    let valid =
        |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    let mut forbidden = BTreeSet::new();
    let mut pointers = Vec::new();
    let mut keys = vec![SECCOMP_POD_ANNOTATION.to_owned()];
    for c in &pod.containers {
        keys.push(format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", c.name()));
    }
    for key in keys {
        if let Some(value) = pod.view.annotation(&key) {
            if !valid(value) {
                forbidden.insert(format!("{key}={}", quote(value)));
                pointers.push(pod.annotation_pointer(&key));
            }
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    let list: Vec<String> = forbidden.into_iter().collect();
    Some(Finding::new(
        "seccompProfile",
        format!(
            "forbidden {} {}",
            plural("annotation", "annotations", list.len()),
            list.join(", ")
        ),
        pointers,
    ))
}

/// The field-based seccomp rule; `required` adds the restricted level's demand that every
/// container has a valid profile, its own or the pod's.
fn seccomp_fields(pod: &Pod, required: bool) -> Option<Finding> {
    let mut bad_values = BTreeSet::new();
    let mut pointers = Vec::new();
    let mut pod_bad = false;
    let mut pod_set = false;
    if let Some(kind) = seccomp_type(pod.security_context()) {
        if valid_seccomp_type(kind) {
            pod_set = true;
        } else {
            pod_bad = true;
            bad_values.insert(kind);
            pointers.push(pod.nearest(&pod.pod_field("securityContext/seccompProfile/type")));
        }
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    let mut implicit_pointers = Vec::new();
    for c in &pod.containers {
        match seccomp_type(container_sc(c)) {
            Some(kind) if !valid_seccomp_type(kind) => {
                explicit.push(c.name());
                bad_values.insert(kind);
                pointers.push(pod.nearest(&c.field("securityContext/seccompProfile/type")));
            }
            Some(_) => {}
            None if !pod_set => {
                implicit.push(c.name());
                implicit_pointers.push(pod.nearest(&c.field("securityContext/seccompProfile")));
            }
            None => {}
        }
    }
    let subjects = setters(pod_bad, &explicit);
    if !subjects.is_empty() {
        return Some(Finding::new(
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                subjects.join(" and "),
                join_quote(bad_values)
            ),
            pointers,
        ));
    }
    if required && !implicit.is_empty() {
        return Some(Finding::new(
            "seccompProfile",
            format!(
                r#"pod or {} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
                containers_phrase(&implicit)
            ),
            implicit_pointers,
        ));
    }
    None
}

fn sysctls(pod: &Pod, minor: u32) -> Option<Finding> {
    let mut bad = Vec::new();
    let mut pointers = Vec::new();
    let list = pod
        .security_context()
        .and_then(|sc| sc.get("sysctls"))
        .and_then(Value::as_array);
    for (i, sysctl) in list.into_iter().flatten().enumerate() {
        if !sysctl.is_object() {
            continue;
        }
        let name = string(sysctl, "name").unwrap_or("");
        if !controls::sysctl_allowed(name, minor) {
            bad.push(name);
            pointers
                .push(pod.nearest(&pod.pod_field(&format!("securityContext/sysctls/{i}/name"))));
        }
    }
    if bad.is_empty() {
        return None;
    }
    Some(Finding::new("forbidden sysctls", bad.join(", "), pointers))
}

fn windows_host_process(pod: &Pod, _minor: u32) -> Option<Finding> {
    let mut pointers = Vec::new();
    let mut bad = Vec::new();
    for c in &pod.containers {
        if controls::windows_host_process(c.container) {
            bad.push(c.name());
            pointers.push(c.field("securityContext/windowsOptions/hostProcess"));
        }
    }
    let pod_bad = controls::windows_host_process(pod.spec());
    if pod_bad {
        pointers.insert(
            0,
            pod.pod_field("securityContext/windowsOptions/hostProcess"),
        );
    }
    let subjects = setters(pod_bad, &bad);
    if subjects.is_empty() {
        return None;
    }
    Some(Finding::new(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            subjects.join(" and ")
        ),
        pointers,
    ))
}

// ---- restricted ----

fn allow_privilege_escalation(pod: &Pod, minor: u32) -> Option<Finding> {
    if minor >= 25 && pod.windows() {
        return None;
    }
    let mut bad = Vec::new();
    let mut pointers = Vec::new();
    for c in &pod.containers {
        if controls::allows_privilege_escalation(c.container) {
            bad.push(c.name());
            pointers.push(pod.nearest(&c.field("securityContext/allowPrivilegeEscalation")));
        }
    }
    if bad.is_empty() {
        return None;
    }
    Some(Finding::new(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&bad)
        ),
        pointers,
    ))
}

fn capabilities_restricted(pod: &Pod, minor: u32) -> Option<Finding> {
    if minor >= 25 && pod.windows() {
        return None;
    }
    let mut missing_drop = Vec::new();
    let mut adding = Vec::new();
    let mut forbidden = BTreeSet::new();
    let mut pointers = Vec::new();
    for c in &pod.containers {
        let Some(caps) = container_sc(c).and_then(|sc| object(sc, "capabilities")) else {
            missing_drop.push(c.name());
            pointers.push(pod.nearest(&c.field("securityContext/capabilities")));
            continue;
        };
        if !strings(caps, "drop").any(|(_, cap)| cap == "ALL") {
            missing_drop.push(c.name());
            pointers.push(pod.nearest(&c.field("securityContext/capabilities/drop")));
        }
        let mut added = false;
        for (i, cap) in strings(caps, "add") {
            if cap != "NET_BIND_SERVICE" {
                added = true;
                forbidden.insert(cap);
                pointers.push(c.field(&format!("securityContext/capabilities/add/{i}")));
            }
        }
        if added {
            adding.push(c.name());
        }
    }
    let mut details = Vec::new();
    if !missing_drop.is_empty() {
        details.push(format!(
            r#"{} must set securityContext.capabilities.drop=["ALL"]"#,
            containers_phrase(&missing_drop)
        ));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding),
            join_quote(forbidden)
        ));
    }
    if details.is_empty() {
        return None;
    }
    Some(Finding::new(
        "unrestricted capabilities",
        details.join("; "),
        pointers,
    ))
}

fn proc_mount_restricted(pod: &Pod, _minor: u32) -> Option<Finding> {
    proc_mount(pod)
}

const ALLOWED_VOLUME_SOURCES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Every other volume source of the Pod API, in the order admission names them.
const RESTRICTED_VOLUME_SOURCES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn restricted_volumes(pod: &Pod, _minor: u32) -> Option<Finding> {
    let mut names = Vec::new();
    let mut types = BTreeSet::new();
    let mut pointers = Vec::new();
    for (i, volume) in volumes(pod) {
        if ALLOWED_VOLUME_SOURCES
            .iter()
            .any(|s| field(volume, s).is_some())
        {
            continue;
        }
        // A volume naming no known source is defaulted to emptyDir by the API server.
        let Some(source) = RESTRICTED_VOLUME_SOURCES
            .iter()
            .find(|s| field(volume, s).is_some())
        else {
            continue;
        };
        names.push(string(volume, "name").unwrap_or(""));
        types.insert(*source);
        pointers.push(pod.pod_field(&format!("volumes/{i}/{source}")));
    }
    if names.is_empty() {
        return None;
    }
    Some(Finding::new(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            plural("volume", "volumes", names.len()),
            join_quote(&names),
            plural("uses", "use", names.len()),
            plural(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(types)
        ),
        pointers,
    ))
}

fn run_as_non_root(pod: &Pod, minor: u32) -> Option<Finding> {
    if minor >= 35 && pod.user_namespace() {
        return None;
    }
    let pod_value = pod
        .security_context()
        .and_then(|sc| flag(sc, "runAsNonRoot"));
    let pod_bad = pod_value == Some(false);
    let mut pointers = Vec::new();
    if pod_bad {
        pointers.push(pod.pod_field("securityContext/runAsNonRoot"));
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    let mut implicit_pointers = Vec::new();
    for c in &pod.containers {
        match container_sc(c).and_then(|sc| flag(sc, "runAsNonRoot")) {
            Some(false) => {
                explicit.push(c.name());
                pointers.push(c.field("securityContext/runAsNonRoot"));
            }
            Some(true) => {}
            None if pod_value != Some(true) => {
                implicit.push(c.name());
                implicit_pointers.push(pod.nearest(&c.field("securityContext/runAsNonRoot")));
            }
            None => {}
        }
    }
    let subjects = setters(pod_bad, &explicit);
    if !subjects.is_empty() {
        return Some(Finding::new(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                subjects.join(" and ")
            ),
            pointers,
        ));
    }
    if implicit.is_empty() {
        return None;
    }
    Some(Finding::new(
        "runAsNonRoot != true",
        format!(
            "pod or {} must set securityContext.runAsNonRoot=true",
            containers_phrase(&implicit)
        ),
        implicit_pointers,
    ))
}

fn run_as_user(pod: &Pod, minor: u32) -> Option<Finding> {
    if minor >= 35 && pod.user_namespace() {
        return None;
    }
    let root =
        |sc: Option<&Value>| sc.and_then(|sc| sc.get("runAsUser")).and_then(integer) == Some(0);
    let pod_bad = root(pod.security_context());
    let mut pointers = Vec::new();
    if pod_bad {
        pointers.push(pod.pod_field("securityContext/runAsUser"));
    }
    let mut bad = Vec::new();
    for c in &pod.containers {
        if root(container_sc(c)) {
            bad.push(c.name());
            pointers.push(c.field("securityContext/runAsUser"));
        }
    }
    let subjects = setters(pod_bad, &bad);
    if subjects.is_empty() {
        return None;
    }
    Some(Finding::new(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", subjects.join(" and ")),
        pointers,
    ))
}

fn seccomp_profile_restricted(pod: &Pod, minor: u32) -> Option<Finding> {
    if minor >= 25 && pod.windows() {
        return None;
    }
    seccomp_fields(pod, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_in_admission_order() {
        let ids = |level: Level| -> Vec<&str> {
            CHECKS
                .iter()
                .filter(|c| c.info.level == level)
                .map(|c| c.info.id.as_str())
                .collect()
        };
        for level in [Level::Baseline, Level::Restricted] {
            let mut sorted = ids(level);
            sorted.sort_unstable();
            assert_eq!(ids(level), sorted, "{level}");
        }
        let first_restricted = CHECKS
            .iter()
            .position(|c| c.info.level == Level::Restricted)
            .unwrap_or(0);
        assert!(CHECKS[first_restricted..]
            .iter()
            .all(|c| c.info.level == Level::Restricted));
        assert_eq!(ids(Level::Baseline).len(), 12);
        let table: Vec<CheckId> = CHECKS.iter().map(|c| c.info.id).collect();
        assert_eq!(table, CheckId::ALL);
    }

    #[test]
    fn check_ids_parse_from_admissions_names() {
        for id in CheckId::ALL {
            assert_eq!(id.as_str().parse(), Ok(id));
            assert_eq!(id.to_string(), id.as_str());
        }
        assert_eq!(CheckId::ProcMount.as_str(), "procMount");
        assert_eq!(
            "procmount".parse::<CheckId>(),
            Err(UnknownCheck("procmount".to_owned()))
        );
        assert_eq!(
            serde_json::to_value(CheckId::CapabilitiesBaseline).ok(),
            Some(Value::from("capabilities_baseline"))
        );
    }

    #[test]
    fn overrides_name_restricted_checks() {
        for check in &CHECKS {
            if let Some((by, from)) = check.info.overridden_by {
                let over = CHECKS.iter().find(|c| c.info.id == by).map(|c| c.info);
                let over = over.unwrap_or_else(|| panic!("{by} is not a check"));
                assert_eq!(over.level, Level::Restricted);
                assert!(over.since <= from, "{by} overrides before it exists");
            }
        }
    }

    #[test]
    fn applicability_follows_levels_versions_and_overrides() {
        let info = |id: CheckId| CHECKS.iter().find(|c| c.info.id == id).map(|c| c.info);
        let caps = info(CheckId::CapabilitiesBaseline).expect("check");
        assert!(caps.applies(Level::Baseline, Version::Latest));
        assert!(caps.applies(Level::Restricted, Version::Minor(21)));
        assert!(!caps.applies(Level::Restricted, Version::Minor(22)));
        assert!(!caps.applies(Level::Privileged, Version::Minor(0)));
        let probes = info(CheckId::HostProbesAndHostLifecycle).expect("check");
        assert!(!probes.applies(Level::Baseline, Version::Minor(33)));
        assert!(probes.applies(Level::Baseline, Version::Minor(34)));
        assert!(probes.applies(Level::Restricted, Version::Minor(90)));
        let ape = info(CheckId::AllowPrivilegeEscalation).expect("check");
        assert!(!ape.applies(Level::Baseline, Version::Latest));
        assert!(!ape.applies(Level::Restricted, Version::Minor(7)));
        assert!(ape.applies(Level::Restricted, Version::Minor(8)));
    }

    #[test]
    fn sysctl_allow_list_grows_by_version() {
        assert!(controls::sysctl_allowed("kernel.shm_rmid_forced", 0));
        assert!(!controls::sysctl_allowed(
            "net.ipv4.ip_local_reserved_ports",
            26
        ));
        assert!(controls::sysctl_allowed(
            "net.ipv4.ip_local_reserved_ports",
            27
        ));
        assert!(!controls::sysctl_allowed("net.ipv4.tcp_notsent_lowat", 36));
        assert!(controls::sysctl_allowed("net.ipv4.tcp_notsent_lowat", 37));
        assert!(!controls::sysctl_allowed("kernel.msgmax", 37));
        assert!(!controls::sysctl_allowed("kernel/shm_rmid_forced", 37));
    }
}
