//! Synthetic clusters for the graph engines: namespaces, pods and NetworkPolicies with
//! overlapping selectors, so that reachability has real work to do for every pair.

use std::fmt::Write as _;

use crate::rng::Rng;

const TIERS: &[&str] = &["frontend", "backend", "cache", "batch", "data"];

/// A YAML stream of `namespaces` Namespaces, `pods` Pods (pod `podP` in namespace
/// `ns{P % namespaces}`) and `policies`
/// NetworkPolicies (ingress and egress rules with pod, namespace and ipBlock peers).
pub fn netpol_stream(namespaces: usize, pods: usize, policies: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::new();
    for n in 0..namespaces {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns{n}\n  labels:\n    env: {}\n",
            if n % 3 == 0 { "prod" } else { "dev" }
        );
    }
    for p in 0..pods {
        let ns = p % namespaces;
        let tier = rng.pick(TIERS);
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod{p}\n  namespace: ns{ns}\n  labels:\n    app: app{}\n    tier: {tier}\nspec:\n  containers:\n  - name: main\n    image: registry.example.com/app:1\n    ports:\n    - containerPort: {}\n      name: http\n",
            rng.below(50),
            8000 + rng.below(20)
        );
    }
    for i in 0..policies {
        let ns = rng.below(namespaces);
        let _ = write!(
            out,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np{i}\n  namespace: ns{ns}\nspec:\n  podSelector:\n    matchLabels:\n      tier: {}\n  policyTypes: [\"Ingress\", \"Egress\"]\n  ingress:\n  - from:\n    - podSelector:\n        matchExpressions:\n        - key: app\n          operator: In\n          values: [\"app{}\", \"app{}\"]\n    - namespaceSelector:\n        matchLabels:\n          env: {}\n      podSelector:\n        matchLabels:\n          tier: {}\n    ports:\n    - protocol: TCP\n      port: {}\n    - protocol: TCP\n      port: http\n  egress:\n  - to:\n    - podSelector:\n        matchLabels:\n          tier: {}\n    - ipBlock:\n        cidr: 10.{}.0.0/16\n        except: [\"10.{}.{}.0/24\"]\n    ports:\n    - protocol: TCP\n      port: {}\n      endPort: {}\n",
            rng.pick(TIERS),
            rng.below(50),
            rng.below(50),
            if rng.chance(50) { "prod" } else { "dev" },
            rng.pick(TIERS),
            8000 + rng.below(20),
            rng.pick(TIERS),
            rng.below(256),
            rng.below(256),
            rng.below(256),
            8000 + rng.below(10),
            8010 + rng.below(10),
        );
    }
    out
}

/// A YAML stream of an RBAC policy: `namespaces` namespaces, each with a few Roles, 40
/// ClusterRoles (some aggregated), and `bindings` RoleBindings and ClusterRoleBindings (one in
/// twenty cluster-wide) to service accounts, users and groups.
pub fn rbac_stream(namespaces: usize, bindings: usize, seed: u64) -> String {
    const RESOURCES: &[&str] = &[
        "pods",
        "pods/log",
        "pods/exec",
        "secrets",
        "configmaps",
        "services",
        "deployments",
        "jobs",
        "events",
        "serviceaccounts",
    ];
    const VERBS: &[&str] = &[
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    let mut rng = Rng::new(seed);
    let mut out = String::new();
    let rules = |rng: &mut Rng, out: &mut String| {
        for _ in 0..1 + rng.below(3) {
            let resource = rng.pick(RESOURCES);
            let group = if matches!(*resource, "deployments") {
                "apps"
            } else if *resource == "jobs" {
                "batch"
            } else {
                ""
            };
            let verbs = if rng.chance(5) {
                "\"*\"".to_owned()
            } else {
                let n = 1 + rng.below(VERBS.len());
                VERBS[..n]
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = write!(
                out,
                "- apiGroups: [\"{group}\"]\n  resources: [\"{resource}\"]\n  verbs: [{verbs}]\n"
            );
        }
    };
    for r in 0..40 {
        let _ = write!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: cr{r}\n  labels:\n    bench/aggregate-to-cr0: \"{}\"\nrules:\n",
            r % 4 == 1
        );
        rules(&mut rng, &mut out);
        if r == 0 {
            out.push_str(
                "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels:\n      bench/aggregate-to-cr0: \"true\"\n",
            );
        }
    }
    for n in 0..namespaces {
        for r in 0..5 {
            let _ = write!(
                out,
                "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: role{r}\n  namespace: ns{n}\nrules:\n"
            );
            rules(&mut rng, &mut out);
        }
    }
    for b in 0..bindings {
        let ns = rng.below(namespaces);
        let (kind, namespace, role_kind, role) = if b % 20 == 0 {
            (
                "ClusterRoleBinding",
                String::new(),
                "ClusterRole",
                format!("cr{}", rng.below(40)),
            )
        } else if rng.chance(30) {
            (
                "RoleBinding",
                format!("  namespace: ns{ns}\n"),
                "ClusterRole",
                format!("cr{}", rng.below(40)),
            )
        } else {
            (
                "RoleBinding",
                format!("  namespace: ns{ns}\n"),
                "Role",
                format!("role{}", rng.below(5)),
            )
        };
        let subject = match rng.below(3) {
            0 => format!(
                "- kind: ServiceAccount\n  name: sa{}\n  namespace: ns{ns}\n",
                rng.below(50)
            ),
            1 => format!(
                "- kind: User\n  apiGroup: rbac.authorization.k8s.io\n  name: user{}\n",
                rng.below(500)
            ),
            _ => format!(
                "- kind: Group\n  apiGroup: rbac.authorization.k8s.io\n  name: team{}\n",
                rng.below(40)
            ),
        };
        let _ = write!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: rb{b}\n{namespace}roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {role_kind}\n  name: {role}\nsubjects:\n{subject}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netpol_stream_has_the_requested_objects() {
        let text = netpol_stream(3, 20, 5, 9);
        assert_eq!(text, netpol_stream(3, 20, 5, 9));
        let loaded =
            palisade_core::load_str(&text, "cluster.yaml", &palisade_core::Limits::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let count = |kind: &str| loaded.objects.iter().filter(|o| o.kind() == kind).count();
        assert_eq!(
            (count("Namespace"), count("Pod"), count("NetworkPolicy")),
            (3, 20, 5)
        );
        let pod4 = loaded.objects.iter().find(|o| o.name() == "pod4").unwrap();
        assert_eq!(pod4.namespace(), Some("ns1"));
    }

    #[test]
    fn rbac_stream_has_the_requested_bindings() {
        let text = rbac_stream(4, 100, 5);
        let loaded = palisade_core::load_str(&text, "rbac.yaml", &palisade_core::Limits::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let bindings = loaded
            .objects
            .iter()
            .filter(|o| o.kind().ends_with("Binding"))
            .count();
        assert_eq!(bindings, 100);
        assert_eq!(
            loaded.objects.iter().filter(|o| o.kind() == "Role").count(),
            20
        );
    }
}
