use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `restrictedVolumes` (restricted), judged by the namespace's labels.
    pub struct RestrictedVolumes;
    checks: Inventory,
    id: "PSS016",
    slug: "pss-restricted-volumes",
    title: "Pod Security restricted: volume type not allowed",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Restricted level, check `restrictedVolumes`. The pod uses a volume type other than configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret (hostPath, nfs, iscsi, cloud disks, ...). Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at restricted or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "Inline volume sources reach outside the pod's storage abstraction: node directories, network file systems and disks addressed directly, with the credentials and access that implies.",
    remediation: "Use a PersistentVolumeClaim for storage (the cluster administrator defines the PersistentVolume), or one of the allowed ephemeral types.",
    references: &[Reference::url(Framework::Pss, "restricted/restrictedVolumes", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for RestrictedVolumes {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::RestrictedVolumes, inventory, out);
    }
}
