//! Namespace labels and admission configuration.

mod common;

use common::fixture;
use palisade_core::{load_str, Limits};
use palisade_pss::{
    namespace_policies, namespace_policy, parse_config, ConfigError, Exemption, FieldErrorKind,
    Level, LevelVersion, Mode, Policy, Version,
};
use serde_json::json;

fn lv(level: Level, version: Version) -> LevelVersion {
    LevelVersion::new(level, version)
}

#[test]
fn labels_resolve_like_admission() {
    let namespaces = fixture("namespaces.yaml");
    let defaults = Policy::default();
    let privileged = lv(Level::Privileged, Version::Latest);

    let (strict, errors) = namespace_policy(&namespaces[0], &defaults);
    assert!(errors.is_empty());
    assert_eq!(strict.enforce, lv(Level::Restricted, Version::Minor(30)));
    assert_eq!(
        strict.warn,
        lv(Level::Restricted, Version::Minor(30)),
        "warn follows a stricter enforce"
    );
    assert_eq!(strict.audit, privileged);

    let (mixed, errors) = namespace_policy(&namespaces[1], &defaults);
    assert!(errors.is_empty());
    assert_eq!(mixed.enforce, lv(Level::Baseline, Version::Latest));
    assert_eq!(mixed.warn, lv(Level::Restricted, Version::Minor(29)));
    assert_eq!(mixed.audit, lv(Level::Restricted, Version::Latest));
    assert_eq!(mixed.get(Mode::Audit), mixed.audit);

    let (unlabelled, errors) = namespace_policy(&namespaces[3], &defaults);
    assert!(errors.is_empty() && unlabelled.fully_privileged());

    let (only_version, errors) = namespace_policy(&namespaces[4], &defaults);
    assert!(errors.is_empty());
    assert_eq!(only_version.enforce, privileged);
    assert_eq!(
        only_version.audit,
        lv(Level::Privileged, Version::Minor(99))
    );
    assert_eq!(only_version.warn, privileged);
}

#[test]
fn invalid_labels_fail_closed_for_enforce_and_open_for_the_rest() {
    let namespaces = fixture("namespaces.yaml");
    let (policy, errors) = namespace_policy(&namespaces[2], &Policy::default());
    assert_eq!(policy.enforce, lv(Level::Restricted, Version::Latest));
    assert_eq!(policy.audit, lv(Level::Privileged, Version::Latest));
    assert_eq!(
        policy.warn,
        lv(Level::Privileged, Version::Latest),
        "an invalid enforce level does not raise warn"
    );
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            r#"metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "Restricted": must be one of privileged, baseline, restricted"#,
            r#"metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "1.30": must be "latest" or "v1.x""#,
            r#"metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "strict": must be one of privileged, baseline, restricted"#,
            r#"metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "loud": must be one of privileged, baseline, restricted"#,
            r#"metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "v1.05": must be "latest" or "v1.x""#,
        ]
    );
}

#[test]
fn admission_configuration_defaults_and_exemptions() {
    let config = parse_config(&fixture("admission-config.yaml")[0]).expect("valid config");
    assert_eq!(
        config.defaults.enforce,
        lv(Level::Baseline, Version::Minor(29))
    );
    assert_eq!(config.defaults.warn, lv(Level::Restricted, Version::Latest));
    assert_eq!(
        config.defaults.audit,
        lv(Level::Privileged, Version::Latest)
    );
    assert_eq!(config.exemptions.namespaces, ["kube-system", "monitoring"]);
    assert!(config.exempt_namespace("monitoring"));
    assert!(!config.exempt_namespace("shop"));
    assert!(config.exempt_username("system:serviceaccount:ci:deployer"));
    assert!(!config.exempt_username(""));
    assert!(config.exempt_runtime_class(Some("kata")));
    assert!(!config.exempt_runtime_class(None));

    let pod = |namespace: &str, runtime_class: &str| {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "p", "namespace": namespace},
               "spec": {"runtimeClassName": runtime_class, "containers": []}})
    };
    assert_eq!(
        config.exemption(&pod("kube-system", "")),
        Some(Exemption::Namespace("kube-system".into()))
    );
    assert_eq!(
        config.exemption(&pod("shop", "kata")),
        Some(Exemption::RuntimeClass("kata".into()))
    );
    assert_eq!(config.exemption(&pod("shop", "runc")), None);

    // Labels are applied over the configured defaults.
    let namespaces = fixture("namespaces.yaml");
    let (strict, _) = config.namespace_policy(&namespaces[0]);
    assert_eq!(strict.enforce, lv(Level::Restricted, Version::Minor(30)));
    assert_eq!(
        strict.warn,
        lv(Level::Restricted, Version::Latest),
        "warn is not raised when it is already as strict"
    );
    let (unlabelled, _) = config.namespace_policy(&namespaces[3]);
    assert_eq!(unlabelled, config.defaults);
}

#[test]
fn plugin_configuration_in_another_file() {
    let err = parse_config(&fixture("admission-config-path.yaml")[0]).expect_err("external");
    assert_eq!(err, ConfigError::ExternalPath("podsecurity.yaml".into()));
}

#[test]
fn invalid_configuration_reports_every_field() {
    let err = parse_config(&fixture("podsecurity-invalid.yaml")[0]).expect_err("invalid");
    let ConfigError::Invalid(errors) = err else {
        panic!("expected validation errors, got {err:?}");
    };
    let fields: Vec<(&str, FieldErrorKind)> =
        errors.iter().map(|e| (e.field.as_str(), e.kind)).collect();
    assert_eq!(
        fields,
        [
            ("defaults.enforce", FieldErrorKind::Invalid),
            ("defaults.audit-version", FieldErrorKind::Invalid),
            ("exemptions.namespaces[1]", FieldErrorKind::Invalid),
            ("exemptions.namespaces[2]", FieldErrorKind::Duplicate),
            ("exemptions.runtimeClasses[1]", FieldErrorKind::Invalid),
            ("exemptions.usernames[1]", FieldErrorKind::Invalid),
        ]
    );
    assert_eq!(
        errors[0].to_string(),
        r#"defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted"#
    );
    assert_eq!(
        errors[3].to_string(),
        r#"exemptions.namespaces[2]: Duplicate value: "kube-system""#
    );
}

#[test]
fn configuration_decoding() {
    let bare = json!({"apiVersion": "pod-security.admission.config.k8s.io/v1alpha1",
                      "kind": "PodSecurityConfiguration", "defaults": {"enforce": "baseline"}});
    let config = parse_config(&bare).expect("valid");
    assert_eq!(
        config.defaults.enforce,
        lv(Level::Baseline, Version::Latest)
    );
    assert_eq!(config.defaults.warn, lv(Level::Privileged, Version::Latest));

    let no_plugin = json!({"apiVersion": "apiserver.config.k8s.io/v1", "kind": "AdmissionConfiguration",
                           "plugins": [{"name": "EventRateLimit", "path": "erl.yaml"}]});
    assert_eq!(parse_config(&no_plugin), Ok(Default::default()));

    let decode_errors = [
        json!({"kind": "PodSecurityConfiguration"}),
        json!({"apiVersion": "pod-security.admission.config.k8s.io/v1"}),
        json!({"apiVersion": "apps/v1alpha1", "kind": "PodSecurityConfiguration"}),
        json!({"apiVersion": "pod-security.admission.config.k8s.io/v99", "kind": "PodSecurityConfiguration"}),
        json!({"apiVersion": "pod-security.admission.config.k8s.io/v1", "kind": "SomeConfiguration"}),
        json!({"apiVersion": "pod-security.admission.config.k8s.io/v1", "kind": "PodSecurityConfiguration",
               "deflaults": {"enforce": "baseline"}}),
        json!({"apiVersion": "pod-security.admission.config.k8s.io/v1", "kind": "PodSecurityConfiguration",
               "defaults": {"enforce": "baseline", "enforce-versoin": "v1.30"}}),
        json!({"apiVersion": "pod-security.admission.config.k8s.io/v1", "kind": "PodSecurityConfiguration",
               "exemptions": {"namespaces": "kube-system"}}),
        json!({"apiVersion": "apiserver.config.k8s.io/v9", "kind": "AdmissionConfiguration"}),
    ];
    let messages: Vec<String> = decode_errors
        .iter()
        .map(|v| match parse_config(v) {
            Err(ConfigError::Decode(message)) => message,
            other => panic!("{v}: expected a decode error, got {other:?}"),
        })
        .collect();
    assert_eq!(messages[0], "Object 'apiVersion' is missing");
    assert_eq!(messages[1], "Object 'Kind' is missing");
    assert!(messages[3].contains("pod-security.admission.config.k8s.io/v99"));
    assert!(messages[4].contains("SomeConfiguration"));
    assert_eq!(messages[5], r#"unknown field "deflaults""#);
    assert_eq!(messages[6], r#"unknown field "defaults.enforce-versoin""#);
}

#[test]
fn each_namespace_is_judged_by_its_least_strict_labelled_core_v1_definition() {
    let input = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {pod-security.kubernetes.io/enforce: baseline, pod-security.kubernetes.io/warn: bogus}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: baseline, pod-security.kubernetes.io/audit: restricted}}
---
apiVersion: v1
kind: Namespace
metadata: {name: plain}
---
apiVersion: example.com/v1
kind: Namespace
metadata: {name: custom, labels: {pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: v1
kind: Namespace
metadata: {labels: {pod-security.kubernetes.io/enforce: restricted}}
"#;
    let loaded = load_str(input, "namespaces.yaml", &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let defaults = Policy {
        enforce: lv(Level::Restricted, Version::Latest),
        ..Policy::default()
    };
    let policies = namespace_policies(&loaded.objects, &defaults);
    let names: Vec<&str> = policies.keys().copied().collect();
    // Another group's Namespace kind and a nameless Namespace define no namespace.
    assert_eq!(names, ["plain", "shop"]);

    let shop = &policies["shop"];
    // The first of the two baseline definitions: the unlabelled one does not count.
    assert!(std::ptr::eq(shop.namespace, &loaded.objects[2]));
    assert_eq!(shop.policy.enforce, lv(Level::Baseline, Version::Latest));
    assert_eq!(shop.errors.len(), 1, "{:?}", shop.errors);
    assert!(shop.labelled);
    assert_eq!(shop.labelled_definitions, 3);
    assert!(shop.conflicting);

    let plain = &policies["plain"];
    assert!(!plain.labelled);
    assert_eq!(plain.policy, defaults);
    assert_eq!(plain.labelled_definitions, 0);
    assert!(!plain.conflicting);
}
