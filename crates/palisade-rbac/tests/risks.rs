//! Risky permissions and escalation paths on hand-written policies.

use palisade_core::{load_path, Limits, Object};
use palisade_rbac::{
    paths, paths_to, risks, CsrGrant, Node, Options, Policy, PublicSubject, Risk, RiskFact,
    RiskKind, RoleScope, Subject, WildcardShape,
};

fn load(name: &str) -> Vec<Object> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let loaded = load_path(&path, name, &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects
}

fn located(all: &[Risk]) -> Vec<(usize, &str, RiskKind)> {
    all.iter()
        .map(|r| (r.object, r.pointer.as_str(), r.kind()))
        .collect()
}

fn fact(all: &[Risk], object: usize, kind: RiskKind) -> &RiskFact {
    &all.iter()
        .find(|r| r.object == object && r.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind:?} at object {object}"))
        .fact
}

#[test]
fn risks_are_located_with_their_facts() {
    let policy = Policy::from_slice(&load("risky.yaml"), &Options::default());
    let all = risks(&policy);
    let expected = [
        (0, "/rules/0", RiskKind::SecretsRead),
        (3, "/rules/0", RiskKind::WorkloadWrite),
        (3, "/rules/1", RiskKind::PodExec),
        (5, "/rules/0", RiskKind::EscalateBind),
        (5, "/rules/2", RiskKind::Impersonate),
        (6, "/rules/0", RiskKind::Wildcard),
        (8, "/rules/0", RiskKind::NodesProxy),
        (8, "/rules/1", RiskKind::CsrApprove),
        (8, "/rules/2", RiskKind::WebhookWrite),
        (8, "/rules/3", RiskKind::TokenCreate),
        (9, "/rules/0", RiskKind::Wildcard),
        (4, "/subjects/0", RiskKind::DefaultServiceAccountBinding),
        (7, "/roleRef", RiskKind::ClusterAdminBinding),
        (7, "/subjects/0", RiskKind::PublicBinding),
    ];
    assert_eq!(located(&all), expected);
    // A named secret is no risk; named impersonation is, restricted to its names.
    let RiskFact::Permission {
        role,
        scope,
        matched,
        named_only,
        ..
    } = fact(&all, 5, RiskKind::Impersonate)
    else {
        panic!("impersonation is a permission");
    };
    assert_eq!(role.to_string(), "ClusterRole escalator");
    assert_eq!(*scope, RoleScope::Unbound);
    assert_eq!(matched, &["impersonate users"]);
    assert_eq!(named_only.as_deref(), Some(&["alice".to_owned()][..]));
    let RiskFact::Permission { scope, matched, .. } = fact(&all, 3, RiskKind::WorkloadWrite) else {
        panic!("workload write is a permission");
    };
    assert_eq!(*scope, RoleScope::Namespace("app".into()));
    assert_eq!(matched, &["create deployments", "update deployments"]);
    let RiskFact::Permission { scope, .. } = fact(&all, 0, RiskKind::SecretsRead) else {
        panic!("secrets read is a permission");
    };
    assert_eq!(*scope, RoleScope::Cluster);
    assert!(matches!(
        fact(&all, 6, RiskKind::Wildcard),
        RiskFact::Wildcard {
            shape: WildcardShape::Everything,
            ..
        }
    ));
    assert!(matches!(
        fact(&all, 9, RiskKind::Wildcard),
        RiskFact::Wildcard {
            shape: WildcardShape::Verbs,
            custom_only: true,
            ..
        }
    ));
    assert_eq!(
        fact(&all, 8, RiskKind::CsrApprove),
        &RiskFact::CsrApprove {
            role: policy.cluster_role("node-ops").unwrap().name_ref(),
            scope: RoleScope::Unbound,
            grants: vec![CsrGrant {
                verb: "approve",
                signers: Vec::new(),
                subresource: "approval",
            }],
        }
    );
    let RiskFact::ClusterAdminBinding {
        binding,
        subjects,
        unnamespaced,
    } = fact(&all, 7, RiskKind::ClusterAdminBinding)
    else {
        panic!("a cluster-admin binding");
    };
    assert_eq!(binding.namespace, None);
    assert_eq!(subjects, &[Subject::group("system:authenticated")]);
    assert!(unnamespaced.is_empty());
    assert!(matches!(
        fact(&all, 7, RiskKind::PublicBinding),
        RiskFact::PublicBinding {
            public: PublicSubject::Authenticated,
            reads_named_only: false,
            ..
        }
    ));
    let RiskFact::DefaultServiceAccountBinding {
        role_ref,
        namespace,
        ..
    } = fact(&all, 4, RiskKind::DefaultServiceAccountBinding)
    else {
        panic!("a default service-account binding");
    };
    assert_eq!(
        (role_ref.name.as_str(), namespace.as_str()),
        ("deployer", "app")
    );
}

#[test]
fn every_kind_is_listed_once() {
    let mut kinds = RiskKind::ALL.to_vec();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds.len(), RiskKind::ALL.len());
}

#[test]
fn escalation_through_pods_secrets_and_tokens() {
    let policy = Policy::from_slice(&load("paths.yaml"), &Options::default());
    let lead = Subject::user("dev-lead");
    let found = paths(&policy, Some(&lead), 5);
    assert_eq!(found.len(), 1);
    let path = &found[0];
    assert_eq!(path.target, Node::ClusterAdmin);
    let hops: Vec<String> = path.steps.iter().map(|s| s.to.to_string()).collect();
    assert_eq!(
        hops,
        [
            "ServiceAccount ci/builder",
            "ServiceAccount kube-system/admin-bot",
            "cluster-admin"
        ]
    );
    assert_eq!(path.steps[0].grant.binding.name, "dev-lead-creates-pods");
    assert!(path.steps[0]
        .action
        .contains("create or change pods in namespace ci"));
    assert_eq!(path.steps[1].grant.binding.name, "builder-lists-secrets");
    assert!(path.steps[1].action.contains("read secrets"));
    assert_eq!(path.steps[2].grant.rule.location.pointer, "/rules/0");
    // Bounded: three steps are needed.
    assert!(paths(&policy, Some(&lead), 2).is_empty());
    // Impersonating any group includes system:masters.
    let proxy = paths(&policy, Some(&Subject::user("proxy")), 3);
    assert_eq!(proxy.len(), 1);
    assert_eq!(proxy[0].steps.len(), 1);
    assert!(proxy[0].steps[0].action.contains("impersonate any group"));
    // A read-only user goes nowhere.
    assert!(paths(&policy, Some(&Subject::user("viewer")), 5).is_empty());
    // Every subject of the input: dev-lead, proxy, builder and admin-bot reach cluster-admin.
    let all = paths(&policy, None, 5);
    let from: Vec<String> = all.iter().map(|p| p.from.to_string()).collect();
    assert_eq!(
        from,
        [
            "User dev-lead",
            "User proxy",
            "ServiceAccount ci/builder",
            "ServiceAccount kube-system/admin-bot"
        ]
    );
    // A stated target.
    let to_builder = paths_to(&policy, None, &Subject::service_account("ci", "builder"), 5);
    assert!(to_builder
        .iter()
        .any(|p| p.from == lead && p.steps.len() == 1));
}

#[test]
fn csr_wildcard_and_public_read_facts_say_what_they_allow() {
    let policy = Policy::from_slice(&load("false-positives.yaml"), &Options::default());
    let all = risks(&policy);
    let expected = [
        // Patch and get on everything: no CSR approval without `approve` on signers.
        (0, "/rules/0", RiskKind::SecretsRead),
        (0, "/rules/0", RiskKind::WorkloadWrite),
        (0, "/rules/0", RiskKind::PodExec),
        (0, "/rules/0", RiskKind::NodesProxy),
        (0, "/rules/0", RiskKind::WebhookWrite),
        (0, "/rules/0", RiskKind::Wildcard),
        (1, "/rules/1", RiskKind::CsrApprove),
        (2, "/rules/1", RiskKind::CsrApprove),
        (4, "/rules/0", RiskKind::Wildcard),
        (4, "/rules/1", RiskKind::Wildcard),
        (4, "/rules/2", RiskKind::Wildcard),
        (6, "/subjects/0", RiskKind::PublicBinding),
        (8, "/subjects/0", RiskKind::PublicBinding),
    ];
    assert_eq!(located(&all), expected);
    let csr = |object: usize| match fact(&all, object, RiskKind::CsrApprove) {
        RiskFact::CsrApprove { grants, .. } => grants.clone(),
        other => panic!("{other:?}"),
    };
    let approver = csr(1);
    assert_eq!(approver[0].signers, ["kubernetes.io/*"]);
    assert!(approver[0].covers_cluster_signers());
    let issuer = csr(2);
    assert_eq!(
        issuer,
        [CsrGrant {
            verb: "sign",
            signers: vec!["issuers.example.com/*".into()],
            subresource: "status",
        }]
    );
    assert!(!issuer[0].covers_cluster_signers());
    let wildcards: Vec<(WildcardShape, bool, bool)> = all
        .iter()
        .filter_map(|r| match &r.fact {
            RiskFact::Wildcard {
                shape,
                groups,
                custom_only,
                ..
            } => Some((*shape, groups.iter().any(|g| g == "*"), *custom_only)),
            _ => None,
        })
        .collect();
    assert_eq!(
        wildcards,
        [
            (WildcardShape::Resources, true, false),
            (WildcardShape::VerbsAndResources, false, true),
            (WildcardShape::Verbs, false, false),
            (WildcardShape::Resources, false, false),
        ]
    );
    let public = |object: usize| match fact(&all, object, RiskKind::PublicBinding) {
        RiskFact::PublicBinding {
            public,
            reads_named_only,
            ..
        } => (*public, *reads_named_only),
        other => panic!("{other:?}"),
    };
    assert_eq!(public(6), (PublicSubject::Authenticated, true));
    assert_eq!(public(8), (PublicSubject::Authenticated, false));
}

#[test]
fn two_definitions_of_one_name_conflict_only_within_one_file() {
    let binding = |role: &str, file: &str| {
        Object::from_value(
            serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "manager-rolebinding"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "ServiceAccount", "name": "manager", "namespace": "kubeflow"}],
            }),
            file,
        )
    };
    let conflicts = |objects: &[Object]| -> Vec<usize> {
        risks(&Policy::from_slice(objects, &Options::default()))
            .iter()
            .filter(|r| r.kind() == RiskKind::ConflictingDefinition)
            .map(|r| r.object)
            .collect()
    };
    let projects = [
        binding("pvc-viewer", "pvcviewer/config/rbac.yaml"),
        binding("tensorboard", "tensorboard/config/rbac.yaml"),
    ];
    assert_eq!(conflicts(&projects), Vec::<usize>::new());
    let one_file = [
        binding("pvc-viewer", "config/rbac.yaml"),
        binding("tensorboard", "config/rbac.yaml"),
        binding("tensorboard", "config/rbac.yaml"),
    ];
    assert_eq!(conflicts(&one_file), vec![1, 2]);
}

#[test]
fn persistent_volume_creation_is_found_through_wildcards_but_not_in_namespaces() {
    let input = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: storage}
rules:
- {apiGroups: [""], resources: ["*"], verbs: [create]}
- {apiGroups: ["*"], resources: [persistentvolumes], verbs: ["*"]}
- {apiGroups: [""], resources: [persistentvolumes], verbs: [get, list, update]}
- {apiGroups: [""], resources: [persistentvolumes], resourceNames: [data], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: storage, namespace: app}
rules:
- {apiGroups: [""], resources: [persistentvolumes], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: per-namespace}
rules:
- {apiGroups: [""], resources: [persistentvolumes], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: per-namespace, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: per-namespace}
subjects:
- {kind: User, name: alice}
"#;
    let objects = palisade_core::load_str(input, "a.yaml", &Limits::default()).objects;
    let policy = Policy::from_slice(&objects, &Options::default());
    let all = risks(&policy);
    let found: Vec<_> = located(&all)
        .into_iter()
        .filter(|(_, _, kind)| *kind == RiskKind::PersistentVolumeCreate)
        .collect();
    // The wildcard entries imply it; reads, named objects, a Role and a ClusterRole granted in a
    // namespace (where a cluster-scoped resource is out of reach) do not.
    assert_eq!(
        found,
        [
            (0, "/rules/0", RiskKind::PersistentVolumeCreate),
            (0, "/rules/1", RiskKind::PersistentVolumeCreate),
        ]
    );
    let RiskFact::Permission { matched, scope, .. } =
        fact(&all, 0, RiskKind::PersistentVolumeCreate)
    else {
        panic!("not a permission");
    };
    assert_eq!(matched, &["create persistentvolumes"]);
    assert_eq!(scope, &RoleScope::Unbound);
}

#[test]
fn bindings_to_system_masters_are_found_at_the_subject() {
    let input = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admins}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: User, name: "system:masters"}
- {kind: Group, name: ops}
- {kind: Group, name: "system:masters"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: cluster-admin
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: Group, name: "system:masters"}
"#;
    let objects = palisade_core::load_str(input, "a.yaml", &Limits::default()).objects;
    let policy = Policy::from_slice(&objects, &Options::default());
    let all = risks(&policy);
    let found: Vec<_> = located(&all)
        .into_iter()
        .filter(|(_, _, kind)| *kind == RiskKind::SystemMastersBinding)
        .collect();
    // Not the user of that name, nor the API server's own binding.
    assert_eq!(found, [(0, "/subjects/2", RiskKind::SystemMastersBinding)]);
    let RiskFact::SystemMastersBinding { binding, role_ref } =
        fact(&all, 0, RiskKind::SystemMastersBinding)
    else {
        panic!("not a system:masters binding");
    };
    assert_eq!(binding.to_string(), "ClusterRoleBinding admins");
    assert_eq!(role_ref.name, "view");
}
