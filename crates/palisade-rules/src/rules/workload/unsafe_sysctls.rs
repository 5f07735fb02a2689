use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::controls::sysctl_allowed;
use palisade_pss::NEWEST_POLICY_MINOR;
use serde_json::Value;

use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Pods that set sysctls outside the namespaced safe set.
    pub struct UnsafeSysctls;
    checks: Object,
    id: "POD014",
    slug: "unsafe-sysctls",
    title: "Pod sets an unsafe sysctl",
    severity: Severity::High,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A pod's `securityContext.sysctls` sets a kernel parameter outside the safe set: \
the namespaced sysctls the Pod Security Standards allow at their newest version (baseline \
check `sysctls`), such as `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`, \
`net.ipv4.ip_unprivileged_port_start`, `net.ipv4.tcp_syncookies`, `net.ipv4.ping_group_range` \
and the `net.ipv4.tcp_*` keep-alive, buffer and timeout settings. Unlike the Pod Security \
check, names written with `/` as the separator (`kernel/shm_rmid_forced`) are read as the \
kubelet reads them.",
    rationale: "Sysctls outside the safe set are not isolated per pod, or can starve the node: \
setting them changes the kernel for every workload on the node, or lets one pod exhaust kernel \
resources. The kubelet rejects them unless an administrator allowed them on that node.",
    remediation: "Remove the sysctl, or set it on dedicated nodes through the node's \
configuration (and `--allowed-unsafe-sysctls`) rather than from a pod.",
    references: &[
        Reference::new(
            Framework::NsaCisa,
            "Pod security: non-root containers and privileges",
        ),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "baseline/sysctls"),
    ],
    fix: None,
}

impl ObjectRule for UnsafeSysctls {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        let Some(Value::Array(sysctls)) = spec.spec.at("/securityContext/sysctls") else {
            return;
        };
        for (index, sysctl) in sysctls.iter().enumerate() {
            let Some(name) = sysctl.get("name").and_then(Value::as_str) else {
                continue;
            };
            // Sysctl names may use `/` as the separator.
            let normalized = name.replace('/', ".");
            if sysctl_allowed(&normalized, NEWEST_POLICY_MINOR) {
                continue;
            }
            out.push(Emit::new(
                spec.field(&format!("securityContext/sysctls/{index}")),
                format!("pod sets sysctl {name}, which is not in the safe set; remove it"),
            ));
        }
    }
}
