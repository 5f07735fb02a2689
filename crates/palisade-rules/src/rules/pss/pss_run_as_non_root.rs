use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `runAsNonRoot` (restricted), judged by the namespace's labels.
    pub struct RunAsNonRoot;
    checks: Inventory,
    id: "PSS017",
    slug: "pss-run-as-non-root",
    title: "Pod Security restricted: not required to run as non-root",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Restricted level, check `runAsNonRoot`. Neither the pod nor every container sets `securityContext.runAsNonRoot: true`, or one sets it to false (pods with their own user namespace are exempt from v1.35). Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at restricted or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "Without `runAsNonRoot: true` the kubelet starts images whose user is root. Root in a container is one kernel bug or misconfiguration away from root on the node.",
    remediation: "Require a non-root user for the whole pod, with a numeric user the image supports:\n\n```yaml\nsecurityContext:\n  runAsNonRoot: true\n  runAsUser: 10001\n```",
    references: &[Reference::new(Framework::Cis, "5.2.7"), Reference::url(Framework::Pss, "restricted/runAsNonRoot", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for RunAsNonRoot {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::RunAsNonRoot, inventory, out);
    }
}
