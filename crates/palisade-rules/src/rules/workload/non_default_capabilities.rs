use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::controls::baseline_capability;

use super::dangerous_capabilities::dangerous;
use crate::rules::util::{added_capabilities, describe};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers that add capabilities outside the container runtime's default set.
    pub struct NonDefaultCapabilities;
    checks: Object,
    id: "POD022",
    slug: "non-default-capabilities",
    title: "Container adds a capability outside the default set",
    severity: Severity::Medium,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container's `securityContext.capabilities.add` contains a capability outside \
the set Pod Security's baseline level allows (`AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, \
`FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`, `SETGID`, `SETPCAP`, `SETUID`, \
`SYS_CHROOT`), such as `SYS_TIME`, `SYS_RESOURCE`, `IPC_LOCK`, `PERFMON` or `SYS_NICE`, \
reported at each entry and in every namespace. The capabilities the dangerous-capabilities rule \
(POD008) judges are left to it: `ALL`, `SYS_ADMIN`, `SYS_MODULE`, `SYS_PTRACE`, `BPF`, \
`DAC_READ_SEARCH`, `NET_ADMIN` and `NET_RAW` (which POD008 does not report in system \
namespaces, where CNI plugins need them; this rule does not report them there either). Names \
are read as container runtimes read them, so `cap_sys_time` counts as `SYS_TIME` and \
`CAP_CHOWN` as the allowed `CHOWN`; Pod Security's `capabilities_baseline` check (PSS014), which \
compares names as written, reports `CAP_CHOWN` in labelled namespaces.",
    rationale: "Each capability outside the default set lifts a kernel restriction the \
container was meant to keep: `SYS_TIME` sets the node's clock for every pod on it, \
`SYS_RESOURCE` overrides resource limits and quotas, `IPC_LOCK` pins memory, `PERFMON` and \
`SYSLOG` read kernel data, `SYS_BOOT` reboots the node. A compromised process gets them too.",
    remediation: "Remove the capability. If the container really needs one, keep it on that \
container only, after `drop: [ALL]`, and suppress the finding for it with a reason:\n\n\
```yaml\nsecurityContext:\n  capabilities:\n    drop: [ALL]\n    add: [NET_BIND_SERVICE]\n```",
    references: &[
        Reference::new(Framework::Cis, "5.2.9"),
        Reference::new(
            Framework::NsaCisa,
            "Pod security: non-root containers and privileges",
        ),
        Reference::new(Framework::Pss, "baseline/capabilities"),
    ],
    fix: None,
}

impl ObjectRule for NonDefaultCapabilities {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        for added in added_capabilities(cx.object) {
            let cap = &added.name;
            if cap.is_empty() || baseline_capability(cap) || dangerous(cap).is_some() {
                continue;
            }
            out.push(Emit::new(
                added.pointer,
                format!(
                    "{} adds capability {cap}, outside the default set; remove it",
                    describe(&added.container)
                ),
            ));
        }
    }
}
