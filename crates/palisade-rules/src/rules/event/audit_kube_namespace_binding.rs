use palisade_core::rule::{Framework, Reference, Severity};

use super::{is_system_user, target, who, KUBE_NAMESPACES};
use crate::{declare_rule, Emit, EventCx, EventRule};

declare_rule! {
    /// A RoleBinding created in a control-plane namespace by a person or an application.
    pub struct KubeNamespaceBinding;
    checks: Event,
    id: "EVT005",
    slug: "audit-kube-namespace-binding",
    title: "RoleBinding created in kube-system or kube-public",
    severity: Severity::High,
    category: "event",
    kinds: &["Event"],
    summary: "A successful create of a RoleBinding in `kube-system` or `kube-public` by a user \
that is not one of the cluster's own identities (`system:…`).",
    rationale: "A binding in `kube-system` grants access to the control plane's secrets and \
service account tokens: whoever is bound can usually become cluster-admin.",
    remediation: "Check the binding's role and subjects (`kubectl -n kube-system get rolebinding \
NAME -o yaml`) and delete it if it is not expected.",
    references: &[
        Reference::url(Framework::Mitre, "T1098", "https://attack.mitre.org/techniques/T1098/"),
        Reference::new(Framework::Cis, "5.1.1"),
    ],
    fix: None,
}

impl EventRule for KubeNamespaceBinding {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if req.complete()
            && req.succeeded()
            && req.verb() == "create"
            && req.resource() == "rolebindings"
            && KUBE_NAMESPACES.contains(&req.namespace())
            && !is_system_user(req.user())
        {
            out.push(Emit::new(
                "/objectRef/name",
                format!("{} created role binding {}", who(req), target(req)),
            ));
        }
    }
}
