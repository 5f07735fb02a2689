//! Choosing the fixes to apply to one object, together: which kinds are wanted (safe, or
//! unsafe too), in which order they can go, and whether the patched object is still one the
//! API server accepts. `palisade fix` and the mutating webhook both plan with [`plan`].

mod quantity;
pub mod validate;

use std::collections::BTreeSet;

use palisade_core::patch::{apply_merging, PatchOp};
use palisade_core::rule::{Applicability, Fix};
use serde_json::Value;

pub use quantity::Quantity;
pub use validate::{violations, Violation};

/// What became of one fix of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied: its operations are in [`Plan::ops`].
    Applied,
    /// Not applied: it changes nothing once the other fixes are applied.
    Unchanged,
    /// Not applied: an unsafe fix, and unsafe fixes were not asked for.
    Unsafe,
    /// Not applied: the object would not be valid with it (the first reason).
    Invalid(String),
}

/// The fixes of one object, planned together.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// What became of each fix, in the order given.
    pub outcomes: Vec<Outcome>,
    /// The applied fixes in the order they apply, each with its operations on the object as
    /// the fixes before it left it: `(index in the order given, operations)`.
    pub applied: Vec<(usize, Vec<PatchOp>)>,
    /// The object with every applied fix.
    pub value: Value,
}

impl Plan {
    /// Every operation, in order: a JSON Patch that applies to the original object.
    pub fn ops(&self) -> Vec<PatchOp> {
        self.applied
            .iter()
            .flat_map(|(_, ops)| ops.iter().cloned())
            .collect()
    }
}

/// Plans `fixes` (each with whether it may be applied when it is unsafe) on `object`.
///
/// A fix is applied when the object with it and the fixes applied so far breaks no rule of the
/// API server that the original object did not already break ([`violations`]). Fixes that
/// cannot go yet are tried again after the others, so that one that is only valid once
/// another applied (`allowPrivilegeEscalation: false` once `privileged: true` is gone) is
/// applied whatever the order of the findings.
pub fn plan(object: &Value, fixes: &[(&Fix, bool)]) -> Plan {
    let before: BTreeSet<Violation> = violations(object).into_iter().collect();
    let mut value = object.clone();
    let mut outcomes: Vec<Option<Outcome>> = fixes
        .iter()
        .map(|(fix, allow_unsafe)| {
            (fix.applicability == Applicability::Unsafe && !allow_unsafe).then_some(Outcome::Unsafe)
        })
        .collect();
    let mut applied = Vec::new();
    let mut refused: Vec<Option<String>> = vec![None; fixes.len()];
    loop {
        let mut progress = false;
        for (index, (fix, _)) in fixes.iter().enumerate() {
            if outcomes[index].is_some() {
                continue;
            }
            let mut candidate = value.clone();
            let mut ops = Vec::new();
            let result = fix
                .patch
                .iter()
                .try_for_each(|op| apply_merging(&mut candidate, object, op, &mut ops));
            if let Err(err) = result {
                outcomes[index] = Some(Outcome::Invalid(err.to_string()));
                continue;
            }
            if ops.is_empty() {
                outcomes[index] = Some(Outcome::Unchanged);
                continue;
            }
            match violations(&candidate)
                .into_iter()
                .find(|v| !before.contains(v))
            {
                Some(violation) => refused[index] = Some(violation.to_string()),
                None => {
                    value = candidate;
                    applied.push((index, ops));
                    outcomes[index] = Some(Outcome::Applied);
                    progress = true;
                }
            }
        }
        if !progress {
            break;
        }
    }
    let outcomes = outcomes
        .into_iter()
        .zip(refused)
        .map(|(outcome, reason)| {
            outcome.unwrap_or_else(|| Outcome::Invalid(reason.unwrap_or_default()))
        })
        .collect();
    Plan {
        outcomes,
        applied,
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::patch::apply;
    use serde_json::json;

    fn fix(applicability: Applicability, patch: Value) -> Fix {
        Fix {
            description: String::new(),
            patch: serde_json::from_value(patch).unwrap(),
            applicability,
        }
    }

    fn privileged() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}})
    }

    fn escalation() -> Fix {
        fix(
            Applicability::Safe,
            json!([{"op": "add", "path": "/spec/containers/0/securityContext/allowPrivilegeEscalation", "value": false}]),
        )
    }

    fn unprivileged() -> Fix {
        fix(
            Applicability::Unsafe,
            json!([{"op": "replace", "path": "/spec/containers/0/securityContext/privileged", "value": false}]),
        )
    }

    #[test]
    fn a_fix_that_makes_the_object_invalid_is_not_applied() {
        let escalation = escalation();
        let unprivileged = unprivileged();
        let plan = plan(
            &privileged(),
            &[(&escalation, false), (&unprivileged, false)],
        );
        assert_eq!(
            plan.outcomes,
            [
                Outcome::Invalid("spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `privileged` to true".into()),
                Outcome::Unsafe
            ]
        );
        assert!(plan.ops().is_empty());
        assert_eq!(plan.value, privileged());
    }

    #[test]
    fn fixes_are_planned_together_whatever_their_order() {
        let escalation = escalation();
        let unprivileged = unprivileged();
        let plan = plan(&privileged(), &[(&escalation, true), (&unprivileged, true)]);
        assert_eq!(plan.outcomes, [Outcome::Applied, Outcome::Applied]);
        // The one that needed the other goes second.
        assert_eq!(
            plan.applied.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [1, 0]
        );
        let mut patched = privileged();
        apply(&mut patched, &plan.ops()).unwrap();
        assert_eq!(patched, plan.value);
        assert_eq!(
            patched["spec"]["containers"][0]["securityContext"],
            json!({"privileged": false, "allowPrivilegeEscalation": false})
        );
        assert!(violations(&patched).is_empty());
    }

    #[test]
    fn fixes_that_add_the_same_mapping_are_merged() {
        let object = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}]}});
        let one = fix(
            Applicability::Safe,
            json!([{"op": "add", "path": "/spec/containers/0/securityContext", "value": {"allowPrivilegeEscalation": false}}]),
        );
        let two = fix(
            Applicability::Safe,
            json!([{"op": "add", "path": "/spec/containers/0/securityContext", "value": {"readOnlyRootFilesystem": true}}]),
        );
        let plan = plan(&object, &[(&one, false), (&two, false), (&one, false)]);
        assert_eq!(
            plan.outcomes,
            [Outcome::Applied, Outcome::Applied, Outcome::Unchanged]
        );
        let mut patched = object.clone();
        apply(&mut patched, &plan.ops()).unwrap();
        assert_eq!(
            patched["spec"]["containers"][0]["securityContext"],
            json!({"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true})
        );
    }

    #[test]
    fn violations_the_object_already_had_do_not_block_fixes() {
        let mut object = privileged();
        object["spec"]["containers"][0]["resources"] =
            json!({"requests": {"memory": "1Gi"}, "limits": {"memory": "1Mi"}});
        let drop = fix(
            Applicability::Safe,
            json!([{"op": "add", "path": "/spec/containers/0/securityContext/readOnlyRootFilesystem", "value": true}]),
        );
        let plan = plan(&object, &[(&drop, false)]);
        assert_eq!(plan.outcomes, [Outcome::Applied]);
    }
}
