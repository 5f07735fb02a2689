//! The API server's validation of the fields fixes touch, and the kubelet's check that stops a
//! non-root container from starting as root: what a patched object must still pass.
//!
//! Modelled on `k8s.io/kubernetes/pkg/apis/core/validation` (security contexts, resources,
//! enum values, seccomp and AppArmor annotations against their fields) for every pod spec a
//! workload holds.

use palisade_core::pointer::{self, At};
use palisade_core::views::{pod_spec, ContainerKind, ContainerView, PodSpecView};
use serde_json::Value;

use super::quantity::Quantity;

/// One reason the API server (or the kubelet) would refuse the object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Violation {
    /// JSON Pointer of the field.
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", readable(&self.pointer), self.message)
    }
}

/// `/spec/containers/0/image` as `spec.containers[0].image`.
fn readable(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer::tokens(pointer) {
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

const PULL_POLICIES: &[&str] = &["Always", "Never", "IfNotPresent"];
const PROC_MOUNTS: &[&str] = &["Default", "Unmasked"];
const PROFILE_TYPES: &[&str] = &["RuntimeDefault", "Unconfined", "Localhost"];
/// Fields a pod that runs on Windows (`spec.os.name: windows`) may not set.
const LINUX_ONLY: &[&str] = &[
    "allowPrivilegeEscalation",
    "appArmorProfile",
    "capabilities",
    "privileged",
    "procMount",
    "readOnlyRootFilesystem",
    "runAsUser",
    "runAsGroup",
    "seccompProfile",
    "seLinuxOptions",
];

/// Every violation of the object, in a stable order.
pub fn violations(object: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    if let Some(spec) = pod_spec(object) {
        pod(&spec, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn push(out: &mut Vec<Violation>, pointer: String, message: impl Into<String>) {
    out.push(Violation {
        pointer,
        message: message.into(),
    });
}

fn pod(spec: &PodSpecView<'_>, out: &mut Vec<Violation>) {
    let windows = spec.spec.at("/os/name").and_then(Value::as_str) == Some("windows");
    let flag = |field: &str| spec.spec.get(field) == Some(&Value::Bool(true));
    if flag("shareProcessNamespace") && flag("hostPID") {
        push(
            out,
            spec.field("shareProcessNamespace"),
            "ShareProcessNamespace and HostPID cannot both be enabled",
        );
    }
    let pod_context = spec.spec.get("securityContext").filter(|v| v.is_object());
    if let Some(context) = pod_context {
        let at = spec.field("securityContext");
        profile(context, &at, "seccompProfile", out);
        profile(context, &at, "appArmorProfile", out);
        ids(context, &at, out);
        if windows {
            for field in [
                "seccompProfile",
                "appArmorProfile",
                "runAsUser",
                "runAsGroup",
            ] {
                if context.get(field).is_some_and(|v| !v.is_null()) {
                    push(
                        out,
                        pointer::push(&at, field),
                        "forbidden when spec.os.name is windows",
                    );
                }
            }
        }
    }
    seccomp_annotation(
        spec,
        "seccomp.security.alpha.kubernetes.io/pod",
        &spec.field("securityContext/seccompProfile/type"),
        out,
    );
    let host_network = flag("hostNetwork");
    for container in spec.containers() {
        self::container(spec, &container, windows, host_network, out);
    }
}

fn container(
    spec: &PodSpecView<'_>,
    container: &ContainerView<'_>,
    windows: bool,
    host_network: bool,
    out: &mut Vec<Violation>,
) {
    let c = container.container;
    if let Some(policy) = c.get("imagePullPolicy").filter(|v| !v.is_null()) {
        if !policy.as_str().is_some_and(|p| PULL_POLICIES.contains(&p)) {
            push(
                out,
                container.field("imagePullPolicy"),
                format!("Unsupported value: {policy}: supported values: \"Always\", \"IfNotPresent\", \"Never\""),
            );
        }
    }
    resources(container, out);
    if host_network {
        for (i, port) in c
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let host = port.get("hostPort").and_then(Value::as_i64);
            let own = port.get("containerPort").and_then(Value::as_i64);
            if host.is_some_and(|h| Some(h) != own) {
                push(
                    out,
                    container.field(&format!("ports/{i}/hostPort")),
                    "must match `containerPort` when `hostNetwork` is true",
                );
            }
        }
    }
    seccomp_annotation(
        spec,
        &format!(
            "container.seccomp.security.alpha.kubernetes.io/{}",
            container.name()
        ),
        &container.field("securityContext/seccompProfile/type"),
        out,
    );
    apparmor_annotation(spec, container, out);
    let Some(context) = c.get("securityContext").filter(|v| v.is_object()) else {
        return;
    };
    let at = container.field("securityContext");
    profile(context, &at, "seccompProfile", out);
    profile(context, &at, "appArmorProfile", out);
    ids(context, &at, out);
    if let Some(mount) = context.get("procMount").filter(|v| !v.is_null()) {
        if !mount.as_str().is_some_and(|m| PROC_MOUNTS.contains(&m)) {
            push(
                out,
                pointer::push(&at, "procMount"),
                format!("Unsupported value: {mount}: supported values: \"Default\", \"Unmasked\""),
            );
        }
    }
    if context.get("allowPrivilegeEscalation") == Some(&Value::Bool(false)) {
        if context.get("privileged") == Some(&Value::Bool(true)) {
            push(
                out,
                at.clone(),
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            );
        }
        let adds = context
            .at("/capabilities/add")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        if adds.filter_map(Value::as_str).any(|c| c == "CAP_SYS_ADMIN") {
            push(
                out,
                at.clone(),
                "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
            );
        }
    }
    if windows {
        for field in LINUX_ONLY {
            if context.get(*field).is_some_and(|v| !v.is_null()) {
                push(
                    out,
                    pointer::push(&at, field),
                    "forbidden when spec.os.name is windows",
                );
            }
        }
    }
    // The kubelet refuses to start a container that must not run as root but is told to.
    let effective = |field: &str| {
        context
            .get(field)
            .filter(|v| !v.is_null())
            .or_else(|| spec.spec.at(&format!("/securityContext/{field}")))
    };
    if effective("runAsNonRoot") == Some(&Value::Bool(true))
        && effective("runAsUser").and_then(Value::as_u64) == Some(0)
    {
        push(
            out,
            pointer::push(&at, "runAsNonRoot"),
            "runAsNonRoot is true but runAsUser is 0: the container would not start",
        );
    }
}

/// `runAsUser` and `runAsGroup` are IDs from 0 to 2^31 - 1.
fn ids(context: &Value, at: &str, out: &mut Vec<Violation>) {
    for field in ["runAsUser", "runAsGroup"] {
        if let Some(id) = context.get(field).filter(|v| !v.is_null()) {
            if !id
                .as_i64()
                .is_some_and(|n| (0..=i64::from(i32::MAX)).contains(&n))
            {
                push(
                    out,
                    pointer::push(at, field),
                    "must be between 0 and 2147483647, inclusive",
                );
            }
        }
    }
}

/// A seccomp or AppArmor profile: a known type, with `localhostProfile` exactly for `Localhost`.
fn profile(context: &Value, at: &str, field: &str, out: &mut Vec<Violation>) {
    let Some(profile) = context.get(field).filter(|v| !v.is_null()) else {
        return;
    };
    let at = pointer::push(at, field);
    let kind = profile.get("type").and_then(Value::as_str);
    match kind {
        Some(kind) if PROFILE_TYPES.contains(&kind) => {}
        _ => {
            push(
                out,
                pointer::push(&at, "type"),
                "Unsupported value: supported values: \"Localhost\", \"RuntimeDefault\", \"Unconfined\"",
            );
            return;
        }
    }
    let local = profile
        .get("localhostProfile")
        .is_some_and(|v| !v.is_null());
    if kind == Some("Localhost") && !local {
        push(
            out,
            pointer::push(&at, "localhostProfile"),
            "must be set when the type is Localhost",
        );
    } else if kind != Some("Localhost") && local {
        push(
            out,
            pointer::push(&at, "localhostProfile"),
            "can only be set when the type is Localhost",
        );
    }
}

/// The profile type a seccomp annotation names.
fn seccomp_type(annotation: &str) -> &'static str {
    match annotation {
        "runtime/default" | "docker/default" => "RuntimeDefault",
        "unconfined" => "Unconfined",
        a if a.starts_with("localhost/") => "Localhost",
        _ => "",
    }
}

/// A seccomp annotation and the field it stands for must agree when both are set.
fn seccomp_annotation(spec: &PodSpecView<'_>, key: &str, field: &str, out: &mut Vec<Violation>) {
    let Some(annotation) = spec.annotation(key) else {
        return;
    };
    let Some(kind) = spec_value(spec, field).and_then(Value::as_str) else {
        return;
    };
    if seccomp_type(annotation) != kind {
        push(
            out,
            field.to_owned(),
            format!("the seccomp type in annotation {key} ({annotation}) and field must match"),
        );
    }
}

/// The container's AppArmor annotation must agree with the profile that applies to it (its
/// own, else the pod's).
fn apparmor_annotation(
    spec: &PodSpecView<'_>,
    container: &ContainerView<'_>,
    out: &mut Vec<Violation>,
) {
    let key = format!(
        "container.apparmor.security.beta.kubernetes.io/{}",
        container.name()
    );
    let Some(annotation) = spec.annotation(&key) else {
        return;
    };
    let own = container.field("securityContext/appArmorProfile/type");
    let pod = spec.field("securityContext/appArmorProfile/type");
    let Some((kind, at)) = [own, pod]
        .into_iter()
        .find_map(|at| Some((spec_value(spec, &at)?.as_str()?, at)))
    else {
        return;
    };
    let named = match annotation {
        "runtime/default" => "RuntimeDefault",
        "unconfined" => "Unconfined",
        a if a.starts_with("localhost/") => "Localhost",
        _ => "",
    };
    if named != kind {
        push(
            out,
            at,
            format!("the AppArmor type in annotation {key} ({annotation}) and field must match"),
        );
    }
}

/// The value at an object pointer that lies inside the pod spec.
fn spec_value<'a>(spec: &PodSpecView<'a>, object_pointer: &str) -> Option<&'a Value> {
    spec.spec.at(object_pointer.strip_prefix(spec.pointer)?)
}

/// Requests and limits are valid quantities, and no request exceeds its limit.
fn resources(container: &ContainerView<'_>, out: &mut Vec<Violation>) {
    let Some(resources) = container.container.get("resources") else {
        return;
    };
    if container.kind == ContainerKind::Ephemeral {
        return;
    }
    let section = |name: &str| resources.get(name).and_then(Value::as_object);
    for name in ["requests", "limits"] {
        for (resource, value) in section(name).into_iter().flatten() {
            if !value.is_null() && Quantity::parse(value).is_none() {
                push(
                    out,
                    container.field(&format!("resources/{name}/{}", pointer::escape(resource))),
                    format!("Invalid value: {value}: must be a valid, non-negative quantity"),
                );
            }
        }
    }
    let (Some(requests), Some(limits)) = (section("requests"), section("limits")) else {
        return;
    };
    for (resource, request) in requests {
        let Some(limit) = limits.get(resource) else {
            continue;
        };
        let (Some(r), Some(l)) = (Quantity::parse(request), Quantity::parse(limit)) else {
            continue;
        };
        if r > l {
            push(
                out,
                container.field(&format!(
                    "resources/requests/{}",
                    pointer::escape(resource)
                )),
                format!(
                    "Invalid value: {request}: must be less than or equal to {resource} limit of {limit}"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    }

    fn messages(object: &Value) -> Vec<String> {
        violations(object).iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn privilege_escalation_off_with_privileged_or_sys_admin_is_refused() {
        let object = pod(json!({"containers": [
            {"name": "a", "securityContext": {"privileged": true, "allowPrivilegeEscalation": false}},
            {"name": "b", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"add": ["CAP_SYS_ADMIN"]}}},
            {"name": "c", "securityContext": {"privileged": false, "allowPrivilegeEscalation": false}},
        ]}));
        assert_eq!(
            messages(&object),
            [
                "spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
                "spec.containers[1].securityContext: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
            ]
        );
    }

    #[test]
    fn requests_above_limits_and_bad_quantities_are_refused() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "a", "resources": {"requests": {"memory": "800Mi", "cpu": "100m"}, "limits": {"memory": "512Mi", "cpu": 1}}},
            {"name": "b", "resources": {"requests": {"memory": "128Mi"}, "limits": {"memory": "32Mi", "cpu": "lots"}}},
            {"name": "c", "resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1024Mi"}}},
        ]}}}});
        assert_eq!(
            messages(&object),
            [
                "spec.template.spec.containers[0].resources.requests.memory: Invalid value: \"800Mi\": must be less than or equal to memory limit of \"512Mi\"",
                "spec.template.spec.containers[1].resources.limits.cpu: Invalid value: \"lots\": must be a valid, non-negative quantity",
                "spec.template.spec.containers[1].resources.requests.memory: Invalid value: \"128Mi\": must be less than or equal to memory limit of \"32Mi\"",
            ]
        );
    }

    #[test]
    fn enum_values_and_profiles_are_checked() {
        let object = pod(json!({
        "securityContext": {"seccompProfile": {"type": "Localhost"}},
        "containers": [{"name": "a", "imagePullPolicy": "Sometimes", "securityContext": {
            "procMount": "Masked",
            "appArmorProfile": {"type": "RuntimeDefault", "localhostProfile": "x"}
        }}]}));
        assert_eq!(
            messages(&object),
            [
                "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                "spec.containers[0].securityContext.appArmorProfile.localhostProfile: can only be set when the type is Localhost",
                "spec.containers[0].securityContext.procMount: Unsupported value: \"Masked\": supported values: \"Default\", \"Unmasked\"",
                "spec.securityContext.seccompProfile.localhostProfile: must be set when the type is Localhost",
            ]
        );
    }

    #[test]
    fn annotations_must_agree_with_fields() {
        let mut object = pod(json!({"containers": [{"name": "a", "securityContext": {
            "appArmorProfile": {"type": "RuntimeDefault"},
            "seccompProfile": {"type": "RuntimeDefault"}
        }}]}));
        object["metadata"]["annotations"] = json!({
            "container.apparmor.security.beta.kubernetes.io/a": "unconfined",
            "container.seccomp.security.alpha.kubernetes.io/a": "runtime/default",
        });
        assert_eq!(
            messages(&object),
            ["spec.containers[0].securityContext.appArmorProfile.type: the AppArmor type in annotation container.apparmor.security.beta.kubernetes.io/a (unconfined) and field must match"]
        );
    }

    #[test]
    fn non_root_with_user_zero_and_host_ports_under_host_network() {
        let object = pod(json!({
            "hostNetwork": true,
            "securityContext": {"runAsUser": 0},
            "containers": [{"name": "a", "securityContext": {"runAsNonRoot": true},
                "ports": [{"containerPort": 80, "hostPort": 80}, {"containerPort": 81, "hostPort": 8081}]}]}));
        assert_eq!(
            messages(&object),
            [
                "spec.containers[0].ports[1].hostPort: must match `containerPort` when `hostNetwork` is true",
                "spec.containers[0].securityContext.runAsNonRoot: runAsNonRoot is true but runAsUser is 0: the container would not start",
            ]
        );
    }

    #[test]
    fn a_valid_hardened_pod_has_no_violation() {
        let object = pod(json!({
            "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "a", "imagePullPolicy": "Always",
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "0.5", "memory": "64Mi"}},
                "securityContext": {"allowPrivilegeEscalation": false, "privileged": false, "readOnlyRootFilesystem": true,
                    "capabilities": {"drop": ["ALL"]}, "procMount": "Default"}}]}));
        assert_eq!(messages(&object), Vec::<String>::new());
    }
}
