use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::{in_system_namespace, set_fields_fix};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Pods that share the node's network, process or IPC namespace.
    pub struct HostNamespaces;
    checks: Object,
    id: "POD009",
    slug: "host-namespaces",
    title: "Pod shares a host namespace",
    severity: Severity::High,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A pod sets `hostNetwork`, `hostPID` or `hostIPC` to true; `hostPID` is critical, \
the others high. `hostNetwork` is not reported in system namespaces \
(`rules.system-namespaces`), where CNI plugins and node agents need it.",
    rationale: "`hostPID` shows every process on the node, with their environment and, as root, \
`/proc/<pid>/root` into other containers' file systems. `hostNetwork` binds node ports, sniffs \
node traffic, bypasses NetworkPolicies and reaches services that listen on localhost (the \
kubelet's read-only port, cloud metadata). `hostIPC` reads other processes' shared memory.",
    remediation: "Remove the field (it defaults to false). Node agents that need one (a CNI \
plugin needs `hostNetwork`) should be the only ones, suppressed by name with a reason.",
    references: &[
        Reference::new(Framework::Cis, "5.2.3, 5.2.4, 5.2.5"),
        Reference::new(
            Framework::NsaCisa,
            "Pod security: use host namespaces sparingly",
        ),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "baseline/hostNamespaces"),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Unsafe),
        reason: "A pod shares the node's network, process table or IPC because it works on the node: a \
CNI plugin, a monitoring agent, a log collector. Without them it can no longer see what it \
exists to watch. Turning `hostNetwork` off also removes the `hostPort` of each container \
port, which only mirrored the container port while the pod used the node's network.",
    }),
}

impl ObjectRule for HostNamespaces {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        for (field, what) in [
            ("hostNetwork", "the node's network"),
            ("hostPID", "the node's process table"),
            ("hostIPC", "the node's IPC namespace"),
        ] {
            if !palisade_pss::controls::host_namespace(spec.spec, field) {
                continue;
            }
            if field == "hostNetwork" && in_system_namespace(cx.object, cx.settings) {
                continue;
            }
            let pointer = spec.field(field);
            // Under hostNetwork each hostPort mirrors its container port; without it, they
            // would bind ports on the node.
            let host_ports = if field == "hostNetwork" {
                host_ports(&spec)
            } else {
                Vec::new()
            };
            let description = if host_ports.is_empty() {
                format!("set {field} to false")
            } else {
                format!("set {field} to false and remove the hostPort of each container port")
            };
            let fix = cx.fix(|| {
                set_fields_fix(
                    cx.object,
                    vec![(pointer.clone(), false.into())],
                    host_ports,
                    description,
                    Applicability::Unsafe,
                )
            });
            let emit = Emit::new(
                pointer,
                format!("pod sets {field}: true and shares {what}; remove it"),
            );
            out.push(if field == "hostPID" {
                emit.with_fix(fix).with_severity(Severity::Critical)
            } else {
                emit.with_fix(fix)
            });
        }
    }
}

/// The `hostPort` field of every container port that has one.
fn host_ports(spec: &palisade_core::views::PodSpecView<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for container in spec.containers() {
        let ports = container.container.get("ports").and_then(Value::as_array);
        for (index, port) in ports.into_iter().flatten().enumerate() {
            if port.get("hostPort").is_some() {
                out.push(container.field(&format!("ports/{index}/hostPort")));
            }
        }
    }
    out
}
