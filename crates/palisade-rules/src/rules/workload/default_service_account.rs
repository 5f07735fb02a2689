use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use palisade_core::views::pod_spec_location;

use super::service_account::{account_name, mounts_token, Accounts, KINDS};
use crate::rules::util::{pod, set_fix};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pods that run as the namespace's `default` service account with its token mounted.
    pub struct DefaultServiceAccount;
    checks: Inventory,
    id: "POD017",
    slug: "default-service-account",
    title: "Pod uses the default service account with a mounted token",
    severity: Severity::Low,
    category: "workload",
    kinds: KINDS,
    summary: "A pod runs as the `default` service account (it names no other in \
`serviceAccountName`, nor in the deprecated `serviceAccount` that the API server copies into an \
unset or empty `serviceAccountName`) and mounts its API token (neither the pod nor a `default` ServiceAccount in the input sets `automountServiceAccountToken: false`).",
    rationale: "Every pod of the namespace shares the `default` account: a role granted to it \
for one workload is granted to all, and a token stolen from any pod acts as all of them. Audit \
logs cannot tell the workloads apart.",
    remediation:
        "Give the workload its own ServiceAccount if it calls the API, or turn the \
token off:\n\n```yaml\nspec:\n  serviceAccountName: web\n  automountServiceAccountToken: false\n```",
    references: &[
        Reference::new(Framework::Cis, "5.1.5"),
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
        applicability: None,
        reason: "Safe where the input holds the namespace's `default` ServiceAccount and no binding \
grants it a role: the token then opens nothing the pod could need. Unsafe where the account is \
not in the input, so its bindings are unknown. Where a binding grants it a role there is no \
fix: the pod needs its own ServiceAccount.",
    }),
}

impl InventoryRule for DefaultServiceAccount {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        let accounts = Accounts::of(inventory);
        for (index, entry) in inventory.objects.iter().enumerate() {
            if pod_spec_location(entry.kind()).is_none() {
                continue;
            }
            let object = &*entry.object_unlocated();
            let Some(spec) = pod(object) else { continue };
            if account_name(&spec) != "default" {
                continue;
            }
            let account = accounts.account(object, "default");
            if !mounts_token(&spec, account) {
                continue;
            }
            let pointer = spec.field("automountServiceAccountToken");
            // When the default account holds roles, turning the token off would break the pod.
            let emit = if accounts.is_bound(object, "default") {
                Emit::new(
                    pointer,
                    "pod calls the API as the namespace's default service account, which is bound to roles; give it its own ServiceAccount",
                )
            } else {
                // Without the account in the input, its bindings are unknown.
                let applicability = if account.is_some() {
                    Applicability::Safe
                } else {
                    Applicability::Unsafe
                };
                let fix = set_fix(
                    object,
                    &pointer,
                    false.into(),
                    "set automountServiceAccountToken to false".to_owned(),
                    applicability,
                );
                Emit::new(
                    pointer,
                    "pod runs as the default service account with its API token mounted; set automountServiceAccountToken: false or use a dedicated ServiceAccount",
                )
                .with_fix(fix)
            };
            out.push((index, emit));
        }
    }
}
