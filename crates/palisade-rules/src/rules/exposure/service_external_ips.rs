use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Services that claim external IP addresses.
    pub struct ExternalIps;
    checks: Object,
    id: "SVC003",
    slug: "service-external-ips",
    title: "Service sets externalIPs",
    severity: Severity::Medium,
    category: "exposure",
    kinds: &["Service"],
    summary: "A Service sets `spec.externalIPs`.",
    rationale: "kube-proxy routes traffic for any address listed in `externalIPs` to the \
Service, without checking who owns that address. Anyone who can create a Service can intercept \
the cluster's traffic to that IP (CVE-2020-8554, unfixed by design): the recommended mitigation \
is to forbid the field.",
    remediation: "Remove `externalIPs`; expose the Service with a LoadBalancer or an Ingress. \
Block the field cluster-wide with the `DenyServiceExternalIPs` admission plugin or a policy.",
    references: &[
        Reference::url(
            Framework::Cve,
            "CVE-2020-8554",
            "https://github.com/kubernetes/kubernetes/issues/97076",
        ),
        Reference::url(
            Framework::Mitre,
            "T1557",
            "https://attack.mitre.org/techniques/T1557/",
        ),
    ],
    fix: None,
}

impl ObjectRule for ExternalIps {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(Value::Array(ips)) = cx.object.value.at("/spec/externalIPs") else {
            return;
        };
        if ips.is_empty() {
            return;
        }
        let list: Vec<&str> = ips.iter().filter_map(Value::as_str).collect();
        out.push(Emit::new(
            "/spec/externalIPs",
            format!(
                "Service claims external IPs {} (CVE-2020-8554); remove externalIPs",
                list.join(", ")
            ),
        ));
    }
}
