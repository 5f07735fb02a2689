use palisade_core::rule::{Framework, Reference, Severity};

use super::{is_system_user, target, who};
use crate::{declare_rule, Emit, EventCx, EventRule};

/// Built-in roles that add-ons are expected to change.
const EXPECTED: &[&str] = &["system:coredns", "system:managed-certificate-controller"];

declare_rule! {
    /// A built-in `system:` role modified or deleted.
    pub struct SystemRoleChanged;
    checks: Event,
    id: "EVT008",
    slug: "audit-system-role-changed",
    title: "System role modified or deleted",
    severity: Severity::Medium,
    category: "event",
    kinds: &["Event"],
    summary: "A successful update, patch or delete of a Role or ClusterRole named `system:…` \
by a user that is not one of the cluster's own identities (Falco: `System ClusterRole \
Modified/Deleted`).",
    rationale: "The `system:` roles are what the control plane's components and nodes run as. \
Widening one quietly grants every node or controller more; changing or deleting one breaks \
the component or hides a backdoor among defaults nobody reviews.",
    remediation: "Compare the role with its default (the API server reconciles the built-in \
roles on restart unless `rbac.authorization.kubernetes.io/autoupdate: \"false\"` is set), and \
find out who changed it.",
    references: &[
        Reference::url(Framework::Mitre, "T1098", "https://attack.mitre.org/techniques/T1098/"),
    ],
    fix: None,
}

impl EventRule for SystemRoleChanged {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        let name = req.name();
        if req.complete()
            && req.succeeded()
            && matches!(req.verb(), "update" | "patch" | "delete")
            && matches!(req.resource(), "roles" | "clusterroles")
            && name.starts_with("system:")
            && !EXPECTED.contains(&name)
            && !is_system_user(req.user())
        {
            out.push(Emit::new(
                "/objectRef/name",
                format!(
                    "{} {}d built-in role {}",
                    who(req),
                    verb_past(req.verb()),
                    target(req)
                ),
            ));
        }
    }
}

fn verb_past(verb: &str) -> &str {
    match verb {
        "update" => "update",
        "patch" => "patche",
        _ => "delete",
    }
}
