//! The RBAC authorizer: rule matching, decisions, who-can and the rules of a user.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Binding, BindingId, Location, ObjectName, Policy, PolicyRule, RuleId, Subject};

/// Group of every authenticated user.
pub const ALL_AUTHENTICATED: &str = "system:authenticated";
/// Group of every unauthenticated request.
pub const ALL_UNAUTHENTICATED: &str = "system:unauthenticated";
/// User name of unauthenticated requests.
pub const ANONYMOUS: &str = "system:anonymous";
/// Group of every service account.
pub const ALL_SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
/// Group whose members pass every authorization check: the API server's superuser group,
/// which no RBAC binding grants or restricts.
pub const MASTERS: &str = "system:masters";
/// Prefix of service-account user names.
pub const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// Who makes a request: a user name and groups, as the authenticator sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user with exactly these groups.
    pub fn new(name: impl Into<String>, groups: impl IntoIterator<Item = String>) -> UserInfo {
        UserInfo {
            name: name.into(),
            groups: groups.into_iter().collect(),
        }
    }

    /// A service account as its token authenticates: `system:serviceaccount:NS:NAME` in the
    /// groups `system:serviceaccounts`, `system:serviceaccounts:NS` and `system:authenticated`.
    pub fn service_account(namespace: &str, name: &str) -> UserInfo {
        UserInfo {
            name: format!("{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"),
            groups: vec![
                ALL_SERVICE_ACCOUNTS.to_owned(),
                format!("{ALL_SERVICE_ACCOUNTS}:{namespace}"),
                ALL_AUTHENTICATED.to_owned(),
            ],
        }
    }

    /// The unauthenticated user.
    pub fn anonymous() -> UserInfo {
        UserInfo::new(ANONYMOUS, [ALL_UNAUTHENTICATED.to_owned()])
    }

    /// The user `kubectl --as NAME --as-group G…` makes the API server act as: a
    /// `system:serviceaccount:NS:NAME` user gets the service-account groups when no group is
    /// given; every user but `system:anonymous` gets `system:authenticated` unless
    /// `system:authenticated` or `system:unauthenticated` is given; `system:anonymous` gets
    /// `system:unauthenticated`.
    pub fn impersonate(name: &str, groups: &[String]) -> UserInfo {
        let mut groups = groups.to_vec();
        if groups.is_empty() {
            if let Some((ns, _)) = split_service_account(name) {
                groups = vec![
                    ALL_SERVICE_ACCOUNTS.to_owned(),
                    format!("{ALL_SERVICE_ACCOUNTS}:{ns}"),
                ];
            }
        }
        if name == ANONYMOUS {
            if !groups.iter().any(|g| g == ALL_UNAUTHENTICATED) {
                groups.push(ALL_UNAUTHENTICATED.to_owned());
            }
        } else if !groups
            .iter()
            .any(|g| g == ALL_AUTHENTICATED || g == ALL_UNAUTHENTICATED)
        {
            groups.push(ALL_AUTHENTICATED.to_owned());
        }
        UserInfo {
            name: name.to_owned(),
            groups,
        }
    }

    /// The identity of a subject: a service account or user as authenticated, or a member of a
    /// group (a user with no name in just that group).
    pub fn for_subject(subject: &Subject) -> UserInfo {
        match subject {
            Subject::ServiceAccount { name, namespace } => {
                UserInfo::service_account(namespace, name)
            }
            Subject::User { name } if name == ANONYMOUS => UserInfo::anonymous(),
            Subject::User { name } => UserInfo::new(name.clone(), [ALL_AUTHENTICATED.to_owned()]),
            Subject::Group { name } => UserInfo::new(String::new(), [name.clone()]),
        }
    }

    /// Whether a binding subject applies to this user; `namespace` is the namespace of the
    /// binding (empty for a ClusterRoleBinding).
    pub fn matches(&self, subject: &Subject) -> bool {
        match subject {
            Subject::User { name } => !name.is_empty() && *name == self.name,
            Subject::Group { name } => self.groups.iter().any(|g| g == name),
            Subject::ServiceAccount { name, namespace } => {
                split_service_account(&self.name) == Some((namespace.as_str(), name.as_str()))
            }
        }
    }
}

/// Splits `system:serviceaccount:NS:NAME` into namespace and name.
pub fn split_service_account(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix(SERVICE_ACCOUNT_PREFIX)?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

/// A request, as the authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Attributes {
    pub verb: String,
    /// Empty for cluster-scoped resources, requests across all namespaces and non-resource
    /// requests.
    pub namespace: String,
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    /// Empty when the request names no object (list, create, watch of a collection).
    pub name: String,
    /// The URL path of a non-resource request.
    pub path: String,
    pub resource_request: bool,
}

/// Built-in cluster-scoped resources (with their groups), and the targets of impersonation and
/// CSR signing that RBAC checks cluster-wide.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "nodes"),
    ("", "namespaces"),
    ("", "persistentvolumes"),
    ("", "componentstatuses"),
    ("", "users"),
    ("", "groups"),
    ("authentication.k8s.io", "uids"),
    ("authentication.k8s.io", "userextras"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("certificates.k8s.io", "certificatesigningrequests"),
    ("certificates.k8s.io", "signers"),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("apiregistration.k8s.io", "apiservices"),
    ("networking.k8s.io", "ingressclasses"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "volumeattachments"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "csinodes"),
    ("scheduling.k8s.io", "priorityclasses"),
    ("node.k8s.io", "runtimeclasses"),
    ("authentication.k8s.io", "tokenreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
];

impl Attributes {
    /// A resource request: `resource` may carry a subresource (`pods/exec`).
    pub fn resource(verb: &str, api_group: &str, resource: &str) -> Attributes {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Attributes {
            verb: verb.to_owned(),
            api_group: api_group.to_owned(),
            resource: resource.to_owned(),
            subresource: subresource.to_owned(),
            resource_request: true,
            ..Attributes::default()
        }
    }

    /// A non-resource request (`/metrics`, `/healthz`).
    pub fn non_resource(verb: &str, path: &str) -> Attributes {
        Attributes {
            verb: verb.to_owned(),
            path: path.to_owned(),
            ..Attributes::default()
        }
    }

    /// Parses a request as `kubectl auth can-i VERB TARGET` does without a cluster: a target
    /// starting with `/` is a non-resource URL; otherwise `RESOURCE[.GROUP][/SUBRESOURCE]`,
    /// with kubectl short names (`po`, `deploy`) and the group of built-in resources filled in
    /// when none is given. `api_group`, when given, overrides the group.
    pub fn parse(verb: &str, target: &str, api_group: Option<&str>) -> Attributes {
        if target.starts_with('/') {
            return Attributes::non_resource(verb, target);
        }
        let (resource, subresource) = target.split_once('/').unwrap_or((target, ""));
        let (resource, group) = match resource.split_once('.') {
            Some((resource, group)) => (resource, Some(group)),
            None => (resource, None),
        };
        let builtin = crate::resources::builtin(resource);
        let resource = builtin.map_or(resource, |(plural, _)| plural);
        let group = api_group
            .or(group)
            .unwrap_or_else(|| builtin.map_or("", |(_, group)| group));
        let mut attrs = Attributes::resource(verb, group, resource);
        attrs.subresource = subresource.to_owned();
        attrs
    }

    /// Whether the request is for a built-in cluster-scoped resource (nodes, namespaces,
    /// ClusterRoles…) or a non-resource URL: RoleBindings never grant it.
    pub fn is_cluster_scoped(&self) -> bool {
        !self.resource_request
            || CLUSTER_SCOPED
                .iter()
                .any(|(g, r)| *g == self.api_group && *r == self.resource)
    }

    /// The same request in a namespace (non-resource requests have none: they stay
    /// cluster-wide).
    pub fn in_namespace(mut self, namespace: &str) -> Attributes {
        if self.resource_request {
            self.namespace = namespace.to_owned();
        }
        self
    }

    /// The namespace whose RoleBindings apply: none for a non-resource request.
    fn binding_namespace(&self) -> &str {
        if self.resource_request {
            &self.namespace
        } else {
            ""
        }
    }

    /// The same request on a named object.
    pub fn named(mut self, name: &str) -> Attributes {
        self.name = name.to_owned();
        self
    }
}

impl std::fmt::Display for Attributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.resource_request {
            return write!(f, "{} {}", self.verb, self.path);
        }
        write!(f, "{} {}", self.verb, self.resource)?;
        if !self.api_group.is_empty() {
            write!(f, ".{}", self.api_group)?;
        }
        if !self.subresource.is_empty() {
            write!(f, "/{}", self.subresource)?;
        }
        if !self.name.is_empty() {
            write!(f, " {:?}", self.name)?;
        }
        if !self.namespace.is_empty() {
            write!(f, " in namespace {}", self.namespace)?;
        }
        Ok(())
    }
}

fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}

fn group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups.iter().any(|g| g == "*" || g == group)
}

fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    rule.resources.iter().any(|r| {
        r == "*"
            || r == combined
            || (!subresource.is_empty()
                && r.len() == subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(subresource))
    })
}

fn name_matches(rule: &PolicyRule, name: &str) -> bool {
    rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| n == name)
}

fn url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == "*" || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
    })
}

/// Whether a rule allows a request (the authorizer's rule match).
pub fn rule_allows(rule: &PolicyRule, attrs: &Attributes) -> bool {
    if attrs.resource_request {
        let combined;
        let resource = if attrs.subresource.is_empty() {
            attrs.resource.as_str()
        } else {
            combined = format!("{}/{}", attrs.resource, attrs.subresource);
            combined.as_str()
        };
        verb_matches(rule, &attrs.verb)
            && group_matches(rule, &attrs.api_group)
            && resource_matches(rule, resource, &attrs.subresource)
            && name_matches(rule, &attrs.name)
    } else {
        verb_matches(rule, &attrs.verb) && url_matches(rule, &attrs.path)
    }
}

/// Where a rule that grants a request is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// The role whose `rules` list holds the rule (for an aggregated ClusterRole, the
    /// aggregated source role).
    pub role: ObjectName,
    #[serde(flatten)]
    pub location: Location,
    #[serde(skip)]
    pub id: RuleId,
}

/// One binding, role and rule that grant a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub binding: ObjectName,
    /// Pointer of the matching subject in the binding (`/subjects/<i>`).
    pub subject_pointer: String,
    /// The role the binding refers to.
    pub role: ObjectName,
    pub rule: RuleRef,
    #[serde(skip)]
    pub binding_id: BindingId,
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// Every grant that allows the request (empty when denied).
    pub grants: Vec<Grant>,
}

/// A subject allowed to make a request, with what allows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectGrant {
    pub subject: Subject,
    pub grants: Vec<Grant>,
}

impl Policy {
    fn rule_ref(&self, rule: RuleId) -> RuleRef {
        let def = &self.rules[rule];
        RuleRef {
            role: self.roles[def.role].name_ref(),
            location: def.location.clone(),
            id: rule,
        }
    }

    /// The grant of a binding for a request, when its role allows it; `subject_pointer` is the
    /// matching subject.
    fn grants_of(
        &self,
        binding_id: BindingId,
        subject_pointer: &str,
        attrs: &Attributes,
        out: &mut Vec<Grant>,
    ) {
        let binding = &self.bindings[binding_id];
        let Some(role) = binding.role else { return };
        for &rule in &self.roles[role].rules {
            if rule_allows(&self.rules[rule].rule, attrs) {
                out.push(Grant {
                    binding: binding.name_ref(),
                    subject_pointer: subject_pointer.to_owned(),
                    role: self.roles[role].name_ref(),
                    rule: self.rule_ref(rule),
                    binding_id,
                });
            }
        }
    }

    /// Decides a request as the RBAC authorizer: ClusterRoleBindings apply everywhere,
    /// RoleBindings only to requests in their namespace.
    pub fn authorize(&self, user: &UserInfo, attrs: &Attributes) -> Decision {
        let mut grants = Vec::new();
        for id in self.bindings_for(attrs.binding_namespace()) {
            let binding = &self.bindings[id];
            if let Some(subject) = binding.subjects.iter().find(|s| user.matches(&s.subject)) {
                self.grants_of(id, &subject.pointer, attrs, &mut grants);
            }
        }
        Decision {
            allowed: !grants.is_empty(),
            grants,
        }
    }

    /// Whether a user may make a request.
    pub fn can(&self, user: &UserInfo, attrs: &Attributes) -> bool {
        self.bindings_for(attrs.binding_namespace()).any(|id| {
            let binding = &self.bindings[id];
            binding.role.is_some_and(|role| {
                binding.subjects.iter().any(|s| user.matches(&s.subject))
                    && self.roles[role]
                        .rules
                        .iter()
                        .any(|r| rule_allows(&self.rules[*r].rule, attrs))
            })
        })
    }

    /// Every subject of a binding that allows the request, sorted by subject.
    pub fn who_can(&self, attrs: &Attributes) -> Vec<SubjectGrant> {
        self.collect_subjects(self.bindings_for(attrs.binding_namespace()), |_| {
            attrs.clone()
        })
    }

    /// Like [`Policy::who_can`] for a namespaced request in any namespace: RoleBindings of
    /// every namespace count, each for its own namespace (the grant names the binding).
    /// Non-resource requests are never granted by RoleBindings.
    pub fn who_can_anywhere(&self, attrs: &Attributes) -> Vec<SubjectGrant> {
        if !attrs.resource_request {
            return self.who_can(attrs);
        }
        self.collect_subjects(self.all_bindings(), |binding: &Binding| {
            let mut attrs = attrs.clone();
            if let Some(ns) = &binding.namespace {
                attrs.namespace = ns.clone();
            }
            attrs
        })
    }

    fn collect_subjects(
        &self,
        bindings: impl Iterator<Item = BindingId>,
        attrs_for: impl Fn(&Binding) -> Attributes,
    ) -> Vec<SubjectGrant> {
        let mut by_subject: BTreeMap<Subject, Vec<Grant>> = BTreeMap::new();
        for id in bindings {
            let binding = &self.bindings[id];
            if binding.subjects.is_empty() {
                continue;
            }
            let attrs = attrs_for(binding);
            let mut grants = Vec::new();
            self.grants_of(id, "", &attrs, &mut grants);
            if grants.is_empty() {
                continue;
            }
            for subject in &binding.subjects {
                let entry = by_subject.entry(subject.subject.clone()).or_default();
                for grant in &grants {
                    let mut grant = grant.clone();
                    grant.subject_pointer = subject.pointer.clone();
                    entry.push(grant);
                }
            }
        }
        by_subject
            .into_iter()
            .map(|(subject, grants)| SubjectGrant { subject, grants })
            .collect()
    }

    /// The rules of a user in a namespace, as a SelfSubjectRulesReview reports them
    /// (`kubectl auth can-i --list`): resource rules and non-resource rules, in the order the
    /// authorizer visits bindings.
    pub fn rules_for(
        &self,
        user: &UserInfo,
        namespace: &str,
    ) -> (Vec<ResourceRule>, Vec<NonResourceRule>) {
        let mut resource = Vec::new();
        let mut non_resource = Vec::new();
        for id in self.bindings_for(namespace) {
            let binding = &self.bindings[id];
            let Some(role) = binding.role else { continue };
            if !binding.subjects.iter().any(|s| user.matches(&s.subject)) {
                continue;
            }
            for def in self.role_rules(role) {
                let rule = &def.rule;
                if !rule.resources.is_empty() {
                    resource.push(ResourceRule {
                        verbs: rule.verbs.clone(),
                        api_groups: rule.api_groups.clone(),
                        resources: rule.resources.clone(),
                        resource_names: rule.resource_names.clone(),
                    });
                }
                if !rule.non_resource_urls.is_empty() {
                    non_resource.push(NonResourceRule {
                        verbs: rule.verbs.clone(),
                        non_resource_urls: rule.non_resource_urls.clone(),
                    });
                }
            }
        }
        (resource, non_resource)
    }
}

/// A resource rule of a rules review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
}

/// A non-resource rule of a rules review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonResourceRule {
    pub verbs: Vec<String>,
    #[serde(rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
}
