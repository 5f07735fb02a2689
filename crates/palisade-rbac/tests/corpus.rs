//! The whole shared corpus: every RBAC object loads, queries answer without panicking.

use palisade_core::{load_path, Limits, Object};
use palisade_rbac::{paths, risks, Attributes, Options, Policy, RiskKind, UserInfo};

/// Every object under `../shared/corpus/SUB`, or `None` (after saying so) when it is absent.
fn corpus(sub: &str, test: &str) -> Option<Vec<Object>> {
    let root = palisade_testdata::shared("corpus", test)?.join(sub);
    let mut objects = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                let display = path.display().to_string();
                objects.extend(load_path(&path, &display, &Limits::default()).objects);
            }
        }
    }
    Some(objects)
}

#[test]
fn whole_corpus_answers_sanely() {
    let Some(objects) = corpus("", "whole_corpus_answers_sanely") else {
        return;
    };
    let rbac = objects
        .iter()
        .filter(|o| o.group() == "rbac.authorization.k8s.io")
        .count();
    assert!(rbac > 500, "{rbac} RBAC objects");
    let policy = Policy::from_slice(
        &objects,
        &Options {
            with_defaults: true,
            ..Options::default()
        },
    );
    assert!(policy.roles.len() > 300);
    assert!(policy.bindings.len() > 250);
    let secrets = policy.who_can_anywhere(&Attributes::resource("get", "", "secrets"));
    assert!(
        secrets.len() > 20,
        "{} subjects can get secrets",
        secrets.len()
    );
    let cluster_wide = policy.who_can(&Attributes::resource("list", "", "secrets"));
    assert!(!cluster_wide.is_empty() && cluster_wide.len() < secrets.len());
    let found = risks(&policy);
    assert!(found.len() > 100, "{} risks", found.len());
    assert!(found.iter().all(|r| r.object < objects.len()));
    for kind in [
        RiskKind::SecretsRead,
        RiskKind::WorkloadWrite,
        RiskKind::Wildcard,
        RiskKind::ClusterAdminBinding,
    ] {
        assert!(found.iter().any(|r| r.kind() == kind), "no {kind:?}");
    }
    let escalations = paths(&policy, None, 4);
    assert!(!escalations.is_empty());
    let (resource, _) = policy.rules_for(
        &UserInfo::service_account("argocd", "argocd-server"),
        "argocd",
    );
    assert!(!resource.is_empty());
    policy.graph().to_dot();
}
