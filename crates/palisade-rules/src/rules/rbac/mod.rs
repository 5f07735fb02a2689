//! RBAC rules: one rule per kind of risky permission the RBAC engine finds
//! (`palisade_rbac::risks`). The engine states the facts; each rule words them and grades them.
//! The risks of an input are computed once and shared by the rules that run on it.

/// The sentence of the docs of every rule whose severity follows where the role applies.
macro_rules! scoped_note {
    () => {
        " Severity is one step lower where the permissions are confined to namespaces: in a \
Role, and in a ClusterRole granted by RoleBindings only, directly or through aggregation into \
roles granted that way, or aggregated into roles that nothing in the input binds (the \
user-facing roles of an application, such as Kubeflow's `kubeflow-edit`, which its controller \
binds per namespace at run time)."
    };
}

/// The sentence of the docs of every rule a wildcard rule entry may be reported under.
macro_rules! wildcard_note {
    () => {
        " A rule entry with `*` in its verbs or resources is reported once, under the most \
severe of the rules it implies that are selected and not suppressed for the role (RBAC001 to \
RBAC010, RBAC016; among equals the specific rule before RBAC010), and its message lists the \
other rules it implies: ignoring or suppressing the rule it is reported under moves the finding \
to the next one. A severity set in the configuration applies to the rule the finding is reported under."
    };
}

pub mod rbac_admission_webhook_write;
pub mod rbac_binding_missing_role;
pub mod rbac_cluster_admin_binding;
pub mod rbac_conflicting_definition;
pub mod rbac_csr_approve;
pub mod rbac_default_serviceaccount_binding;
pub mod rbac_escalate_bind;
pub mod rbac_impersonate;
pub mod rbac_nodes_proxy;
pub mod rbac_persistentvolume_create;
pub mod rbac_pod_exec;
pub mod rbac_public_binding;
pub mod rbac_secrets_read;
pub mod rbac_serviceaccount_token_create;
pub mod rbac_system_masters_binding;
pub mod rbac_wildcard;
pub mod rbac_workload_write;

use palisade_core::rule::{Framework, Reference, RuleMeta, Severity};
use std::collections::{BTreeMap, BTreeSet};

use palisade_rbac::{risks, Options, Policy, RiskFact, RiskKind, RoleScope, RBAC_GROUP};

use crate::{Emit, Entry, Inventory, Objects, Rule};

/// What every RBAC rule reads: a role's scope depends on its bindings, a binding's risk on its
/// role, and service accounts are identities of their own.
pub(crate) const KINDS: &[&str] = &[
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ServiceAccount",
];

pub(crate) const fn mitre(id: &'static str, url: &'static str) -> Reference {
    Reference::url(Framework::Mitre, id, url)
}

pub(crate) const RBAC_DOCS: Reference = Reference::url(
    Framework::Docs,
    "RBAC good practices",
    "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
);

/// The objects the RBAC engine reads.
fn relevant(object: Entry<'_>) -> bool {
    (object.group() == RBAC_GROUP
        && matches!(
            object.kind(),
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
        ))
        || (object.kind() == "ServiceAccount" && object.api_version() == "v1")
}

/// How a rule words and grades the facts of its kind of risk.
pub(crate) trait Judge: Rule {
    /// The message and severity of a fact (`None` for facts of another shape, which the engine
    /// does not give for the rule's kind).
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)>;
}

/// The rule of each kind of risk; the match makes a new kind fail to compile until it has one.
fn rule_for(kind: RiskKind) -> &'static dyn Judge {
    match kind {
        RiskKind::SecretsRead => &rbac_secrets_read::SecretsRead,
        RiskKind::WorkloadWrite => &rbac_workload_write::WorkloadWrite,
        RiskKind::PodExec => &rbac_pod_exec::PodExec,
        RiskKind::EscalateBind => &rbac_escalate_bind::EscalateBind,
        RiskKind::Impersonate => &rbac_impersonate::Impersonate,
        RiskKind::TokenCreate => &rbac_serviceaccount_token_create::TokenCreate,
        RiskKind::NodesProxy => &rbac_nodes_proxy::NodesProxy,
        RiskKind::CsrApprove => &rbac_csr_approve::CsrApprove,
        RiskKind::WebhookWrite => &rbac_admission_webhook_write::WebhookWrite,
        RiskKind::Wildcard => &rbac_wildcard::Wildcard,
        RiskKind::ClusterAdminBinding => &rbac_cluster_admin_binding::ClusterAdminBinding,
        RiskKind::PublicBinding => &rbac_public_binding::PublicBinding,
        RiskKind::DefaultServiceAccountBinding => {
            &rbac_default_serviceaccount_binding::DefaultServiceAccountBinding
        }
        RiskKind::MissingRole => &rbac_binding_missing_role::BindingMissingRole,
        RiskKind::ConflictingDefinition => &rbac_conflicting_definition::ConflictingDefinition,
        RiskKind::PersistentVolumeCreate => &rbac_persistentvolume_create::PersistentVolumeCreate,
        RiskKind::SystemMastersBinding => &rbac_system_masters_binding::SystemMastersBinding,
    }
}

/// A risk as its rule words and grades it.
#[derive(Clone)]
struct Graded {
    kind: RiskKind,
    object: usize,
    pointer: String,
    message: String,
    severity: Severity,
}

/// The RBAC findings of the input, graded once and shared by the RBAC rules.
struct Analysis {
    findings: Vec<Graded>,
}

/// The findings of `objects`, computed once per input for all RBAC rules. The default policy
/// is included so that bindings to `view`, `edit`, `admin` and the `system:` roles resolve as on
/// a real cluster. A rule entry with a wildcard gives one finding: see [`one_per_wildcard_entry`].
fn analysis(objects: Objects<'_>) -> Analysis {
    let policy = Policy::with_options(
        objects.unlocated_where(relevant),
        &Options {
            with_defaults: true,
            ..Options::default()
        },
    );
    let graded = risks(&policy)
        .into_iter()
        .filter_map(|risk| {
            let kind = risk.kind();
            let (message, severity) = rule_for(kind).judge(&risk.fact)?;
            Some(Graded {
                kind,
                object: risk.object,
                pointer: risk.pointer,
                message,
                severity,
            })
        })
        .collect();
    Analysis { findings: graded }
}

/// A rule entry with `*` in its verbs or resources implies the risks of everything it matches:
/// it is reported once, under the most severe of them (the first in [`RiskKind::ALL`] order
/// among equals, the specific rule before RBAC010), with the other rules it implies listed in
/// the message. Only the risks that `reports` keeps (their rule selected and not suppressed)
/// take part. Entries without a wildcard keep one finding per risk.
fn one_per_wildcard_entry(graded: &[Graded], reports: impl Fn(&Graded) -> bool) -> Vec<Graded> {
    let wildcard_entries: BTreeSet<(usize, &str)> = graded
        .iter()
        .filter(|g| g.kind == RiskKind::Wildcard)
        .map(|g| (g.object, g.pointer.as_str()))
        .collect();
    let mut entries: BTreeMap<(usize, String), Vec<Graded>> = BTreeMap::new();
    let mut out = Vec::new();
    for g in graded.iter().filter(|g| reports(g)).cloned() {
        if wildcard_entries.contains(&(g.object, g.pointer.as_str())) {
            entries
                .entry((g.object, g.pointer.clone()))
                .or_default()
                .push(g);
        } else {
            out.push(g);
        }
    }
    let rank = |g: &Graded| {
        let order = RiskKind::ALL.iter().position(|k| *k == g.kind);
        (
            std::cmp::Reverse(g.severity),
            g.kind == RiskKind::Wildcard,
            order,
        )
    };
    for (_, mut implied) in entries {
        implied.sort_by_key(rank);
        let mut first = implied.remove(0);
        if !implied.is_empty() {
            let also: Vec<String> = implied
                .iter()
                .map(|g| {
                    let meta = rule_for(g.kind).meta();
                    let what = meta.title.strip_prefix("Role ").unwrap_or(meta.title);
                    format!("{what} ({})", meta.id)
                })
                .collect();
            first.message = format!(
                "{}; this wildcard rule entry also: {}",
                first.message,
                also.join(", ")
            );
        }
        out.push(first);
    }
    out
}

/// The findings the RBAC rules report, one per wildcard entry ([`one_per_wildcard_entry`]):
/// the same for every RBAC rule of a run, so chosen once and shared.
struct Reported(Vec<Graded>);

/// Emits the findings of `kind`, at the rule or binding line each points to.
pub(crate) fn report(inventory: &Inventory<'_>, kind: RiskKind, out: &mut Vec<(usize, Emit)>) {
    let reported = inventory.shared(|_| {
        let analysis = inventory.shared(analysis);
        Reported(one_per_wildcard_entry(&analysis.findings, |g| {
            inventory.reports(rule_for(g.kind).meta().id, g.object)
        }))
    });
    for finding in reported.0.iter().filter(|f| f.kind == kind) {
        out.push((
            finding.object,
            Emit::new(finding.pointer.clone(), finding.message.clone())
                .with_severity(finding.severity),
        ));
    }
}

/// One step less severe.
pub(crate) fn lower(severity: Severity) -> Severity {
    match severity {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Info,
    }
}

/// A severity for permissions that apply in `scope`: one step lower in namespaces (a Role, a
/// ClusterRole granted by RoleBindings only, directly or through aggregation, or aggregated
/// into roles that nothing in the input binds).
pub(crate) fn scoped(scope: &RoleScope, severity: Severity) -> Severity {
    if scope.is_namespaced() {
        lower(severity)
    } else {
        severity
    }
}

/// Where the permissions of a role apply, as messages say it.
pub(crate) fn where_(scope: &RoleScope) -> String {
    match scope {
        RoleScope::Cluster => "in every namespace (bound by a ClusterRoleBinding)".into(),
        RoleScope::Namespace(ns) => format!("in namespace {ns}"),
        RoleScope::RoleBindings => "in the namespaces of its RoleBindings".into(),
        RoleScope::Aggregated(into) => format!(
            "wherever ClusterRole {} {} bound (aggregated into {}; nothing in the input binds \
             {})",
            into.join(", "),
            if into.len() == 1 { "is" } else { "are" },
            if into.len() == 1 { "it" } else { "them" },
            if into.len() == 1 { "it" } else { "them" },
        ),
        RoleScope::Unbound => "wherever it is bound".into(),
    }
}

/// The finding of a permission a role's rule grants (`what` says what it lets the holder do):
/// the rule's severity, lowered in namespaces and again for named objects only.
pub(crate) fn permission(
    meta: &RuleMeta,
    what: &str,
    fact: &RiskFact,
) -> Option<(String, Severity)> {
    let RiskFact::Permission {
        role,
        scope,
        matched,
        named_only,
        ..
    } = fact
    else {
        return None;
    };
    let mut severity = scoped(scope, meta.severity);
    let mut detail = String::new();
    if let Some(names) = named_only {
        severity = lower(severity);
        detail = format!(" (only {names:?})");
    }
    Some((
        format!(
            "{role} can {what} {}: {}{detail}",
            where_(scope),
            summarize(matched)
        ),
        severity,
    ))
}

/// The first few `verb resource` of a list, with the count when there are more.
fn summarize(what: &[String]) -> String {
    const MAX: usize = 4;
    if what.len() <= MAX {
        what.join(", ")
    } else {
        format!("{}, … ({} in all)", what[..MAX].join(", "), what.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rule, Settings};
    use palisade_core::{load_str, Limits, Object};

    fn run(rule: &dyn Rule, objects: &[Object]) -> Vec<(usize, Emit)> {
        let settings = Settings::default();
        let inventory = Inventory::new(objects, &settings);
        let crate::Checker::Inventory(check) = rule.checker() else {
            panic!("{} is not an inventory rule", rule.meta().id);
        };
        let mut out = Vec::new();
        check.check_inventory(&inventory, &mut out);
        out
    }

    /// Every kind of risk at least once (RiskKind order), as the engine's test fixtures have them.
    const EVERY_KIND: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules:
- {apiGroups: [\"\"], resources: [secrets, pods, pods/exec, serviceaccounts/token, nodes/proxy, persistentvolumes], verbs: [get, create]}
- {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [escalate]}
- {apiGroups: [\"\"], resources: [users], verbs: [impersonate]}
- {apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve]}
- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}
- {apiGroups: [admissionregistration.k8s.io], resources: [validatingwebhookconfigurations], verbs: [delete]}
- {apiGroups: [example.com], resources: [\"*\"], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: Group, name: \"system:unauthenticated\"}
- {kind: User, name: \"system:anonymous\"}
- {kind: ServiceAccount, name: default, namespace: app}
- {kind: Group, name: \"system:masters\"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: dangling}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: gone}
subjects:
- {kind: Group, name: ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: dangling}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: gone}
subjects:
- {kind: Group, name: devs}
";

    #[test]
    fn every_risk_kind_has_exactly_one_rule_that_reports_it() {
        let objects = load_str(EVERY_KIND, "a.yaml", &Limits::default()).objects;
        let risks = analysis(Objects::Decoded(&objects)).findings;
        let rbac: Vec<&str> = crate::rules::ALL
            .iter()
            .map(|r| r.meta())
            .filter(|m| m.category == "rbac")
            .map(|m| m.id)
            .collect();
        let mut ids: Vec<&str> = RiskKind::ALL
            .iter()
            .map(|k| rule_for(*k).meta().id)
            .collect();
        // One rule per kind, in the kinds' order, and every one of them in the registry.
        assert_eq!(ids, rbac);
        ids.dedup();
        assert_eq!(ids.len(), RiskKind::ALL.len());
        for kind in RiskKind::ALL {
            let expected = risks.iter().filter(|r| r.kind == kind).count();
            let rule = rule_for(kind);
            assert!(expected > 0, "the input has no {kind:?}");
            assert_eq!(run(rule, &objects).len(), expected, "{}", rule.meta().id);
        }
    }

    /// A finding as the grading tests compare it: object, pointer, rule and severity.
    type Graded = (usize, String, &'static str, Severity);

    /// Every RBAC finding of an input, sorted, and their emits.
    fn graded(input: &str) -> (Vec<Graded>, Vec<Emit>) {
        let objects = load_str(input, "a.yaml", &Limits::default()).objects;
        let mut found = Vec::new();
        let mut emits = Vec::new();
        for kind in RiskKind::ALL {
            let rule = rule_for(kind);
            for (object, emit) in run(rule, &objects) {
                let severity = emit.severity.unwrap_or(rule.meta().severity);
                found.push((object, emit.pointer.clone(), rule.meta().id, severity));
                emits.push(emit);
            }
        }
        found.sort();
        (found, emits)
    }

    fn expect(list: &[(usize, &str, &'static str, Severity)]) -> Vec<Graded> {
        let mut list: Vec<_> = list
            .iter()
            .map(|(o, p, id, s)| (*o, (*p).to_owned(), *id, *s))
            .collect();
        list.sort();
        list
    }

    fn message<'e>(emits: &'e [Emit], needle: &str) -> &'e str {
        emits
            .iter()
            .map(|e| e.message.as_str())
            .find(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("no message with {needle:?}"))
    }

    #[test]
    fn risks_are_graded_by_scope_and_names() {
        let (found, emits) = graded(include_str!(
            "../../../../palisade-rbac/tests/fixtures/risky.yaml"
        ));
        let expected = expect(&[
            (0, "/rules/0", "RBAC001", Severity::High),
            (3, "/rules/0", "RBAC002", Severity::Medium),
            (3, "/rules/1", "RBAC003", Severity::Medium),
            (5, "/rules/0", "RBAC004", Severity::Critical),
            (5, "/rules/2", "RBAC005", Severity::High),
            (6, "/rules/0", "RBAC010", Severity::Critical),
            (8, "/rules/0", "RBAC007", Severity::Critical),
            (8, "/rules/1", "RBAC008", Severity::High),
            (8, "/rules/2", "RBAC009", Severity::High),
            (8, "/rules/3", "RBAC006", Severity::High),
            (9, "/rules/0", "RBAC010", Severity::Info),
            (4, "/subjects/0", "RBAC013", Severity::Medium),
            (7, "/roleRef", "RBAC011", Severity::Critical),
            (7, "/subjects/0", "RBAC012", Severity::Medium),
        ]);
        assert_eq!(found, expected);
        assert_eq!(
            message(&emits, "act as"),
            "ClusterRole escalator can act as other identities wherever it is bound: \
             impersonate users (only [\"alice\"])"
        );
        assert_eq!(
            message(&emits, "deployments"),
            "Role app/deployer can create or change pods or workloads in namespace app: \
             create deployments, update deployments"
        );
        assert_eq!(
            message(&emits, "cluster-admin over"),
            "ClusterRoleBinding everyone-admin gives cluster-admin over the whole cluster to \
             Group system:authenticated"
        );
        assert_eq!(
            message(&emits, "default service account"),
            "RoleBinding app/deployer grants Role deployer to the default service account of \
             namespace app, which every pod without a service account uses"
        );
        assert_eq!(
            message(&emits, "ClusterRole wild-verbs"),
            "ClusterRole wild-verbs grants every verb on widgets of groups [\"example.com\"] \
             wherever it is bound (custom resources only)"
        );
        assert_eq!(
            message(&emits, "ClusterRole god"),
            "ClusterRole god allows every verb on every resource wherever it is bound: \
             equivalent to cluster-admin there"
        );
    }

    #[test]
    fn csr_wildcard_and_public_read_are_graded_by_what_they_allow() {
        let (found, emits) = graded(include_str!(
            "../../../../palisade-rbac/tests/fixtures/false-positives.yaml"
        ));
        let expected = expect(&[
            // One finding for the wildcard entry, under its most severe risk.
            (0, "/rules/0", "RBAC007", Severity::Critical),
            (1, "/rules/1", "RBAC008", Severity::High),
            (2, "/rules/1", "RBAC008", Severity::Low),
            (4, "/rules/0", "RBAC010", Severity::Info),
            (4, "/rules/1", "RBAC010", Severity::Low),
            (4, "/rules/2", "RBAC010", Severity::Medium),
            (6, "/subjects/0", "RBAC012", Severity::Info),
            (8, "/subjects/0", "RBAC012", Severity::Medium),
        ]);
        assert_eq!(found, expected);
        assert_eq!(
            message(&emits, "ClusterRole app-server"),
            "ClusterRole app-server can reach the kubelet API of nodes wherever it is bound: \
             get nodes/proxy; this wildcard rule entry also: can read secrets (RBAC001), can \
             create or change pods or workloads (RBAC002), can exec, attach or port-forward into \
             pods (RBAC003), can change admission webhook configurations (RBAC009), uses \
             wildcard verbs or resources (RBAC010)"
        );
        assert_eq!(
            message(&emits, "ClusterRole issuer"),
            "ClusterRole issuer can sign certificates of signers [\"issuers.example.com/*\"] \
             (with status updates) wherever it is bound"
        );
        assert_eq!(
            message(&emits, "[\"example.com\", \"widgets.example.org\"]"),
            "ClusterRole operator grants every verb on every resource of groups \
             [\"example.com\", \"widgets.example.org\"] wherever it is bound (custom resources only)"
        );
        assert_eq!(
            message(&emits, "RoleBinding app/public-config"),
            "RoleBinding app/public-config grants Role public-config to every user and service \
             account (Group system:authenticated), which only reads named objects"
        );
        assert!(!message(&emits, "public-secret").contains("only reads named objects"));
    }

    /// Deployment creation in a ClusterRole aggregated into `into` (labelled for it).
    fn piece(name: &str, into: &str) -> String {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {name}
  labels: {{example.com/aggregate-to-{into}: \"true\"}}
rules:
- {{apiGroups: [apps], resources: [deployments], verbs: [create]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: {into}}}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {{example.com/aggregate-to-{into}: \"true\"}}
---
"
        )
    }

    #[test]
    fn aggregated_pieces_are_graded_by_how_their_roles_are_granted() {
        let input = format!(
            "{}{}{}apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: team, namespace: team}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: per-namespace}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: all}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-wide}}
",
            piece("unbound-piece", "unbound"),
            piece("namespaced-piece", "per-namespace"),
            piece("cluster-piece", "cluster-wide"),
        );
        let (found, emits) = graded(&input);
        assert_eq!(
            found,
            expect(&[
                (0, "/rules/0", "RBAC002", Severity::Medium),
                (2, "/rules/0", "RBAC002", Severity::Medium),
                (4, "/rules/0", "RBAC002", Severity::High),
            ])
        );
        assert_eq!(
            message(&emits, "unbound-piece"),
            "ClusterRole unbound-piece can create or change pods or workloads wherever \
             ClusterRole unbound is bound (aggregated into it; nothing in the input binds it): \
             create deployments"
        );
        assert!(
            message(&emits, "namespaced-piece").contains("in the namespaces of its RoleBindings")
        );
    }

    #[test]
    fn bindings_to_missing_roles_name_the_role_and_who_gets_it() {
        let (found, emits) = graded(include_str!("../../../tests/fixtures/RBAC014.yaml"));
        let missing: Vec<_> = found.iter().filter(|f| f.2 == "RBAC014").collect();
        assert_eq!(missing.len(), 3, "{found:?}");
        assert_eq!(
            message(&emits, "Role writer"),
            "RoleBinding app/writer refers to Role writer, which the input does not have \
             although it holds other Roles of namespace app: whoever creates it grants its \
             permissions to ServiceAccount app/app"
        );
        assert!(message(&emits, "RoleBinding app/operator").contains("other ClusterRoles"));
    }

    /// A ClusterRole that creates `resource` and, when `binding` is given, a
    /// ClusterRoleBinding of that name granting it.
    fn project(role: &str, resource: &str, binding: Option<&str>) -> String {
        let mut text = format!(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: {role}}}
rules:
- {{apiGroups: [apps], resources: [{resource}], verbs: [create]}}
"
        );
        if let Some(binding) = binding {
            text.push_str(&format!(
                "---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {binding}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects:
- {{kind: ServiceAccount, name: controller-manager, namespace: system}}
"
            ));
        }
        text
    }

    #[test]
    fn projects_of_one_input_are_judged_with_their_own_bindings() {
        let limits = Limits::default();
        let files = [
            (
                "apps/pvcviewer/rbac.yaml",
                project("role", "deployments", Some("manager-rolebinding")),
            ),
            (
                "apps/tensorboard/rbac.yaml",
                project("manager-role", "deployments", Some("manager-rolebinding")),
            ),
            (
                "apps/profiles/rbac.yaml",
                project("manager-role", "statefulsets", None),
            ),
            (
                "apps/copy/rbac.yaml",
                project("manager-role", "statefulsets", None),
            ),
        ];
        let objects: Vec<Object> = files
            .iter()
            .flat_map(|(path, text)| load_str(text, path, &limits).objects)
            .collect();
        let settings = Settings::default();
        let inventory = Inventory::new(&objects, &settings);
        // The definitions of one name are in different files: separate projects, not a conflict.
        let mut found = Vec::new();
        for kind in [RiskKind::WorkloadWrite, RiskKind::ConflictingDefinition] {
            let crate::Checker::Inventory(check) = rule_for(kind).checker() else {
                unreachable!("RBAC rules read the inventory");
            };
            let mut out = Vec::new();
            check.check_inventory(&inventory, &mut out);
            found.extend(out.into_iter().map(|(object, emit)| (object, emit.message)));
        }
        found.sort();
        let messages: Vec<String> = found
            .iter()
            .map(|(object, message)| format!("{object} {message}"))
            .collect();
        assert_eq!(
            messages,
            [
                "0 ClusterRole role can create or change pods or workloads in every namespace \
                 (bound by a ClusterRoleBinding): create deployments",
                "2 ClusterRole manager-role can create or change pods or workloads in every \
                 namespace (bound by a ClusterRoleBinding): create deployments",
                "4 ClusterRole manager-role can create or change pods or workloads wherever it is \
                 bound: create statefulsets",
                "5 ClusterRole manager-role can create or change pods or workloads wherever it is \
                 bound: create statefulsets",
            ]
        );
    }

    #[test]
    fn cluster_admin_names_service_accounts_without_a_namespace() {
        let (found, emits) = graded(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: manager}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: controller-manager}
- {kind: User, name: alice}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: empty}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
",
        );
        assert_eq!(
            found,
            expect(&[
                (0, "/roleRef", "RBAC011", Severity::Critical),
                (1, "/roleRef", "RBAC011", Severity::Critical),
            ])
        );
        assert_eq!(
            message(&emits, "manager"),
            "ClusterRoleBinding manager gives cluster-admin over the whole cluster to User alice, \
             ServiceAccount controller-manager (namespace not set yet)"
        );
        assert_eq!(
            message(&emits, "empty"),
            "ClusterRoleBinding empty gives cluster-admin over the whole cluster to no subject yet"
        );
    }

    const ROLE: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules:
- {apiGroups: [\"\"], resources: [secrets], verbs: [list]}
";

    #[test]
    fn risks_point_at_their_object_in_the_input() {
        let limits = Limits::default();
        let first = load_str(ROLE, "a.yaml", &limits).objects;
        assert_eq!(analysis(Objects::Decoded(&first)).findings.len(), 1);
        let changed = load_str(&ROLE.replace("list", "create"), "a.yaml", &limits).objects;
        assert!(analysis(Objects::Decoded(&changed)).findings.is_empty());
        let mut moved = first.clone();
        moved.insert(
            0,
            load_str(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}",
                "b.yaml",
                &limits,
            )
            .objects[0]
                .clone(),
        );
        assert_eq!(analysis(Objects::Decoded(&moved)).findings[0].object, 1);
    }
}
