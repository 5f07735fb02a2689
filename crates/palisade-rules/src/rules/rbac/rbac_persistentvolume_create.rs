use palisade_core::rule::{Framework, Reference, Severity};
use palisade_rbac::{RiskFact, RiskKind};

use super::{mitre, permission, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// PersistentVolumes creatable.
    pub struct PersistentVolumeCreate;
    checks: Inventory,
    id: "RBAC016",
    slug: "rbac-persistentvolume-create",
    title: "Role can create PersistentVolumes",
    severity: Severity::High,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A rule of a ClusterRole allows `create` on `persistentvolumes` without restricting \
`resourceNames` (a create request has no name, so a rule restricted to names cannot create \
one). PersistentVolumes are cluster-scoped: a Role cannot grant them.",
        scoped_note!(),
        wildcard_note!()
    ),
    rationale: "A PersistentVolume of type `hostPath` (or `local`) exposes any path of a \
node's filesystem. Whoever can create one and a claim bound to it, and a pod that mounts the \
claim, reads and writes that path on the node: the kubelet's credentials, other pods' \
volumes, the container runtime socket, `/etc`. Pod Security admission checks the volumes of \
pods, not of PersistentVolumes, so the `restricted` and `baseline` levels do not stop it.",
    remediation: "Let users request storage through PersistentVolumeClaims and \
StorageClasses (dynamic provisioning) instead; keep `create` on `persistentvolumes` for the \
provisioners and storage administrators that need it.",
    references: &[
        Reference::new(Framework::Cis, "5.1.9"),
        mitre("T1611", "https://attack.mitre.org/techniques/T1611/"),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for PersistentVolumeCreate {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::PersistentVolumeCreate, out);
    }
}

impl Judge for PersistentVolumeCreate {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        permission(
            self.meta(),
            "create PersistentVolumes, including hostPath volumes of any node path,",
            fact,
        )
    }
}
