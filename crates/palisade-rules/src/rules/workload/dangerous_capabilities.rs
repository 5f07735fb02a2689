use palisade_core::rule::{Framework, Reference, Severity};

use crate::rules::util::{added_capabilities, describe, in_system_namespace};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers that add capabilities that amount to node or network control.
    pub struct DangerousCapabilities;
    checks: Object,
    id: "POD008",
    slug: "dangerous-capabilities",
    title: "Container adds a dangerous capability",
    severity: Severity::High,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container's `securityContext.capabilities.add` contains `SYS_ADMIN`, `NET_ADMIN`, \
`NET_RAW`, `SYS_PTRACE`, `SYS_MODULE`, `BPF`, `DAC_READ_SEARCH` or `ALL`. The network \
capabilities (`NET_ADMIN`, `NET_RAW`) are not reported in system namespaces, where CNI plugins \
need them. Pod Security's baseline `capabilities_baseline` check forbids adding any capability \
outside the runtime's default set; this rule reports only these dangerous ones, with names read \
as container runtimes read them (`cap_sys_admin` counts), and the non-default-capabilities rule \
(POD022) the others.",
    rationale: "These capabilities break the container boundary: `SYS_ADMIN` mounts file \
systems and is close to privileged, `SYS_MODULE` loads kernel modules, `SYS_PTRACE` reads other \
processes' memory, `BPF` loads kernel programs, `DAC_READ_SEARCH` reads any host file through \
open-by-handle (the \"shocker\" escape), `NET_ADMIN` rewrites the pod's routing and firewall, \
and `NET_RAW` spoofs traffic of neighbouring pods.",
    remediation: "Remove the capability. If a component really needs one (a CNI plugin needs \
`NET_ADMIN`, a mesh's init container `NET_ADMIN` and `NET_RAW`), keep it on that container only, \
after `drop: [ALL]`, and suppress the finding for it with a reason.",
    references: &[
        Reference::new(Framework::Cis, "5.2.8"),
        Reference::new(
            Framework::NsaCisa,
            "Pod security: non-root containers and privileges",
        ),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "baseline/capabilities"),
    ],
    fix: None,
}

/// Capabilities that this rule reports, with what each allows.
const DANGEROUS: &[(&str, &str)] = &[
    ("ALL", "every capability, as privileged"),
    ("SYS_ADMIN", "mounts and most privileged operations"),
    ("SYS_MODULE", "loading kernel modules"),
    ("SYS_PTRACE", "tracing other processes"),
    ("BPF", "loading BPF programs into the kernel"),
    ("DAC_READ_SEARCH", "reading host files by handle"),
    ("NET_ADMIN", "changing network configuration"),
    ("NET_RAW", "raw sockets and packet spoofing"),
];

/// What a capability (as [`capability`] spells it) allows, if this rule reports it.
pub(crate) fn dangerous(cap: &str) -> Option<&'static str> {
    DANGEROUS
        .iter()
        .find(|(c, _)| *c == cap)
        .map(|(_, what)| *what)
}

impl ObjectRule for DangerousCapabilities {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let system = in_system_namespace(cx.object, cx.settings);
        for added in added_capabilities(cx.object) {
            let cap = added.name.as_str();
            let Some(what) = dangerous(cap) else {
                continue;
            };
            if system && matches!(cap, "NET_ADMIN" | "NET_RAW") {
                continue;
            }
            let emit = Emit::new(
                added.pointer,
                format!(
                    "{} adds capability {cap} ({what}); remove it",
                    describe(&added.container)
                ),
            );
            out.push(if matches!(cap, "ALL" | "SYS_ADMIN" | "SYS_MODULE") {
                emit.with_severity(Severity::Critical)
            } else {
                emit
            });
        }
    }
}
