use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, Emit, ObjectCx, ObjectRule, RequestObject};

declare_rule! {
    /// Objects placed in the `default` namespace.
    pub struct DefaultNamespace;
    checks: Object,
    id: "POD018",
    slug: "default-namespace",
    title: "Object is in the default namespace",
    severity: Severity::Low,
    category: "workload",
    kinds: &["*"],
    summary: "An object sets `metadata.namespace: default`.",
    rationale: "Namespaces are the unit of RBAC, NetworkPolicy, quotas and Pod Security \
admission. The `default` namespace usually has none of them configured, and everything in it \
shares one trust boundary with whatever else lands there.",
    remediation: "Create a namespace per application or team, with its own policies, and set \
`metadata.namespace` to it (or leave it out and let the deployment tool set it).",
    references: &[
        Reference::new(Framework::Cis, "5.6.4"),
        Reference::new(Framework::NsaCisa, "Network separation and hardening"),
    ],
    fix: None,
}

impl ObjectRule for DefaultNamespace {
    fn may_report_request_object(&self, object: &RequestObject<'_>) -> bool {
        object.kind != "Event"
    }

    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.object.namespace() != Some("default") {
            return;
        }
        // The API server's own Service, Endpoints and EndpointSlice live there.
        if cx.object.name() == "kubernetes"
            && matches!(cx.object.kind(), "Service" | "Endpoints" | "EndpointSlice")
        {
            return;
        }
        // An Event is a record that components write in the namespace of the object it is
        // about; that object is the one to report (audit logs carry many such creates).
        if cx.object.kind() == "Event" {
            return;
        }
        out.push(Emit::new(
            "/metadata/namespace",
            format!(
                "{} is in the default namespace; put it in a namespace of its own",
                cx.object.kind()
            ),
        ));
    }
}
