use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::image::parse_image;
use crate::rules::util::describe;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Runtime-security agents run privileged where their eBPF probe needs named capabilities.
    pub struct AgentPrivileged;
    checks: Object,
    id: "POD020",
    slug: "agent-privileged",
    title: "Security agent runs privileged instead of with named capabilities",
    severity: Severity::Info,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A Falco container runs `privileged: true`; with the modern eBPF probe (kernel \
5.8 and later) it needs only `BPF`, `PERFMON`, `SYS_RESOURCE` and `SYS_PTRACE`.",
    rationale: "Guides copy the privileged DaemonSet written for the kernel-module driver. The \
agent runs on every node and reads every event: privileged, a flaw in its parsing of untrusted \
input is root on every node. The modern eBPF probe is built into the agent and loads with a few \
capabilities.",
    remediation: "Select the modern eBPF driver and replace `privileged: true` with the \
capabilities it needs:\n\n```yaml\nargs: [\"-o\", \"engine.kind=modern_ebpf\"]\nsecurityContext:\n  \
privileged: false\n  capabilities:\n    drop: [ALL]\n    add: [BPF, PERFMON, SYS_RESOURCE, SYS_PTRACE]\n```",
    references: &[
        Reference::url(
            Framework::Docs,
            "Falco least privileged mode",
            "https://falco.org/docs/setup/container/",
        ),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "baseline/privileged"),
    ],
    fix: None,
}

/// Image repositories of agents whose modern eBPF probe runs without privileged mode.
const AGENTS: &[&str] = &["falco", "falco-no-driver", "falco-distroless"];

impl ObjectRule for AgentPrivileged {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.pod.is_none() {
            return;
        }
        for container in &cx.containers {
            let Some(image) = container.container.get("image").and_then(Value::as_str) else {
                continue;
            };
            let repository = parse_image(image).name.rsplit('/').next().unwrap_or("");
            if !AGENTS.contains(&repository) {
                continue;
            }
            let pointer = container.field("securityContext/privileged");
            if cx.object.value.at(&pointer) != Some(&Value::Bool(true)) {
                continue;
            }
            out.push(Emit::new(
                pointer,
                format!(
                    "{} runs Falco privileged; with the modern eBPF probe it needs only capabilities BPF, PERFMON, SYS_RESOURCE and SYS_PTRACE",
                    describe(container)
                ),
            ));
        }
    }
}
