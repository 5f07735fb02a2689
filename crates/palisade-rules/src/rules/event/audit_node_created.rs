use palisade_core::rule::{Framework, Reference, Severity};

use super::{target, who};
use crate::{declare_rule, Emit, EventCx, EventRule};

declare_rule! {
    /// A node registered with the cluster.
    pub struct NodeCreated;
    checks: Event,
    id: "EVT012",
    slug: "audit-node-created",
    title: "Node joined the cluster",
    severity: Severity::Low,
    category: "event",
    kinds: &["Event"],
    summary: "A create of a Node object, successful or not (Falco: `Untrusted Node Successfully \
Joined the Cluster` and `… Unsuccessfully Tried to Join the Cluster`).",
    rationale: "A node receives the pods scheduled on it, with their secrets. A node that \
joins with stolen bootstrap credentials, outside of the autoscaler's doing, is a way to \
harvest workloads' credentials.",
    remediation: "Check that the node is one of yours (autoscaling, a planned change). Rotate \
bootstrap tokens, and use node authorization and the `NodeRestriction` admission plugin.",
    references: &[
        Reference::new(Framework::Cis, "1.2.6"),
    ],
    fix: None,
}

impl EventRule for NodeCreated {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if req.complete() && req.verb() == "create" && req.resource() == "nodes" {
            let outcome = if req.succeeded() {
                "joined the cluster".to_owned()
            } else {
                format!(
                    "tried to join the cluster (code {})",
                    req.code().map_or("?".to_owned(), |c| c.to_string())
                )
            };
            out.push(Emit::new(
                "/objectRef/name",
                format!("node {} {outcome} ({})", target(req), who(req)),
            ));
        }
    }
}
