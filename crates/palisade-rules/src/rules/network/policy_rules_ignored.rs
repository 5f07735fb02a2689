use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use palisade_netpol::PolicyTypes;
use serde_json::Value;

use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// NetworkPolicy rules that its policyTypes ignore.
    pub struct PolicyRulesIgnored;
    checks: Object,
    id: "NET008",
    slug: "policy-rules-ignored",
    title: "NetworkPolicy rules that its policyTypes ignore",
    severity: Severity::Medium,
    category: "network",
    kinds: &["NetworkPolicy"],
    summary: "A NetworkPolicy has `egress` rules while its `policyTypes` lists only `Ingress`, \
or `ingress` rules while its `policyTypes` lists only `Egress`. The finding points at the \
ignored `egress:` or `ingress:` key. Only an explicit `policyTypes` can do this: when the field \
is absent (or empty), Kubernetes sets it to `Ingress`, plus `Egress` when the policy has egress \
rules, so every rule written applies.",
    rationale: "Kubernetes applies a policy only in the directions its `policyTypes` lists and \
ignores the rules of the other direction without a warning. The author believes the selected \
pods are restricted (or allowed) in that direction; they are not: their egress stays open, or \
the ingress they were meant to receive is not allowed by this policy.",
    remediation: "List both directions when the policy has rules for both:\n\n```yaml\nspec:\n  \
policyTypes: [Ingress, Egress]\n```\n\nor delete the rules of the direction the policy is not \
meant to govern.",
    references: &[
        Reference::new(Framework::NsaCisa, "Network separation and hardening"),
        Reference::url(
            Framework::Docs,
            "Network Policies: the NetworkPolicy resource",
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource",
        ),
    ],
    fix: None,
}

impl ObjectRule for PolicyRulesIgnored {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.object.group() != "networking.k8s.io" {
            return;
        }
        let Some(spec) = cx.object.value.at("/spec") else {
            return;
        };
        let types = PolicyTypes::of(spec);
        if !types.explicit {
            return;
        }
        for (field, applies, direction) in [
            ("ingress", types.ingress, "Ingress"),
            ("egress", types.egress, "Egress"),
        ] {
            let has_rules =
                matches!(spec.get(field), Some(Value::Array(rules)) if !rules.is_empty());
            if has_rules && !applies {
                out.push(Emit::new(
                    format!("/spec/{field}"),
                    format!(
                        "these {field} rules are ignored: policyTypes does not list {direction}; \
add {direction} to policyTypes or remove the rules"
                    ),
                ));
            }
        }
    }
}
