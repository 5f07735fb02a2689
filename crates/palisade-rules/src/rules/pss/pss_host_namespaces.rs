use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `hostNamespaces` (baseline), judged by the namespace's labels.
    pub struct HostNamespaces;
    checks: Inventory,
    id: "PSS003",
    slug: "pss-host-namespaces",
    title: "Pod Security baseline: host namespaces shared",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `hostNamespaces`. The pod shares a namespace of the node: `hostNetwork`, `hostPID` or `hostIPC` is true. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "With the host's network the pod sees and binds the node's interfaces and bypasses NetworkPolicies; with its PID namespace it sees (and with privileges, signals or traces) every process of the node; with its IPC namespace it reads the node's shared memory.",
    remediation: "Remove `hostNetwork`, `hostPID` and `hostIPC` (or set them to false). Expose ports through a Service instead of the node's network.",
    references: &[Reference::new(Framework::Cis, "5.2.3, 5.2.4, 5.2.5"), Reference::url(Framework::Mitre, "T1611", "https://attack.mitre.org/techniques/T1611/"), Reference::url(Framework::Pss, "baseline/hostNamespaces", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for HostNamespaces {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::HostNamespaces, inventory, out);
    }
}
