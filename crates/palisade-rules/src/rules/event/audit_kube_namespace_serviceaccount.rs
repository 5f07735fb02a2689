use palisade_core::rule::{Framework, Reference, Severity};

use super::{target, who, KUBE_NAMESPACES};
use crate::{declare_rule, Emit, EventCx, EventRule};

/// The controllers' own service accounts, which the control plane creates in `kube-system`.
const KNOWN: &[&str] = &[
    "attachdetach-controller",
    "bootstrap-signer",
    "certificate-controller",
    "clusterrole-aggregation-controller",
    "coredns",
    "coredns-autoscaler",
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "disruption-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "endpointslicemirroring-controller",
    "ephemeral-volume-controller",
    "expand-controller",
    "generic-garbage-collector",
    "horizontal-pod-autoscaler",
    "job-controller",
    "kube-proxy",
    "namespace-controller",
    "node-controller",
    "persistent-volume-binder",
    "pod-garbage-collector",
    "pv-protection-controller",
    "pvc-protection-controller",
    "replicaset-controller",
    "replication-controller",
    "resourcequota-controller",
    "root-ca-cert-publisher",
    "service-account-controller",
    "service-controller",
    "statefulset-controller",
    "token-cleaner",
    "ttl-after-finished-controller",
    "ttl-controller",
];

declare_rule! {
    /// A service account created in a control-plane namespace.
    pub struct KubeNamespaceServiceAccount;
    checks: Event,
    id: "EVT004",
    slug: "audit-kube-namespace-serviceaccount",
    title: "Service account created in kube-system or kube-public",
    severity: Severity::Medium,
    category: "event",
    kinds: &["Event"],
    summary: "A successful create of a ServiceAccount in `kube-system` or `kube-public` that is \
not one of the controllers' own accounts (Falco: `Service Account Created in Kube Namespace`).",
    rationale: "Control-plane namespaces hold the most privileged identities. A new account \
there blends in with the controllers' and is a classic place for an attacker's persistence.",
    remediation: "Check who created the account and what is bound to it; delete it if it is \
not expected. Create applications' accounts in the applications' namespaces.",
    references: &[
        Reference::url(Framework::Mitre, "T1136", "https://attack.mitre.org/techniques/T1136/"),
    ],
    fix: None,
}

impl EventRule for KubeNamespaceServiceAccount {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if req.complete()
            && req.succeeded()
            && req.verb() == "create"
            && req.resource() == "serviceaccounts"
            && req.subresource().is_empty()
            && KUBE_NAMESPACES.contains(&req.namespace())
            && !KNOWN.contains(&req.name())
        {
            out.push(Emit::new(
                "/objectRef/name",
                format!("{} created service account {}", who(req), target(req)),
            ));
        }
    }
}
