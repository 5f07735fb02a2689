use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `hostPorts` (baseline), judged by the namespace's labels.
    pub struct HostPorts;
    checks: Inventory,
    id: "PSS005",
    slug: "pss-host-ports",
    title: "Pod Security baseline: host port",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `hostPorts`. A container binds a port of the node with `ports[].hostPort` (for Pods with `hostNetwork`, every container port, as the API server defaults `hostPort` to it). Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "A host port exposes the pod on the node's address, outside Services and NetworkPolicies, and pins the pod to nodes where the port is free.",
    remediation: "Remove `hostPort` and expose the container through a Service (ClusterIP, NodePort or LoadBalancer) or an Ingress.",
    references: &[Reference::new(Framework::Cis, "5.2.12"), Reference::url(Framework::Pss, "baseline/hostPorts", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for HostPorts {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::HostPorts, inventory, out);
    }
}
