use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::controls::windows_host_process;

use crate::rules::util::describe;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Pods and containers that run as Windows HostProcess containers.
    pub struct WindowsHostProcess;
    checks: Object,
    id: "POD021",
    slug: "windows-host-process",
    title: "Pod runs Windows HostProcess containers",
    severity: Severity::Critical,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "The pod's or a container's (init and ephemeral containers included) \
`securityContext.windowsOptions.hostProcess` is `true`, reported at each such field, in system \
namespaces too. Pod Security's baseline \
`windowsHostProcess` check (PSS012) judges the same control, but only in namespaces that carry \
Pod Security labels.",
    rationale: "A HostProcess container is not isolated at all: it runs as a process of the \
Windows node, in the node's network, with the node's file system and, typically, as \
`NT AUTHORITY\\SYSTEM`. Whoever controls its image or command controls the node, every pod on \
it and the credentials the kubelet holds.",
    remediation: "Remove `hostProcess: true`. Node management that needs it (CNI, storage and \
monitoring agents on Windows nodes) belongs in a dedicated namespace with restricted access; \
suppress the finding for those workloads by name with a reason.",
    references: &[
        Reference::new(Framework::Cis, "5.2.10"),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "baseline/windowsHostProcess"),
        Reference::url(
            Framework::Docs,
            "Create a Windows HostProcess Pod",
            "https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/",
        ),
    ],
    fix: None,
}

impl ObjectRule for WindowsHostProcess {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        if windows_host_process(spec.spec) {
            out.push(Emit::new(
                spec.field("securityContext/windowsOptions/hostProcess"),
                "pod sets windowsOptions.hostProcess: true, so all its containers run as processes \
of the Windows node with full control of it; remove it",
            ));
        }
        for container in &cx.containers {
            if windows_host_process(container.container) {
                out.push(Emit::new(
                    container.field("securityContext/windowsOptions/hostProcess"),
                    format!(
                        "{} sets windowsOptions.hostProcess: true and runs as a process of the \
Windows node with full control of it; remove it",
                        describe(container)
                    ),
                ));
            }
        }
    }
}
