use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// An audit policy the API server names but that cannot be used.
    pub struct ApiserverAuditPolicyUnreadable;
    checks: Node,
    id: "LOG002",
    slug: "apiserver-audit-policy-unreadable",
    title: "API server names an audit policy that cannot be read",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "`--audit-policy-file` of kube-apiserver is set, but the file it names (on the \
host, through the static pod's hostPath mounts) is missing, unreadable, malformed, or not an \
`audit.k8s.io` `Policy`. The benchmark's check (CIS 3.2.1) only asks for the flag. When the \
policy is read, the audit policy rules (`AUD…`) run on it.",
    rationale: "The API server does not start with a policy it cannot read; one that is not \
mounted into the static pod, or not the file that was reviewed, leaves the cluster without the \
audit trail everyone assumes it has.",
    remediation: "Make `--audit-policy-file` name the policy as the API server sees it, and mount \
its folder into the static pod:\n\n```yaml\nvolumeMounts:\n- mountPath: /etc/kubernetes/audit\n  \
name: audit\n  readOnly: true\nvolumes:\n- hostPath:\n    path: /etc/kubernetes/audit\n    type: \
DirectoryOrCreate\n  name: audit\n```",
    references: &[
        Reference::new(Framework::Cis, "3.2.1"),
        Reference::url(
            Framework::Docs,
            "Auditing: audit policy",
            "https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/#audit-policy",
        ),
    ],
    fix: None,
}

impl NodeRule for ApiserverAuditPolicyUnreadable {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        let Some(audit) = &cx.audit.audit else {
            return;
        };
        if let Some((location, Some(problem))) = &audit.policy {
            out.push(NodeEmit {
                location: location.clone(),
                message: problem.clone(),
                severity: None,
            });
        }
    }
}
