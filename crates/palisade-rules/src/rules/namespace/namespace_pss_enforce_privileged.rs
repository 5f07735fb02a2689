use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::{Level, Mode};

use super::{is_system, label, label_pointer, KINDS};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Application namespaces that enforce the privileged level.
    pub struct EnforcePrivileged;
    checks: Object,
    id: "NS002",
    slug: "namespace-pss-enforce-privileged",
    title: "Namespace enforces the privileged Pod Security level",
    severity: Severity::High,
    category: "namespace",
    kinds: KINDS,
    summary: "A Namespace outside the system namespaces (`system-namespaces` setting) sets \
`pod-security.kubernetes.io/enforce: privileged`.",
    rationale: "The privileged level checks nothing: pods may run privileged, mount the node's \
file system and join its network and process namespaces. Anyone allowed to create pods in the \
namespace, or to compromise a controller that does, can take over the node. Only node agents \
(CNI, CSI, monitoring daemons) need this, and they belong in dedicated system namespaces.",
    remediation: "Enforce baseline at least, and restricted where the workloads allow it \
(`palisade pss suggest` lists the workloads that block each level). Move node agents that \
need host access to a dedicated namespace listed in `system-namespaces`.\n\n```yaml\n\
metadata:\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    \
pod-security.kubernetes.io/warn: restricted\n```",
    references: &[
        Reference::new(Framework::Cis, "5.2.1"),
        Reference::url(
            Framework::Pss,
            "privileged",
            "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
        ),
    ],
    fix: None,
}

impl ObjectRule for EnforcePrivileged {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let object = cx.object;
        let key = Mode::Enforce.level_label();
        if is_system(object, cx.settings) || label(object, &key) != Some(Level::Privileged.as_str())
        {
            return;
        }
        out.push(Emit::new(
            label_pointer(&key),
            format!(
                "namespace {} enforces the privileged level: any pod is admitted, including \
                 privileged pods with host access; enforce baseline or restricted, or list it in \
                 the system-namespaces setting if it only runs node agents",
                object.name()
            ),
        ));
    }
}
