use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `appArmorProfile` (baseline), judged by the namespace's labels.
    pub struct AppArmorProfile;
    checks: Inventory,
    id: "PSS001",
    slug: "pss-app-armor-profile",
    title: "Pod Security baseline: appArmor profile switched off",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `appArmorProfile`. AppArmor is switched off: the pod or a container sets `appArmorProfile.type: Unconfined` (or a type other than RuntimeDefault and Localhost), or a legacy `container.apparmor.security.beta.kubernetes.io/*` annotation names something other than `runtime/default` or a `localhost/` profile. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "AppArmor confines what a process may touch (files, capabilities, mounts) even as root. An unconfined container loses this layer of mandatory access control, so a compromised process can use every kernel interface its capabilities allow.",
    remediation: "Remove the override, or use the runtime's default profile or a profile loaded on the nodes:\n\n```yaml\nsecurityContext:\n  appArmorProfile:\n    type: RuntimeDefault\n```",
    references: &[Reference::url(Framework::Pss, "baseline/appArmorProfile", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for AppArmorProfile {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::AppArmorProfile, inventory, out);
    }
}
