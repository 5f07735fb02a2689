use palisade_core::rule::{Framework, Reference, Severity};

use super::{is_system_user, target, who, KUBE_NAMESPACES};
use crate::{declare_rule, Emit, EventCx, EventRule};

declare_rule! {
    /// A pod created in a control-plane namespace by a person or an application.
    pub struct KubeNamespacePod;
    checks: Event,
    id: "EVT011",
    slug: "audit-kube-namespace-pod",
    title: "Pod created in kube-system or kube-public",
    severity: Severity::Medium,
    category: "event",
    kinds: &["Event"],
    summary: "A successful create of a pod in `kube-system` or `kube-public` by a user that is \
not one of the cluster's own identities (controllers create the control plane's pods; Falco: \
`Pod Created in Kube Namespace`).",
    rationale: "A pod in `kube-system` can mount the service accounts of the control plane's \
add-ons and hides among their pods: a common place for an attacker's workload.",
    remediation: "Check who created the pod and with which image; delete it if it is not \
expected. Deploy applications in their own namespaces.",
    references: &[
        Reference::url(Framework::Mitre, "T1610", "https://attack.mitre.org/techniques/T1610/"),
    ],
    fix: None,
}

impl EventRule for KubeNamespacePod {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if req.complete()
            && req.succeeded()
            && req.verb() == "create"
            && req.resource() == "pods"
            && req.subresource().is_empty()
            && KUBE_NAMESPACES.contains(&req.namespace())
            && !is_system_user(req.user())
        {
            out.push(Emit::new(
                "/objectRef/namespace",
                format!("{} created pod {}", who(req), target(req)),
            ));
        }
    }
}
