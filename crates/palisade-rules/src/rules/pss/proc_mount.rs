use palisade_core::rule::{Framework, Reference, RuleMeta, Severity};

use super::{CheckRule, KINDS};

/// Pod Security check `procMount` (baseline), judged by the namespace's labels.
pub static RULE: CheckRule = CheckRule {
    check: "procMount",
    meta: &META,
};

static META: RuleMeta = RuleMeta {
    id: "PSS008",
    slug: "pss-proc-mount",
    title: "Pod Security baseline: unmasked /proc",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `procMount`. A container sets `securityContext.procMount` to something other than `Default` (such as `Unmasked`) in a pod that shares the host's user namespace. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "The default /proc mount masks and makes read-only the kernel paths that leak host information or allow changing host settings. Unmasked, they are open to the container.",
    remediation: "Remove `procMount` or set it to `Default`.",
    references: &[Reference::url(Framework::Pss, "baseline/procMount", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fixable: false,
    source: file!(),
};
