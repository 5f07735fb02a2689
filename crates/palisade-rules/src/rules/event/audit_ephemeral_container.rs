use palisade_core::rule::{Framework, Reference, Severity};

use super::{target, who};
use crate::{declare_rule, Emit, EventCx, EventRule};

declare_rule! {
    /// An ephemeral container added to a running pod.
    pub struct EphemeralContainer;
    checks: Event,
    id: "EVT003",
    slug: "audit-ephemeral-container",
    title: "Ephemeral container added to a pod",
    severity: Severity::Medium,
    category: "event",
    kinds: &["Event"],
    summary: "A successful write to `pods/ephemeralcontainers` (`kubectl debug`; Falco: \
`EphemeralContainers Created`).",
    rationale: "An ephemeral container runs any image inside a running pod, sharing its network \
and, with `targetContainerName`, its process namespace: a way to get tools and a shell next to \
a workload's secrets without changing its manifest.",
    remediation: "Check who added the container and with which image. Restrict \
`pods/ephemeralcontainers` to the people who debug production.",
    references: &[
        Reference::url(Framework::Mitre, "T1609", "https://attack.mitre.org/techniques/T1609/"),
    ],
    fix: None,
}

impl EventRule for EphemeralContainer {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if req.complete()
            && req.succeeded()
            && req.resource() == "pods"
            && req.subresource() == "ephemeralcontainers"
            && matches!(req.verb(), "create" | "update" | "patch")
        {
            out.push(Emit::new(
                "/objectRef/subresource",
                format!(
                    "{} added an ephemeral container to pod {}",
                    who(req),
                    target(req)
                ),
            ));
        }
    }
}
