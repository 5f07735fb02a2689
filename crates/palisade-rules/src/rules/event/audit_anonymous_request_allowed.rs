use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, Emit, EventCx, EventRule};

/// Endpoints the API server serves to anyone by design.
fn health_check(uri: &str) -> bool {
    ["/healthz", "/livez", "/readyz"].iter().any(|p| {
        uri == *p
            || uri
                .strip_prefix(p)
                .is_some_and(|r| r.starts_with('?') || r.starts_with('/'))
    })
}

declare_rule! {
    /// A request by the anonymous user that the API server allowed.
    pub struct AnonymousRequestAllowed;
    checks: Event,
    id: "EVT007",
    slug: "audit-anonymous-request-allowed",
    title: "Anonymous request allowed",
    severity: Severity::High,
    category: "event",
    kinds: &["Event"],
    summary: "A completed request by `system:anonymous` that the authorizer allowed, other than \
the health endpoints (Falco: `Anonymous Request Allowed`).",
    rationale: "Anonymous access means anyone who reaches the API server is authorized for \
something: a binding to `system:anonymous` or `system:unauthenticated` turns that into \
reading or changing the cluster without credentials.",
    remediation: "Start the API server with `--anonymous-auth=false` (or an \
`AuthenticationConfiguration` that allows anonymous access to the health endpoints only), and \
remove bindings to `system:anonymous` and `system:unauthenticated` (palisade rule RBAC012).",
    references: &[
        Reference::new(Framework::Cis, "1.2.1"),
        Reference::new(Framework::NsaCisa, "Authentication and authorization"),
    ],
    fix: None,
}

impl EventRule for AnonymousRequestAllowed {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if req.complete()
            && req.user() == "system:anonymous"
            && req.decision() == "allow"
            && !health_check(req.uri())
        {
            out.push(Emit::new(
                "/user/username",
                format!("anonymous request allowed: {} {}", req.verb(), req.uri()),
            ));
        }
    }
}
