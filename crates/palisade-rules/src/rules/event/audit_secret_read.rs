use palisade_core::rule::{Framework, Reference, Severity};

use super::{is_system_user, target, who};
use crate::{declare_rule, Emit, EventCx, EventRule};

declare_rule! {
    /// A secret read by a person or a tool rather than by the cluster's own components.
    pub struct SecretRead;
    checks: Event,
    id: "EVT009",
    slug: "audit-secret-read",
    title: "Secret read by a user",
    severity: Severity::Medium,
    category: "event",
    kinds: &["Event"],
    summary: "A successful `get` of a Secret by a user that is not one of the cluster's own \
identities (`system:…`; Falco: `K8s Secret Get Successfully`).",
    rationale: "Workloads receive their secrets through the kubelet; people and CI tools \
rarely need to read them through the API. A read by a person's account or a stolen token is \
how credentials leave the cluster.",
    remediation: "Check who read the secret and why. Remove `get`, `list` and `watch` on \
secrets from roles that do not need them (`palisade rbac who-can get secrets`).",
    references: &[
        Reference::url(Framework::Mitre, "T1552.007", "https://attack.mitre.org/techniques/T1552/007/"),
        Reference::new(Framework::Cis, "5.1.2"),
    ],
    fix: None,
}

impl EventRule for SecretRead {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if req.complete()
            && req.succeeded()
            && req.verb() == "get"
            && req.resource() == "secrets"
            && req.subresource().is_empty()
            && !is_system_user(req.user())
        {
            out.push(Emit::new(
                "/objectRef/name",
                format!("{} read secret {}", who(req), target(req)),
            ));
        }
    }
}
