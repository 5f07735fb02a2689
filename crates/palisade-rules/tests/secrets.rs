//! The credentials each rule attaches to its findings, which reports then mask: the value
//! itself, and the value as the manifest writes it where that differs (base64 `data:`).

use palisade_core::{load_str, Limits};
use palisade_rules::{Config, Engine, Finding};

const MANIFESTS: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: app
  namespace: shop
  annotations:
    notify: https://hooks.slack.com/services/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
spec:
  containers:
  - name: app
    image: deploy:Kp4sT8vW1yZ3@registry.example.com/team/app:latest
    env:
    - name: DB_PASSWORD
      value: "Sup3rS3cretValue!42"
    - name: DATABASE_URL
      value: postgres://app:Qx7mL2pW9vRt@db.shop:5432/orders
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
data:
  username: YWRtaW4=
  password: aHVudGVyMmh1bnRlcjI=
stringData:
  api-key: Zm9vYmFyYmF6cXV4
---
apiVersion: v1
kind: Secret
metadata:
  name: legacy
  namespace: shop
  annotations:
    kubernetes.io/service-account.name: ci
type: kubernetes.io/service-account-token
data:
  token: ZXlKaGJHY2lPaUpTVXpJMU5pSjkuZXlKemRXSWlPaUpqYVNKOS5zaWduYXR1cmU=
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  db_password: Wr7kPz4qLm9x
---
apiVersion: v1
kind: Service
metadata:
  name: meta
  namespace: shop
spec:
  type: ExternalName
  externalName: http://probe:M3taPassw0rd@169.254.169.254/latest
"#;

fn findings() -> Vec<Finding> {
    let loaded = load_str(MANIFESTS, "secrets.yaml", &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let config = Config::parse("rules: {allowed-registries: [ghcr.io/]}", "config.yaml")
        .expect("the configuration is valid");
    let engine = Engine::new(
        &config,
        &["secrets".into(), "image".into(), "SVC005".into()],
        &[],
    )
    .expect("the selection names rules");
    loaded
        .objects
        .iter()
        .flat_map(|o| engine.check_object(o))
        .collect()
}

/// The secrets of the findings of `rule` that point at `pointer`.
fn secrets(findings: &[Finding], rule: &str, pointer: &str) -> Vec<String> {
    let matching: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule.id == rule && f.pointer == pointer)
        .collect();
    assert_eq!(matching.len(), 1, "{rule} at {pointer}: {findings:#?}");
    matching[0].secrets.clone()
}

#[test]
fn rules_attach_the_credentials_they_find() {
    let all = findings();
    assert_eq!(
        secrets(&all, "SEC001", "/spec/containers/0/env/0/value"),
        ["Sup3rS3cretValue!42"]
    );
    assert_eq!(
        secrets(&all, "SEC002", "/spec/containers/0/env/1/value"),
        ["Qx7mL2pW9vRt"]
    );
    assert_eq!(
        secrets(&all, "SEC002", "/metadata/annotations/notify"),
        ["https://hooks.slack.com/services/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"]
    );
    assert_eq!(
        secrets(&all, "SEC002", "/spec/containers/0/image"),
        ["Kp4sT8vW1yZ3"]
    );
    // The image rules quote the image in their messages.
    assert_eq!(
        secrets(&all, "IMG004", "/spec/containers/0/image"),
        ["Kp4sT8vW1yZ3"]
    );
    // A Secret's data as written (base64) and decoded; stringData as written. The username is
    // not a credential and is not masked.
    assert_eq!(
        secrets(&all, "SEC003", "/data/password"),
        ["aHVudGVyMmh1bnRlcjI=", "hunter2hunter2", "Zm9vYmFyYmF6cXV4"]
    );
    assert_eq!(
        secrets(&all, "SEC004", "/type"),
        [
            "ZXlKaGJHY2lPaUpTVXpJMU5pSjkuZXlKemRXSWlPaUpqYVNKOS5zaWduYXR1cmU=",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.signature"
        ]
    );
    assert_eq!(
        secrets(&all, "SEC006", "/data/db_password"),
        ["Wr7kPz4qLm9x"]
    );
    assert_eq!(
        secrets(&all, "SVC005", "/spec/externalName"),
        ["M3taPassw0rd"]
    );
}

#[test]
fn findings_about_no_credential_carry_none() {
    let loaded = load_str(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:latest\n    env:\n    - name: TOKEN\n      valueFrom: {secretKeyRef: {name: t, key: token}}\n",
        "clean.yaml",
        &Limits::default(),
    );
    let findings = Engine::default().check_object(&loaded.objects[0]);
    assert!(findings.iter().any(|f| f.rule.id == "IMG001"));
    assert!(findings.iter().any(|f| f.rule.id == "SEC005"));
    assert!(
        findings.iter().all(|f| f.secrets.is_empty()),
        "{findings:#?}"
    );
}

#[test]
fn rules_that_attach_credentials_say_so() {
    for finding in findings().iter().filter(|f| !f.secrets.is_empty()) {
        let rule = palisade_rules::registry()
            .iter()
            .find(|r| r.meta().id == finding.rule.id)
            .expect("findings come from registered rules");
        assert!(rule.finds_credentials(), "{}", finding.rule.id);
    }
}

#[test]
fn credentials_of_unselected_or_suppressed_rules_are_still_known() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    palisade.dev/ignore: SEC001\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n    env:\n    - name: DB_PASSWORD\n      value: Sup3rS3cretValue\n    - name: GH\n      value: ghp_R2d9kQx7LmP4sT8vW1yZ3aB6cD0eF5gH2jK9\n";
    let loaded = load_str(text, "pod.yaml", &Limits::default());
    let object = &loaded.objects[0];
    // SEC001 is suppressed on the object; SEC002 is not selected.
    let engine = Engine::new(&Config::default(), &["SEC001".into(), "POD001".into()], &[])
        .expect("the selection names rules");
    assert!(engine.check_object(object).is_empty());
    let mut unreported = engine.unreported_credentials(object);
    unreported.sort();
    assert_eq!(
        unreported,
        [
            "Sup3rS3cretValue",
            "ghp_R2d9kQx7LmP4sT8vW1yZ3aB6cD0eF5gH2jK9"
        ]
    );
    // With every rule selected and nothing suppressed, the findings carry them all.
    let unsuppressed = load_str(
        &text.replace("palisade.dev/ignore: SEC001", "team: shop"),
        "pod.yaml",
        &Limits::default(),
    );
    assert!(Engine::default()
        .unreported_credentials(&unsuppressed.objects[0])
        .is_empty());
}
