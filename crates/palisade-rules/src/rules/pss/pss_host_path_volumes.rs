use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `hostPathVolumes` (baseline), judged by the namespace's labels.
    pub struct HostPathVolumes;
    checks: Inventory,
    id: "PSS004",
    slug: "pss-host-path-volumes",
    title: "Pod Security baseline: hostPath volume",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `hostPathVolumes`. The pod mounts a directory of the node with a `hostPath` volume. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "A hostPath volume gives the container the node's file system: the container runtime socket, kubelet credentials, other pods' data, or writable system paths that lead straight to code execution on the node.",
    remediation: "Replace the volume with `emptyDir`, a `configMap`/`secret`, or a PersistentVolumeClaim. Node agents that truly need host paths belong in a system namespace with its own policy.",
    references: &[Reference::new(Framework::Cis, "5.2.11"), Reference::url(Framework::Mitre, "T1611", "https://attack.mitre.org/techniques/T1611/"), Reference::url(Framework::Pss, "baseline/hostPathVolumes", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for HostPathVolumes {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::HostPathVolumes, inventory, out);
    }
}
