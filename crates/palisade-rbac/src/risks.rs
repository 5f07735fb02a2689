//! Risky permissions: rules and bindings that hand out more than they seem to.

use palisade_core::rule::{Framework, Reference, RuleMeta, Severity};
use serde::Serialize;

use crate::authz::{
    rule_allows, Attributes, ALL_AUTHENTICATED, ALL_SERVICE_ACCOUNTS, ALL_UNAUTHENTICATED,
    ANONYMOUS,
};
use crate::model::{BindingKind, Policy, PolicyRule, Role, RoleKind, Subject};

/// A risky permission, located at a rule (`/rules/<i>`) or a binding (`/roleRef`,
/// `/subjects/<i>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    pub id: &'static str,
    pub severity: Severity,
    /// Index of the object in the input.
    pub object: usize,
    pub pointer: String,
    pub message: String,
}

/// What every risk reads: a role's scope depends on its bindings, a binding's risk on its role,
/// and service accounts are identities of their own.
const KINDS: &[&str] = &[
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ServiceAccount",
];

const fn mitre(id: &'static str, url: &'static str) -> Reference {
    Reference::url(Framework::Mitre, id, url)
}

const RBAC_DOCS: Reference = Reference::url(
    Framework::Docs,
    "RBAC good practices",
    "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
);

/// Secrets readable.
pub const SECRETS_READ: &str = "RBAC001";
/// Pods or workloads writable.
pub const WORKLOAD_WRITE: &str = "RBAC002";
/// exec, attach or port-forward into pods.
pub const POD_EXEC: &str = "RBAC003";
/// escalate or bind on roles.
pub const ESCALATE_BIND: &str = "RBAC004";
/// impersonate.
pub const IMPERSONATE: &str = "RBAC005";
/// Service-account tokens mintable.
pub const TOKEN_CREATE: &str = "RBAC006";
/// Kubelet API through nodes/proxy.
pub const NODES_PROXY: &str = "RBAC007";
/// CSR approval or signing.
pub const CSR_APPROVE: &str = "RBAC008";
/// Admission webhook configurations writable.
pub const WEBHOOK_WRITE: &str = "RBAC009";
/// Wildcard verbs or resources.
pub const WILDCARD: &str = "RBAC010";
/// Binding to cluster-admin.
pub const CLUSTER_ADMIN_BINDING: &str = "RBAC011";
/// Binding to anonymous, unauthenticated or every authenticated user.
pub const PUBLIC_BINDING: &str = "RBAC012";
/// Permissions granted to a `default` service account.
pub const DEFAULT_SA_BINDING: &str = "RBAC013";

/// Metadata of every risk [`risks`] reports, for the rule registry and the docs.
pub static RISKS: &[RuleMeta] = &[
    RuleMeta {
        id: SECRETS_READ,
        slug: "rbac-secrets-read",
        title: "Role can read secrets",
        severity: Severity::High,
        category: "rbac",
        kinds: KINDS,
        summary: "A rule allows `get`, `list` or `watch` on `secrets` without restricting \
`resourceNames`.",
        rationale: "Secrets hold credentials: service-account tokens, TLS keys, registry and \
cloud credentials. `list` and `watch` return the content of every secret, so whoever holds \
the role (or steals the token of a service account bound to it) can act as every service \
account whose token is stored in the scope and reach external systems.",
        remediation: "Grant access to named secrets only (`resourceNames`), mount the secrets \
a workload needs instead of reading them through the API, and bind cluster-wide read of \
secrets to no one but the controllers that cannot work without it.",
        references: &[
            Reference::new(Framework::Cis, "5.1.2"),
            mitre(
                "T1552.007",
                "https://attack.mitre.org/techniques/T1552/007/",
            ),
            RBAC_DOCS,
        ],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: WORKLOAD_WRITE,
        slug: "rbac-workload-write",
        title: "Role can create or change pods or workloads",
        severity: Severity::High,
        category: "rbac",
        kinds: KINDS,
        summary: "A rule allows `create`, `update` or `patch` on pods or on a workload \
resource (Deployment, DaemonSet, StatefulSet, ReplicaSet, Job, CronJob, \
ReplicationController).",
        rationale: "Whoever can run a pod in a namespace can run it as any service account of \
the namespace, mount any secret, ConfigMap or volume of the namespace, and, unless Pod \
Security admission stops it, run privileged on the node. The permission is therefore worth \
every permission of every service account and every secret in its scope.",
        remediation: "Let people and CI deploy through a reviewed pipeline or a GitOps \
controller; keep workload write access namespaced, enforce the `restricted` Pod Security \
level in those namespaces, and avoid cluster-wide workload write outside controllers.",
        references: &[
            Reference::new(Framework::Cis, "5.1.4"),
            mitre("T1610", "https://attack.mitre.org/techniques/T1610/"),
            RBAC_DOCS,
        ],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: POD_EXEC,
        slug: "rbac-pod-exec",
        title: "Role can exec, attach or port-forward into pods",
        severity: Severity::High,
        category: "rbac",
        kinds: KINDS,
        summary: "A rule allows `create` or `get` on `pods/exec`, `pods/attach` or \
`pods/portforward`.",
        rationale: "exec and attach run commands inside running containers, with their \
service-account token, mounted secrets and network position; port-forward reaches ports \
that NetworkPolicies and Services keep private. `get` is enough over WebSockets on API \
servers that do not require `create`.",
        remediation: "Grant exec and port-forward only for break-glass access, namespaced, to \
named people; use logs and ephemeral debug containers under audit otherwise.",
        references: &[
            mitre("T1609", "https://attack.mitre.org/techniques/T1609/"),
            RBAC_DOCS,
        ],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: ESCALATE_BIND,
        slug: "rbac-escalate-bind",
        title: "Role can escalate or bind roles",
        severity: Severity::Critical,
        category: "rbac",
        kinds: KINDS,
        summary: "A rule allows the `escalate` or `bind` verb on roles or clusterroles.",
        rationale: "RBAC normally refuses to let a user grant permissions they do not hold. \
`escalate` lifts that check when editing roles, `bind` when creating bindings: with either \
(and write access to roles or bindings) a subject can give itself any role up to \
cluster-admin.",
        remediation: "Remove `escalate` and `bind`; where a controller must manage bindings, \
restrict `bind` with `resourceNames` to the roles it hands out.",
        references: &[
            Reference::new(Framework::Cis, "5.1.8"),
            mitre("T1078", "https://attack.mitre.org/techniques/T1078/"),
            RBAC_DOCS,
        ],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: IMPERSONATE,
        slug: "rbac-impersonate",
        title: "Role can impersonate users, groups or service accounts",
        severity: Severity::Critical,
        category: "rbac",
        kinds: KINDS,
        summary: "A rule allows the `impersonate` verb on users, groups or service accounts.",
        rationale: "Impersonation makes the API server act as another identity. Unrestricted \
impersonation of users or groups includes `system:masters`, which is cluster-admin; \
impersonating service accounts grants their permissions.",
        remediation: "Remove `impersonate`, or restrict it with `resourceNames` to the \
identities a proxy really needs.",
        references: &[
            Reference::new(Framework::Cis, "5.1.8"),
            mitre("T1078", "https://attack.mitre.org/techniques/T1078/"),
            RBAC_DOCS,
        ],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: TOKEN_CREATE,
        slug: "rbac-serviceaccount-token-create",
        title: "Role can create service-account tokens",
        severity: Severity::High,
        category: "rbac",
        kinds: KINDS,
        summary: "A rule allows `create` on `serviceaccounts/token`.",
        rationale: "The TokenRequest API mints a token for any service account in scope: the \
holder acts with every permission of those service accounts, for as long as the token lives.",
        remediation: "Restrict `serviceaccounts/token` with `resourceNames` to the service \
accounts concerned, or remove it.",
        references: &[
            mitre("T1528", "https://attack.mitre.org/techniques/T1528/"),
            RBAC_DOCS,
        ],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: NODES_PROXY,
        slug: "rbac-nodes-proxy",
        title: "Role can reach the kubelet API through nodes/proxy",
        severity: Severity::Critical,
        category: "rbac",
        kinds: KINDS,
        summary: "A rule allows `get` or `create` on `nodes/proxy`.",
        rationale: "nodes/proxy forwards requests to the kubelet API of every node, which \
runs commands in any container of the node (`/exec`, `/run`) without the API server's \
pod-level authorization or audit of the command.",
        remediation: "Grant `nodes/metrics` or `nodes/stats` for monitoring instead; keep \
nodes/proxy for the API server's own kubelet client.",
        references: &[
            mitre("T1609", "https://attack.mitre.org/techniques/T1609/"),
            RBAC_DOCS,
        ],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: CSR_APPROVE,
        slug: "rbac-csr-approve",
        title: "Role can approve or sign certificate signing requests",
        severity: Severity::High,
        category: "rbac",
        kinds: KINDS,
        summary: "A ClusterRole allows both halves of issuing a certificate: `update` or \
`patch` of `certificatesigningrequests/approval` with `approve` on `signers`, or of \
`certificatesigningrequests/status` with `sign` on `signers`. Reported at the rule on \
`signers`; high when it covers the API server's client signers (`kubernetes.io/*`), low \
when it names only other signers.",
        rationale: "Approving a CSR for the `kube-apiserver-client` signer issues a client \
certificate for any user or group, `system:masters` included; signing lets the holder issue \
certificates itself.",
        remediation: "Restrict `approve` and `sign` with `resourceNames` to the signers the \
controller serves; never approve `kubernetes.io/kube-apiserver-client` automatically.",
        references: &[
            mitre("T1649", "https://attack.mitre.org/techniques/T1649/"),
            RBAC_DOCS,
        ],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: WEBHOOK_WRITE,
        slug: "rbac-admission-webhook-write",
        title: "Role can change admission webhook configurations",
        severity: Severity::High,
        category: "rbac",
        kinds: KINDS,
        summary: "A rule allows `create`, `update`, `patch` or `delete` on \
`mutatingwebhookconfigurations` or `validatingwebhookconfigurations`.",
        rationale: "A mutating webhook sees and may rewrite every object it selects (secrets \
included) before it is stored; deleting or loosening a validating webhook switches off the \
policy it enforces.",
        remediation: "Let only the webhook's own controller update its configuration, \
restricted with `resourceNames`.",
        references: &[
            mitre("T1562", "https://attack.mitre.org/techniques/T1562/"),
            RBAC_DOCS,
        ],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: WILDCARD,
        slug: "rbac-wildcard",
        title: "Role uses wildcard verbs or resources",
        severity: Severity::Medium,
        category: "rbac",
        kinds: KINDS,
        summary: "A rule has `*` in `verbs` or `resources`; with `*` in verbs, groups and \
resources it is equivalent to cluster-admin in its scope. Wildcards confined to API groups \
that are not Kubernetes' own (custom resources) are reported as info.",
        rationale: "Wildcards grant every present and future verb, resource and subresource \
(exec, secrets, escalate, impersonate included), so the role grows with every API added to \
the cluster.",
        remediation: "List the verbs and resources the subject needs.",
        references: &[Reference::new(Framework::Cis, "5.1.3"), RBAC_DOCS],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: CLUSTER_ADMIN_BINDING,
        slug: "rbac-cluster-admin-binding",
        title: "Binding grants cluster-admin",
        severity: Severity::High,
        category: "rbac",
        kinds: KINDS,
        summary: "A ClusterRoleBinding or RoleBinding refers to the `cluster-admin` \
ClusterRole.",
        rationale: "cluster-admin allows everything: bound cluster-wide it owns the cluster, \
bound in a namespace it owns the namespace (its secrets, service accounts and RBAC).",
        remediation: "Bind a role with the permissions the subject needs; keep cluster-admin \
for break-glass access.",
        references: &[Reference::new(Framework::Cis, "5.1.1"), RBAC_DOCS],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: PUBLIC_BINDING,
        slug: "rbac-public-binding",
        title: "Binding grants permissions to anonymous or all users",
        severity: Severity::High,
        category: "rbac",
        kinds: KINDS,
        summary: "A binding has the subject `system:anonymous`, `system:unauthenticated`, \
`system:authenticated` or `system:serviceaccounts`. Roles that only read public \
information are not reported; roles that only read named objects other than secrets are \
reported as info.",
        rationale: "These identities include everyone who can reach the API server (anonymous \
requests), everyone with any credential (every user and every service account of every \
workload), or every service account: the permissions are effectively public.",
        remediation: "Bind the role to the users, groups or service accounts that need it.",
        references: &[
            mitre(
                "T1078.001",
                "https://attack.mitre.org/techniques/T1078/001/",
            ),
            RBAC_DOCS,
        ],
        fixable: false,
        source: file!(),
    },
    RuleMeta {
        id: DEFAULT_SA_BINDING,
        slug: "rbac-default-serviceaccount-binding",
        title: "Binding grants permissions to a default service account",
        severity: Severity::Medium,
        category: "rbac",
        kinds: KINDS,
        summary: "A binding has a `default` service account as subject.",
        rationale: "Every pod that does not name a service account runs as `default`, so the \
permissions go to every such workload of the namespace, present and future.",
        remediation: "Create a dedicated service account for the workload that needs the \
permissions and bind the role to it.",
        references: &[Reference::new(Framework::Cis, "5.1.5"), RBAC_DOCS],
        fixable: false,
        source: file!(),
    },
];

/// The metadata of a risk id.
pub fn risk_meta(id: &str) -> Option<&'static RuleMeta> {
    RISKS.iter().find(|m| m.id == id)
}

fn lower(severity: Severity) -> Severity {
    match severity {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Info,
    }
}

/// Where the permissions of a role apply.
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
    fn describe(self, role: &Role) -> String {
        match (self, &role.namespace) {
            (Scope::Cluster, _) => "in every namespace (bound by a ClusterRoleBinding)".into(),
            (_, Some(ns)) => format!("in namespace {ns}"),
            (Scope::Namespace, None) => "in the namespaces of its RoleBindings".into(),
            (Scope::Unbound, None) => "wherever it is bound".into(),
        }
    }

    fn severity(self, base: Severity) -> Severity {
        match self {
            Scope::Namespace => lower(base),
            Scope::Cluster | Scope::Unbound => base,
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

const WRITE: &[&str] = &["create", "update", "patch"];

/// What a rule grants against a list of probes: every matching `verb resource`, and whether
/// the matches need a resource name.
struct Hit {
    what: Vec<String>,
    named_only: bool,
}

fn check(rule: &PolicyRule, probes: &[Probe]) -> Option<Hit> {
    let mut broad = Vec::new();
    let mut named = Vec::new();
    for p in probes {
        for resource in p.resources {
            for verb in p.verbs {
                let attrs = Attributes::resource(verb, p.group, resource);
                let label = format!("{verb} {resource}");
                if rule_allows(rule, &attrs) {
                    broad.push(label);
                } else if let Some(name) = rule.resource_names.first() {
                    if rule_allows(rule, &attrs.clone().named(name)) {
                        named.push(label);
                    }
                }
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

fn summarize(what: &[String]) -> String {
    const MAX: usize = 4;
    if what.len() <= MAX {
        what.join(", ")
    } else {
        format!("{}, … ({} in all)", what[..MAX].join(", "), what.len())
    }
}

struct RuleRisk {
    id: &'static str,
    probes: &'static [Probe],
    /// Only meaningful for cluster-scoped resources (a Role cannot grant them).
    cluster_only: bool,
    /// A rule restricted to named objects is not reported.
    skip_named: bool,
    what: &'static str,
}

const RULE_RISKS: &[RuleRisk] = &[
    RuleRisk {
        id: SECRETS_READ,
        probes: &[probe(&["get", "list", "watch"], "", &["secrets"])],
        cluster_only: false,
        skip_named: true,
        what: "read secrets",
    },
    RuleRisk {
        id: WORKLOAD_WRITE,
        probes: &[
            probe(
                WRITE,
                "",
                &["pods", "replicationcontrollers", "podtemplates"],
            ),
            probe(
                WRITE,
                "apps",
                &["deployments", "daemonsets", "statefulsets", "replicasets"],
            ),
            probe(WRITE, "batch", &["jobs", "cronjobs"]),
        ],
        cluster_only: false,
        skip_named: false,
        what: "create or change pods or workloads",
    },
    RuleRisk {
        id: POD_EXEC,
        probes: &[probe(
            &["create", "get"],
            "",
            &["pods/exec", "pods/attach", "pods/portforward"],
        )],
        cluster_only: false,
        skip_named: false,
        what: "run commands in or connect to pods",
    },
    RuleRisk {
        id: ESCALATE_BIND,
        probes: &[probe(
            &["escalate", "bind"],
            "rbac.authorization.k8s.io",
            &["roles", "clusterroles"],
        )],
        cluster_only: false,
        skip_named: false,
        what: "grant roles beyond its own permissions",
    },
    RuleRisk {
        id: IMPERSONATE,
        probes: &[
            probe(
                &["impersonate"],
                "",
                &["users", "groups", "serviceaccounts"],
            ),
            probe(&["impersonate"], "authentication.k8s.io", &["uids"]),
        ],
        cluster_only: false,
        skip_named: false,
        what: "act as other identities",
    },
    RuleRisk {
        id: TOKEN_CREATE,
        probes: &[probe(&["create"], "", &["serviceaccounts/token"])],
        cluster_only: false,
        skip_named: false,
        what: "mint service-account tokens",
    },
    RuleRisk {
        id: NODES_PROXY,
        probes: &[probe(&["get", "create"], "", &["nodes/proxy"])],
        cluster_only: true,
        skip_named: false,
        what: "reach the kubelet API of nodes",
    },
    RuleRisk {
        id: WEBHOOK_WRITE,
        probes: &[probe(
            &["create", "update", "patch", "delete"],
            "admissionregistration.k8s.io",
            &[
                "mutatingwebhookconfigurations",
                "validatingwebhookconfigurations",
            ],
        )],
        cluster_only: true,
        skip_named: false,
        what: "change admission webhooks",
    },
];

fn base_severity(id: &str) -> Severity {
    risk_meta(id).map_or(Severity::Medium, |m| m.severity)
}

/// Where each ClusterRole's permissions apply: through ClusterRoleBindings, RoleBindings, or
/// aggregation into a role bound either way.
fn role_scopes(policy: &Policy) -> Vec<Scope> {
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
    for binding in policy.bindings.iter().filter(|b| b.effective) {
        let Some(role) = binding.role else { continue };
        let scope = match binding.kind {
            BindingKind::ClusterRoleBinding => Scope::Cluster,
            BindingKind::RoleBinding => Scope::Namespace,
        };
        mark(role, scope, &mut scopes);
    }
    // Aggregated roles pass their scope to the roles they collect, down the chain.
    for _ in 0..policy.roles.len().min(8) {
        let mut changed = false;
        for (id, role) in policy.roles.iter().enumerate() {
            if scopes[id] == Scope::Unbound {
                continue;
            }
            for &source in &role.aggregated_from {
                let before = scopes[source];
                mark(source, scopes[id], &mut scopes);
                changed |= before != scopes[source];
            }
        }
        if !changed {
            break;
        }
    }
    // Copies of a ClusterRole (same name in several files) share the scope of the one in force.
    for (id, role) in policy.roles.iter().enumerate() {
        if role.kind == RoleKind::ClusterRole && !role.effective {
            if let Some(current) = policy.cluster_roles.get(&role.name) {
                scopes[id] = scopes[*current];
            }
        }
    }
    scopes
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

/// RBAC008 for one rule: issuing a certificate needs `approve` (or `sign`) on the signer in
/// this rule and write access to the CSR's `approval` (or `status`) subresource in the role.
/// Signers of the `kubernetes.io` domain issue certificates the cluster trusts (client
/// certificates for any user or group, kubelet certificates): high; other signers: low.
fn csr_risk(policy: &Policy, role_id: usize, rule: &PolicyRule) -> Option<(Severity, String)> {
    let mut what = Vec::new();
    let mut trusted = false;
    for (verb, subresource) in [("approve", "approval"), ("sign", "status")] {
        let Some(names) = signers(rule, verb) else {
            continue;
        };
        if !writes_csr(policy, role_id, subresource) {
            continue;
        }
        trusted |= names.is_empty() || names.iter().any(|n| n.starts_with("kubernetes.io/"));
        let of = if names.is_empty() {
            "every signer".to_owned()
        } else {
            format!("signers {names:?}")
        };
        what.push(format!(
            "{verb} certificates of {of} (with {subresource} updates)"
        ));
    }
    if what.is_empty() {
        return None;
    }
    let severity = if trusted {
        Severity::High
    } else {
        Severity::Low
    };
    Some((severity, what.join(" and ")))
}

/// Every risky permission of the input objects (the default policy and input copies of it are
/// not reported).
pub fn risks(policy: &Policy) -> Vec<Risk> {
    let scopes = role_scopes(policy);
    let mut out = Vec::new();
    for (id, role) in policy.roles.iter().enumerate() {
        let Some(object) = role.object else { continue };
        if role.is_bootstrap() {
            continue;
        }
        let scope = scopes[id];
        let cluster_capable = role.kind == RoleKind::ClusterRole && scope != Scope::Namespace;
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
            let pointer = def.location.pointer.clone();
            let where_ = scope.describe(role);
            if rule.is_full_wildcard() {
                out.push(Risk {
                    id: WILDCARD,
                    severity: scope.severity(Severity::Critical),
                    object,
                    pointer,
                    message: format!(
                        "{} allows every verb on every resource {where_}: equivalent to \
                         cluster-admin there",
                        role.name_ref()
                    ),
                });
                continue;
            }
            for risk in RULE_RISKS {
                if risk.cluster_only && !cluster_capable {
                    continue;
                }
                let Some(hit) = check(rule, risk.probes) else {
                    continue;
                };
                if hit.named_only && risk.skip_named {
                    continue;
                }
                let mut severity = scope.severity(base_severity(risk.id));
                let mut detail = String::new();
                if hit.named_only {
                    severity = lower(severity);
                    detail = format!(" (only {:?})", rule.resource_names);
                }
                out.push(Risk {
                    id: risk.id,
                    severity,
                    object,
                    pointer: pointer.clone(),
                    message: format!(
                        "{} can {} {where_}: {}{detail}",
                        role.name_ref(),
                        risk.what,
                        summarize(&hit.what)
                    ),
                });
            }
            if cluster_capable {
                if let Some((severity, what)) = csr_risk(policy, id, rule) {
                    out.push(Risk {
                        id: CSR_APPROVE,
                        severity,
                        object,
                        pointer: pointer.clone(),
                        message: format!("{} can {what} {where_}", role.name_ref()),
                    });
                }
            }
            let star_verbs = rule.verbs.iter().any(|v| v == "*");
            let star_resources = rule.resources.iter().any(|r| r == "*");
            if (star_verbs || star_resources) && !rule.resources.is_empty() {
                let custom = custom_groups_only(rule);
                let severity = if star_resources && rule.api_groups.iter().any(|g| g == "*") {
                    Severity::High
                } else if custom {
                    Severity::Info
                } else if star_resources {
                    Severity::Medium
                } else {
                    Severity::Low
                };
                let what = match (star_verbs, star_resources) {
                    (true, true) => "every verb on every resource",
                    (false, true) => "its verbs on every resource",
                    _ => "every verb",
                };
                out.push(Risk {
                    id: WILDCARD,
                    severity: scope.severity(severity),
                    object,
                    pointer,
                    message: format!(
                        "{} grants {what} of groups {:?} {where_}{}",
                        role.name_ref(),
                        rule.api_groups,
                        if custom {
                            " (custom resources only)"
                        } else {
                            ""
                        }
                    ),
                });
            }
        }
    }
    for binding in &policy.bindings {
        let Some(object) = binding.object else {
            continue;
        };
        if binding.is_bootstrap() {
            continue;
        }
        let name = binding.name_ref();
        if binding.role_ref.kind == "ClusterRole" && binding.role_ref.name == "cluster-admin" {
            let (severity, where_) = match &binding.namespace {
                None => (Severity::High, "the whole cluster".to_owned()),
                Some(ns) => (Severity::Medium, format!("namespace {ns}")),
            };
            let who: Vec<String> = binding
                .subjects
                .iter()
                .map(|s| s.subject.to_string())
                .collect();
            out.push(Risk {
                id: CLUSTER_ADMIN_BINDING,
                severity,
                object,
                pointer: "/roleRef".into(),
                message: format!(
                    "{name} gives cluster-admin over {where_} to {}",
                    if who.is_empty() {
                        "no subject yet".to_owned()
                    } else {
                        who.join(", ")
                    }
                ),
            });
        }
        let harmless = binding.role.is_some_and(|role| is_harmless(policy, role));
        let named_reads = binding
            .role
            .is_some_and(|role| reads_named_only(policy, role));
        for bound in &binding.subjects {
            let public = match &bound.subject {
                Subject::User { name } if name == ANONYMOUS => {
                    Some((Severity::High, "every anonymous request"))
                }
                Subject::Group { name } if name == ALL_UNAUTHENTICATED => {
                    Some((Severity::High, "every anonymous request"))
                }
                Subject::Group { name } if name == ALL_AUTHENTICATED => {
                    Some((Severity::Medium, "every user and service account"))
                }
                Subject::Group { name } if name == ALL_SERVICE_ACCOUNTS => {
                    Some((Severity::Medium, "every service account of the cluster"))
                }
                _ => None,
            };
            if let Some((severity, who)) = public {
                if !harmless {
                    out.push(Risk {
                        id: PUBLIC_BINDING,
                        severity: if named_reads {
                            Severity::Info
                        } else {
                            severity
                        },
                        object,
                        pointer: bound.pointer.clone(),
                        message: format!(
                            "{name} grants {} {} to {who} ({}){}",
                            binding.role_ref.kind,
                            binding.role_ref.name,
                            bound.subject,
                            if named_reads {
                                ", which only reads named objects"
                            } else {
                                ""
                            }
                        ),
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
                        id: DEFAULT_SA_BINDING,
                        severity: Severity::Medium,
                        object,
                        pointer: bound.pointer.clone(),
                        message: format!(
                            "{name} grants {} {} to the default service account of namespace \
                             {namespace}, which every pod without a service account uses",
                            binding.role_ref.kind, binding.role_ref.name
                        ),
                    });
                }
            }
        }
    }
    out
}
