//! The fixtures of the audit-event rules (`tests/fixtures/EVT*.yaml`): each YAML document is one
//! audit event, and its `# alerts: ID, ...` comment lists the findings it must give (none when
//! absent), event by event in log order, with only the fixture's rule selected. The generic
//! fixture test loads the same files as objects and finds nothing in them.
//!
//! Also: the object a create carries is checked by the per-object rules (a privileged pod
//! created in the cluster is POD001).

use std::sync::Arc;

use palisade_audit::Event;
use palisade_core::{load_str, Limits};
use palisade_rules::rules::event::EventRunner;
use palisade_rules::{Config, Engine};
use serde_json::json;

fn expected(doc: &str) -> Vec<String> {
    let mut out: Vec<String> = doc
        .lines()
        .filter_map(|l| l.trim().strip_prefix("# alerts:"))
        .flat_map(|ids| ids.split(','))
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect();
    out.sort();
    out
}

fn check(path: &std::path::Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let id = path.file_stem().unwrap().to_string_lossy().into_owned();
    let loaded = load_str(&text, &id, &Limits::default());
    if !loaded.errors.is_empty() {
        return Err(format!("{id}: {:?}", loaded.errors));
    }
    let docs: Vec<&str> = text.split("\n---\n").collect();
    if docs.len() != loaded.objects.len() {
        return Err(format!(
            "{id}: {} documents, {} events",
            docs.len(),
            loaded.objects.len()
        ));
    }
    let engine = Engine::new(&Config::default(), std::slice::from_ref(&id), &[])
        .map_err(|e| e.to_string())?;
    let mut runner = EventRunner::new(Arc::new(engine));
    let mut alerts = 0;
    let mut clean = 0;
    for (n, (doc, object)) in docs.iter().zip(&loaded.objects).enumerate() {
        let event = Event::from_value(object.value.clone(), Arc::from(id.as_str()), n as u64 + 1)
            .map_err(|e| e.to_string())?;
        let mut got: Vec<String> = runner
            .check(&event)
            .iter()
            .map(|f| f.rule.id.to_owned())
            .collect();
        got.sort();
        let want = expected(doc);
        if got != want {
            return Err(format!(
                "{id}: event {}: got {got:?}, expected {want:?}",
                n + 1
            ));
        }
        alerts += want.len();
        clean += usize::from(want.is_empty());
    }
    if alerts == 0 || clean == 0 {
        return Err(format!(
            "{id}: needs events that alert and events that do not"
        ));
    }
    Ok(alerts)
}

#[test]
fn every_event_fixture_matches_its_expectations() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("EVT"))
        })
        .collect();
    paths.sort();
    assert!(paths.len() >= 13, "{paths:?}");
    let failures: Vec<String> = paths.iter().filter_map(|p| check(p).err()).collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn pod_event(privileged: bool, code: u64) -> Event {
    let value = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "x",
        "stage": "ResponseComplete", "verb": "create", "requestURI": "/api/v1/namespaces/shop/pods",
        "user": {"username": "alice"},
        "objectRef": {"resource": "pods", "namespace": "shop", "name": "web"},
        "responseStatus": {"code": code},
        "requestObject": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                "securityContext": {"privileged": privileged}}]}},
        "stageTimestamp": "2024-05-01T10:00:00Z"
    });
    Event::from_value(value, Arc::from("log"), 7).unwrap()
}

#[test]
fn request_objects_are_checked_by_the_object_rules() {
    let engine = Engine::new(&Config::default(), &["POD001".to_owned()], &[]).unwrap();
    let mut runner = EventRunner::new(Arc::new(engine));
    let findings = runner.check(&pod_event(true, 201));
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].rule.id, "POD001");
    assert_eq!(
        findings[0].pointer,
        "/requestObject/spec/containers/0/securityContext/privileged"
    );
    assert!(runner.check(&pod_event(false, 201)).is_empty());
    assert!(
        runner.check(&pod_event(true, 403)).is_empty(),
        "a refused create created nothing"
    );
}
