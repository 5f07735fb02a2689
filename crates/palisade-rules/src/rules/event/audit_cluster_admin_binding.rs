use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use super::{target, who};
use crate::{declare_rule, Emit, EventCx, EventRule};

declare_rule! {
    /// A binding to the cluster-admin role created.
    pub struct ClusterAdminBinding;
    checks: Event,
    id: "EVT006",
    slug: "audit-cluster-admin-binding",
    title: "Binding to cluster-admin created",
    severity: Severity::High,
    category: "event",
    kinds: &["Event"],
    summary: "A create of a ClusterRoleBinding or RoleBinding whose `roleRef` is `cluster-admin` \
(Falco: `Attach to cluster-admin Role`).",
    rationale: "`cluster-admin` allows everything. A new binding to it is the shortest path to \
owning the cluster and the first thing an attacker with `bind` or `create \
clusterrolebindings` does.",
    remediation: "Check the subjects of the binding and delete it if it is not expected. Grant \
narrower roles; keep `cluster-admin` to break-glass accounts.",
    references: &[
        Reference::new(Framework::Cis, "5.1.1"),
        Reference::url(Framework::Mitre, "T1098", "https://attack.mitre.org/techniques/T1098/"),
    ],
    fix: None,
}

impl EventRule for ClusterAdminBinding {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if !(req.complete()
            && req.verb() == "create"
            && matches!(req.resource(), "clusterrolebindings" | "rolebindings"))
            || req.code().is_some_and(|c| c >= 300)
        {
            return;
        }
        let Some(object) = req.request_object() else {
            return;
        };
        if object.pointer("/roleRef/name").and_then(Value::as_str) != Some("cluster-admin") {
            return;
        }
        let subjects: Vec<String> = object
            .get("subjects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| {
                let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
                let kind = s.get("kind").and_then(Value::as_str).unwrap_or("?");
                format!("{kind} {name}")
            })
            .collect();
        out.push(Emit::new(
            "/requestObject/roleRef/name",
            format!(
                "{} bound cluster-admin to {} ({})",
                who(req),
                if subjects.is_empty() {
                    "no subject".to_owned()
                } else {
                    subjects.join(", ")
                },
                target(req)
            ),
        ));
    }
}
