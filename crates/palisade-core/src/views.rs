//! Views shared by every rule: the pod specs inside workload objects and the containers inside
//! them, each with its JSON pointer.

use crate::pointer::At;
use serde_json::Value;

/// A kind whose objects carry a pod spec (in the core, `apps` and `batch` groups, and OpenShift's
/// `DeploymentConfig`), and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkloadKind {
    pub kind: &'static str,
    /// The API group and resource, as RBAC rules name them.
    pub group: &'static str,
    pub resource: &'static str,
    /// Pointer of the pod spec inside the object.
    pub pod_spec: &'static str,
    /// Pointer of the pod's metadata inside the object (labels and annotations of its pods).
    pub pod_metadata: &'static str,
    /// Whether objects of the kind run pods (a `PodTemplate` only describes one).
    pub runs_pods: bool,
    /// Whether an update can change the code the pods run: a pod template that may change after
    /// creation (a Job's cannot, a CronJob's can), or for a Pod its containers' images.
    pub code_mutable: bool,
}

const fn workload(
    kind: &'static str,
    (group, resource): (&'static str, &'static str),
    (pod_spec, pod_metadata): (&'static str, &'static str),
    runs_pods: bool,
    code_mutable: bool,
) -> WorkloadKind {
    WorkloadKind {
        kind,
        group,
        resource,
        pod_spec,
        pod_metadata,
        runs_pods,
        code_mutable,
    }
}

const TEMPLATE: (&str, &str) = ("/spec/template/spec", "/spec/template/metadata");

/// The one table of kinds with a pod spec: every rule, engine and command reads it.
pub const WORKLOADS: &[WorkloadKind] = &[
    workload("Pod", ("", "pods"), ("/spec", "/metadata"), true, true),
    workload("Deployment", ("apps", "deployments"), TEMPLATE, true, true),
    workload("ReplicaSet", ("apps", "replicasets"), TEMPLATE, true, true),
    workload(
        "StatefulSet",
        ("apps", "statefulsets"),
        TEMPLATE,
        true,
        true,
    ),
    workload("DaemonSet", ("apps", "daemonsets"), TEMPLATE, true, true),
    workload("Job", ("batch", "jobs"), TEMPLATE, true, false),
    workload(
        "CronJob",
        ("batch", "cronjobs"),
        (
            "/spec/jobTemplate/spec/template/spec",
            "/spec/jobTemplate/spec/template/metadata",
        ),
        true,
        true,
    ),
    workload(
        "ReplicationController",
        ("", "replicationcontrollers"),
        TEMPLATE,
        true,
        true,
    ),
    // OpenShift's DeploymentConfig runs pods from a template, as a ReplicationController does.
    workload(
        "DeploymentConfig",
        ("apps.openshift.io", "deploymentconfigs"),
        TEMPLATE,
        true,
        true,
    ),
    workload(
        "PodTemplate",
        ("", "podtemplates"),
        ("/template/spec", "/template/metadata"),
        false,
        true,
    ),
];

/// The kinds of [`WORKLOADS`], in its order.
pub const WORKLOAD_KINDS: &[&str] = &kinds::<{ WORKLOADS.len() }>(&[], false);

/// The kinds of [`WORKLOADS`] that run pods.
pub const POD_RUNNING_KINDS: &[&str] = &kinds::<{ WORKLOADS.len() - 1 }>(&[], true);

/// `extra` followed by the kinds of [`WORKLOADS`] (only those that run pods with
/// `running_only`): the kinds a rule reads, as a constant. `N` must be the length of the result.
pub const fn kinds<const N: usize>(
    extra: &[&'static str],
    running_only: bool,
) -> [&'static str; N] {
    let mut out = [""; N];
    let mut n = 0;
    while n < extra.len() {
        out[n] = extra[n];
        n += 1;
    }
    let mut i = 0;
    while i < WORKLOADS.len() {
        if WORKLOADS[i].runs_pods || !running_only {
            out[n] = WORKLOADS[i].kind;
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "N is not the number of kinds");
    out
}

/// The entry of [`WORKLOADS`] for a kind.
pub fn workload_kind(kind: &str) -> Option<&'static WorkloadKind> {
    WORKLOADS.iter().find(|w| w.kind == kind)
}

/// A pod spec inside an object.
#[derive(Debug, Clone, Copy)]
pub struct PodSpecView<'a> {
    /// Pointer of the spec (`/spec`, `/spec/template/spec`, `/spec/jobTemplate/spec/template/spec`,
    /// `/template/spec`).
    pub pointer: &'static str,
    /// Pointer of the pod's metadata (annotations apply here), which may be missing.
    pub metadata_pointer: &'static str,
    pub spec: &'a Value,
    pub metadata: Option<&'a Value>,
}

/// Which list a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

impl ContainerKind {
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// A container of a pod spec.
#[derive(Debug, Clone)]
pub struct ContainerView<'a> {
    pub kind: ContainerKind,
    pub index: usize,
    /// Pointer of the container inside the object.
    pub pointer: String,
    pub container: &'a Value,
}

impl ContainerView<'_> {
    pub fn name(&self) -> &str {
        self.container
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// Pointer of a field of this container.
    pub fn field(&self, path: &str) -> String {
        format!("{}/{}", self.pointer, path.trim_start_matches('/'))
    }
}

/// The pod spec and pod metadata pointers for a kind.
pub fn pod_spec_location(kind: &str) -> Option<(&'static str, &'static str)> {
    workload_kind(kind).map(|w| (w.pod_spec, w.pod_metadata))
}

/// The pod spec of an object, if its kind has one and it is a mapping.
pub fn pod_spec(object: &Value) -> Option<PodSpecView<'_>> {
    let kind = object.get("kind")?.as_str()?;
    let (pointer, metadata_pointer) = pod_spec_location(kind)?;
    let spec = object.at(pointer).filter(|v| v.is_object())?;
    Some(PodSpecView {
        pointer,
        metadata_pointer,
        spec,
        metadata: object.at(metadata_pointer).filter(|v| v.is_object()),
    })
}

impl<'a> PodSpecView<'a> {
    /// Every container (init, regular, ephemeral, in that order) that is a mapping.
    pub fn containers(&self) -> Vec<ContainerView<'a>> {
        let mut out = Vec::new();
        for kind in [
            ContainerKind::Init,
            ContainerKind::Regular,
            ContainerKind::Ephemeral,
        ] {
            if let Some(Value::Array(items)) = self.spec.get(kind.field()) {
                for (index, container) in items.iter().enumerate() {
                    if container.is_object() {
                        out.push(ContainerView {
                            kind,
                            index,
                            pointer: format!("{}/{}/{}", self.pointer, kind.field(), index),
                            container,
                        });
                    }
                }
            }
        }
        out
    }

    /// Pointer of a field of the pod spec.
    pub fn field(&self, path: &str) -> String {
        format!("{}/{}", self.pointer, path.trim_start_matches('/'))
    }

    /// An annotation of the pod template (or pod).
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.metadata?.get("annotations")?.get(key)?.as_str()
    }
}

/// A field whose value does not have the type the Kubernetes API requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    pub pointer: String,
    pub expected: &'static str,
    pub found: &'static str,
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Checks the types of the pod-spec fields that rules read, as the API server's decoder would
/// reject them (`containers: 5`). Null values are allowed: the decoder treats them as unset.
pub fn type_mismatches(object: &Value) -> Vec<TypeMismatch> {
    let mut out = Vec::new();
    let Some(kind) = object.get("kind").and_then(Value::as_str) else {
        return out;
    };
    let Some((spec_pointer, metadata_pointer)) = pod_spec_location(kind) else {
        return out;
    };
    // Check the path from the root to the spec, so `template: 5` is reported too.
    let mut prefix = String::new();
    for token in spec_pointer.split('/').skip(1) {
        prefix.push('/');
        prefix.push_str(token);
        let value = object.at(&prefix);
        expect_type(&mut out, || prefix.clone(), value, "a mapping");
        if !value.is_some_and(Value::is_object) {
            return out;
        }
    }
    expect_type(
        &mut out,
        || metadata_pointer.to_owned(),
        object.at(metadata_pointer),
        "a mapping",
    );
    let spec = object.at(spec_pointer).unwrap_or(&Value::Null);
    expect_type(
        &mut out,
        || format!("{spec_pointer}/securityContext"),
        spec.get("securityContext"),
        "a mapping",
    );
    for field in [
        "volumes",
        "containers",
        "initContainers",
        "ephemeralContainers",
    ] {
        expect_type(
            &mut out,
            || format!("{spec_pointer}/{field}"),
            spec.get(field),
            "a list",
        );
    }
    for field in ["hostNetwork", "hostPID", "hostIPC", "hostUsers"] {
        expect_type(
            &mut out,
            || format!("{spec_pointer}/{field}"),
            spec.get(field),
            "a boolean",
        );
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(Value::Array(items)) = spec.get(list) else {
            continue;
        };
        for (index, container) in items.iter().enumerate() {
            let pointer = || format!("{spec_pointer}/{list}/{index}");
            expect_type(&mut out, pointer, Some(container), "a mapping");
            let Value::Object(c) = container else {
                continue;
            };
            for (field, expected) in [
                ("image", "a string"),
                ("name", "a string"),
                ("securityContext", "a mapping"),
                ("resources", "a mapping"),
            ] {
                expect_type(
                    &mut out,
                    || format!("{}/{field}", pointer()),
                    c.get(field),
                    expected,
                );
            }
            if let Some(Value::Object(sc)) = c.get("securityContext") {
                for field in [
                    "privileged",
                    "allowPrivilegeEscalation",
                    "readOnlyRootFilesystem",
                    "runAsNonRoot",
                ] {
                    expect_type(
                        &mut out,
                        || format!("{}/securityContext/{field}", pointer()),
                        sc.get(field),
                        "a boolean",
                    );
                }
                expect_type(
                    &mut out,
                    || format!("{}/securityContext/capabilities", pointer()),
                    sc.get("capabilities"),
                    "a mapping",
                );
            }
        }
    }
    out
}

/// Records a mismatch when `value` is set and not of the `expected` type (`null` passes); the
/// pointer is written only then.
fn expect_type(
    out: &mut Vec<TypeMismatch>,
    pointer: impl FnOnce() -> String,
    value: Option<&Value>,
    expected: &'static str,
) {
    let Some(value) = value else { return };
    let ok = match expected {
        "a mapping" => value.is_object() || value.is_null(),
        "a list" => value.is_array() || value.is_null(),
        "a string" => value.is_string() || value.is_null(),
        "a boolean" => value.is_boolean() || value.is_null(),
        _ => true,
    };
    if !ok {
        out.push(TypeMismatch {
            pointer: pointer(),
            expected,
            found: type_name(value),
        });
    }
}
