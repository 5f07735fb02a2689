use palisade_core::rule::{Framework, Reference, Severity};

use super::{target, who};
use crate::{declare_rule, Emit, EventCx, EventRule};

declare_rule! {
    /// Port-forwarding into a pod.
    pub struct PodPortForward;
    checks: Event,
    id: "EVT002",
    slug: "audit-pod-port-forward",
    title: "Port-forward into a pod",
    severity: Severity::Medium,
    category: "event",
    kinds: &["Event"],
    summary: "An audit event records a `pods/portforward` session (Falco: `port-forward`), taken \
at `ResponseStarted`.",
    rationale: "Port-forwarding opens a tunnel from the client straight to a pod's ports, around \
Services, NetworkPolicies and ingress authentication: a database or an admin port becomes \
reachable from a laptop.",
    remediation: "Find out who opened the tunnel and why, and remove `pods/portforward` from \
roles that do not need it.",
    references: &[
        Reference::url(Framework::Mitre, "T1090", "https://attack.mitre.org/techniques/T1090/"),
    ],
    fix: None,
}

impl EventRule for PodPortForward {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if req.started() && req.resource() == "pods" && req.subresource() == "portforward" {
            out.push(Emit::new(
                "/objectRef/subresource",
                format!("{} port-forwarded into pod {}", who(req), target(req)),
            ));
        }
    }
}
