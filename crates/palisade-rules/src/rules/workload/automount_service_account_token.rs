use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use palisade_core::views::pod_spec_location;

use super::service_account::{account_name, mounts_token, Accounts, KINDS};
use crate::rules::util::{pod, set_fix};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pods that mount an API token their service account has no use for.
    pub struct AutomountToken;
    checks: Inventory,
    id: "POD016",
    slug: "automount-service-account-token",
    title: "Pod mounts an API token it does not use",
    severity: Severity::Low,
    category: "workload",
    kinds: KINDS,
    summary: "A pod runs as a service account that the input defines but binds to no role, and \
neither the pod nor the account sets `automountServiceAccountToken: false`.",
    rationale: "Every mounted token is a credential an attacker who gets code execution can \
use against the API server: to discover the cluster, and to use whatever the service account \
is granted later. A workload that does not call the API has no reason to carry one.",
    remediation: "Turn the mount off on the pod (or on its ServiceAccount):\n\n```yaml\nspec:\n  \
automountServiceAccountToken: false\n```",
    references: &[
        Reference::new(Framework::Cis, "5.1.6"),
        Reference::new(
            Framework::NsaCisa,
            "Authentication and authorization: service account tokens",
        ),
        Reference::url(
            Framework::Mitre,
            "T1528",
            "https://attack.mitre.org/techniques/T1528/",
        ),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Safe),
        reason: "The fix is only offered where no binding in the input grants the service account a \
role: the token then opens nothing the pod could need, so turning its mount off breaks \
nothing.",
    }),
}

impl InventoryRule for AutomountToken {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        let accounts = Accounts::of(inventory);
        for (index, entry) in inventory.objects.iter().enumerate() {
            if pod_spec_location(entry.kind()).is_none() {
                continue;
            }
            let object = &*entry.object_unlocated();
            let Some(spec) = pod(object) else { continue };
            let name = account_name(&spec);
            // The default account is the default-service-account rule's concern.
            if name == "default" {
                continue;
            }
            // Without the ServiceAccount in the input its bindings are unknown too.
            let Some(account) = accounts.account(object, name) else {
                continue;
            };
            if !mounts_token(&spec, Some(account)) || accounts.is_bound(object, name) {
                continue;
            }
            let pointer = spec.field("automountServiceAccountToken");
            let fix = set_fix(
                object,
                &pointer,
                false.into(),
                "set automountServiceAccountToken to false".to_owned(),
                Applicability::Safe,
            );
            out.push((
                index,
                Emit::new(
                    pointer,
                    format!(
                        "pod mounts the API token of service account \"{name}\", which no binding grants a role; set automountServiceAccountToken: false"
                    ),
                )
                .with_fix(fix),
            ));
        }
    }
}
