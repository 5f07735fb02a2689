//! palisade-rbac: Kubernetes RBAC analysis from manifests or a cluster dump, with the
//! semantics of the API server's RBAC authorizer.
//!
//! [`Policy`] collects Roles, ClusterRoles, RoleBindings and ClusterRoleBindings (optionally
//! with the default policy of a kubeadm cluster), resolves aggregated ClusterRoles as the
//! aggregation controller does and reports bindings to missing roles. Queries:
//! [`Policy::authorize`] (can-i), [`Policy::who_can`], [`Policy::rules_for`] with
//! [`render_rules`] (can-i --list), [`Policy::graph`] with [`Graph::to_dot`]; [`risks`]
//! reports risky permissions as typed facts ([`RiskKind`], [`RiskFact`]; the rules that grade
//! and word them live in `palisade-rules`) and [`paths`] finds escalation paths to
//! cluster-admin. [`binding_subjects`] reads the subjects of a binding for every crate.

mod authz;
mod defaults;
mod graph;
mod list;
mod model;
mod paths;
mod resources;
mod risks;
mod workloads;

pub use authz::{
    rule_allows, split_service_account, Attributes, Decision, Grant, NonResourceRule, ResourceRule,
    RuleRef, SubjectGrant, UserInfo, ALL_AUTHENTICATED, ALL_SERVICE_ACCOUNTS, ALL_UNAUTHENTICATED,
    ANONYMOUS, MASTERS, SERVICE_ACCOUNT_PREFIX,
};
pub use graph::{describe_rule, Graph, GraphBinding, GraphRole, GraphSubject, Permission};
pub use list::render_rules;
pub use model::{
    binding_subjects, Binding, BindingId, BindingKind, BoundSubject, Diagnostic, DiagnosticKind,
    Location, ObjectName, Options, Policy, PolicyRule, Role, RoleId, RoleKind, RoleRef, RuleDef,
    RuleId, Subject, SubjectEntry, RBAC_GROUP,
};
pub use paths::{paths, paths_to, EscalationPath, Node, Step};
pub use resources::{ResolveError, ResourceType, Resources, VERBS};
pub use risks::{
    risks, CsrGrant, PublicSubject, Risk, RiskFact, RiskKind, RoleScope, WildcardShape,
};
pub use workloads::code_verbs;

/// The default ClusterRoles, Roles and bindings of a kubeadm cluster, as objects.
pub fn default_policy_objects() -> &'static [palisade_core::Object] {
    defaults::objects()
}
