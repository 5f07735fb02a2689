use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `runAsUser` (restricted), judged by the namespace's labels.
    pub struct RunAsUser;
    checks: Inventory,
    id: "PSS018",
    slug: "pss-run-as-user",
    title: "Pod Security restricted: runs as user 0",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Restricted level, check `runAsUser`. The pod or a container sets `securityContext.runAsUser: 0` (policy v1.23 and later; pods with their own user namespace are exempt from v1.35). Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at restricted or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "User 0 is root. An explicit `runAsUser: 0` overrides the image's user and defeats `runAsNonRoot`.",
    remediation: "Set a non-zero user, or remove `runAsUser` and let the image's non-root user apply:\n\n```yaml\nsecurityContext:\n  runAsUser: 10001\n```",
    references: &[Reference::new(Framework::Cis, "5.2.7"), Reference::url(Framework::Pss, "restricted/runAsUser", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for RunAsUser {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::RunAsUser, inventory, out);
    }
}
