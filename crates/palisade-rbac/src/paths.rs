//! Escalation paths: chains of permissions that turn one identity into a more powerful one.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use serde::Serialize;

use crate::authz::{rule_allows, Attributes, Grant, UserInfo};
use crate::model::{BindingId, BindingKind, Policy, PolicyRule, Subject};
use crate::workloads::code_verbs;
use palisade_core::views::WORKLOADS;

/// A point of an escalation path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind")]
pub enum Node {
    /// An identity.
    Identity { subject: Subject },
    /// Every permission of the cluster.
    ClusterAdmin,
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Identity { subject } => write!(f, "{subject}"),
            Node::ClusterAdmin => f.write_str("cluster-admin"),
        }
    }
}

/// One step: what the current identity can do, the grant that allows it, and what it gains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub from: Node,
    /// What the permission allows, e.g. `create pods in namespace ci`.
    pub action: String,
    /// The binding, role and rule that allow it.
    pub grant: Grant,
    pub to: Node,
}

/// A chain from a subject to cluster-admin or to a target identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationPath {
    pub from: Subject,
    pub target: Node,
    pub steps: Vec<Step>,
}

/// Where a grant applies: the whole cluster, or one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Cluster,
    Namespace(String),
}

impl Scope {
    fn describe(&self) -> String {
        match self {
            Scope::Cluster => "in every namespace".to_owned(),
            Scope::Namespace(ns) => format!("in namespace {ns}"),
        }
    }
}

#[derive(Debug, Clone)]
struct Edge {
    action: String,
    grant: Grant,
    to: Node,
}

fn allows(rule: &PolicyRule, verb: &str, group: &str, resource: &str) -> bool {
    rule_allows(rule, &Attributes::resource(verb, group, resource))
}

/// The names a rule allows for a verb on a resource: `None` for every name.
fn allowed_names(
    rule: &PolicyRule,
    verb: &str,
    group: &str,
    resource: &str,
) -> Option<Vec<String>> {
    if allows(rule, verb, group, resource) {
        return None;
    }
    let attrs = Attributes::resource(verb, group, resource);
    Some(
        rule.resource_names
            .iter()
            .filter(|n| rule_allows(rule, &attrs.clone().named(n)))
            .cloned()
            .collect(),
    )
}

struct Graph<'p> {
    policy: &'p Policy,
    by_user: HashMap<&'p str, Vec<BindingId>>,
    by_group: HashMap<&'p str, Vec<BindingId>>,
    by_sa: HashMap<(&'p str, &'p str), Vec<BindingId>>,
    edges: HashMap<Node, Vec<Edge>>,
}

impl<'p> Graph<'p> {
    fn new(policy: &'p Policy) -> Graph<'p> {
        let mut graph = Graph {
            policy,
            by_user: HashMap::new(),
            by_group: HashMap::new(),
            by_sa: HashMap::new(),
            edges: HashMap::new(),
        };
        for id in policy.all_bindings() {
            for s in &policy.bindings[id].subjects {
                let list = match &s.subject {
                    Subject::User { name } => graph.by_user.entry(name).or_default(),
                    Subject::Group { name } => graph.by_group.entry(name).or_default(),
                    Subject::ServiceAccount { name, namespace } => {
                        graph.by_sa.entry((namespace, name)).or_default()
                    }
                };
                if list.last() != Some(&id) {
                    list.push(id);
                }
            }
        }
        graph
    }

    /// Bindings that apply to a user, each once.
    fn bindings_of(&self, user: &UserInfo) -> Vec<BindingId> {
        let mut ids: BTreeSet<BindingId> = BTreeSet::new();
        if let Some(list) = self.by_user.get(user.name.as_str()) {
            ids.extend(list);
        }
        for g in &user.groups {
            if let Some(list) = self.by_group.get(g.as_str()) {
                ids.extend(list);
            }
        }
        if let Some((ns, name)) = crate::authz::split_service_account(&user.name) {
            if let Some(list) = self.by_sa.get(&(ns, name)) {
                ids.extend(list);
            }
        }
        ids.into_iter()
            .filter(|id| {
                let b = &self.policy.bindings[*id];
                b.role.is_some() && b.subjects.iter().any(|s| user.matches(&s.subject))
            })
            .collect()
    }

    /// Service accounts that hold bindings of their own, in a scope.
    fn service_accounts(&self, scope: &Scope, names: Option<&[String]>) -> Vec<Node> {
        let mut out = Vec::new();
        for (ns, list) in &self.policy.service_accounts {
            if let Scope::Namespace(only) = scope {
                if ns != only {
                    continue;
                }
            }
            for name in list {
                if names.is_some_and(|names| !names.contains(name)) {
                    continue;
                }
                if self.by_sa.contains_key(&(ns.as_str(), name.as_str())) {
                    out.push(Node::Identity {
                        subject: Subject::service_account(ns.clone(), name.clone()),
                    });
                }
            }
        }
        out
    }

    fn edges(&mut self, node: &Node) -> Vec<Edge> {
        if let Some(edges) = self.edges.get(node) {
            return edges.clone();
        }
        let edges = match node {
            Node::ClusterAdmin => Vec::new(),
            Node::Identity { subject } => self.compute(subject),
        };
        self.edges.insert(node.clone(), edges.clone());
        edges
    }

    fn compute(&self, subject: &Subject) -> Vec<Edge> {
        let policy = self.policy;
        let user = UserInfo::for_subject(subject);
        let mut out = Vec::new();
        let mut push = |out: &mut Vec<Edge>, action: String, grant: &Grant, to: Vec<Node>| {
            for to in to {
                if to
                    == (Node::Identity {
                        subject: subject.clone(),
                    })
                {
                    continue;
                }
                out.push(Edge {
                    action: action.clone(),
                    grant: grant.clone(),
                    to,
                });
            }
        };
        // Grants of binding creation and of bind/escalate, per scope, to combine afterwards.
        let mut create_bindings: Vec<(Scope, Grant)> = Vec::new();
        let mut bind_any: Vec<(Scope, Grant, &'static str)> = Vec::new();
        for id in self.bindings_of(&user) {
            let binding = &policy.bindings[id];
            let Some(role) = binding.role else { continue };
            let scope = match binding.kind {
                BindingKind::ClusterRoleBinding => Scope::Cluster,
                BindingKind::RoleBinding => {
                    Scope::Namespace(binding.namespace.clone().unwrap_or_default())
                }
            };
            let pointer = binding
                .subjects
                .iter()
                .find(|s| user.matches(&s.subject))
                .map(|s| s.pointer.clone())
                .unwrap_or_default();
            for &rule_id in &policy.roles[role].rules {
                let rule = &policy.rules[rule_id].rule;
                let grant = Grant {
                    binding: binding.name_ref(),
                    subject_pointer: pointer.clone(),
                    role: policy.roles[role].name_ref(),
                    rule: crate::authz::RuleRef {
                        role: policy.roles[policy.rules[rule_id].role].name_ref(),
                        location: policy.rules[rule_id].location.clone(),
                        id: rule_id,
                    },
                    binding_id: id,
                };
                let within = scope.describe();
                if rule.is_full_wildcard() {
                    match &scope {
                        Scope::Cluster => push(
                            &mut out,
                            "holds every permission of the cluster".into(),
                            &grant,
                            vec![Node::ClusterAdmin],
                        ),
                        Scope::Namespace(_) => push(
                            &mut out,
                            format!("holds every permission {within}: runs pods as its service accounts"),
                            &grant,
                            self.service_accounts(&scope, None),
                        ),
                    }
                    continue;
                }
                if let Some((g, r)) = WORKLOADS
                    .iter()
                    .find(|w| {
                        code_verbs(w)
                            .iter()
                            .any(|v| allows(rule, v, w.group, w.resource))
                    })
                    .map(|w| (w.group, w.resource))
                {
                    push(
                        &mut out,
                        format!("create or change {r}{} {within}: runs pods as any service account there", if g.is_empty() { String::new() } else { format!(".{g}") }),
                        &grant,
                        self.service_accounts(&scope, None),
                    );
                }
                if ["pods/exec", "pods/attach"]
                    .iter()
                    .any(|r| allows(rule, "create", "", r) || allows(rule, "get", "", r))
                {
                    push(
                        &mut out,
                        format!(
                            "exec into pods {within}: uses the tokens of their service accounts"
                        ),
                        &grant,
                        self.service_accounts(&scope, None),
                    );
                }
                match allowed_names(rule, "create", "", "serviceaccounts/token") {
                    None => push(
                        &mut out,
                        format!("create service-account tokens {within}"),
                        &grant,
                        self.service_accounts(&scope, None),
                    ),
                    Some(names) if !names.is_empty() => push(
                        &mut out,
                        format!("create tokens of service accounts {names:?} {within}"),
                        &grant,
                        self.service_accounts(&scope, Some(&names)),
                    ),
                    Some(_) => {}
                }
                if allows(rule, "list", "", "secrets") || allows(rule, "watch", "", "secrets") {
                    push(
                        &mut out,
                        format!("read secrets {within}: service-account tokens stored there"),
                        &grant,
                        self.service_accounts(&scope, None),
                    );
                }
                if scope == Scope::Cluster && allows(rule, "get", "", "nodes/proxy") {
                    push(
                        &mut out,
                        "reach the kubelet API through nodes/proxy: exec into any pod".into(),
                        &grant,
                        self.service_accounts(&Scope::Cluster, None),
                    );
                }
                self.impersonation(rule, &scope, &grant, &mut out, &mut push);
                let rbac = crate::model::RBAC_GROUP;
                let (binding_kind, role_kinds): (&str, &[&str]) = match scope {
                    Scope::Cluster => ("clusterrolebindings", &["clusterroles"]),
                    Scope::Namespace(_) => ("rolebindings", &["roles", "clusterroles"]),
                };
                if allows(rule, "create", rbac, binding_kind) {
                    create_bindings.push((scope.clone(), grant.clone()));
                }
                for kind in role_kinds {
                    let bind = allowed_names(rule, "bind", rbac, kind);
                    let to_admin = match &bind {
                        None => true,
                        Some(names) => names.iter().any(|n| n == "cluster-admin"),
                    };
                    if to_admin {
                        bind_any.push((scope.clone(), grant.clone(), "bind"));
                    }
                    if allows(rule, "escalate", rbac, kind)
                        && (allows(rule, "update", rbac, kind) || allows(rule, "patch", rbac, kind))
                    {
                        bind_any.push((scope.clone(), grant.clone(), "escalate"));
                    }
                }
            }
        }
        for (scope, grant, verb) in bind_any {
            let can_bind = verb == "escalate"
                || create_bindings
                    .iter()
                    .any(|(s, _)| *s == scope || *s == Scope::Cluster);
            if !can_bind {
                continue;
            }
            match &scope {
                Scope::Cluster => push(
                    &mut out,
                    format!("{verb} roles without holding their permissions: grants itself cluster-admin"),
                    &grant,
                    vec![Node::ClusterAdmin],
                ),
                Scope::Namespace(_) => push(
                    &mut out,
                    format!(
                        "{verb} roles {}: grants itself every permission there and runs pods as its service accounts",
                        scope.describe()
                    ),
                    &grant,
                    self.service_accounts(&scope, None),
                ),
            }
        }
        out
    }

    fn impersonation(
        &self,
        rule: &PolicyRule,
        scope: &Scope,
        grant: &Grant,
        out: &mut Vec<Edge>,
        push: &mut impl FnMut(&mut Vec<Edge>, String, &Grant, Vec<Node>),
    ) {
        if *scope == Scope::Cluster {
            match allowed_names(rule, "impersonate", "", "groups") {
                None => push(
                    out,
                    "impersonate any group, system:masters included".into(),
                    grant,
                    vec![Node::ClusterAdmin],
                ),
                Some(names) => {
                    let to = names
                        .iter()
                        .map(|n| Node::Identity {
                            subject: Subject::group(n.clone()),
                        })
                        .collect();
                    push(out, format!("impersonate groups {names:?}"), grant, to);
                }
            }
            match allowed_names(rule, "impersonate", "", "users") {
                None => {
                    let users: Vec<Node> = self
                        .by_user
                        .keys()
                        .map(|n| Node::Identity {
                            subject: Subject::user(*n),
                        })
                        .collect();
                    push(out, "impersonate any user".into(), grant, users);
                }
                Some(names) => {
                    let to = names
                        .iter()
                        .map(|n| match Subject::parse(n) {
                            Some(s @ Subject::ServiceAccount { .. }) => {
                                Node::Identity { subject: s }
                            }
                            _ => Node::Identity {
                                subject: Subject::user(n.clone()),
                            },
                        })
                        .collect();
                    push(out, format!("impersonate users {names:?}"), grant, to);
                }
            }
        }
        match allowed_names(rule, "impersonate", "", "serviceaccounts") {
            None => push(
                out,
                format!("impersonate service accounts {}", scope.describe()),
                grant,
                self.service_accounts(scope, None),
            ),
            Some(names) if !names.is_empty() => push(
                out,
                format!(
                    "impersonate service accounts {names:?} {}",
                    scope.describe()
                ),
                grant,
                self.service_accounts(scope, Some(&names)),
            ),
            Some(_) => {}
        }
    }

    /// Shortest path from `start` to a node for which `done` holds, at most `max_depth` steps.
    fn search(
        &mut self,
        start: &Subject,
        max_depth: usize,
        done: &dyn Fn(&Node) -> bool,
    ) -> Option<EscalationPath> {
        let start_node = Node::Identity {
            subject: start.clone(),
        };
        let mut parent: HashMap<Node, (Node, Edge)> = HashMap::new();
        let mut seen: HashSet<Node> = HashSet::from([start_node.clone()]);
        let mut queue = VecDeque::from([(start_node.clone(), 0usize)]);
        while let Some((node, depth)) = queue.pop_front() {
            if depth >= max_depth {
                continue;
            }
            for edge in self.edges(&node) {
                if !seen.insert(edge.to.clone()) {
                    continue;
                }
                parent.insert(edge.to.clone(), (node.clone(), edge.clone()));
                if done(&edge.to) {
                    let mut steps = Vec::new();
                    let mut at = edge.to.clone();
                    while let Some((prev, e)) = parent.get(&at) {
                        steps.push(Step {
                            from: prev.clone(),
                            action: e.action.clone(),
                            grant: e.grant.clone(),
                            to: at.clone(),
                        });
                        at = prev.clone();
                    }
                    steps.reverse();
                    return Some(EscalationPath {
                        from: start.clone(),
                        target: edge.to,
                        steps,
                    });
                }
                queue.push_back((edge.to, depth + 1));
            }
        }
        None
    }
}

fn starts(policy: &Policy, from: Option<&Subject>) -> Vec<Subject> {
    match from {
        Some(subject) => vec![subject.clone()],
        None => {
            let mut set = BTreeSet::new();
            for b in policy
                .bindings
                .iter()
                .filter(|b| b.effective && b.object.is_some())
            {
                for s in &b.subjects {
                    set.insert(s.subject.clone());
                }
            }
            set.into_iter().collect()
        }
    }
}

/// Escalation paths to cluster-admin: for `from`, or for every subject of an input binding;
/// the shortest path of each, at most `max_depth` steps.
pub fn paths(policy: &Policy, from: Option<&Subject>, max_depth: usize) -> Vec<EscalationPath> {
    let mut graph = Graph::new(policy);
    starts(policy, from)
        .iter()
        .filter_map(|s| graph.search(s, max_depth, &|n| *n == Node::ClusterAdmin))
        .collect()
}

/// Escalation paths to a target identity (or to cluster-admin, which is every identity).
pub fn paths_to(
    policy: &Policy,
    from: Option<&Subject>,
    target: &Subject,
    max_depth: usize,
) -> Vec<EscalationPath> {
    let mut graph = Graph::new(policy);
    let goal = Node::Identity {
        subject: target.clone(),
    };
    starts(policy, from)
        .iter()
        .filter(|s| *s != target)
        .filter_map(|s| graph.search(s, max_depth, &|n| *n == goal || *n == Node::ClusterAdmin))
        .collect()
}
