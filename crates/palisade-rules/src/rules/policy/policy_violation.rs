use std::borrow::Cow;

use palisade_core::rule::{Framework, Reference, Severity};
use palisade_core::Object;
use palisade_policy::{is_policy, EnforcementAction, PolicyErrorKind, PolicySet};

use crate::{declare_rule, Emit, Inventory, InventoryRule};

/// The policy objects this rule reads in the input. Constraints (whose kinds their templates
/// define) are evaluated with their templates by `palisade scan` itself.
const KINDS: &[&str] = &[
    "ConstraintTemplate",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

declare_rule! {
    /// A policy-as-code policy denies an object, or a policy cannot be used.
    pub struct PolicyViolation;
    checks: Inventory,
    id: "POL001",
    slug: "policy-violation",
    title: "Object violates a policy-as-code constraint",
    severity: Severity::High,
    category: "policy",
    kinds: KINDS,
    summary: "Evaluates the team's own admission policies wherever palisade runs: OPA Gatekeeper \
        ConstraintTemplates (Rego, or CEL in a `K8sNativeValidation` engine) with their \
        Constraints, and ValidatingAdmissionPolicies (CEL) with their bindings, found in the \
        scanned input or given with `palisade scan --policy DIR`. Each violation is a finding \
        at the object, named after the policy that denies it (`K8sAllowedRepos/repo-is-trusted` \
        or `ValidatingAdmissionPolicyBinding/<name>`) with the policy's own message. Its \
        severity follows the policy's action: `deny` (a binding's `Deny`) is high, `warn` \
        medium, `dryrun` (`Audit`) low. A policy that cannot be used (Rego or CEL that does \
        not compile, a constraint whose template is missing or whose parameters violate the \
        template's schema, a binding without its policy) is a finding at the policy.",
    rationale: "A policy that only runs at admission is found out late: the deployment fails in \
        the cluster instead of in review. A policy that does not compile is worse: Gatekeeper \
        and the API server refuse it, and what it should have denied is admitted.",
    remediation: "Change the object so that the policy admits it (the message says how), or, when \
        the policy is wrong, fix the policy and its test suite (`palisade policy test`). A \
        broken policy is reported at the line that breaks it.",
    references: &[
        Reference::url(
            Framework::Docs,
            "OPA Gatekeeper: how to use Gatekeeper",
            "https://open-policy-agent.github.io/gatekeeper/website/docs/howto/",
        ),
        Reference::url(
            Framework::Docs,
            "Validating Admission Policy",
            "https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/",
        ),
    ],
    fix: None,
}

/// The severity of a violation of a policy with this action.
pub fn severity_of(action: &EnforcementAction) -> Severity {
    match action {
        EnforcementAction::Deny | EnforcementAction::Other(_) => Severity::High,
        EnforcementAction::Warn => Severity::Medium,
        EnforcementAction::Dryrun => Severity::Low,
    }
}

/// The message of a policy that cannot be used.
pub fn broken_policy_message(kind: &str, e: &palisade_policy::PolicyError) -> String {
    let line = match e.kind {
        PolicyErrorKind::RegoCompile => format!(" (line {})", e.pos.line),
        _ => String::new(),
    };
    format!(
        "{kind} {}: {}{line}: {}",
        e.policy,
        e.kind.as_str(),
        e.message
    )
}

impl InventoryRule for PolicyViolation {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        let policies: Vec<(usize, Cow<'_, Object>)> = inventory
            .objects
            .of_kinds(KINDS)
            .filter(|(_, o)| is_policy(&o.value))
            .collect();
        let vaps: Vec<&Object> = policies
            .iter()
            .map(|(_, o)| o.as_ref())
            .filter(|o| o.kind() == "ValidatingAdmissionPolicy")
            .collect();
        for (index, object) in &policies {
            let mut batch = vec![object.as_ref()];
            let binding = object.kind() == "ValidatingAdmissionPolicyBinding";
            if binding {
                batch.extend(vaps.iter().copied());
            }
            let (_, errors) = PolicySet::load(batch);
            for e in errors {
                if binding && !e.policy.starts_with("ValidatingAdmissionPolicyBinding/") {
                    continue;
                }
                let message = broken_policy_message(object.kind(), &e);
                out.push((*index, Emit::new(e.pointer.clone(), message)));
            }
        }
    }
}
