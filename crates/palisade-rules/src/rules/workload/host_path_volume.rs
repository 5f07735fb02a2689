use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::{in_system_namespace, pod};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Volumes that mount a path of the node.
    pub struct HostPathVolume;
    checks: Object,
    id: "POD003",
    slug: "host-path-volume",
    title: "Pod mounts a hostPath volume",
    severity: Severity::High,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A pod declares a `hostPath` volume. Paths that give control of the node (the \
container runtime socket, `/`, `/etc`, `/proc`, `/var/lib/kubelet`…) are critical everywhere; \
other paths are not reported in system namespaces (`rules.system-namespaces`), where node \
agents such as CNI and CSI plugins need them, and are low when every mount is read-only.",
    rationale: "A hostPath volume exposes the node's file system to the pod. Writable mounts of \
sensitive paths give node takeover: the container runtime socket (`/var/run/docker.sock`, \
`containerd.sock`, `crio.sock`) starts privileged containers, `/`, `/etc`, `/proc` or \
`/var/lib/kubelet` expose host credentials and every pod's secrets. Even read-only mounts leak \
logs and keys.",
    remediation: "Use `emptyDir`, a `configMap`/`secret` projection, or a PersistentVolumeClaim \
instead. When a node agent really needs a host path, mount the narrowest path read-only and \
suppress this finding for that workload with a reason.",
    references: &[
        Reference::new(Framework::Cis, "5.2.12"),
        Reference::new(
            Framework::NsaCisa,
            "Pod security: restrict host path mounts",
        ),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "baseline/hostPathVolumes"),
    ],
    fix: None,
}

/// Host paths that amount to node takeover when mounted.
const CRITICAL_PATHS: &[&str] = &[
    "/",
    "/etc",
    "/proc",
    "/root",
    "/var/lib/kubelet",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run",
    "/run",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/etc/kubernetes",
];

/// Whether mounting `path` gives control of the node.
pub fn is_critical_host_path(path: &str) -> bool {
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    CRITICAL_PATHS.contains(&trimmed)
}

/// Whether each mount of the volume is read-only.
fn mount_modes(spec: &palisade_core::views::PodSpecView<'_>, volume: &str) -> Vec<bool> {
    spec.containers()
        .iter()
        .filter_map(|c| c.container.get("volumeMounts").and_then(Value::as_array))
        .flatten()
        .filter(|m| m.get("name").and_then(Value::as_str) == Some(volume))
        .map(|m| m.get("readOnly") == Some(&Value::Bool(true)))
        .collect()
}

impl ObjectRule for HostPathVolume {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = pod(cx.object) else { return };
        let Some(Value::Array(volumes)) = spec.spec.get("volumes") else {
            return;
        };
        for (index, volume) in volumes.iter().enumerate() {
            let Some(host_path) = volume.get("hostPath").filter(|v| v.is_object()) else {
                continue;
            };
            let path = host_path.get("path").and_then(Value::as_str).unwrap_or("");
            let name = volume.get("name").and_then(Value::as_str).unwrap_or("");
            let pointer = format!("{}/volumes/{index}/hostPath", spec.pointer);
            let mounts = mount_modes(&spec, name);
            if is_critical_host_path(path) {
                out.push(
                    Emit::new(
                        pointer,
                        format!(
                            "volume \"{name}\" mounts host path \"{path}\", which gives control of the node; use a non-host volume"
                        ),
                    )
                    .with_severity(Severity::Critical),
                );
            } else if !in_system_namespace(cx.object, cx.settings) {
                let read_only = !mounts.is_empty() && mounts.iter().all(|ro| *ro);
                let emit = Emit::new(
                    pointer,
                    format!(
                        "volume \"{name}\" mounts host path \"{path}\"{}; use emptyDir, a projected volume or a PersistentVolumeClaim",
                        if read_only { " read-only" } else { "" }
                    ),
                );
                out.push(if read_only {
                    emit.with_severity(Severity::Low)
                } else {
                    emit
                });
            }
        }
    }
}
