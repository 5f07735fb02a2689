//! The inventory rules find the same things in the objects `Engine::keep` reduces to the
//! fields they read as in the whole objects: over every rule fixture and the shared corpus.

use std::path::{Path, PathBuf};

use palisade_core::{load_str, Limits, Object};
use palisade_rules::{Config, Engine, Kept};

/// Every rule, including those that are off by default.
fn engine() -> Engine {
    Engine::new(&Config::default(), &["ALL".to_owned()], &[]).expect("ALL names every rule")
}

/// The inventory findings of `objects`, whole and kept, each rendered in full.
fn both(engine: &Engine, objects: &[Object]) -> (Vec<String>, Vec<String>) {
    let render = |found: Vec<palisade_core::rule::Finding>| -> Vec<String> {
        found.iter().map(|f| format!("{f:?}")).collect()
    };
    let whole = render(engine.check_inventory(objects));
    let mut kept = Kept::default();
    for object in objects {
        engine.keep(object.clone(), &mut kept);
    }
    (whole, render(engine.check_kept(&kept)))
}

/// The kept objects, decoded.
fn thawed(kept: &Kept) -> Vec<Object> {
    kept.objects()
        .iter()
        .map(|entry| entry.object().into_owned())
        .collect()
}

fn load_all(files: &[PathBuf]) -> Vec<Object> {
    let limits = Limits::default();
    files
        .iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            Some(load_str(&text, &path.display().to_string(), &limits).objects)
        })
        .flatten()
        .collect()
}

#[test]
fn kept_objects_give_the_findings_of_whole_objects_on_every_fixture() {
    let engine = engine();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let files = palisade_testdata::files_with(&fixtures, &["yaml", "yml"]);
    assert!(files.len() > 100, "{} fixtures", files.len());
    let mut findings = 0;
    for file in &files {
        let objects = load_all(std::slice::from_ref(file));
        let (whole, kept) = both(&engine, &objects);
        assert_eq!(whole, kept, "{}", file.display());
        findings += whole.len();
    }
    assert!(findings > 500, "{findings} inventory findings");
}

#[test]
fn kept_objects_give_the_findings_of_whole_objects_on_the_corpus() {
    let Some(corpus) = palisade_testdata::shared(
        "corpus",
        "kept_objects_give_the_findings_of_whole_objects_on_the_corpus",
    ) else {
        return;
    };
    let files = palisade_testdata::files_with(&corpus, &["yaml", "yml"]);
    let objects = load_all(&files);
    let (whole, kept) = both(&engine(), &objects);
    assert!(whole.len() > 1000, "{} inventory findings", whole.len());
    for (w, k) in whole.iter().zip(&kept) {
        assert_eq!(w, k);
    }
    assert_eq!(whole.len(), kept.len());
}

#[test]
fn a_workload_is_kept_without_the_fields_no_inventory_rule_reads() {
    let text = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  annotations: {palisade.dev/ignore: POD017, note: long}
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: web:1
        env: [{name: A, value: b}]
        ports: [{containerPort: 80}]
        securityContext: {privileged: true}
";
    let object = load_str(text, "web.yaml", &Limits::default())
        .objects
        .remove(0);
    let mut kept = Kept::default();
    engine().keep(object.clone(), &mut kept);
    let reduced = &thawed(&kept)[0];
    assert_eq!(
        reduced.value,
        serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "annotations": {"palisade.dev/ignore": "POD017"},
            },
            "spec": {"template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "serviceAccountName": "web",
                    "containers": [{
                        "name": "web",
                        "image": "web:1",
                        "ports": [{"containerPort": 80}],
                        "securityContext": {"privileged": true},
                    }],
                },
            }},
        })
    );
    for pointer in [
        "/metadata/annotations/palisade.dev~1ignore",
        "/spec/template/spec/containers/0/securityContext/privileged",
        "/spec/template/spec/containers/0/ports/0",
        "/spec/template/spec/serviceAccountName",
    ] {
        assert_eq!(reduced.locate(pointer), object.locate(pointer), "{pointer}");
    }
    // A field that is not kept is found at its nearest kept parent.
    assert_eq!(
        reduced.locate("/spec/template/spec/containers/0/env"),
        object.locate("/spec/template/spec/containers/0")
    );
    // A ConfigMap is read by no inventory rule; a Namespace is kept whole.
    let other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1
kind: Namespace\nmetadata: {name: shop, labels: {team: a}}\n";
    for object in load_str(other, "o.yaml", &Limits::default()).objects {
        engine().keep(object, &mut kept);
    }
    assert_eq!(kept.objects().len(), 2);
    assert_eq!(thawed(&kept)[1].labels().map(|l| l.len()), Some(1));
}

#[test]
fn objects_only_yaml002_reads_are_kept_with_what_identifies_them() {
    let text = "apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: web, image: web:1}]
";
    let objects = load_str(text, "web.yaml", &Limits::default()).objects;
    let identity = |object: &Object| {
        serde_json::json!({
            "apiVersion": object.value["apiVersion"],
            "kind": object.value["kind"],
            "metadata": {"name": "web", "namespace": "shop"},
        })
    };
    // With every rule, the Service is read by YAML002 alone; the Deployment by more.
    let mut kept = Kept::default();
    for object in &objects {
        engine().keep(object.clone(), &mut kept);
    }
    let reduced = thawed(&kept);
    assert_eq!(reduced[0].value, identity(&objects[0]));
    assert_ne!(reduced[1].value, identity(&objects[1]));
    assert_eq!(
        reduced[0].locate("/metadata/name"),
        objects[0].locate("/metadata/name")
    );
    // With YAML002 alone, both are.
    let alone = Engine::new(&Config::default(), &["YAML002".to_owned()], &[]).expect("a rule");
    let mut kept = Kept::default();
    for object in &objects {
        alone.keep(object.clone(), &mut kept);
    }
    assert_eq!(thawed(&kept)[1].value, identity(&objects[1]));
}

#[test]
fn yaml002_alone_finds_in_kept_objects_what_it_finds_in_whole_ones() {
    let engine = Engine::new(&Config::default(), &["YAML002".to_owned()], &[]).expect("a rule");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = palisade_testdata::files_with(&fixtures, &["yaml", "yml"]);
    if let Some(corpus) = palisade_testdata::shared(
        "corpus",
        "yaml002_alone_finds_in_kept_objects_what_it_finds_in_whole_ones",
    ) {
        files.extend(palisade_testdata::files_with(&corpus, &["yaml", "yml"]));
    }
    let (whole, kept) = both(&engine, &load_all(&files));
    assert!(whole.len() > 10, "{} YAML002 findings", whole.len());
    assert_eq!(whole, kept);
}

#[test]
fn network_policies_kept_in_parts_give_the_findings_of_whole_ones() {
    let engine = engine();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let files: Vec<PathBuf> = palisade_testdata::files_with(&fixtures, &["yaml", "yml"])
        .into_iter()
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("NET"))
        })
        .collect();
    assert!(files.len() >= 7, "{} network fixtures", files.len());
    let objects = load_all(&files);
    let whole: Vec<String> = engine
        .check_inventory(&objects)
        .iter()
        .map(|f| format!("{f:?}"))
        .collect();
    assert!(whole.len() > 20, "{} network findings", whole.len());
    // Kept in parts, as chunks of a stream are, and appended in order.
    let mut kept = Kept::default();
    for part in objects.chunks(objects.len() / 3 + 1) {
        let mut one = Kept::default();
        for object in part {
            engine.keep(object.clone(), &mut one);
        }
        kept.append(&mut one);
    }
    let found: Vec<String> = engine
        .check_kept(&kept)
        .iter()
        .map(|f| format!("{f:?}"))
        .collect();
    assert_eq!(whole, found);
    // NetworkPolicies are kept whole.
    let policies: Vec<Object> = thawed(&kept)
        .into_iter()
        .filter(|o| o.kind() == "NetworkPolicy")
        .collect();
    assert!(policies.len() >= 7, "{} policies", policies.len());
    for policy in policies {
        let whole = objects
            .iter()
            .find(|o| (&o.source, o.document) == (&policy.source, policy.document))
            .expect("the kept policy's object");
        assert_eq!(policy.value, whole.value);
        assert_eq!(policy.spans, whole.spans);
    }
}
