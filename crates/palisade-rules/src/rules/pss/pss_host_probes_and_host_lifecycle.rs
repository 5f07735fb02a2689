use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `hostProbesAndHostLifecycle` (baseline), judged by the namespace's labels.
    pub struct HostProbesAndHostLifecycle;
    checks: Inventory,
    id: "PSS006",
    slug: "pss-host-probes-and-host-lifecycle",
    title: "Pod Security baseline: probe or lifecycle handler with a host",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `hostProbesAndHostLifecycle`. An HTTP or TCP probe or lifecycle handler sets `host` (policy v1.34 and later). Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "The kubelet connects to the probe's host from the node, on the pod's behalf: a `host` lets a pod make the node reach addresses it could not reach itself (node-local services, the cloud metadata endpoint, other tenants).",
    remediation: "Remove `host` from `httpGet` and `tcpSocket` handlers: the kubelet then connects to the pod's own IP.\n\n```yaml\nreadinessProbe:\n  httpGet:\n    path: /ready\n    port: 8080\n```",
    references: &[Reference::url(Framework::Pss, "baseline/hostProbesAndHostLifecycle", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for HostProbesAndHostLifecycle {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::HostProbesAndHostLifecycle, inventory, out);
    }
}
