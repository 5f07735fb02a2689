use palisade_core::rule::{Framework, Reference, RuleMeta, Severity};

use super::{CheckRule, KINDS};

/// Pod Security check `windowsHostProcess` (baseline), judged by the namespace's labels.
pub static RULE: CheckRule = CheckRule {
    check: "windowsHostProcess",
    meta: &META,
};

static META: RuleMeta = RuleMeta {
    id: "PSS012",
    slug: "pss-windows-host-process",
    title: "Pod Security baseline: windows HostProcess container",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `windowsHostProcess`. The pod or a container sets `securityContext.windowsOptions.hostProcess: true`. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "A HostProcess container runs directly on the Windows node, in its network and with access to its file system: it is the Windows equivalent of a privileged container.",
    remediation: "Remove `hostProcess: true`; run node management tasks outside application namespaces.",
    references: &[Reference::url(Framework::Pss, "baseline/windowsHostProcess", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fixable: false,
    source: file!(),
};
