//! The RBAC objects of the input, resolved as the API server and its controllers see them:
//! roles by name, bindings with their role, aggregated ClusterRoles filled from their
//! selectors, service-account subjects with their namespace.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use palisade_core::selector::{LabelSelector, Labels, Scalars};
use palisade_core::Object;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::defaults;

/// The API group of every RBAC kind.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One rule of a Role or ClusterRole (`rbac.authorization.k8s.io/v1` `PolicyRule`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    #[serde(
        default,
        rename = "nonResourceURLs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    fn from_value(value: &Value) -> PolicyRule {
        PolicyRule {
            verbs: strings(value.get("verbs")),
            api_groups: strings(value.get("apiGroups")),
            resources: strings(value.get("resources")),
            resource_names: strings(value.get("resourceNames")),
            non_resource_urls: strings(value.get("nonResourceURLs")),
        }
    }

    /// Whether the rule allows every verb on every resource of every group (what
    /// `cluster-admin` grants).
    pub fn is_full_wildcard(&self) -> bool {
        has_star(&self.verbs)
            && has_star(&self.api_groups)
            && has_star(&self.resources)
            && self.resource_names.is_empty()
    }
}

pub(crate) fn has_star(list: &[String]) -> bool {
    list.iter().any(|s| s == "*")
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Where a role, binding or rule is written: the index of its object in the input and a JSON
/// pointer in it. `object` is `None` for the embedded default (bootstrap) policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<usize>,
    pub pointer: String,
}

/// Kind of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Role => "Role",
            RoleKind::ClusterRole => "ClusterRole",
        }
    }
}

/// Kind of a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum BindingKind {
    RoleBinding,
    ClusterRoleBinding,
}

impl BindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingKind::RoleBinding => "RoleBinding",
            BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
        }
    }
}

/// A named RBAC object, as reports print it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectName {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// Index of the object in the input; absent for the default policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<usize>,
}

impl std::fmt::Display for ObjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// A subject of a binding, in the JSON form reports use:
/// `{"kind":"ServiceAccount","name":…,"namespace":…}` or `{"kind":"User"|"Group","name":…}`.
/// Subjects sort by kind, then namespace, then name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Subject {
    User { name: String },
    Group { name: String },
    ServiceAccount { name: String, namespace: String },
}

impl Subject {
    pub fn user(name: impl Into<String>) -> Subject {
        Subject::User { name: name.into() }
    }

    pub fn group(name: impl Into<String>) -> Subject {
        Subject::Group { name: name.into() }
    }

    pub fn service_account(namespace: impl Into<String>, name: impl Into<String>) -> Subject {
        Subject::ServiceAccount {
            name: name.into(),
            namespace: namespace.into(),
        }
    }

    /// Parses `User:NAME`, `Group:NAME`, `ServiceAccount:NS:NAME`, `system:serviceaccount:NS:NAME`
    /// (a service account) or a bare user name.
    pub fn parse(text: &str) -> Option<Subject> {
        if let Some(rest) = text
            .strip_prefix("system:serviceaccount:")
            .or_else(|| text.strip_prefix("ServiceAccount:"))
        {
            let (ns, name) = rest.split_once(':')?;
            if ns.is_empty() || name.is_empty() || name.contains(':') {
                return None;
            }
            return Some(Subject::service_account(ns, name));
        }
        if let Some(name) = text.strip_prefix("Group:") {
            return (!name.is_empty()).then(|| Subject::group(name));
        }
        let name = text.strip_prefix("User:").unwrap_or(text);
        (!name.is_empty()).then(|| Subject::user(name))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Subject::User { .. } => "User",
            Subject::Group { .. } => "Group",
            Subject::ServiceAccount { .. } => "ServiceAccount",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Subject::User { name } | Subject::Group { name } => name,
            Subject::ServiceAccount { name, .. } => name,
        }
    }
}

impl Subject {
    fn sort_key(&self) -> (u8, &str, &str) {
        match self {
            Subject::User { name } => (0, "", name),
            Subject::Group { name } => (1, "", name),
            Subject::ServiceAccount { name, namespace } => (2, namespace, name),
        }
    }
}

impl Ord for Subject {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for Subject {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::User { name } => write!(f, "User {name}"),
            Subject::Group { name } => write!(f, "Group {name}"),
            Subject::ServiceAccount { name, namespace } => {
                write!(f, "ServiceAccount {namespace}/{name}")
            }
        }
    }
}

/// Index of a role in [`Policy::roles`].
pub type RoleId = usize;
/// Index of a binding in [`Policy::bindings`].
pub type BindingId = usize;
/// Index of a rule in [`Policy::rules`].
pub type RuleId = usize;

/// A rule with the role that writes it and its location.
#[derive(Debug, Clone)]
pub struct RuleDef {
    pub rule: PolicyRule,
    /// The role whose `rules` list holds this rule.
    pub role: RoleId,
    pub location: Location,
}

/// A Role or ClusterRole.
#[derive(Debug, Clone)]
pub struct Role {
    pub kind: RoleKind,
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Labels,
    /// The object (None for the default policy).
    pub object: Option<usize>,
    /// The file the object comes from (None for the default policy).
    pub source: Option<String>,
    /// Rules written in the object, in order.
    pub own_rules: Vec<RuleId>,
    /// `aggregationRule.clusterRoleSelectors` when present (an aggregated ClusterRole).
    pub aggregation: Option<Vec<LabelSelector>>,
    /// The rules in force: the own rules, or for an aggregated ClusterRole the union of the
    /// rules of the ClusterRoles its selectors match (its own rules are replaced, as the
    /// aggregation controller does).
    pub rules: Vec<RuleId>,
    /// For an aggregated ClusterRole: the ClusterRoles whose rules it collects.
    pub aggregated_from: Vec<RoleId>,
    /// False when a later object with the same kind, namespace and name replaces this one.
    pub effective: bool,
}

impl Role {
    pub fn name_ref(&self) -> ObjectName {
        ObjectName {
            kind: self.kind.as_str(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            object: self.object,
        }
    }

    /// Whether the role is part of the built-in default policy (embedded, or an input object
    /// that is a copy of one: labelled `kubernetes.io/bootstrapping: rbac-defaults` with a
    /// default name).
    pub fn is_bootstrap(&self) -> bool {
        self.object.is_none()
            || (bootstrap_labelled(&self.labels, &self.name)
                && defaults::is_default_role(self.kind, self.namespace.as_deref(), &self.name))
    }
}

/// Whether an object with a default name looks like the default one: the API server labels
/// its defaults `kubernetes.io/bootstrapping: rbac-defaults`; kubeadm and CoreDNS objects
/// carry a `kubeadm:` or `system:` prefix (or are kubeadm's `kube-proxy` Role).
fn bootstrap_labelled(labels: &Labels, name: &str) -> bool {
    labels
        .get("kubernetes.io/bootstrapping")
        .map(String::as_str)
        == Some("rbac-defaults")
        || name.starts_with("kubeadm:")
        || name.starts_with("system:")
        || name == "kube-proxy"
}

/// The `roleRef` of a binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef {
    pub api_group: String,
    pub kind: String,
    pub name: String,
}

/// One entry of a binding's `subjects`, as the authorizer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectEntry<'a> {
    User(&'a str),
    Group(&'a str),
    /// A service account, in its own namespace when the subject names one, else in the
    /// binding's; `None` when neither is known (in a ClusterRoleBinding it never matches).
    ServiceAccount {
        name: &'a str,
        namespace: Option<&'a str>,
    },
    /// A kind other than `User`, `Group` and `ServiceAccount` (never matches).
    Unknown(&'a str),
}

/// The entries of a binding's `subjects`, in order (none when the field is not a list).
/// `namespace` is the binding's namespace, where a service account without one of its own
/// lives; missing fields read as empty strings.
pub fn binding_subjects<'a>(
    binding: &'a Value,
    namespace: Option<&'a str>,
) -> impl Iterator<Item = SubjectEntry<'a>> + 'a {
    let items = match binding.get("subjects") {
        Some(Value::Array(items)) => items.as_slice(),
        _ => &[],
    };
    items.iter().map(move |item| {
        let get = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or("");
        let name = get("name");
        match get("kind") {
            "User" => SubjectEntry::User(name),
            "Group" => SubjectEntry::Group(name),
            "ServiceAccount" => SubjectEntry::ServiceAccount {
                name,
                namespace: Some(get("namespace"))
                    .filter(|ns| !ns.is_empty())
                    .or(namespace),
            },
            other => SubjectEntry::Unknown(other),
        }
    })
}

/// A subject as bound, with its location in the binding.
#[derive(Debug, Clone)]
pub struct BoundSubject {
    pub subject: Subject,
    /// `/subjects/<i>`.
    pub pointer: String,
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone)]
pub struct Binding {
    pub kind: BindingKind,
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Labels,
    pub object: Option<usize>,
    /// The file the object comes from (None for the default policy).
    pub source: Option<String>,
    pub role_ref: RoleRef,
    /// The subjects the authorizer can match (unknown kinds and service accounts without a
    /// namespace in a ClusterRoleBinding are left out and reported).
    pub subjects: Vec<BoundSubject>,
    /// Service accounts named without a namespace in a ClusterRoleBinding: they match no one
    /// until a namespace is set (a kustomize base leaves it to the overlay that uses it).
    pub unnamespaced: Vec<String>,
    /// The role the binding grants; `None` when it does not exist (the binding grants nothing).
    pub role: Option<RoleId>,
    /// False when a later object with the same kind, namespace and name replaces this one.
    pub effective: bool,
}

impl Binding {
    pub fn name_ref(&self) -> ObjectName {
        ObjectName {
            kind: self.kind.as_str(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            object: self.object,
        }
    }

    pub fn is_bootstrap(&self) -> bool {
        self.object.is_none()
            || (bootstrap_labelled(&self.labels, &self.name)
                && defaults::is_default_binding(self.kind, self.namespace.as_deref(), &self.name))
    }
}

/// What is wrong with an RBAC object, as the API server or authorizer would see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosticKind {
    /// The binding refers to a role that does not exist: it grants nothing.
    MissingRole,
    /// `roleRef.kind` is neither Role nor ClusterRole (a ClusterRoleBinding may only refer to a
    /// ClusterRole).
    InvalidRoleRef,
    /// A subject the authorizer never matches (unknown kind, or a service account without a
    /// namespace in a ClusterRoleBinding).
    IgnoredSubject,
    /// An aggregation selector the controller rejects: the role keeps no rules.
    InvalidSelector,
    /// A later object has the same kind, namespace and name: the earlier one is replaced.
    Duplicate,
}

/// A problem found while building the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    pub object: Option<usize>,
    pub pointer: String,
    pub message: String,
}

/// Options for building a [`Policy`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Add the default ClusterRoles, Roles and bindings of a kubeadm cluster.
    pub with_defaults: bool,
    /// Namespace of Roles and RoleBindings that have none (kubectl applies them to the
    /// namespace of its context).
    pub default_namespace: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            with_defaults: false,
            default_namespace: "default".to_owned(),
        }
    }
}

/// Every Role, ClusterRole, RoleBinding and ClusterRoleBinding of the input, resolved.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub roles: Vec<Role>,
    pub bindings: Vec<Binding>,
    pub rules: Vec<RuleDef>,
    pub diagnostics: Vec<Diagnostic>,
    /// Service accounts seen in the input (ServiceAccount objects and binding subjects), by
    /// namespace.
    pub service_accounts: BTreeMap<String, BTreeSet<String>>,
    pub(crate) cluster_roles: HashMap<String, RoleId>,
    pub(crate) ns_roles: HashMap<(String, String), RoleId>,
    binding_names: HashMap<(BindingKind, String, String), BindingId>,
    pub(crate) cluster_bindings: Vec<BindingId>,
    pub(crate) ns_bindings: BTreeMap<String, Vec<BindingId>>,
}

fn is_rbac(object: &Object) -> bool {
    object.group() == RBAC_GROUP
}

fn labels_of(object: &Object) -> Labels {
    object
        .labels()
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

impl Policy {
    /// Builds the policy from indexed objects (other kinds are ignored), without defaults.
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = (usize, &'a Object)>) -> Policy {
        Policy::with_options(objects, &Options::default())
    }

    /// Builds the policy from indexed objects with options.
    pub fn with_options<O: Borrow<Object>>(
        objects: impl IntoIterator<Item = (usize, O)>,
        options: &Options,
    ) -> Policy {
        let mut policy = Policy::default();
        if options.with_defaults {
            for object in defaults::objects() {
                policy.add(None, object, options);
            }
        }
        for (index, object) in objects {
            policy.add(Some(index), object.borrow(), options);
        }
        policy.resolve();
        policy
    }

    /// Builds the policy from every object of a list, indexed by position.
    pub fn from_slice(objects: &[Object], options: &Options) -> Policy {
        Policy::with_options(objects.iter().enumerate(), options)
    }

    fn add(&mut self, index: Option<usize>, object: &Object, options: &Options) {
        if object.kind() == "ServiceAccount" && object.api_version() == "v1" {
            let ns = object
                .namespace()
                .unwrap_or(&options.default_namespace)
                .to_owned();
            self.service_accounts
                .entry(ns)
                .or_default()
                .insert(object.name().to_owned());
            return;
        }
        if !is_rbac(object) {
            return;
        }
        let namespace = || {
            Some(
                object
                    .namespace()
                    .unwrap_or(&options.default_namespace)
                    .to_owned(),
            )
        };
        match object.kind() {
            "Role" => self.add_role(index, object, RoleKind::Role, namespace()),
            "ClusterRole" => self.add_role(index, object, RoleKind::ClusterRole, None),
            "RoleBinding" => self.add_binding(index, object, BindingKind::RoleBinding, namespace()),
            "ClusterRoleBinding" => {
                self.add_binding(index, object, BindingKind::ClusterRoleBinding, None)
            }
            _ => {}
        }
    }

    fn add_role(
        &mut self,
        index: Option<usize>,
        object: &Object,
        kind: RoleKind,
        namespace: Option<String>,
    ) {
        let id = self.roles.len();
        let mut own_rules = Vec::new();
        if let Some(Value::Array(rules)) = object.value.get("rules") {
            for (i, rule) in rules.iter().enumerate() {
                own_rules.push(self.rules.len());
                self.rules.push(RuleDef {
                    rule: PolicyRule::from_value(rule),
                    role: id,
                    location: Location {
                        object: index,
                        pointer: format!("/rules/{i}"),
                    },
                });
            }
        }
        let mut aggregation = None;
        if kind == RoleKind::ClusterRole {
            if let Some(rule) = object.value.get("aggregationRule").filter(|v| !v.is_null()) {
                let mut selectors = Vec::new();
                if let Some(Value::Array(items)) = rule.get("clusterRoleSelectors") {
                    for (i, item) in items.iter().enumerate() {
                        match LabelSelector::parse(item, Scalars::Strict) {
                            Ok(selector) => selectors.push(selector),
                            Err(error) => {
                                self.diagnostics.push(Diagnostic {
                                    kind: DiagnosticKind::InvalidSelector,
                                    object: index,
                                    pointer: format!("/aggregationRule/clusterRoleSelectors/{i}"),
                                    message: format!(
                                        "invalid aggregation selector ({error}): the \
                                         aggregation controller leaves the role unchanged"
                                    ),
                                });
                            }
                        }
                    }
                }
                aggregation = Some(selectors);
            }
        }
        let role = Role {
            kind,
            namespace,
            name: object.name().to_owned(),
            labels: labels_of(object),
            object: index,
            source: index.map(|_| object.source.path.clone()),
            rules: own_rules.clone(),
            own_rules,
            aggregation,
            aggregated_from: Vec::new(),
            effective: true,
        };
        let previous = match kind {
            RoleKind::Role => self.ns_roles.insert(
                (
                    role.namespace.clone().unwrap_or_default(),
                    role.name.clone(),
                ),
                id,
            ),
            RoleKind::ClusterRole => self.cluster_roles.insert(role.name.clone(), id),
        };
        self.replace(previous, index, &role.name_ref().to_string(), |p, prev| {
            p.roles[prev].effective = false
        });
        self.roles.push(role);
    }

    fn replace(
        &mut self,
        previous: Option<usize>,
        index: Option<usize>,
        what: &str,
        mark: impl FnOnce(&mut Policy, usize),
    ) {
        if let Some(prev) = previous {
            mark(self, prev);
            if index.is_some() {
                self.diagnostics.push(Diagnostic {
                    kind: DiagnosticKind::Duplicate,
                    object: index,
                    pointer: "/metadata/name".to_owned(),
                    message: format!("{what} is defined more than once; the last one is used"),
                });
            }
        }
    }

    fn add_binding(
        &mut self,
        index: Option<usize>,
        object: &Object,
        kind: BindingKind,
        namespace: Option<String>,
    ) {
        let id = self.bindings.len();
        let role_ref = object.value.get("roleRef");
        let field = |name: &str| {
            role_ref
                .and_then(|r| r.get(name))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let role_ref = RoleRef {
            api_group: field("apiGroup"),
            kind: field("kind"),
            name: field("name"),
        };
        let mut subjects = Vec::new();
        let mut unnamespaced = Vec::new();
        for (i, entry) in binding_subjects(&object.value, namespace.as_deref()).enumerate() {
            let pointer = format!("/subjects/{i}");
            let subject = match entry {
                SubjectEntry::User(name) => Some(Subject::user(name)),
                SubjectEntry::Group(name) => Some(Subject::group(name)),
                SubjectEntry::ServiceAccount {
                    name,
                    namespace: Some(namespace),
                } => {
                    self.service_accounts
                        .entry(namespace.to_owned())
                        .or_default()
                        .insert(name.to_owned());
                    Some(Subject::service_account(namespace, name))
                }
                SubjectEntry::ServiceAccount {
                    name,
                    namespace: None,
                } => {
                    unnamespaced.push(name.to_owned());
                    self.diagnostics.push(Diagnostic {
                        kind: DiagnosticKind::IgnoredSubject,
                        object: index,
                        pointer: pointer.clone(),
                        message: format!(
                            "service account {name:?} has no namespace: in a \
                             ClusterRoleBinding it never matches"
                        ),
                    });
                    None
                }
                SubjectEntry::Unknown(other) => {
                    self.diagnostics.push(Diagnostic {
                        kind: DiagnosticKind::IgnoredSubject,
                        object: index,
                        pointer: pointer.clone(),
                        message: format!(
                            "subject kind {other:?} is not User, Group or ServiceAccount: \
                             it never matches"
                        ),
                    });
                    None
                }
            };
            if let Some(subject) = subject {
                subjects.push(BoundSubject { subject, pointer });
            }
        }
        let binding = Binding {
            kind,
            namespace,
            name: object.name().to_owned(),
            labels: labels_of(object),
            object: index,
            source: index.map(|_| object.source.path.clone()),
            role_ref,
            subjects,
            unnamespaced,
            role: None,
            effective: true,
        };
        let previous = self.binding_names.insert(
            (
                kind,
                binding.namespace.clone().unwrap_or_default(),
                binding.name.clone(),
            ),
            id,
        );
        self.replace(
            previous,
            index,
            &binding.name_ref().to_string(),
            |p, prev| p.bindings[prev].effective = false,
        );
        self.bindings.push(binding);
    }

    fn resolve(&mut self) {
        self.aggregate();
        for id in 0..self.bindings.len() {
            let binding = &self.bindings[id];
            if !binding.effective {
                continue;
            }
            let found = match (binding.kind, binding.role_ref.kind.as_str()) {
                (_, "ClusterRole") => Ok(self.cluster_roles.get(&binding.role_ref.name)),
                (BindingKind::RoleBinding, "Role") => Ok(self.ns_roles.get(&(
                    binding.namespace.clone().unwrap_or_default(),
                    binding.role_ref.name.clone(),
                ))),
                (_, other) => Err(other.to_owned()),
            };
            let object = binding.object;
            match found {
                Ok(Some(&role)) => self.bindings[id].role = Some(role),
                Ok(None) => {
                    let binding = &self.bindings[id];
                    let hint = if binding.role_ref.kind == "ClusterRole"
                        && defaults::is_default_role(
                            RoleKind::ClusterRole,
                            None,
                            &binding.role_ref.name,
                        ) {
                        " (a default ClusterRole of every cluster: include the default policy)"
                    } else {
                        ""
                    };
                    let message = format!(
                        "{} refers to {} {:?}, which is not in the input: it grants \
                         nothing{hint}",
                        binding.name_ref(),
                        binding.role_ref.kind,
                        binding.role_ref.name
                    );
                    self.diagnostics.push(Diagnostic {
                        kind: DiagnosticKind::MissingRole,
                        object,
                        pointer: "/roleRef".to_owned(),
                        message,
                    });
                }
                Err(kind) => {
                    let message = format!(
                        "roleRef kind {kind:?} is not valid in a {}: it grants nothing",
                        self.bindings[id].kind.as_str()
                    );
                    self.diagnostics.push(Diagnostic {
                        kind: DiagnosticKind::InvalidRoleRef,
                        object,
                        pointer: "/roleRef/kind".to_owned(),
                        message,
                    });
                }
            }
            let binding = &self.bindings[id];
            match binding.kind {
                BindingKind::ClusterRoleBinding => self.cluster_bindings.push(id),
                BindingKind::RoleBinding => self
                    .ns_bindings
                    .entry(binding.namespace.clone().unwrap_or_default())
                    .or_default()
                    .push(id),
            }
        }
    }

    /// Fills aggregated ClusterRoles as the aggregation controller does, repeated until no
    /// role changes (aggregated roles may select other aggregated roles).
    fn aggregate(&mut self) {
        let mut by_name: Vec<(String, RoleId)> = self
            .cluster_roles
            .iter()
            .map(|(name, id)| (name.clone(), *id))
            .collect();
        by_name.sort();
        let aggregated: Vec<RoleId> = by_name
            .iter()
            .map(|(_, id)| *id)
            .filter(|id| self.roles[*id].aggregation.is_some())
            .collect();
        if aggregated.is_empty() {
            return;
        }
        // Every pass can only carry rules one more level down a chain of aggregated roles.
        for _ in 0..=aggregated.len() {
            let mut changed = false;
            for &target in &aggregated {
                let mut rules: Vec<RuleId> = Vec::new();
                let mut from = Vec::new();
                let selectors = self.roles[target].aggregation.clone().unwrap_or_default();
                for selector in &selectors {
                    for (name, source) in &by_name {
                        if *name == self.roles[target].name
                            || !selector.matches(&self.roles[*source].labels)
                        {
                            continue;
                        }
                        if !from.contains(source) {
                            from.push(*source);
                        }
                        for &rule in &self.roles[*source].rules {
                            if !rules
                                .iter()
                                .any(|r| self.rules[*r].rule == self.rules[rule].rule)
                            {
                                rules.push(rule);
                            }
                        }
                    }
                }
                let role = &mut self.roles[target];
                if role.rules != rules {
                    role.rules = rules;
                    changed = true;
                }
                role.aggregated_from = from;
            }
            if !changed {
                break;
            }
        }
    }

    /// The ClusterRole with this name, if any.
    pub fn cluster_role(&self, name: &str) -> Option<&Role> {
        self.cluster_roles.get(name).map(|id| &self.roles[*id])
    }

    /// The id of the ClusterRole with this name, if any.
    pub fn cluster_role_id(&self, name: &str) -> Option<RoleId> {
        self.cluster_roles.get(name).copied()
    }

    /// The Role with this namespace and name, if any.
    pub fn role(&self, namespace: &str, name: &str) -> Option<&Role> {
        self.ns_roles
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|id| &self.roles[*id])
    }

    /// The rules in force for a role, with their definitions.
    pub fn role_rules(&self, role: RoleId) -> impl Iterator<Item = &RuleDef> + '_ {
        self.roles[role].rules.iter().map(|id| &self.rules[*id])
    }

    /// Bindings that refer to a role that does not exist.
    pub fn missing_roles(&self) -> impl Iterator<Item = &Diagnostic> + '_ {
        self.diagnostics
            .iter()
            .filter(|d| d.kind == DiagnosticKind::MissingRole)
    }

    /// The effective ClusterRoleBindings, then the effective RoleBindings of `namespace`, in the
    /// order the authorizer visits them.
    pub(crate) fn bindings_for(&self, namespace: &str) -> impl Iterator<Item = BindingId> + '_ {
        let ns = if namespace.is_empty() {
            None
        } else {
            self.ns_bindings.get(namespace)
        };
        self.cluster_bindings
            .iter()
            .chain(ns.into_iter().flatten())
            .copied()
    }

    /// Every effective binding (ClusterRoleBindings first, then RoleBindings by namespace).
    pub(crate) fn all_bindings(&self) -> impl Iterator<Item = BindingId> + '_ {
        self.cluster_bindings
            .iter()
            .chain(self.ns_bindings.values().flatten())
            .copied()
    }
}
