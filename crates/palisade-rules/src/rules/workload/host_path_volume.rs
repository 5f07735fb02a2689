use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::in_system_namespace;
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
container runtime socket, `/`, `/etc`, `/proc`…) are critical everywhere, read-only or not; so \
are `/var/lib/kubelet` and every path under it (`pods/`: every pod's volumes and service account \
tokens, `pki/`: the kubelet's credentials), except the directories that hold only plugin \
sockets (`plugins_registry/`, `device-plugins/`, a driver's own `plugins/<driver>/`; not \
`plugins/kubernetes.io/`, where CSI volumes are staged), which are judged like other paths. \
Other paths are not reported in system namespaces (`rules.system-namespaces`), where node \
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
        Reference::new(Framework::Cis, "5.2.11"),
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

/// The kubelet's directory: every pod's volumes and service account tokens (`pods/`), the
/// kubelet's credentials (`pki/`, `kubeconfig`), staged CSI volumes (`plugins/kubernetes.io/`).
const KUBELET_DIR: &str = "/var/lib/kubelet";

/// A host path with empty and `.` components dropped (`//var/lib/kubelet/./pods/` is
/// `/var/lib/kubelet/pods`). The API server refuses `..` components.
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// Whether `path` (normalized) is the kubelet's directory or under it, other than the
/// directories that hold only plugin sockets: the registration directories and one driver's
/// socket directory.
fn in_kubelet_dir(path: &str) -> bool {
    let Some(rest) = path.strip_prefix(KUBELET_DIR) else {
        return false;
    };
    if !rest.is_empty() && !rest.starts_with('/') {
        return false;
    }
    let parts: Vec<&str> = rest.split('/').filter(|part| !part.is_empty()).collect();
    match parts.as_slice() {
        ["plugins_registry", ..] | ["device-plugins", ..] => false,
        ["plugins", driver, ..] => *driver == "kubernetes.io",
        _ => true,
    }
}

/// Whether mounting `path` gives control of the node, read-only or not.
pub fn is_critical_host_path(path: &str) -> bool {
    if !path.starts_with('/') {
        return false;
    }
    let path = normalize(path);
    CRITICAL_PATHS.contains(&path.as_str()) || in_kubelet_dir(&path)
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
        let Some(spec) = cx.pod else { return };
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
            let read_only = !mounts.is_empty() && mounts.iter().all(|ro| *ro);
            if is_critical_host_path(path) {
                let exposes = if in_kubelet_dir(&normalize(path)) {
                    "which holds other pods' volumes and service account tokens"
                } else {
                    "which gives control of the node"
                };
                out.push(
                    Emit::new(
                        pointer,
                        format!(
                            "volume \"{name}\" mounts host path \"{path}\"{}, {exposes}; use a non-host volume",
                            if read_only { " read-only" } else { "" }
                        ),
                    )
                    .with_severity(Severity::Critical),
                );
            } else if !in_system_namespace(cx.object, cx.settings) {
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

#[cfg(test)]
mod tests {
    use palisade_core::rule::Severity;
    use palisade_core::{load_str, Limits};

    use super::is_critical_host_path;
    use crate::Engine;

    #[test]
    fn the_kubelet_directory_and_what_is_under_it_are_critical() {
        for path in [
            "/var/lib/kubelet",
            "/var/lib/kubelet/",
            "/var/lib/kubelet/pods",
            "//var/lib/kubelet/./pods/",
            "/var/lib/kubelet/pki",
            "/var/lib/kubelet/plugins",
            "/var/lib/kubelet/plugins/kubernetes.io/csi",
            "/",
            "/var/run/docker.sock",
        ] {
            assert!(is_critical_host_path(path), "{path}");
        }
        for path in [
            "/var/lib/kubelet-plugins",
            "/var/lib/kubelet/plugins_registry",
            "/var/lib/kubelet/device-plugins/",
            "/var/lib/kubelet/plugins/csi.example.com",
            "/var/log",
            "",
            "var/lib/kubelet",
        ] {
            assert!(!is_critical_host_path(path), "{path}");
        }
    }

    #[test]
    fn a_read_only_kubelet_mount_in_a_system_namespace_is_critical() {
        let text = "apiVersion: apps/v1
kind: DaemonSet
metadata: {name: csi-node, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - name: driver
        image: driver:1.0
        volumeMounts:
        - {name: pods, mountPath: /var/lib/kubelet/pods, readOnly: true}
        - {name: registration, mountPath: /registration}
      volumes:
      - {name: pods, hostPath: {path: /var/lib/kubelet/pods}}
      - {name: registration, hostPath: {path: /var/lib/kubelet/plugins_registry}}
";
        let loaded = load_str(text, "csi.yaml", &Limits::default());
        let engine = Engine::new(&crate::Config::default(), &["POD003".to_owned()], &[])
            .expect("POD003 exists");
        let findings = engine.check_object(&loaded.objects[0]);
        let found: Vec<_> = findings
            .iter()
            .map(|f| (f.pointer.as_str(), f.severity))
            .collect();
        assert_eq!(
            found,
            [("/spec/template/spec/volumes/0/hostPath", Severity::Critical)]
        );
        assert!(
            findings[0].message.contains("read-only"),
            "{}",
            findings[0].message
        );
    }
}
