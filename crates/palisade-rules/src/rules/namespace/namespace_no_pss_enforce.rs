use std::collections::HashSet;

use palisade_core::pointer::escape;
use palisade_core::rule::{Framework, Reference, Severity};
use palisade_core::Object;
use palisade_pss::Mode;

use super::{is_system, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Namespaces that do not enforce a Pod Security level.
    pub struct NoEnforceLabel;
    checks: Inventory,
    id: "NS001",
    slug: "namespace-no-pss-enforce",
    title: "Namespace enforces no Pod Security level",
    severity: Severity::Medium,
    category: "namespace",
    kinds: KINDS,
    summary: "A Namespace has no `pod-security.kubernetes.io/enforce` label. System namespaces \
(`system-namespaces` setting) are not reported, nor a definition without the label when the \
input labels another definition of the same namespace (an overlay or another component's copy: \
applying it leaves the label in place).",
    rationale: "Without the label, Pod Security Admission applies the cluster's default, which is \
`privileged` unless the API server is configured otherwise: any pod is admitted, including \
privileged ones with the node's file system and namespaces. The labels are the built-in way to \
keep a namespace's workloads within the baseline or restricted standard, and they stay with the \
namespace whoever deploys into it.",
    remediation: "Label the namespace with the strictest level its workloads pass \
(`palisade pss suggest` finds it), pinning the version you tested against:\n\n```yaml\n\
apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    \
pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/enforce-version: v1.33\n    \
pod-security.kubernetes.io/warn: restricted\n    pod-security.kubernetes.io/audit: restricted\n```",
    references: &[
        Reference::new(Framework::Cis, "5.2.1"),
        Reference::new(Framework::NsaCisa, "Pod security: Pod Security Admission"),
        Reference::url(
            Framework::Docs,
            "Enforce Pod Security Standards with namespace labels",
            "https://kubernetes.io/docs/tasks/configure-pod-container/enforce-standards-namespace-labels/",
        ),
    ],
    fix: None,
}

impl InventoryRule for NoEnforceLabel {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        let enforce = Mode::Enforce.level_label();
        let label = format!("/metadata/labels/{}", escape(&enforce));
        let has_enforce = |o: &Object| o.labels().is_some_and(|l| l.contains_key(&enforce));
        let enforced: HashSet<&str> = inventory
            .objects
            .iter()
            .filter(|o| KINDS.contains(&o.kind()) && o.has(&label))
            .map(|o| o.name())
            .collect();
        for (index, entry) in inventory.objects.iter().enumerate() {
            if entry.kind() != "Namespace" {
                continue;
            }
            let object = entry.object_unlocated();
            if is_system(&object, inventory.settings)
                || has_enforce(&object)
                || enforced.contains(object.name())
            {
                continue;
            }
            let pointer = if object.labels().is_some() {
                "/metadata/labels"
            } else {
                "/metadata"
            };
            out.push((
                index,
                Emit::new(
                    pointer,
                    format!(
                        "namespace {} has no `{enforce}` label: every pod is admitted unless the \
                         cluster default is stricter; run `palisade pss suggest` for the level \
                         its workloads pass",
                        object.name()
                    ),
                ),
            ));
        }
    }
}
