use palisade_core::rule::{Framework, Reference, Severity};

use super::{target, who};
use crate::{declare_rule, Emit, EventCx, EventRule};

declare_rule! {
    /// Exec or attach into a running container.
    pub struct PodExec;
    checks: Event,
    id: "EVT001",
    slug: "audit-pod-exec",
    title: "Exec or attach into a pod",
    severity: Severity::Medium,
    category: "event",
    kinds: &["Event"],
    summary: "An audit event records a `pods/exec` or `pods/attach` session (Falco: `Attach/Exec \
Pod`). The event is taken at `ResponseStarted`, when the session is open.",
    rationale: "A shell in a running container is how an attacker with pod access reads \
mounted secrets and service account tokens, and moves on from there; it also bypasses every \
control applied to images and manifests. Outside of debugging, production pods are not entered.",
    remediation: "Find out who opened the session and why. Remove `pods/exec` and `pods/attach` \
from roles that do not need them (`palisade rbac who-can create pods/exec`), and use ephemeral \
debug containers with an approval process instead.",
    references: &[
        Reference::url(Framework::Mitre, "T1609", "https://attack.mitre.org/techniques/T1609/"),
        Reference::new(Framework::NsaCisa, "Audit logging and threat detection"),
    ],
    fix: None,
}

impl EventRule for PodExec {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if req.started()
            && req.resource() == "pods"
            && matches!(req.subresource(), "exec" | "attach")
            && matches!(req.verb(), "create" | "get")
        {
            out.push(Emit::new(
                "/objectRef/subresource",
                format!(
                    "{} opened a {} session into pod {}",
                    who(req),
                    req.subresource(),
                    target(req)
                ),
            ));
        }
    }
}
