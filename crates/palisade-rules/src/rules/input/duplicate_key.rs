use palisade_core::pointer::{tokens, At};
use palisade_core::rule::{Framework, Reference, Severity};
use palisade_core::Object;
use serde_json::Value;

use crate::{declare_rule, Emit, ObjectCx, ObjectRule, RequestObject};

declare_rule! {
    /// Keys that appear twice in one mapping.
    pub struct DuplicateKey;
    checks: Object,
    id: "YAML001",
    slug: "duplicate-key",
    title: "Mapping has a duplicate key",
    severity: Severity::High,
    category: "input",
    kinds: &["*"],
    summary: "A key appears twice in the same YAML mapping. High when the key decides what the \
object may do, low otherwise (a duplicated `resources.requests`, label or ConfigMap entry is a \
correctness issue). A key decides what the object may do when it, or a key in the value that \
wins, is a security field: `securityContext` and everything below it, `privileged`, \
`allowPrivilegeEscalation`, `capabilities`, `procMount`, `seccompProfile`, `appArmorProfile`, \
`seLinuxOptions`, `runAsUser`, `runAsGroup`, `runAsNonRoot`, `readOnlyRootFilesystem`, \
`sysctls`, `hostNetwork`, `hostPID`, `hostIPC`, `hostUsers`, `hostPath`, `hostPort`, \
`shareProcessNamespace`, `image`, `command`, `args`, `serviceAccountName`, `serviceAccount`, \
`automountServiceAccountToken`, `volumes`, `volumeMounts`, `namespace`, `externalIPs`, \
`loadBalancerSourceRanges`, `tls` (as field names: the keys under `data`, `stringData` and \
`binaryData` are names the user chose); an annotation with a security meaning \
(`container.apparmor.security.beta.kubernetes.io/…`, `seccomp.security.alpha.kubernetes.io/…`, \
`palisade.dev/…`) or a `pod-security.kubernetes.io/…` label; or any key of an object whose whole \
content is access control (RBAC roles and bindings, NetworkPolicies, admin network policies, \
Istio authorization and authentication policies, admission webhook and policy configurations). \
A duplicated mapping whose winning value holds such a field (a second `spec`, `containers` or \
`annotations`) is high too: what runs is not what a reviewer reads in the first one.",
    rationale: "Kubernetes keeps the last value and drops the first without an error, so what a \
reviewer reads is not what the cluster runs: a `privileged: false` early in a block can be \
overridden by a `privileged: true` further down. Duplicate keys also hide merge mistakes.",
    remediation: "Delete one of the two keys, keeping the value you mean. palisade reports the \
other rules against the value that wins (the last one), as the API server applies it.",
    references: &[Reference::url(
        Framework::Docs,
        "Strict field validation",
        "https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation",
    )],
    fix: None,
}

/// Field names that decide what a workload may do on its node or in the cluster, wherever they
/// appear.
const SECURITY_FIELDS: &[&str] = &[
    "securityContext",
    "privileged",
    "allowPrivilegeEscalation",
    "capabilities",
    "procMount",
    "seccompProfile",
    "appArmorProfile",
    "seLinuxOptions",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "readOnlyRootFilesystem",
    "sysctls",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "hostUsers",
    "hostPath",
    "hostPort",
    "shareProcessNamespace",
    "image",
    "command",
    "args",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "volumes",
    "volumeMounts",
    "namespace",
    "externalIPs",
    "loadBalancerSourceRanges",
    "tls",
];

/// Prefixes of annotation and label keys with a security meaning.
const SECURITY_KEY_PREFIXES: &[&str] = &[
    "container.apparmor.security.beta.kubernetes.io/",
    "seccomp.security.alpha.kubernetes.io/",
    "palisade.dev/",
    "pod-security.kubernetes.io/",
];

/// Kinds whose whole content is access control: every key of them is a security field.
const ACCESS_CONTROL_KINDS: &[&str] = &[
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "NetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "AuthorizationPolicy",
    "PeerAuthentication",
    "RequestAuthentication",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
];

/// Whether `key`, a key of a mapping under `parent`, is a security key: a security field, or
/// an annotation or label with a security meaning. The keys of `data`, `stringData` and
/// `binaryData` are names the user chose, never fields.
fn security_key(parent: Option<&str>, key: &str) -> bool {
    match parent {
        Some("annotations" | "labels") => SECURITY_KEY_PREFIXES.iter().any(|p| key.starts_with(p)),
        Some("data" | "stringData" | "binaryData") => false,
        _ => SECURITY_FIELDS.contains(&key),
    }
}

/// Whether a value, the value of key `parent`, holds a security key at any depth.
fn holds_security_key(parent: Option<&str>, value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(key, v)| security_key(parent, key) || holds_security_key(Some(key), v)),
        Value::Array(items) => items.iter().any(|v| holds_security_key(None, v)),
        _ => false,
    }
}

/// Whether the duplicated key at `pointer` decides what the object may do: it or a key above it
/// is a security key, or the value that wins holds one, or the object is access control.
fn security_relevant(object: &Object, pointer: &str) -> bool {
    let path: Vec<_> = tokens(pointer).collect();
    ACCESS_CONTROL_KINDS.contains(&object.kind())
        || path.iter().enumerate().any(|(i, key)| {
            let parent = i.checked_sub(1).map(|p| path[p].as_ref());
            security_key(parent, key)
        })
        || object
            .value
            .at(pointer)
            .is_some_and(|value| holds_security_key(path.last().map(AsRef::as_ref), value))
}

impl ObjectRule for DuplicateKey {
    /// An object decoded from JSON has no duplicate keys.
    fn may_report_request_object(&self, _object: &RequestObject<'_>) -> bool {
        false
    }

    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        for dup in &cx.object.duplicate_keys {
            let security = security_relevant(cx.object, &dup.pointer);
            let emit = Emit::new(
                dup.pointer.clone(),
                format!(
                    "key \"{}\" appears again here (first at line {}); Kubernetes keeps only this last value{}",
                    dup.key,
                    dup.first.line,
                    if security {
                        ", which decides what the object may do"
                    } else {
                        ""
                    }
                ),
            );
            out.push(if security {
                emit
            } else {
                emit.with_severity(Severity::Low)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use palisade_core::rule::Severity;
    use palisade_core::{load_str, Limits};

    use crate::Engine;

    fn severities(text: &str) -> Vec<(String, Severity)> {
        let loaded = load_str(text, "dup.yaml", &Limits::default());
        let engine = Engine::new(&crate::Config::default(), &["YAML001".to_owned()], &[])
            .expect("YAML001 exists");
        loaded
            .objects
            .iter()
            .flat_map(|o| engine.check_object(o))
            .map(|f| (f.pointer, f.severity))
            .collect()
    }

    #[test]
    fn a_duplicate_is_high_when_it_decides_what_the_object_may_do() {
        let found = severities(
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
  labels: {app: api}
spec:
  template:
    metadata:
      annotations: {team: a}
      annotations:
        container.apparmor.security.beta.kubernetes.io/web: unconfined
    spec:
      containers:
      - name: web
        image: web:1.0
        image: web:2.0
        resources:
          requests: {cpu: 100m}
          requests: {cpu: 200m}
        securityContext:
          privileged: false
          privileged: true
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data:
  image: a
  image: b
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  name: writer
rules: []
",
        );
        let pod = "/spec/template";
        assert_eq!(
            found,
            [
                ("/metadata/labels".to_owned(), Severity::Low),
                (format!("{pod}/metadata/annotations"), Severity::High),
                (format!("{pod}/spec/containers/0/image"), Severity::High),
                (
                    format!("{pod}/spec/containers/0/resources/requests"),
                    Severity::Low
                ),
                (
                    format!("{pod}/spec/containers/0/securityContext/privileged"),
                    Severity::High
                ),
                ("/data/image".to_owned(), Severity::Low),
                ("/metadata/name".to_owned(), Severity::High),
            ]
        );
    }
}
