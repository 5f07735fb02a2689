use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::{describe, in_system_namespace};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Container ports bound on the node.
    pub struct HostPort;
    checks: Object,
    id: "POD010",
    slug: "host-port",
    title: "Container binds a port on the node",
    severity: Severity::Medium,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container port sets a non-zero `hostPort` (not reported in system namespaces, \
nor with `hostNetwork`, which the host-namespaces rule reports).",
    rationale: "A host port opens the node's address to the container, outside Service and \
NetworkPolicy control, and limits scheduling to one such pod per node. It also lets a \
compromised pod listen in place of a node service.",
    remediation: "Remove `hostPort` and expose the pod through a Service. Ingress controllers \
that must bind node ports should be suppressed by name with a reason.",
    references: &[
        Reference::new(Framework::Cis, "5.2.12"),
        Reference::new(Framework::NsaCisa, "Network separation and hardening"),
        Reference::url(
            Framework::Mitre,
            "T1046",
            "https://attack.mitre.org/techniques/T1046/",
        ),
        Reference::new(Framework::Pss, "baseline/hostPorts"),
    ],
    fix: None,
}

impl ObjectRule for HostPort {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        // With hostNetwork, every container port is a host port and hostPort must equal it:
        // the host-namespaces rule reports that pod.
        if spec.spec.get("hostNetwork") == Some(&Value::Bool(true))
            || in_system_namespace(cx.object, cx.settings)
        {
            return;
        }
        for container in &cx.containers {
            let Some(Value::Array(ports)) = container.container.get("ports") else {
                continue;
            };
            for (index, port) in ports.iter().enumerate() {
                let Some(host_port) = palisade_pss::controls::host_port(port) else {
                    continue;
                };
                out.push(Emit::new(
                    container.field(&format!("ports/{index}/hostPort")),
                    format!(
                        "{} binds port {host_port} on the node; remove hostPort and use a Service",
                        describe(container)
                    ),
                ));
            }
        }
    }
}
