use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// An API server whose audit events go nowhere.
    pub struct ApiserverNoAuditBackend;
    checks: Node,
    id: "LOG003",
    slug: "apiserver-no-audit-backend",
    title: "API server sends audit events to no backend",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "kube-apiserver has neither `--audit-log-path` (the log backend) nor \
`--audit-webhook-config-file` (the webhook backend). Unlike the benchmark's check (CIS 1.2.16), \
which asks for a log file, a webhook backend alone is enough here.",
    rationale: "Without a backend the API server records nothing, whatever its audit policy \
says: there is no trace of who read a Secret or created a privileged pod.",
    remediation: "Write the audit log to a file (and ship it off the node):\n\n```text\n\
--audit-log-path=/var/log/kubernetes/audit/audit.log\n--audit-log-maxage=30\n\
--audit-log-maxbackup=10\n--audit-log-maxsize=100\n```\n\nor send events to a collector with \
`--audit-webhook-config-file`.",
    references: &[
        Reference::new(Framework::Cis, "1.2.16"),
        Reference::url(
            Framework::Docs,
            "Auditing: audit backends",
            "https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/#audit-backends",
        ),
    ],
    fix: None,
}

impl NodeRule for ApiserverNoAuditBackend {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        let Some(audit) = &cx.audit.audit else {
            return;
        };
        if audit.log_path.is_none() && audit.webhook.is_none() {
            out.push(NodeEmit {
                location: audit.anchor.clone(),
                message: "neither --audit-log-path nor --audit-webhook-config-file is set: audit events are not recorded".to_owned(),
                severity: None,
            });
        }
    }
}
