//! Risky permissions: rules and bindings that hand out more than they seem to, as typed facts.
//! What each risk is called, how severe it is and how it reads are the rule registry's
//! business (`palisade-rules`).

use std::collections::{BTreeSet, HashMap};

use crate::authz::{
    rule_allows, Attributes, ALL_AUTHENTICATED, ALL_SERVICE_ACCOUNTS, ALL_UNAUTHENTICATED,
    ANONYMOUS, MASTERS,
};
use crate::defaults;
use crate::model::{
    Binding, BindingKind, ObjectName, Policy, PolicyRule, Role, RoleId, RoleKind, RoleRef, Subject,
};
use crate::workloads::code_verbs;
use palisade_core::views::WORKLOADS;
use rayon::prelude::*;

/// What a risky permission is: one kind per risk the engine looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RiskKind {
    /// Secrets readable.
    SecretsRead,
    /// Pods or workloads writable.
    WorkloadWrite,
    /// exec, attach or port-forward into pods.
    PodExec,
    /// escalate or bind on roles.
    EscalateBind,
    /// impersonate.
    Impersonate,
    /// Service-account tokens mintable.
    TokenCreate,
    /// Kubelet API through nodes/proxy.
    NodesProxy,
    /// CSR approval or signing.
    CsrApprove,
    /// Admission webhook configurations writable.
    WebhookWrite,
    /// Wildcard verbs or resources.
    Wildcard,
    /// Binding to cluster-admin.
    ClusterAdminBinding,
    /// Binding to anonymous, unauthenticated or every authenticated user.
    PublicBinding,
    /// Permissions granted to a `default` service account.
    DefaultServiceAccountBinding,
    /// A binding to a role that the input, which holds other roles of its kind (and
    /// namespace), does not have.
    MissingRole,
    /// Two different definitions of one role or binding in the input.
    ConflictingDefinition,
    /// PersistentVolumes creatable (a hostPath volume mounts any node path into the pods that
    /// claim it).
    PersistentVolumeCreate,
    /// A binding to the `system:masters` group, whose members bypass RBAC.
    SystemMastersBinding,
}

impl RiskKind {
    /// Every kind, in a stable order: new kinds are added at the end.
    pub const ALL: [RiskKind; 17] = [
        RiskKind::SecretsRead,
        RiskKind::WorkloadWrite,
        RiskKind::PodExec,
        RiskKind::EscalateBind,
        RiskKind::Impersonate,
        RiskKind::TokenCreate,
        RiskKind::NodesProxy,
        RiskKind::CsrApprove,
        RiskKind::WebhookWrite,
        RiskKind::Wildcard,
        RiskKind::ClusterAdminBinding,
        RiskKind::PublicBinding,
        RiskKind::DefaultServiceAccountBinding,
        RiskKind::MissingRole,
        RiskKind::ConflictingDefinition,
        RiskKind::PersistentVolumeCreate,
        RiskKind::SystemMastersBinding,
    ];
}

/// A risky permission, located at a rule (`/rules/<i>`) or a binding (`/roleRef`,
/// `/subjects/<i>`), with the facts that describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Risk {
    /// Index of the object in the input.
    pub object: usize,
    pub pointer: String,
    pub fact: RiskFact,
}

impl Risk {
    pub fn kind(&self) -> RiskKind {
        self.fact.kind()
    }
}

/// Where the permissions of a role apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleScope {
    /// In every namespace: a ClusterRole bound by a ClusterRoleBinding (directly or through
    /// aggregation).
    Cluster,
    /// In the namespace of a Role.
    Namespace(String),
    /// In the namespaces of the RoleBindings of a ClusterRole bound only by RoleBindings.
    RoleBindings,
    /// Wherever the named ClusterRoles are bound: a ClusterRole bound by nothing in the input
    /// and aggregated into these (the roles at the top of its aggregation chains), which
    /// nothing in the input binds either. Aggregated pieces extend user-facing roles granted per
    /// namespace (Kubeflow's `kubeflow-edit`, say, which its profile controller binds with
    /// RoleBindings at run time).
    Aggregated(Vec<String>),
    /// Wherever it is bound: a ClusterRole bound by nothing in the input.
    Unbound,
}

impl RoleScope {
    /// Whether the permissions are confined to namespaces, as far as the input shows: a Role,
    /// a ClusterRole granted by RoleBindings only, directly or through aggregation, or one
    /// aggregated into roles that no binding of the input grants.
    pub fn is_namespaced(&self) -> bool {
        matches!(
            self,
            RoleScope::Namespace(_) | RoleScope::RoleBindings | RoleScope::Aggregated(_)
        )
    }
}

/// One half of issuing a certificate a role allows: a verb on signers with write access to a
/// subresource of CertificateSigningRequests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrGrant {
    /// `approve` or `sign`.
    pub verb: &'static str,
    /// The signers the verb is allowed on; empty for every signer.
    pub signers: Vec<String>,
    /// The CSR subresource the role may update: `approval` or `status`.
    pub subresource: &'static str,
}

impl CsrGrant {
    /// Whether the grant covers a signer of the `kubernetes.io` domain, whose certificates the
    /// cluster trusts (client certificates for any user or group, kubelet certificates).
    pub fn covers_cluster_signers(&self) -> bool {
        self.signers.is_empty() || self.signers.iter().any(|n| n.starts_with("kubernetes.io/"))
    }
}

/// Where a rule has `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WildcardShape {
    /// `*` in verbs, API groups and resources, without resourceNames: every verb on every
    /// resource (cluster-admin in the role's scope).
    Everything,
    /// `*` in verbs and in resources.
    VerbsAndResources,
    /// `*` in resources only.
    Resources,
    /// `*` in verbs only.
    Verbs,
}

impl WildcardShape {
    /// Whether `*` is in the resources.
    pub fn all_resources(self) -> bool {
        !matches!(self, WildcardShape::Verbs)
    }
}

/// Which public identity a binding's subject is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicSubject {
    /// `system:anonymous` or `system:unauthenticated`: every anonymous request.
    Anonymous,
    /// `system:authenticated`: every user and service account.
    Authenticated,
    /// `system:serviceaccounts`: every service account of the cluster.
    ServiceAccounts,
}

/// The facts of a risk, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RiskFact {
    /// A rule of `role` grants permissions of `kind`: one of the kinds found by the requests
    /// the rule allows (every kind but CSR approval, wildcards and the binding kinds).
    Permission {
        kind: RiskKind,
        role: ObjectName,
        scope: RoleScope,
        /// Every `verb resource` the rule allows.
        matched: Vec<String>,
        /// The rule's `resourceNames` when it allows the requests for those objects only.
        named_only: Option<Vec<String>>,
    },
    /// A rule of a ClusterRole allows `approve` or `sign` on signers, and the role may update
    /// the matching subresource of CertificateSigningRequests.
    CsrApprove {
        role: ObjectName,
        scope: RoleScope,
        grants: Vec<CsrGrant>,
    },
    /// A rule with `*` in its verbs or resources.
    Wildcard {
        role: ObjectName,
        scope: RoleScope,
        shape: WildcardShape,
        /// The rule's API groups.
        groups: Vec<String>,
        /// The rule's verbs.
        verbs: Vec<String>,
        /// The rule's resources.
        resources: Vec<String>,
        /// Whether the groups are all custom-resource groups (no `*`, no built-in group).
        custom_only: bool,
    },
    /// A binding to the `cluster-admin` ClusterRole (cluster-wide unless `binding` has a
    /// namespace).
    ClusterAdminBinding {
        binding: ObjectName,
        subjects: Vec<Subject>,
        /// Service accounts named without a namespace (see [`crate::Binding::unnamespaced`]).
        unnamespaced: Vec<String>,
    },
    /// A binding of a role that grants more than public information to a public identity.
    PublicBinding {
        binding: ObjectName,
        role_ref: RoleRef,
        subject: Subject,
        public: PublicSubject,
        /// Whether the role only reads named objects other than secrets.
        reads_named_only: bool,
    },
    /// A binding of a role with rules to the `default` service account of `namespace`.
    DefaultServiceAccountBinding {
        binding: ObjectName,
        role_ref: RoleRef,
        namespace: String,
    },
    /// A binding to a role that is not in the input, although the input holds other roles of
    /// the same kind (of the binding's namespace, for a Role): whoever creates the role grants
    /// it to the subjects. Default ClusterRoles and `system:` ClusterRoles are never missing.
    MissingRole {
        binding: ObjectName,
        role_ref: RoleRef,
        subjects: Vec<Subject>,
    },
    /// A role or binding that an earlier object of the input, in `earlier` (a file), defines
    /// differently: two projects of one input using the same name. Applied to one cluster, the
    /// last one applied replaces the other.
    ConflictingDefinition { object: ObjectName },
    /// A binding whose subjects include the `system:masters` group ([`MASTERS`]): its members
    /// pass every authorization check, so the binding grants them nothing and only shows that
    /// someone issues, or means to issue, credentials of that group.
    SystemMastersBinding {
        binding: ObjectName,
        role_ref: RoleRef,
    },
}

impl RiskFact {
    pub fn kind(&self) -> RiskKind {
        match self {
            RiskFact::Permission { kind, .. } => *kind,
            RiskFact::CsrApprove { .. } => RiskKind::CsrApprove,
            RiskFact::Wildcard { .. } => RiskKind::Wildcard,
            RiskFact::ClusterAdminBinding { .. } => RiskKind::ClusterAdminBinding,
            RiskFact::PublicBinding { .. } => RiskKind::PublicBinding,
            RiskFact::DefaultServiceAccountBinding { .. } => RiskKind::DefaultServiceAccountBinding,
            RiskFact::MissingRole { .. } => RiskKind::MissingRole,
            RiskFact::ConflictingDefinition { .. } => RiskKind::ConflictingDefinition,
            RiskFact::SystemMastersBinding { .. } => RiskKind::SystemMastersBinding,
        }
    }
}

/// Where the permissions of a role apply, before the role's namespace is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// A ClusterRole bound by a ClusterRoleBinding (directly or through aggregation).
    Cluster,
    /// A Role, or a ClusterRole bound only by RoleBindings.
    Namespace,
    /// A ClusterRole bound by nothing in the input.
    Unbound,
}

impl Scope {
    fn of(self, role: &Role) -> RoleScope {
        match (self, &role.namespace) {
            (Scope::Cluster, _) => RoleScope::Cluster,
            (_, Some(ns)) => RoleScope::Namespace(ns.clone()),
            (Scope::Namespace, None) => RoleScope::RoleBindings,
            (Scope::Unbound, None) => RoleScope::Unbound,
        }
    }
}

/// A request pattern a risk looks for.
struct Probe {
    verbs: &'static [&'static str],
    group: &'static str,
    resources: &'static [&'static str],
}

const fn probe(
    verbs: &'static [&'static str],
    group: &'static str,
    resources: &'static [&'static str],
) -> Probe {
    Probe {
        verbs,
        group,
        resources,
    }
}

/// What a rule grants against a list of probes: every matching `verb resource`, and whether
/// the matches need a resource name.
struct Hit {
    what: Vec<String>,
    named_only: bool,
}

fn check(rule: &PolicyRule, requests: &Requests) -> Option<Hit> {
    let mut broad = Vec::new();
    let mut named = Vec::new();
    for (verb, group, resource) in requests.each() {
        let attrs = Attributes::resource(verb, group, resource);
        let label = || format!("{verb} {resource}");
        if rule_allows(rule, &attrs) {
            broad.push(label());
        } else if let Some(name) = rule.resource_names.first() {
            if rule_allows(rule, &attrs.clone().named(name)) {
                named.push(label());
            }
        }
    }
    if !broad.is_empty() {
        Some(Hit {
            what: broad,
            named_only: false,
        })
    } else if !named.is_empty() {
        Some(Hit {
            what: named,
            named_only: true,
        })
    } else {
        None
    }
}

/// The requests a risk looks for.
enum Requests {
    Probes(&'static [Probe]),
    /// The writes that run new code on a workload resource ([`code_verbs`] of [`WORKLOADS`]).
    WorkloadCode,
}

impl Requests {
    /// Every `(verb, group, resource)`.
    fn each(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        match self {
            Requests::Probes(probes) => probes
                .iter()
                .flat_map(|p| {
                    p.resources
                        .iter()
                        .flat_map(|r| p.verbs.iter().map(|v| (*v, p.group, *r)))
                })
                .collect(),
            Requests::WorkloadCode => WORKLOADS
                .iter()
                .flat_map(|w| code_verbs(w).iter().map(|v| (*v, w.group, w.resource)))
                .collect(),
        }
    }
}

/// A kind of risk found by the requests a rule allows.
struct RuleRisk {
    kind: RiskKind,
    requests: Requests,
    /// Only meaningful for cluster-scoped resources (a Role cannot grant them).
    cluster_only: bool,
    /// A rule restricted to named objects is not reported.
    skip_named: bool,
}

const RULE_RISKS: &[RuleRisk] = &[
    RuleRisk {
        kind: RiskKind::SecretsRead,
        requests: Requests::Probes(&[probe(&["get", "list", "watch"], "", &["secrets"])]),
        cluster_only: false,
        skip_named: true,
    },
    RuleRisk {
        kind: RiskKind::WorkloadWrite,
        requests: Requests::WorkloadCode,
        cluster_only: false,
        skip_named: false,
    },
    RuleRisk {
        kind: RiskKind::PodExec,
        requests: Requests::Probes(&[probe(
            &["create", "get"],
            "",
            &["pods/exec", "pods/attach", "pods/portforward"],
        )]),
        cluster_only: false,
        skip_named: false,
    },
    RuleRisk {
        kind: RiskKind::EscalateBind,
        requests: Requests::Probes(&[probe(
            &["escalate", "bind"],
            "rbac.authorization.k8s.io",
            &["roles", "clusterroles"],
        )]),
        cluster_only: false,
        skip_named: false,
    },
    RuleRisk {
        kind: RiskKind::Impersonate,
        requests: Requests::Probes(&[
            probe(
                &["impersonate"],
                "",
                &["users", "groups", "serviceaccounts"],
            ),
            probe(&["impersonate"], "authentication.k8s.io", &["uids"]),
        ]),
        cluster_only: false,
        skip_named: false,
    },
    RuleRisk {
        kind: RiskKind::TokenCreate,
        requests: Requests::Probes(&[probe(&["create"], "", &["serviceaccounts/token"])]),
        cluster_only: false,
        skip_named: false,
    },
    RuleRisk {
        kind: RiskKind::NodesProxy,
        requests: Requests::Probes(&[probe(&["get", "create"], "", &["nodes/proxy"])]),
        cluster_only: true,
        skip_named: false,
    },
    RuleRisk {
        kind: RiskKind::WebhookWrite,
        requests: Requests::Probes(&[probe(
            &["create", "update", "patch", "delete"],
            "admissionregistration.k8s.io",
            &[
                "mutatingwebhookconfigurations",
                "validatingwebhookconfigurations",
            ],
        )]),
        cluster_only: true,
        skip_named: false,
    },
    // A create request carries no object name: a rule restricted to named objects cannot
    // create any.
    RuleRisk {
        kind: RiskKind::PersistentVolumeCreate,
        requests: Requests::Probes(&[probe(&["create"], "", &["persistentvolumes"])]),
        cluster_only: true,
        skip_named: true,
    },
];

/// The definitions of each role by kind, namespace and name, in input order.
type Definitions<'p> = HashMap<(RoleKind, Option<&'p str>, &'p str), Vec<RoleId>>;

/// The role a binding grants, as the risks judge it. An input may hold several projects, each
/// with its own definition of a role of the same name: a binding grants the definition nearest
/// to it in the file tree (its own file, then the one sharing the most folders), the one in
/// force among equals. (The authorizer, like a cluster, keeps only the one in force.)
fn granted_role(
    policy: &Policy,
    definitions: &Definitions<'_>,
    binding: &Binding,
) -> Option<RoleId> {
    let Some(from) = binding.source.as_deref() else {
        return binding.role;
    };
    let (kind, namespace) = match (binding.kind, binding.role_ref.kind.as_str()) {
        (_, "ClusterRole") => (RoleKind::ClusterRole, None),
        (BindingKind::RoleBinding, "Role") => (RoleKind::Role, binding.namespace.as_deref()),
        _ => return None,
    };
    definitions
        .get(&(kind, namespace, binding.role_ref.name.as_str()))?
        .iter()
        .copied()
        .max_by_key(|&id| {
            let role = &policy.roles[id];
            (shared_path(from, role.source.as_deref()), role.effective)
        })
}

/// How many leading path components two files share (every one for the same file).
fn shared_path(a: &str, b: Option<&str>) -> usize {
    let Some(b) = b else { return 0 };
    a.split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// Where each ClusterRole's permissions apply: through ClusterRoleBindings, RoleBindings, or
/// aggregation into a role bound either way. Every binding of the input counts, a binding
/// defined twice (by two projects) included, each for the role it grants ([`granted_role`]).
fn role_scopes(policy: &Policy) -> Vec<Scope> {
    let mut definitions: Definitions<'_> = HashMap::new();
    for (id, role) in policy.roles.iter().enumerate() {
        definitions
            .entry((role.kind, role.namespace.as_deref(), role.name.as_str()))
            .or_default()
            .push(id);
    }
    let mut scopes: Vec<Scope> = policy
        .roles
        .iter()
        .map(|r| match r.kind {
            RoleKind::Role => Scope::Namespace,
            RoleKind::ClusterRole => Scope::Unbound,
        })
        .collect();
    let mark = |role: usize, scope: Scope, scopes: &mut Vec<Scope>| {
        if scopes[role] == Scope::Unbound || scope == Scope::Cluster {
            scopes[role] = scope;
        }
    };
    for binding in policy
        .bindings
        .iter()
        .filter(|b| b.effective || b.object.is_some())
    {
        let Some(role) = granted_role(policy, &definitions, binding) else {
            continue;
        };
        let scope = match binding.kind {
            BindingKind::ClusterRoleBinding => Scope::Cluster,
            BindingKind::RoleBinding => Scope::Namespace,
        };
        mark(role, scope, &mut scopes);
    }
    // Aggregated roles pass their scope to the roles they collect (which the aggregation
    // controller selects by label, so every definition of them), down the chain.
    for _ in 0..policy.roles.len().min(8) {
        let mut changed = false;
        for (id, role) in policy.roles.iter().enumerate() {
            if scopes[id] == Scope::Unbound {
                continue;
            }
            for &collected in &role.aggregated_from {
                let piece = &policy.roles[collected];
                let key = (piece.kind, piece.namespace.as_deref(), piece.name.as_str());
                for &source in definitions.get(&key).into_iter().flatten() {
                    let before = scopes[source];
                    mark(source, scopes[id], &mut scopes);
                    changed |= before != scopes[source];
                }
            }
        }
        if !changed {
            break;
        }
    }
    scopes
}

/// For each ClusterRole that nothing in the input grants but that is aggregated into other
/// roles (none of them granted either, or it would have their scope): the names of the roles at
/// the top of its aggregation chains. Copies of a ClusterRole share the entry of the one in force.
fn aggregation_tops(policy: &Policy, scopes: &[Scope]) -> HashMap<RoleId, Vec<String>> {
    let mut into: HashMap<RoleId, Vec<RoleId>> = HashMap::new();
    for (id, role) in policy.roles.iter().enumerate() {
        for &source in &role.aggregated_from {
            into.entry(source).or_default().push(id);
        }
    }
    let mut tops = HashMap::new();
    for (id, role) in policy.roles.iter().enumerate() {
        if scopes[id] != Scope::Unbound || role.kind != RoleKind::ClusterRole {
            continue;
        }
        let current = policy.cluster_roles.get(&role.name).copied().unwrap_or(id);
        let Some(first) = into.get(&current) else {
            continue;
        };
        let mut seen: BTreeSet<RoleId> = BTreeSet::new();
        let mut names = BTreeSet::new();
        let mut queue = first.clone();
        while let Some(next) = queue.pop() {
            if !seen.insert(next) {
                continue;
            }
            match into.get(&next) {
                Some(above) => queue.extend(above.iter().copied()),
                None => {
                    names.insert(policy.roles[next].name.clone());
                }
            }
        }
        tops.insert(id, names.into_iter().collect());
    }
    tops
}

/// Whether a role grants nothing beyond public information: non-resource `get` and the
/// self-review APIs every authenticated user has.
fn is_harmless(policy: &Policy, role: usize) -> bool {
    policy.role_rules(role).all(|def| {
        let rule = &def.rule;
        let read_only_urls =
            rule.resources.is_empty() && rule.verbs.iter().all(|v| v == "get" || v == "head");
        let self_review = rule.non_resource_urls.is_empty()
            && rule.verbs.iter().all(|v| v == "create")
            && rule.resources.iter().all(|r| r.starts_with("selfsubject"));
        read_only_urls || self_review
    })
}

/// Whether a role only reads named objects other than secrets (a ConfigMap published to every
/// user, say).
fn reads_named_only(policy: &Policy, role: usize) -> bool {
    policy.role_rules(role).all(|def| {
        let rule = &def.rule;
        rule.non_resource_urls.is_empty()
            && !rule.resource_names.is_empty()
            && rule
                .verbs
                .iter()
                .all(|v| matches!(v.as_str(), "get" | "list" | "watch"))
            && !rule.resources.iter().any(|r| r == "*" || r == "secrets")
    })
}

/// Whether an API group is one of Kubernetes' own: the core group, the built-in workload
/// groups and every `k8s.io` group.
fn is_builtin_group(group: &str) -> bool {
    matches!(
        group,
        "" | "apps" | "batch" | "autoscaling" | "policy" | "extensions" | "k8s.io"
    ) || group.ends_with(".k8s.io")
}

/// Whether a rule names only API groups of custom resources (no `*`, no built-in group).
fn custom_groups_only(rule: &PolicyRule) -> bool {
    !rule.api_groups.is_empty()
        && rule
            .api_groups
            .iter()
            .all(|g| g != "*" && !is_builtin_group(g))
}

const CSR_GROUP: &str = "certificates.k8s.io";

/// The signers a rule allows a verb on: `None` when none, an empty list for every signer.
fn signers(rule: &PolicyRule, verb: &str) -> Option<Vec<String>> {
    let attrs = Attributes::resource(verb, CSR_GROUP, "signers");
    if rule_allows(rule, &attrs) {
        return Some(Vec::new());
    }
    let names: Vec<String> = rule
        .resource_names
        .iter()
        .filter(|n| rule_allows(rule, &attrs.clone().named(n)))
        .cloned()
        .collect();
    (!names.is_empty()).then_some(names)
}

/// Whether a role may update or patch a subresource of every CertificateSigningRequest.
fn writes_csr(policy: &Policy, role: usize, subresource: &str) -> bool {
    let resource = format!("certificatesigningrequests/{subresource}");
    policy.role_rules(role).any(|def| {
        ["update", "patch"]
            .iter()
            .any(|v| rule_allows(&def.rule, &Attributes::resource(v, CSR_GROUP, &resource)))
    })
}

/// CSR approval for one rule: issuing a certificate needs `approve` (or `sign`) on the signer
/// in this rule and write access to the CSR's `approval` (or `status`) subresource in the role.
fn csr_grants(policy: &Policy, role_id: usize, rule: &PolicyRule) -> Vec<CsrGrant> {
    let mut grants = Vec::new();
    for (verb, subresource) in [("approve", "approval"), ("sign", "status")] {
        let Some(signers) = signers(rule, verb) else {
            continue;
        };
        if writes_csr(policy, role_id, subresource) {
            grants.push(CsrGrant {
                verb,
                signers,
                subresource,
            });
        }
    }
    grants
}

/// Every risky permission of the input objects (the default policy and input copies of it are
/// not reported).
pub fn risks(policy: &Policy) -> Vec<Risk> {
    let scopes = role_scopes(policy);
    let tops = aggregation_tops(policy, &scopes);
    // Each role's risks are found on the pool, and come out in role order.
    let of_role = |(id, role): (usize, &Role)| {
        let mut out = Vec::new();
        let Some(object) = role.object else {
            return out;
        };
        if role.is_bootstrap() {
            return out;
        }
        let cluster_capable = role.kind == RoleKind::ClusterRole && scopes[id] != Scope::Namespace;
        let scope = match tops.get(&id) {
            Some(names) => RoleScope::Aggregated(names.clone()),
            None => scopes[id].of(role),
        };
        // The aggregation controller replaces the written rules of an aggregated ClusterRole:
        // the rules it collects are reported where they are written.
        let written: &[usize] = if role.aggregation.is_some() {
            &[]
        } else {
            &role.own_rules
        };
        for &rule_id in written {
            let def = &policy.rules[rule_id];
            let rule = &def.rule;
            let mut push = |fact: RiskFact| {
                out.push(Risk {
                    object,
                    pointer: def.location.pointer.clone(),
                    fact,
                });
            };
            if rule.is_full_wildcard() {
                push(RiskFact::Wildcard {
                    role: role.name_ref(),
                    scope: scope.clone(),
                    shape: WildcardShape::Everything,
                    groups: rule.api_groups.clone(),
                    verbs: rule.verbs.clone(),
                    resources: rule.resources.clone(),
                    custom_only: false,
                });
                continue;
            }
            for risk in RULE_RISKS {
                if risk.cluster_only && !cluster_capable {
                    continue;
                }
                let Some(hit) = check(rule, &risk.requests) else {
                    continue;
                };
                if hit.named_only && risk.skip_named {
                    continue;
                }
                push(RiskFact::Permission {
                    kind: risk.kind,
                    role: role.name_ref(),
                    scope: scope.clone(),
                    matched: hit.what,
                    named_only: hit.named_only.then(|| rule.resource_names.clone()),
                });
            }
            if cluster_capable {
                let grants = csr_grants(policy, id, rule);
                if !grants.is_empty() {
                    push(RiskFact::CsrApprove {
                        role: role.name_ref(),
                        scope: scope.clone(),
                        grants,
                    });
                }
            }
            let star_verbs = rule.verbs.iter().any(|v| v == "*");
            let star_resources = rule.resources.iter().any(|r| r == "*");
            if (star_verbs || star_resources) && !rule.resources.is_empty() {
                let shape = match (star_verbs, star_resources) {
                    (true, true) => WildcardShape::VerbsAndResources,
                    (false, true) => WildcardShape::Resources,
                    _ => WildcardShape::Verbs,
                };
                push(RiskFact::Wildcard {
                    role: role.name_ref(),
                    scope: scope.clone(),
                    shape,
                    groups: rule.api_groups.clone(),
                    verbs: rule.verbs.clone(),
                    resources: rule.resources.clone(),
                    custom_only: custom_groups_only(rule),
                });
            }
        }
        out
    };
    let mut out: Vec<Risk> = policy
        .roles
        .par_iter()
        .enumerate()
        .flat_map_iter(of_role)
        .collect();
    // The namespaces whose Roles the input holds, and whether it holds ClusterRoles.
    let mut role_namespaces = BTreeSet::new();
    let mut has_cluster_roles = false;
    for role in policy.roles.iter().filter(|r| r.object.is_some()) {
        match &role.namespace {
            Some(ns) => {
                role_namespaces.insert(ns.as_str());
            }
            None => has_cluster_roles = true,
        }
    }
    for binding in &policy.bindings {
        let Some(object) = binding.object else {
            continue;
        };
        if binding.is_bootstrap() {
            continue;
        }
        if binding.effective && binding.role.is_none() {
            let name = binding.role_ref.name.as_str();
            let missing = match (binding.kind, binding.role_ref.kind.as_str()) {
                (_, "ClusterRole") => {
                    has_cluster_roles
                        && !name.starts_with("system:")
                        && !defaults::is_default_role(RoleKind::ClusterRole, None, name)
                }
                (BindingKind::RoleBinding, "Role") => binding
                    .namespace
                    .as_deref()
                    .is_some_and(|ns| role_namespaces.contains(ns)),
                _ => false,
            };
            if missing {
                out.push(Risk {
                    object,
                    pointer: "/roleRef".into(),
                    fact: RiskFact::MissingRole {
                        binding: binding.name_ref(),
                        role_ref: binding.role_ref.clone(),
                        subjects: binding.subjects.iter().map(|s| s.subject.clone()).collect(),
                    },
                });
            }
        }
        if binding.role_ref.kind == "ClusterRole" && binding.role_ref.name == "cluster-admin" {
            out.push(Risk {
                object,
                pointer: "/roleRef".into(),
                fact: RiskFact::ClusterAdminBinding {
                    binding: binding.name_ref(),
                    subjects: binding.subjects.iter().map(|s| s.subject.clone()).collect(),
                    unnamespaced: binding.unnamespaced.clone(),
                },
            });
        }
        let harmless = binding.role.is_some_and(|role| is_harmless(policy, role));
        let named_reads = binding
            .role
            .is_some_and(|role| reads_named_only(policy, role));
        for bound in &binding.subjects {
            let public = match &bound.subject {
                Subject::User { name } if name == ANONYMOUS => Some(PublicSubject::Anonymous),
                Subject::Group { name } if name == ALL_UNAUTHENTICATED => {
                    Some(PublicSubject::Anonymous)
                }
                Subject::Group { name } if name == ALL_AUTHENTICATED => {
                    Some(PublicSubject::Authenticated)
                }
                Subject::Group { name } if name == ALL_SERVICE_ACCOUNTS => {
                    Some(PublicSubject::ServiceAccounts)
                }
                _ => None,
            };
            if matches!(&bound.subject, Subject::Group { name } if name == MASTERS) {
                out.push(Risk {
                    object,
                    pointer: bound.pointer.clone(),
                    fact: RiskFact::SystemMastersBinding {
                        binding: binding.name_ref(),
                        role_ref: binding.role_ref.clone(),
                    },
                });
            }
            if let Some(public) = public {
                if !harmless {
                    out.push(Risk {
                        object,
                        pointer: bound.pointer.clone(),
                        fact: RiskFact::PublicBinding {
                            binding: binding.name_ref(),
                            role_ref: binding.role_ref.clone(),
                            subject: bound.subject.clone(),
                            public,
                            reads_named_only: named_reads,
                        },
                    });
                }
            }
            if let Subject::ServiceAccount {
                name: sa,
                namespace,
            } = &bound.subject
            {
                let empty = binding
                    .role
                    .is_some_and(|role| policy.roles[role].rules.is_empty());
                if sa == "default" && !empty {
                    out.push(Risk {
                        object,
                        pointer: bound.pointer.clone(),
                        fact: RiskFact::DefaultServiceAccountBinding {
                            binding: binding.name_ref(),
                            role_ref: binding.role_ref.clone(),
                            namespace: namespace.clone(),
                        },
                    });
                }
            }
        }
    }
    conflicts(policy, &mut out);
    out
}

/// Every role or binding that an earlier object of the same file defines differently (other
/// rules, labels or aggregation for a role; another role or other subjects for a binding), at its
/// name. Definitions in different files are taken as separate projects, judged each with its own
/// bindings, or as alternatives of which one is applied, and are not reported.
fn conflicts(policy: &Policy, out: &mut Vec<Risk>) {
    let mut roles: HashMap<(RoleKind, Option<&str>, &str), Vec<&Role>> = HashMap::new();
    for role in policy.roles.iter().filter(|r| r.object.is_some()) {
        roles
            .entry((role.kind, role.namespace.as_deref(), role.name.as_str()))
            .or_default()
            .push(role);
    }
    let content = |role: &Role| {
        let rules: Vec<PolicyRule> = role
            .own_rules
            .iter()
            .map(|r| policy.rules[*r].rule.clone())
            .collect();
        (rules, role.aggregation.is_some(), role.labels.clone())
    };
    let mut found: Vec<(usize, ObjectName)> = Vec::new();
    for definitions in roles.values() {
        for (i, later) in definitions.iter().enumerate().skip(1) {
            if definitions[..i]
                .iter()
                .any(|e| e.source == later.source && content(e) != content(later))
            {
                found.push((later.object.unwrap_or_default(), later.name_ref()));
            }
        }
    }
    let mut bindings: HashMap<(BindingKind, Option<&str>, &str), Vec<&Binding>> = HashMap::new();
    for binding in policy.bindings.iter().filter(|b| b.object.is_some()) {
        bindings
            .entry((
                binding.kind,
                binding.namespace.as_deref(),
                binding.name.as_str(),
            ))
            .or_default()
            .push(binding);
    }
    let content = |b: &Binding| {
        let subjects: Vec<Subject> = b.subjects.iter().map(|s| s.subject.clone()).collect();
        (b.role_ref.clone(), subjects, b.unnamespaced.clone())
    };
    for definitions in bindings.values() {
        for (i, later) in definitions.iter().enumerate().skip(1) {
            if definitions[..i]
                .iter()
                .any(|e| e.source == later.source && content(e) != content(later))
            {
                found.push((later.object.unwrap_or_default(), later.name_ref()));
            }
        }
    }
    found.sort_by_key(|(object, _)| *object);
    out.extend(found.into_iter().map(|(object, name)| Risk {
        object,
        pointer: "/metadata/name".into(),
        fact: RiskFact::ConflictingDefinition { object: name },
    }));
}
