use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `windowsHostProcess` (baseline), judged by the namespace's labels.
    pub struct WindowsHostProcess;
    checks: Inventory,
    id: "PSS012",
    slug: "pss-windows-host-process",
    title: "Pod Security baseline: windows HostProcess container",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `windowsHostProcess`. The pod or a container sets `securityContext.windowsOptions.hostProcess: true`. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "A HostProcess container runs directly on the Windows node, in its network and with access to its file system: it is the Windows equivalent of a privileged container.",
    remediation: "Remove `hostProcess: true`; run node management tasks outside application namespaces.",
    references: &[Reference::new(Framework::Cis, "5.2.10"), Reference::url(Framework::Pss, "baseline/windowsHostProcess", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for WindowsHostProcess {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::WindowsHostProcess, inventory, out);
    }
}
