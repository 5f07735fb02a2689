//! The controls Pod Security checks judge, as predicates on a container or a pod spec (JSON
//! values as written). The checks use them, and so do other rules that judge the same control,
//! so that both agree on what violates it.

use serde_json::Value;

/// A member that is present and not null.
pub(crate) fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_null())
}

pub(crate) fn object<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| v.is_object())
}

pub(crate) fn flag(value: &Value, key: &str) -> Option<bool> {
    value.get(key).and_then(Value::as_bool)
}

pub(crate) fn string<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// An integer, also when written as a float without a fraction (`8080.0`).
pub(crate) fn integer(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
            .map(|f| f as i64)
    })
}

fn security_context(container: &Value) -> Option<&Value> {
    object(container, "securityContext")
}

/// Whether the pod spec runs on Windows (`os.name: windows`).
pub fn windows(spec: &Value) -> bool {
    object(spec, "os").and_then(|os| string(os, "name")) == Some("windows")
}

/// Whether the container runs privileged (`securityContext.privileged: true`).
pub fn privileged(container: &Value) -> bool {
    security_context(container).and_then(|sc| flag(sc, "privileged")) == Some(true)
}

/// Whether a container or a pod spec (both hold `securityContext`) runs as a Windows
/// HostProcess container (`securityContext.windowsOptions.hostProcess: true`).
pub fn windows_host_process(holder: &Value) -> bool {
    security_context(holder)
        .and_then(|sc| object(sc, "windowsOptions"))
        .and_then(|w| flag(w, "hostProcess"))
        == Some(true)
}

/// Whether the container may gain privileges: `securityContext.allowPrivilegeEscalation` is
/// not `false` (it defaults to true).
pub fn allows_privilege_escalation(container: &Value) -> bool {
    security_context(container).and_then(|sc| flag(sc, "allowPrivilegeEscalation")) != Some(false)
}

/// The capabilities the baseline policy lets a container add: the container runtimes' default
/// set, without `NET_RAW`.
pub const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Whether the baseline policy allows adding capability `name`, compared as written (the
/// policy does not accept `CAP_CHOWN` or `chown` for `CHOWN`).
pub fn baseline_capability(name: &str) -> bool {
    BASELINE_CAPABILITIES.contains(&name)
}

/// The pod spec fields that share a namespace of the node.
pub const HOST_NAMESPACES: [&str; 3] = ["hostNetwork", "hostPID", "hostIPC"];

/// Whether the pod spec sets `field` (one of [`HOST_NAMESPACES`]) to true.
pub fn host_namespace(spec: &Value, field: &str) -> bool {
    flag(spec, field) == Some(true)
}

/// The port of the node a container port binds (`hostPort`), if it sets a non-zero one.
pub fn host_port(port: &Value) -> Option<i64> {
    port.get("hostPort")
        .and_then(integer)
        .filter(|&host| host != 0)
}

/// The container's `securityContext.procMount` when it is set to anything but `Default` (a
/// value that is not a string counts: it is not `Default`).
pub fn unmasked_proc_mount(container: &Value) -> Option<&Value> {
    security_context(container)
        .and_then(|sc| field(sc, "procMount"))
        .filter(|mount| mount.as_str() != Some("Default"))
}

const SYSCTLS_V1_0: [&str; 5] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];

/// Sysctls added to the allowed set, by the minor version that added them.
const SYSCTLS_ADDED: [(u32, &str); 9] = [
    (27, "net.ipv4.ip_local_reserved_ports"),
    (29, "net.ipv4.tcp_keepalive_time"),
    (29, "net.ipv4.tcp_fin_timeout"),
    (29, "net.ipv4.tcp_keepalive_intvl"),
    (29, "net.ipv4.tcp_keepalive_probes"),
    (32, "net.ipv4.tcp_rmem"),
    (32, "net.ipv4.tcp_wmem"),
    (37, "net.ipv4.tcp_slow_start_after_idle"),
    (37, "net.ipv4.tcp_notsent_lowat"),
];

/// Whether Pod Security allows a sysctl at policy version `v1.<minor>`: the namespaced sysctls
/// the kernel isolates per pod, as the policy has listed them since that version.
pub fn sysctl_allowed(name: &str, minor: u32) -> bool {
    SYSCTLS_V1_0.contains(&name)
        || SYSCTLS_ADDED
            .iter()
            .any(|&(since, allowed)| minor >= since && allowed == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_predicates() {
        let c = |sc: Value| json!({"name": "c", "securityContext": sc});
        assert!(privileged(&c(json!({"privileged": true}))));
        assert!(!privileged(&c(json!({"privileged": "true"}))));
        assert!(!privileged(
            &json!({"securityContext": [{"privileged": true}]})
        ));
        assert!(windows_host_process(&c(
            json!({"windowsOptions": {"hostProcess": true}})
        )));
        assert!(!windows_host_process(&c(
            json!({"windowsOptions": {"hostProcess": "true"}})
        )));
        assert!(!windows_host_process(&c(
            json!({"windowsOptions": {"hostProcess": false}})
        )));
        assert!(!windows_host_process(&c(json!({"hostProcess": true}))));
        assert!(baseline_capability("NET_BIND_SERVICE"));
        assert!(!baseline_capability("NET_RAW"));
        assert!(!baseline_capability("chown"));
        assert!(allows_privilege_escalation(&json!({"name": "c"})));
        assert!(allows_privilege_escalation(&c(
            json!({"allowPrivilegeEscalation": "false"})
        )));
        assert!(!allows_privilege_escalation(&c(
            json!({"allowPrivilegeEscalation": false})
        )));
        assert_eq!(
            unmasked_proc_mount(&c(json!({"procMount": "Default"}))),
            None
        );
        assert_eq!(unmasked_proc_mount(&c(json!({"procMount": null}))), None);
        assert_eq!(
            unmasked_proc_mount(&c(json!({"procMount": "Unmasked"}))),
            Some(&json!("Unmasked"))
        );
        assert_eq!(
            unmasked_proc_mount(&c(json!({"procMount": 1}))),
            Some(&json!(1))
        );
    }

    #[test]
    fn pod_spec_predicates() {
        let spec = json!({"hostPID": true, "hostIPC": "true", "os": {"name": "windows"}});
        assert!(host_namespace(&spec, "hostPID"));
        assert!(!host_namespace(&spec, "hostIPC"));
        assert!(!host_namespace(&spec, "hostNetwork"));
        assert!(windows(&spec));
        assert!(!windows(&json!({"os": "windows"})));
        assert_eq!(host_port(&json!({"hostPort": 8080})), Some(8080));
        assert_eq!(host_port(&json!({"hostPort": 8080.0})), Some(8080));
        assert_eq!(host_port(&json!({"hostPort": 0})), None);
        assert_eq!(host_port(&json!({"hostPort": "8080"})), None);
        assert_eq!(host_port(&json!({"containerPort": 80})), None);
    }
}
