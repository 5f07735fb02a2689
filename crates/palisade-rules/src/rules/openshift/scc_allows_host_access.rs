use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// SecurityContextConstraints that let pods leave their isolation.
    pub struct SccAllowsHostAccess;
    checks: Object,
    id: "OSE001",
    slug: "scc-allows-host-access",
    title: "SecurityContextConstraints allow privileged or host access",
    severity: Severity::High,
    category: "openshift",
    kinds: &["SecurityContextConstraints"],
    summary: "An OpenShift `SecurityContextConstraints` (`security.openshift.io/v1`) allows \
privileged containers (`allowPrivilegedContainer: true`), the node's namespaces \
(`allowHostPID`, `allowHostNetwork`, `allowHostIPC` true), host ports (`allowHostPorts: \
true`), host path volumes (`allowHostDirVolumePlugin: true`) or any user ID, root included \
(`runAsUser.type: RunAsAny`). One finding per SCC lists everything it allows, at the most \
severe of those fields, in the order above: an SCC is granted as a whole, so it is reviewed, \
fixed or suppressed as a whole.",
    rationale: "On OpenShift, SCCs decide which pods may run: a pod is admitted under any SCC \
its service account or user may use. An SCC that allows privileged containers, the host's \
namespaces or host paths lets every pod admitted under it take over its node; one that allows \
any user ID lets images run as root. OpenShift ships such SCCs (`privileged`, `hostaccess`, \
`hostmount-anyuid`, `anyuid`) for its own components; custom ones that copy them widen who \
may do so.",
    remediation: "Start from `restricted-v2` and grant only what the workload needs, to its \
own service account:\n\n```yaml\napiVersion: security.openshift.io/v1\nkind: \
SecurityContextConstraints\nallowPrivilegedContainer: false\nallowHostNetwork: false\n\
allowHostPID: false\nallowHostIPC: false\nallowHostPorts: false\nallowHostDirVolumePlugin: \
false\nrunAsUser:\n  type: MustRunAsRange\n```",
    references: &[
        Reference::new(Framework::Pss, "baseline/privileged"),
        Reference::new(Framework::Pss, "baseline/hostNamespaces"),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::url(
            Framework::Docs,
            "OpenShift: Managing security context constraints",
            "https://docs.openshift.com/container-platform/latest/authentication/managing-security-context-constraints.html",
        ),
    ],
    fix: None,
}

/// What pods admitted under an SCC that allows a field can do.
const TAKE_OVER: &str = "pods admitted under them can take over their node";

/// The boolean fields that open the node to the pods, most severe first, with what each allows
/// and what it lets pods do.
const HOST_ACCESS: &[(&str, &str, &str)] = &[
    (
        "allowPrivilegedContainer",
        "privileged containers",
        TAKE_OVER,
    ),
    ("allowHostPID", "the host's PID namespace", TAKE_OVER),
    ("allowHostNetwork", "the host's network", TAKE_OVER),
    ("allowHostIPC", "the host's IPC namespace", TAKE_OVER),
    ("allowHostDirVolumePlugin", "host path volumes", TAKE_OVER),
    (
        "allowHostPorts",
        "host ports",
        "pods admitted under them can listen on the node's addresses, outside Services and \
NetworkPolicies",
    ),
];

impl ObjectRule for SccAllowsHostAccess {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.object.group() != "security.openshift.io" {
            return;
        }
        let value = &cx.object.value;
        let mut allowed: Vec<(String, &str, &str)> = HOST_ACCESS
            .iter()
            .filter(|(field, _, _)| value.get(*field) == Some(&Value::Bool(true)))
            .map(|(field, what, consequence)| (format!("/{field}"), *what, *consequence))
            .collect();
        if value.at("/runAsUser/type").and_then(Value::as_str) == Some("RunAsAny") {
            allowed.push((
                "/runAsUser/type".to_owned(),
                "any user ID, root included",
                "pods admitted under them may run as root",
            ));
        }
        let Some((pointer, _, consequence)) = allowed.first() else {
            return;
        };
        let list: Vec<&str> = allowed.iter().map(|(_, what, _)| *what).collect();
        out.push(Emit::new(
            pointer.clone(),
            format!(
                "these SecurityContextConstraints allow {}; {consequence}: grant only what the \
workload needs",
                list.join(", ")
            ),
        ));
    }
}
