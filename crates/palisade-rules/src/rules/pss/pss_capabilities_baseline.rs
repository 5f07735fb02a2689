use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `capabilities_baseline` (baseline), judged by the namespace's labels.
    pub struct CapabilitiesBaseline;
    checks: Inventory,
    id: "PSS002",
    slug: "pss-capabilities-baseline",
    title: "Pod Security baseline: capabilities beyond the runtime default added",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `capabilities_baseline`. A container adds a Linux capability outside the container runtime's default set (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT) in `securityContext.capabilities.add`. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE or NET_RAW hand the process kernel powers that are the usual steps of container escapes and network attacks (mounting file systems, tracing other processes, spoofing packets).",
    remediation: "Remove the capability from `add`; if the process needs one, prefer a narrower design or grant only that capability after dropping all:\n\n```yaml\nsecurityContext:\n  capabilities:\n    drop: [ALL]\n    add: [NET_BIND_SERVICE]\n```",
    references: &[Reference::new(Framework::Cis, "5.2.8"), Reference::url(Framework::Mitre, "T1611", "https://attack.mitre.org/techniques/T1611/"), Reference::url(Framework::Pss, "baseline/capabilities_baseline", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for CapabilitiesBaseline {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::CapabilitiesBaseline, inventory, out);
    }
}
