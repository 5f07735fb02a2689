//! Risky permissions and escalation paths on hand-written policies.

use palisade_core::rule::Severity;
use palisade_core::{load_path, Limits, Object};
use palisade_rbac::{paths, paths_to, risk_meta, risks, Node, Options, Policy, Subject, RISKS};

fn load(name: &str) -> Vec<Object> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let loaded = load_path(&path, name, &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects
}

#[test]
fn risks_are_located_and_graded() {
    let policy = Policy::from_slice(&load("risky.yaml"), &Options::default());
    let found: Vec<(usize, &str, &str, Severity)> = risks(&policy)
        .iter()
        .map(|r| (r.object, r.pointer.as_str(), r.id, r.severity))
        .map(|(o, p, i, s)| (o, leak(p), i, s))
        .collect();
    let expected = [
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
        (7, "/roleRef", "RBAC011", Severity::High),
        (7, "/subjects/0", "RBAC012", Severity::Medium),
    ];
    assert_eq!(found, expected);
    let all = risks(&policy);
    let named = all.iter().find(|r| r.id == "RBAC005").unwrap();
    assert!(named.message.contains("alice"), "{}", named.message);
    let deploy = all.iter().find(|r| r.id == "RBAC002").unwrap();
    assert!(
        deploy.message.contains("namespace app"),
        "{}",
        deploy.message
    );
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

#[test]
fn risk_metadata_is_complete() {
    assert_eq!(RISKS.len(), 13);
    for (i, meta) in RISKS.iter().enumerate() {
        assert_eq!(meta.id, format!("RBAC{:03}", i + 1));
        assert!(meta.slug.starts_with("rbac-"));
        assert!(!meta.rationale.is_empty() && !meta.remediation.is_empty());
        assert_eq!(meta.category, "rbac");
    }
    assert_eq!(
        risk_meta("RBAC011").unwrap().slug,
        "rbac-cluster-admin-binding"
    );
    assert!(risk_meta("RBAC999").is_none());
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
fn csr_wildcard_and_public_read_are_graded_by_what_they_allow() {
    let policy = Policy::from_slice(&load("false-positives.yaml"), &Options::default());
    let all = risks(&policy);
    let found: Vec<(usize, &str, &str, Severity)> = all
        .iter()
        .map(|r| (r.object, leak(&r.pointer), r.id, r.severity))
        .collect();
    let expected = [
        // Patch and get on everything: no CSR approval without `approve` on signers.
        (0, "/rules/0", "RBAC001", Severity::High),
        (0, "/rules/0", "RBAC002", Severity::High),
        (0, "/rules/0", "RBAC003", Severity::High),
        (0, "/rules/0", "RBAC007", Severity::Critical),
        (0, "/rules/0", "RBAC009", Severity::High),
        (0, "/rules/0", "RBAC010", Severity::High),
        (1, "/rules/1", "RBAC008", Severity::High),
        (2, "/rules/1", "RBAC008", Severity::Low),
        (4, "/rules/0", "RBAC010", Severity::Info),
        (4, "/rules/1", "RBAC010", Severity::Low),
        (4, "/rules/2", "RBAC010", Severity::Medium),
        (6, "/subjects/0", "RBAC012", Severity::Info),
        (8, "/subjects/0", "RBAC012", Severity::Medium),
    ];
    assert_eq!(found, expected);
    let issuer = all.iter().find(|r| r.object == 2).unwrap();
    assert!(
        issuer
            .message
            .contains("sign certificates of signers [\"issuers.example.com/*\"]"),
        "{}",
        issuer.message
    );
    let message = |object: usize, id: &str| {
        all.iter()
            .find(|r| r.object == object && r.id == id)
            .map(|r| r.message.as_str())
            .unwrap_or_default()
    };
    assert!(message(4, "RBAC010").ends_with("(custom resources only)"));
    assert!(message(6, "RBAC012").contains("only reads named objects"));
    assert!(!message(8, "RBAC012").contains("only reads named objects"));
}
