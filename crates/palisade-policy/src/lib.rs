//! Policy as code: OPA Gatekeeper ConstraintTemplates and Constraints evaluated as Gatekeeper
//! evaluates them.
//!
//! - [`PolicySet`] collects templates (Rego through `regorus`, with their `libs`) and
//!   constraints from decoded objects, validates each constraint's `spec.parameters` against its
//!   template's `openAPIV3Schema`, and reports every policy that cannot be used as a typed
//!   [`PolicyError`] at its file:line; the other policies still run.
//! - [`Review`] is Gatekeeper's `input.review` (an `AdmissionRequest`) built from a plain object
//!   or an `AdmissionReview`; [`Inventory`] is `data.inventory` as Gatekeeper's sync builds it.
//! - [`PolicySet::review`] runs the constraints whose `spec.match` selects the object and returns
//!   their [`Violation`]s; every evaluation is bounded by [`Budget`].
//! - [`suite`] runs gator `Suite` files (`test.gatekeeper.sh/v1alpha1`).
//!
//! The crate returns facts (which constraint, which message); it never names a palisade rule.

mod cel;
mod deprecated;
mod error;
mod gofmt;
mod guard;
mod inventory;
mod matching;
mod negation;
mod rego;
mod review;
mod schema;
mod set;
pub mod suite;
mod vap;

pub use error::{PolicyError, PolicyErrorKind};
pub use inventory::Inventory;
pub use matching::{wildcard_matches, Match};
pub use review::{Operation, Review};
pub use set::{
    is_policy, Budget, Constraint, EnforcementAction, EngineChoice, Needs, Outcome, PolicySet,
    Template, Violation,
};
pub use vap::{resource_of, Binding, FailurePolicy, Vap};

/// The API group of Gatekeeper's constraint kinds.
pub const CONSTRAINTS_GROUP: &str = "constraints.gatekeeper.sh";
/// The API group of ConstraintTemplates.
pub const TEMPLATES_GROUP: &str = "templates.gatekeeper.sh";
/// The only target Gatekeeper's admission templates have.
pub const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";
