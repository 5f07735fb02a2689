use palisade_core::Pos;
use serde_json::Value;

/// What is wrong with a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyErrorKind {
    /// The ConstraintTemplate is malformed (no kind, no target, no code).
    InvalidTemplate,
    /// The template's Rego does not parse or compile.
    RegoCompile,
    /// A CEL expression does not parse or is over its cost limits.
    CelCompile,
    /// A constraint names a kind that no loaded template defines.
    MissingTemplate,
    /// The constraint is malformed (no name, a bad `spec.match`).
    InvalidConstraint,
    /// The constraint's `spec.parameters` violate the template's `openAPIV3Schema`.
    InvalidParameters,
    /// Evaluating the policy failed at run time.
    Evaluation,
    /// Evaluating the policy went over its time budget.
    Budget,
}

impl PolicyErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyErrorKind::InvalidTemplate => "invalid template",
            PolicyErrorKind::RegoCompile => "Rego does not compile",
            PolicyErrorKind::CelCompile => "CEL does not compile",
            PolicyErrorKind::MissingTemplate => "missing template",
            PolicyErrorKind::InvalidConstraint => "invalid constraint",
            PolicyErrorKind::InvalidParameters => "parameters violate the schema",
            PolicyErrorKind::Evaluation => "evaluation error",
            PolicyErrorKind::Budget => "evaluation budget exceeded",
        }
    }
}

/// A policy that cannot be used, or one evaluation of it that failed, at the policy's
/// file:line (the Rego line inside a template when the Rego is at fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{pos}: {policy}: {}: {message}", kind.as_str())]
pub struct PolicyError {
    pub file: String,
    pub pos: Pos,
    /// JSON pointer of the faulty field in the policy object.
    pub pointer: String,
    pub kind: PolicyErrorKind,
    /// The template (`k8sallowedrepos`) or constraint (`K8sAllowedRepos/name`).
    pub policy: String,
    pub message: String,
}

pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path)?.as_str()
}

pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}
