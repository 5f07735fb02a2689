//! Re-running inventory rules in part, for `cluster watch`: which rules can be run on one
//! namespace alone, and the engines the watch runs the others with.

use std::collections::BTreeSet;

use palisade_core::rule::Finding;
use palisade_core::Object;
use palisade_rbac::{binding_subjects, SubjectEntry};
use palisade_rules::{Checker, Config, Engine};
use serde_json::Value;

/// The inventory rules that are namespace-local: run on the objects of one namespace plus
/// every cluster-scoped object, they find exactly what they find at that namespace's objects
/// when run on the whole cluster; run on the cluster-scoped objects alone, exactly what they
/// find at the cluster-scoped objects. Pod Security by namespace (the namespace's labels and its
/// workloads), the NetworkPolicy checks that stay inside one namespace (default deny, workloads
/// no policy selects, policies that allow everything, reach the metadata address or select
/// nothing), the namespace labels, and objects defined twice (YAML002 compares objects of one
/// identity, which includes the namespace). Checked by the tests below on the rule fixtures, the
/// corpus and objects made to reach across namespaces. The rules that read a few other
/// namespaces are in [`REACHING`]; any other (RBAC, policies) is re-run over the whole cluster,
/// which is always right.
pub const NAMESPACE_LOCAL: &[&str] = &[
    "NET001", "NET002", "NET003", "NET004", "NET005", "NET006", "NS001", "PSS001", "PSS002",
    "PSS003", "PSS004", "PSS005", "PSS006", "PSS007", "PSS008", "PSS009", "PSS010", "PSS011",
    "PSS012", "PSS013", "PSS014", "PSS015", "PSS016", "PSS017", "PSS018", "PSS019", "YAML002",
];

/// The inventory rules that read a few other namespaces besides their own, and how
/// ([`Reach`]): run on the objects of one namespace, the cluster-scoped objects and the objects
/// that reach into that namespace, they find exactly what they find at that namespace's objects
/// when run on the whole cluster. Checked by the tests below like [`NAMESPACE_LOCAL`], and shown
/// to fail when what reaches across namespaces is left out.
pub const REACHING: &[(&str, Reach)] = &[
    ("NET007", Reach::NamedPorts),
    ("POD016", Reach::Accounts),
    ("POD017", Reach::Accounts),
];

/// How a [`REACHING`] rule reads other namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// NET007: a NetworkPolicy's named ports are resolved on the pods its rules reach: the
    /// selected pods (its namespace) for ingress, the destinations for egress, which are in its
    /// namespace when every peer of the rule is a `podSelector` alone, and may be anywhere
    /// otherwise ([`Reach::reads_everything`]).
    NamedPorts,
    /// POD016, POD017: a pod's findings read its service account (its namespace) and the
    /// bindings, in any namespace, whose subjects may be that account ([`Reach::into`]).
    Accounts,
}

/// Namespaces other than its own that an object reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Beyond {
    Some(Vec<String>),
    All,
}

impl Beyond {
    pub fn reaches(&self, namespace: &str) -> bool {
        match self {
            Beyond::All => true,
            Beyond::Some(namespaces) => namespaces.iter().any(|n| n == namespace),
        }
    }
}

impl Reach {
    /// The namespaces whose findings `object` (namespaced) can change besides its own: for
    /// [`Reach::Accounts`], the namespaces of the service accounts a `RoleBinding`'s subjects may
    /// name (a service account, `system:serviceaccount:NS:NAME`, `system:serviceaccounts:NS`;
    /// every namespace for `system:serviceaccounts`). `None` when it reaches no other.
    pub fn into(self, object: &Object) -> Option<Beyond> {
        if self != Reach::Accounts || object.kind() != "RoleBinding" {
            return None;
        }
        let own = object.namespace();
        let mut namespaces: Vec<String> = Vec::new();
        for subject in binding_subjects(&object.value, own) {
            let namespace = match subject {
                SubjectEntry::ServiceAccount { namespace, .. } => match namespace {
                    Some(ns) => ns,
                    None => return Some(Beyond::All),
                },
                SubjectEntry::Group("system:serviceaccounts") => return Some(Beyond::All),
                SubjectEntry::Group(name) => match name.strip_prefix("system:serviceaccounts:") {
                    Some(ns) => ns,
                    None => continue,
                },
                SubjectEntry::User(name) => match name.strip_prefix("system:serviceaccount:") {
                    Some(rest) => rest.split(':').next().unwrap_or(rest),
                    None => continue,
                },
                SubjectEntry::Unknown(_) => continue,
            };
            if Some(namespace) != own && !namespaces.iter().any(|n| n == namespace) {
                namespaces.push(namespace.to_owned());
            }
        }
        (!namespaces.is_empty()).then_some(Beyond::Some(namespaces))
    }

    /// Whether the findings of `object`'s namespace read the objects of every namespace: for
    /// [`Reach::NamedPorts`], a NetworkPolicy with an egress rule that names a port and has a
    /// peer other than a `podSelector` alone (or no peer: every destination).
    pub fn reads_everything(self, object: &Object) -> bool {
        if self != Reach::NamedPorts || object.kind() != "NetworkPolicy" {
            return false;
        }
        let Some(rules) = object
            .value
            .pointer("/spec/egress")
            .and_then(Value::as_array)
        else {
            return false;
        };
        rules.iter().any(|rule| {
            let named = rule
                .get("ports")
                .and_then(Value::as_array)
                .is_some_and(|ports| {
                    ports
                        .iter()
                        .any(|p| p.get("port").is_some_and(Value::is_string))
                });
            let local = rule
                .get("to")
                .and_then(Value::as_array)
                .is_some_and(|peers| {
                    !peers.is_empty()
                        && peers.iter().all(|peer| {
                            peer.as_object().is_some_and(|peer| {
                                peer.len() == 1 && peer.contains_key("podSelector")
                            })
                        })
                });
            named && !local
        })
    }
}

/// Rules of one [`Reach`], run again on the namespaces a change reaches.
pub struct Reaching {
    pub reach: Reach,
    pub kinds: BTreeSet<&'static str>,
    pub engine: Engine,
}

impl Reaching {
    /// Whether a change of an object of `kind` can change what these rules find.
    pub fn reads(&self, kind: &str) -> bool {
        self.kinds.contains("*") || self.kinds.contains(kind)
    }
}

/// The selected inventory rules, split for partial re-runs.
pub struct Scoped {
    /// The namespace-local rules ([`NAMESPACE_LOCAL`]), if any is selected.
    pub local: Option<Engine>,
    /// The other rules, grouped by the kinds they read (rules that read the same kinds share
    /// their analyses, and the RBAC rules choose among each other which reports a rule entry):
    /// a group runs again when an object of one of its kinds changes.
    pub global: Vec<Global>,
    /// The [`REACHING`] rules, one engine per [`Reach`].
    pub reaching: Vec<Reaching>,
    /// The position of each selected rule in `engine.rules()`: findings of the parts are put
    /// back in the order one engine gives them.
    order: std::collections::HashMap<&'static str, usize>,
}

/// Rules that run over the whole cluster.
pub struct Global {
    pub kinds: BTreeSet<&'static str>,
    pub engine: Engine,
}

impl Global {
    /// Whether a change of an object of `kind` can change what these rules find.
    pub fn reads(&self, kind: &str) -> bool {
        self.kinds.contains("*") || self.kinds.contains(kind)
    }
}

/// An engine with exactly `ids` of the configuration's rules (`None` when there are none: an
/// empty selection would select every rule).
fn engine_of(config: &Config, ids: &[&str]) -> anyhow::Result<Option<Engine>> {
    if ids.is_empty() {
        return Ok(None);
    }
    let select: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    Ok(Some(Engine::new(config, &select, &[])?))
}

impl Scoped {
    /// Splits the inventory rules of `engine`, built from `config`.
    pub fn new(config: &Config, engine: &Engine) -> anyhow::Result<Scoped> {
        let inventory: Vec<_> = engine
            .rules()
            .iter()
            .filter(|r| matches!(r.checker(), Checker::Inventory(_)))
            .map(|r| r.meta())
            .collect();
        let local: Vec<&str> = inventory
            .iter()
            .filter(|m| NAMESPACE_LOCAL.contains(&m.id))
            .map(|m| m.id)
            .collect();
        let mut groups: Vec<(BTreeSet<&'static str>, Vec<&'static str>)> = Vec::new();
        let reach_of = |id: &str| {
            REACHING
                .iter()
                .find(|(r, _)| *r == id)
                .map(|(_, reach)| *reach)
        };
        let mut reaching = Vec::new();
        for reach in [Reach::NamedPorts, Reach::Accounts] {
            let metas: Vec<_> = inventory
                .iter()
                .filter(|m| reach_of(m.id) == Some(reach))
                .collect();
            let ids: Vec<&str> = metas.iter().map(|m| m.id).collect();
            if let Some(engine) = engine_of(config, &ids)? {
                let kinds = metas.iter().flat_map(|m| m.kinds.iter().copied()).collect();
                reaching.push(Reaching {
                    reach,
                    kinds,
                    engine,
                });
            }
        }
        for meta in inventory
            .iter()
            .filter(|m| !NAMESPACE_LOCAL.contains(&m.id) && reach_of(m.id).is_none())
        {
            let kinds: BTreeSet<&'static str> = meta.kinds.iter().copied().collect();
            match groups.iter_mut().find(|(k, _)| *k == kinds) {
                Some((_, ids)) => ids.push(meta.id),
                None => groups.push((kinds, vec![meta.id])),
            }
        }
        let mut global = Vec::new();
        for (kinds, ids) in groups {
            if let Some(engine) = engine_of(config, &ids)? {
                global.push(Global { kinds, engine });
            }
        }
        let order = engine
            .rules()
            .iter()
            .enumerate()
            .map(|(i, r)| (r.meta().id, i))
            .collect();
        Ok(Scoped {
            local: engine_of(config, &local)?,
            global,
            reaching,
            order,
        })
    }

    /// Sorts inventory findings of several parts into the order of one engine's (by rule,
    /// stable within a rule).
    pub fn rule_order(&self, findings: &mut [Finding]) {
        findings.sort_by_key(|f| self.order.get(f.rule.id).copied().unwrap_or(usize::MAX));
    }
}

/// Whether two findings say the same, in every field a report or a later step reads.
pub fn same_findings(a: &[Finding], b: &[Finding]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(a, b)| {
            a.rule.id == b.rule.id
                && a.severity == b.severity
                && a.message == b.message
                && a.file == b.file
                && a.pos == b.pos
                && a.pointer == b.pointer
                && a.object == b.object
                && a.document == b.document
                && a.item == b.item
                && a.fix == b.fix
                && a.related.len() == b.related.len()
                && a.related.iter().zip(&b.related).all(|(x, y)| x.id == y.id)
                && a.secrets == b.secrets
                && a.policy == b.policy
        })
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use palisade_cluster::inventory_order;
    use palisade_core::{load_path, Limits};
    use serde_json::{json, Value};

    use palisade_core::Object;

    use super::*;

    /// Kinds a cluster serves without a namespace.
    const CLUSTER_SCOPED: &[&str] = &[
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "RuntimeClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
        "ConstraintTemplate",
        "PodSecurityPolicy",
        "CertificateSigningRequest",
        "APIService",
        "ClusterIssuer",
    ];

    /// Objects that reach across namespaces: bindings of other namespaces' service accounts,
    /// policies whose peers and named ports are in other namespaces, an AdminNetworkPolicy,
    /// namespaces with and without Pod Security labels.
    fn across() -> Vec<Value> {
        let mut objects = Vec::new();
        for (i, level) in ["restricted", "baseline", "privileged", ""]
            .iter()
            .enumerate()
        {
            let mut ns = json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": format!("ns-{i}"), "labels": {"team": format!("t{i}")}}});
            if !level.is_empty() {
                ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = json!(level);
            }
            objects.push(ns);
            objects.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": format!("ns-{i}")},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx:1",
                        "ports": [{"containerPort": 80, "name": if i == 2 { "http" } else { "web" }}],
                        "securityContext": {"privileged": i == 1}}]}}}}));
            objects.push(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "lone", "namespace": format!("ns-{i}"), "labels": {"app": "lone"}},
                "spec": {"serviceAccountName": "runner", "hostNetwork": i == 3,
                    "containers": [{"name": "c", "image": "busybox:1"}]}}));
        }
        objects.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "runner", "namespace": "ns-2"}, "automountServiceAccountToken": false}));
        objects.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "cross", "namespace": "ns-0"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": "ns-1"},
                         {"kind": "ServiceAccount", "name": "default", "namespace": "ns-3"}]}));
        objects.push(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "to-others", "namespace": "ns-0"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"team": "t2"}}}],
                            "ports": [{"port": "http"}, {"port": "web"}]}]}}),
        );
        objects.push(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "from-others", "namespace": "ns-1"},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": "web"}]}]}}),
        );
        objects.push(
            json!({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": {"name": "isolate-t3"},
            "spec": {"priority": 10, "subject": {"namespaces": {"matchLabels": {"team": "t3"}}},
                "ingress": [{"name": "deny", "action": "Deny", "from": [{"namespaces": {}}]}]}}),
        );
        objects
    }

    /// `values` as a cluster holds them: namespaced kinds in a namespace (those without one
    /// in `ns-{n % 4}`, `n` counting files), cluster-scoped kinds without, one object for each
    /// identity, each named by a URL as `cluster scan` names it.
    fn as_cluster(values: impl IntoIterator<Item = (usize, Value)>) -> Vec<Object> {
        let mut seen = BTreeSet::new();
        let mut objects = Vec::new();
        for (n, mut value) in values {
            let kind = value["kind"].as_str().unwrap_or("").to_owned();
            let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) else {
                continue;
            };
            if CLUSTER_SCOPED.contains(&kind.as_str()) {
                metadata.remove("namespace");
            } else if metadata
                .get("namespace")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                metadata.insert("namespace".to_owned(), json!(format!("ns-{}", n % 4)));
            }
            let field = |p: &str| {
                value
                    .pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let identity = (
                field("/apiVersion"),
                kind.clone(),
                field("/metadata/namespace"),
                field("/metadata/name"),
            );
            if !seen.insert(identity.clone()) {
                continue;
            }
            let url = format!(
                "https://cluster/{}/{}/{}/{}",
                identity.0, identity.2, identity.1, identity.3
            );
            objects.push(Object::from_value(value, &url));
        }
        objects
    }

    fn load(files: &[PathBuf]) -> Vec<(usize, Value)> {
        let mut values = Vec::new();
        for (n, file) in files.iter().enumerate() {
            let loaded = load_path(file, &file.display().to_string(), &Limits::default());
            values.extend(loaded.objects.into_iter().map(|o| (n, o.value)));
        }
        values
    }

    fn fixtures() -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-rules/tests/fixtures");
        palisade_testdata::files_with(&dir, &["yaml", "yml"])
    }

    /// For each group of `objects`: the findings `rules` give there when run over every object,
    /// against those they give when run over the group's objects and the cluster-scoped ones.
    /// Returns the groups where they differ.
    fn differences(rules: &Engine, all: &Engine, objects: Vec<Object>) -> Vec<String> {
        differences_in(rules, all, objects, &|group, kept| {
            kept.iter()
                .filter(|o| o.namespace().is_none() || o.namespace() == group.as_deref())
                .cloned()
                .collect()
        })
    }

    /// The objects a scoped run of `reach`'s rules reads for `group` (as the watch's cache
    /// chooses them): the group's, the cluster-scoped ones and those that reach into the group;
    /// every object when one of the group's reads everything. `honest: false` leaves out what
    /// reaches across namespaces (to show that the check can fail).
    fn reach_input(reach: Reach, honest: bool, group: &Group, kept: &[Object]) -> Vec<Object> {
        let Some(namespace) = group.as_deref() else {
            return kept
                .iter()
                .filter(|o| o.namespace().is_none())
                .cloned()
                .collect();
        };
        if honest
            && kept
                .iter()
                .any(|o| o.namespace() == Some(namespace) && reach.reads_everything(o))
        {
            return kept.to_vec();
        }
        kept.iter()
            .filter(|o| match o.namespace() {
                None => true,
                Some(ns) if ns == namespace => true,
                Some(_) => honest && reach.into(o).is_some_and(|b| b.reaches(namespace)),
            })
            .cloned()
            .collect()
    }

    type Group = Option<String>;

    /// Like [`differences`], with the objects `scope` gives for each group.
    fn differences_in(
        rules: &Engine,
        all: &Engine,
        objects: Vec<Object>,
        scope: &dyn Fn(&Group, &[Object]) -> Vec<Object>,
    ) -> Vec<String> {
        let mut kept: Vec<Object> = objects
            .into_iter()
            .filter(|o| all.keep_for_inventory(o))
            .collect();
        inventory_order(&mut kept);
        let key = |f: &Finding| {
            format!(
                "{} {} {} {} | {}",
                f.rule.id,
                f.file,
                f.pointer,
                f.severity.as_str(),
                f.message
            )
        };
        let grouped = |findings: Vec<Finding>| {
            let mut groups: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
            for f in &findings {
                groups
                    .entry(f.object.namespace.clone())
                    .or_default()
                    .push(key(f));
            }
            groups
        };
        let full = grouped(rules.check_inventory(&kept));
        let groups: BTreeSet<Option<String>> = kept
            .iter()
            .map(|o| o.namespace().map(str::to_owned))
            .collect();
        let mut differ = Vec::new();
        for group in groups {
            let subset = scope(&group, &kept);
            let alone = grouped(rules.check_inventory(&subset))
                .remove(&group)
                .unwrap_or_default();
            let whole = full.get(&group).cloned().unwrap_or_default();
            if alone != whole {
                differ.push(format!(
                    "{group:?}:\n  whole: {whole:#?}\n  alone: {alone:#?}"
                ));
            }
        }
        differ
    }

    fn local_engine() -> (Engine, Engine) {
        let config = Config::default();
        let all = Engine::new(&config, &[], &[]).unwrap();
        let scoped = Scoped::new(&config, &all).unwrap();
        (scoped.local.unwrap(), all)
    }

    #[test]
    fn namespace_local_rules_find_the_same_in_a_namespace_alone() {
        let (local, all) = local_engine();
        let mut values = load(&fixtures());
        values.extend(across().into_iter().map(|v| (0, v)));
        let differ = differences(&local, &all, as_cluster(values));
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }

    #[test]
    fn namespace_local_rules_find_the_same_in_a_namespace_alone_on_the_corpus() {
        let Some(corpus) = palisade_testdata::shared(
            "corpus",
            "namespace_local_rules_find_the_same_in_a_namespace_alone_on_the_corpus",
        ) else {
            return;
        };
        let (local, all) = local_engine();
        let mut values = load(&palisade_testdata::files_with(&corpus, &["yaml", "yml"]));
        values.extend(across().into_iter().map(|v| (0, v)));
        let objects = as_cluster(values);
        assert!(objects.len() > 2000, "{}", objects.len());
        let differ = differences(&local, &all, objects);
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }

    /// The objects above do reach across namespaces: rules that are not namespace-local find
    /// something else in a namespace alone, so the checks above can fail.
    #[test]
    fn the_objects_show_rules_that_are_not_namespace_local() {
        let config = Config::default();
        let all = Engine::new(&config, &[], &[]).unwrap();
        for id in ["POD017", "NET007"] {
            let rule = Engine::new(&config, &[id.to_owned()], &[]).unwrap();
            let differ = differences(
                &rule,
                &all,
                as_cluster(across().into_iter().map(|v| (0, v))),
            );
            assert!(
                !differ.is_empty(),
                "{id} finds the same in every namespace alone"
            );
        }
    }

    /// The rules of each [`Reach`] and the objects of all the tests above.
    fn reach_differences(objects: &dyn Fn() -> Vec<Object>, honest: bool) -> Vec<String> {
        let config = Config::default();
        let all = Engine::new(&config, &[], &[]).unwrap();
        let scoped = Scoped::new(&config, &all).unwrap();
        assert_eq!(scoped.reaching.len(), 2);
        let mut differ = Vec::new();
        for part in &scoped.reaching {
            let reach = part.reach;
            differ.extend(differences_in(
                &part.engine,
                &all,
                objects(),
                &|group, kept| reach_input(reach, honest, group, kept),
            ));
        }
        differ
    }

    #[test]
    fn reaching_rules_find_the_same_with_what_reaches_a_namespace() {
        let objects = || {
            let mut values = load(&fixtures());
            values.extend(across().into_iter().map(|v| (0, v)));
            as_cluster(values)
        };
        let differ = reach_differences(&objects, true);
        assert!(differ.is_empty(), "{}", differ.join("\n"));
        // Without a policy that reads every namespace, each namespace is run alone.
        let narrow = || {
            as_cluster(
                across()
                    .into_iter()
                    .filter(|v| v["metadata"]["name"] != "to-others")
                    .map(|v| (0, v)),
            )
        };
        let differ = reach_differences(&narrow, true);
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }

    #[test]
    fn reaching_rules_find_the_same_with_what_reaches_a_namespace_on_the_corpus() {
        let Some(corpus) = palisade_testdata::shared(
            "corpus",
            "reaching_rules_find_the_same_with_what_reaches_a_namespace_on_the_corpus",
        ) else {
            return;
        };
        let objects = || {
            let mut values = load(&palisade_testdata::files_with(&corpus, &["yaml", "yml"]));
            values.extend(across().into_iter().map(|v| (0, v)));
            as_cluster(values)
        };
        let differ = reach_differences(&objects, true);
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }

    /// Leaving out the bindings of other namespaces and the policies that read every namespace
    /// changes what both kinds of reaching rules find: the checks above can fail.
    #[test]
    fn what_reaches_across_namespaces_is_needed() {
        let config = Config::default();
        let all = Engine::new(&config, &[], &[]).unwrap();
        let scoped = Scoped::new(&config, &all).unwrap();
        for part in &scoped.reaching {
            let reach = part.reach;
            let differ = differences_in(
                &part.engine,
                &all,
                as_cluster(across().into_iter().map(|v| (0, v))),
                &|group, kept| reach_input(reach, false, group, kept),
            );
            assert!(
                !differ.is_empty(),
                "{reach:?} needs nothing of other namespaces"
            );
        }
    }

    #[test]
    fn what_a_binding_reaches() {
        let binding = |subjects: Value| {
            Object::from_value(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": "b", "namespace": "own"}, "subjects": subjects}),
                "x",
            )
        };
        let into = |subjects: Value| Reach::Accounts.into(&binding(subjects));
        assert_eq!(into(json!([{"kind": "ServiceAccount", "name": "a"}])), None);
        assert_eq!(
            into(
                json!([{"kind": "ServiceAccount", "name": "a", "namespace": "x"},
                {"kind": "User", "name": "system:serviceaccount:y:a"},
                {"kind": "Group", "name": "system:serviceaccounts:z"},
                {"kind": "Group", "name": "system:authenticated"},
                {"kind": "User", "name": "alice"}])
            ),
            Some(Beyond::Some(vec!["x".into(), "y".into(), "z".into()]))
        );
        assert_eq!(
            into(json!([{"kind": "Group", "name": "system:serviceaccounts"}])),
            Some(Beyond::All)
        );
        assert_eq!(
            Reach::NamedPorts.into(&binding(
                json!([{"kind": "Group", "name": "system:serviceaccounts"}])
            )),
            None
        );
        let policy = |egress: Value| {
            Reach::NamedPorts.reads_everything(&Object::from_value(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": "p", "namespace": "own"}, "spec": {"egress": egress}}),
                "x",
            ))
        };
        assert!(!policy(
            json!([{"to": [{"podSelector": {}}], "ports": [{"port": "http"}]}])
        ));
        assert!(!policy(
            json!([{"to": [{"namespaceSelector": {}}], "ports": [{"port": 80}]}])
        ));
        assert!(policy(
            json!([{"to": [{"namespaceSelector": {}}], "ports": [{"port": "http"}]}])
        ));
        assert!(policy(json!([{"ports": [{"port": "http"}]}])));
        assert!(policy(
            json!([{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": "http"}]}])
        ));
    }

    #[test]
    fn every_rule_is_local_or_runs_over_the_whole_cluster() {
        let config = Config::default();
        let all = Engine::new(&config, &[], &[]).unwrap();
        let scoped = Scoped::new(&config, &all).unwrap();
        let local: BTreeSet<&str> = scoped
            .local
            .iter()
            .flat_map(|e| e.rules())
            .map(|r| r.meta().id)
            .collect();
        assert_eq!(local, NAMESPACE_LOCAL.iter().copied().collect());
        let global: Vec<&str> = scoped
            .global
            .iter()
            .flat_map(|g| g.engine.rules())
            .map(|r| r.meta().id)
            .collect();
        let inventory: BTreeSet<&str> = all
            .rules()
            .iter()
            .filter(|r| matches!(r.checker(), Checker::Inventory(_)))
            .map(|r| r.meta().id)
            .collect();
        let reaching: Vec<&str> = scoped
            .reaching
            .iter()
            .flat_map(|r| r.engine.rules())
            .map(|r| r.meta().id)
            .collect();
        assert_eq!(
            reaching.iter().copied().collect::<BTreeSet<_>>(),
            REACHING.iter().map(|(id, _)| *id).collect()
        );
        let parts: BTreeSet<&str> = local
            .iter()
            .copied()
            .chain(global.iter().copied())
            .chain(reaching.iter().copied())
            .collect();
        assert_eq!(parts, inventory);
        assert_eq!(local.len() + global.len() + reaching.len(), inventory.len());
    }
}
