//! Exact admission messages and pointers for hand-written pods.

use palisade_core::{load_str, Limits};
use palisade_pss::{
    evaluate, forbidden_detail, forbidden_message, warning_message, Evaluation, Level, Version,
};
use serde_json::Value;

fn object(yaml: &str) -> Value {
    let loaded = load_str(yaml, "test.yaml", &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects.into_iter().next().expect("one object").value
}

fn eval(yaml: &str, level: Level, version: Version) -> Evaluation {
    evaluate(&object(yaml), level, version).expect("a pod")
}

fn message(yaml: &str, level: Level, version: Version) -> String {
    forbidden_message(level, version, &eval(yaml, level, version))
}

const BAD_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: bad
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: unconfined
    container.apparmor.security.beta.kubernetes.io/ghost: localhost/x
spec:
  hostNetwork: true
  hostPID: true
  volumes:
  - name: root
    hostPath: {path: /}
  - name: data
    nfs: {server: s, path: /}
  - name: plain
  - name: cm
    configMap: {name: c}
  securityContext:
    sysctls:
    - {name: kernel.msgmax, value: "1"}
    - {name: net.ipv4.tcp_syncookies, value: "1"}
  initContainers:
  - name: init
    image: busybox
    securityContext:
      privileged: true
      capabilities: {add: [NET_RAW, CHOWN, SYS_ADMIN]}
  containers:
  - name: app
    image: nginx
    ports:
    - containerPort: 80
    - containerPort: 443
      hostPort: 8443
    securityContext:
      runAsUser: 0
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
"#;

#[test]
fn baseline_message_lists_every_failure_in_order() {
    let got = message(BAD_POD, Level::Baseline, Version::Minor(30));
    let want = concat!(
        r#"violates PodSecurity "baseline:v1.30": "#,
        r#"forbidden AppArmor profile (annotation must not set AppArmor profile type to "#,
        r#""container.apparmor.security.beta.kubernetes.io/app="unconfined""), "#,
        r#"non-default capabilities (container "init" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add), "#,
        r#"host namespaces (hostNetwork=true, hostPID=true), "#,
        r#"hostPath volumes (volume "root"), "#,
        r#"hostPort (container "app" uses hostPorts 80, 8443), "#,
        r#"privileged (container "init" must not set securityContext.privileged=true), "#,
        r#"forbidden sysctls (kernel.msgmax)"#,
    );
    assert_eq!(got, want);
}

#[test]
fn restricted_message_replaces_overridden_checks() {
    let got = message(BAD_POD, Level::Restricted, Version::Latest);
    let want = concat!(
        r#"violates PodSecurity "restricted:latest": "#,
        r#"forbidden AppArmor profile (annotation must not set AppArmor profile type to "#,
        r#""container.apparmor.security.beta.kubernetes.io/app="unconfined""), "#,
        r#"host namespaces (hostNetwork=true, hostPID=true), "#,
        r#"hostPort (container "app" uses hostPorts 80, 8443), "#,
        r#"privileged (container "init" must not set securityContext.privileged=true), "#,
        r#"forbidden sysctls (kernel.msgmax), "#,
        r#"allowPrivilegeEscalation != false (container "init" must set securityContext.allowPrivilegeEscalation=false), "#,
        r#"unrestricted capabilities (container "init" must set securityContext.capabilities.drop=["ALL"]; "#,
        r#"container "init" must not include "CHOWN", "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add), "#,
        r#"restricted volume types (volumes "root", "data" use restricted volume types "hostPath", "nfs"), "#,
        r#"runAsNonRoot != true (pod or containers "init", "app" must set securityContext.runAsNonRoot=true), "#,
        r#"runAsUser=0 (container "app" must not set runAsUser=0), "#,
        r#"seccompProfile (pod or containers "init", "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#,
    );
    assert_eq!(got, want);
}

#[test]
fn pointers_name_the_offending_fields() {
    let evaluation = eval(BAD_POD, Level::Restricted, Version::Latest);
    let pointers = |check: &str| {
        evaluation
            .violations
            .iter()
            .find(|v| v.check.as_str() == check)
            .map(|v| v.pointers.clone())
            .unwrap_or_else(|| panic!("no {check} violation"))
    };
    assert_eq!(
        pointers("appArmorProfile"),
        ["/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app"]
    );
    assert_eq!(
        pointers("hostNamespaces"),
        ["/spec/hostNetwork", "/spec/hostPID"]
    );
    assert_eq!(
        pointers("hostPorts"),
        [
            "/spec/containers/0/ports/0/containerPort",
            "/spec/containers/0/ports/1/hostPort"
        ]
    );
    assert_eq!(
        pointers("sysctls"),
        ["/spec/securityContext/sysctls/0/name"]
    );
    assert_eq!(
        pointers("allowPrivilegeEscalation"),
        ["/spec/initContainers/0/securityContext"]
    );
    assert_eq!(
        pointers("capabilities_restricted"),
        [
            "/spec/initContainers/0/securityContext/capabilities",
            "/spec/initContainers/0/securityContext/capabilities/add/0",
            "/spec/initContainers/0/securityContext/capabilities/add/1",
            "/spec/initContainers/0/securityContext/capabilities/add/2",
        ]
    );
    assert_eq!(
        pointers("restrictedVolumes"),
        ["/spec/volumes/0/hostPath", "/spec/volumes/1/nfs"]
    );
    assert_eq!(
        pointers("runAsNonRoot"),
        [
            "/spec/initContainers/0/securityContext",
            "/spec/containers/0/securityContext"
        ]
    );
    assert_eq!(
        pointers("runAsUser"),
        ["/spec/containers/0/securityContext/runAsUser"]
    );
    assert_eq!(
        pointers("seccompProfile_restricted"),
        [
            "/spec/initContainers/0/securityContext",
            "/spec/containers/0/securityContext"
        ]
    );
}

#[test]
fn privileged_level_and_clean_pods_are_allowed() {
    let evaluation = eval(BAD_POD, Level::Privileged, Version::Latest);
    assert!(evaluation.allowed && evaluation.violations.is_empty());
    let clean = r#"
apiVersion: v1
kind: Pod
metadata: {name: ok}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: nginx
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#;
    for level in Level::ALL {
        let evaluation = eval(clean, level, Version::Latest);
        assert!(evaluation.allowed, "{level}: {:?}", evaluation.violations);
        assert_eq!(forbidden_detail(&evaluation), "");
    }
}

#[test]
fn explicit_bad_values_win_over_missing_ones() {
    let pod = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  securityContext:
    runAsNonRoot: false
    seccompProfile: {type: Unconfined}
    seLinuxOptions: {type: spc_t, user: root}
    windowsOptions: {hostProcess: true}
    appArmorProfile: {type: Unconfined}
  containers:
  - name: a
    image: x
    securityContext:
      runAsNonRoot: false
      seccompProfile: {}
      seLinuxOptions: {type: unconfined_t, role: r}
      appArmorProfile: {type: Localhost, localhostProfile: p}
      procMount: Unmasked
  - name: b
    image: x
    securityContext:
      appArmorProfile: {}
      windowsOptions: {hostProcess: true}
"#;
    let got = message(pod, Level::Restricted, Version::Minor(34));
    let want = concat!(
        r#"violates PodSecurity "restricted:v1.34": "#,
        r#"forbidden AppArmor profiles (pod and container "b" must not set AppArmor profile type to "", "Unconfined"), "#,
        r#"procMount (container "a" must not set securityContext.procMount to "Unmasked"), "#,
        r#"seLinuxOptions (pod and container "a" set forbidden securityContext.seLinuxOptions: types "spc_t", "unconfined_t"; user may not be set; role may not be set), "#,
        r#"hostProcess (pod and container "b" must not set securityContext.windowsOptions.hostProcess=true), "#,
        r#"allowPrivilegeEscalation != false (containers "a", "b" must set securityContext.allowPrivilegeEscalation=false), "#,
        r#"unrestricted capabilities (containers "a", "b" must set securityContext.capabilities.drop=["ALL"]), "#,
        r#"runAsNonRoot != true (pod and container "a" must not set securityContext.runAsNonRoot=false), "#,
        r#"seccompProfile (pod and container "a" must not set securityContext.seccompProfile.type to "", "Unconfined")"#,
    );
    assert_eq!(got, want);
}

#[test]
fn seccomp_annotations_before_v1_19() {
    let pod = r#"
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: unconfined
    container.seccomp.security.alpha.kubernetes.io/a: ""
    container.seccomp.security.alpha.kubernetes.io/b: docker/default
    container.seccomp.security.alpha.kubernetes.io/nobody: unconfined
spec:
  securityContext: {seccompProfile: {type: Unconfined}}
  containers:
  - {name: a, image: x}
  - {name: b, image: x}
"#;
    let got = message(pod, Level::Baseline, Version::Minor(18));
    assert_eq!(
        got,
        concat!(
            r#"violates PodSecurity "baseline:v1.18": seccompProfile (forbidden annotations "#,
            r#"container.seccomp.security.alpha.kubernetes.io/a="", "#,
            r#"seccomp.security.alpha.kubernetes.io/pod="unconfined")"#
        )
    );
    let got = message(pod, Level::Baseline, Version::Minor(19));
    assert_eq!(
        got,
        r#"violates PodSecurity "baseline:v1.19": seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")"#
    );
}

#[test]
fn probe_hosts_are_sorted_and_deduplicated() {
    let pod = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: z
    image: x
    livenessProbe: {httpGet: {host: b.example, port: 80}}
    readinessProbe: {tcpSocket: {host: a.example, port: 80}}
    lifecycle: {preStop: {httpGet: {host: b.example, port: 80}}}
  - name: w
    image: x
    startupProbe: {httpGet: {host: "", port: 80}}
    lifecycle: {postStart: {tcpSocket: {host: "::1", port: 80}}}
"#;
    let evaluation = eval(pod, Level::Baseline, Version::Minor(34));
    assert_eq!(
        forbidden_detail(&evaluation),
        r#"probe or lifecycle host (containers "w", "z" use probe or lifecycle hosts "::1", "a.example", "b.example")"#
    );
    assert_eq!(
        evaluation.violations[0].pointers,
        [
            "/spec/containers/0/livenessProbe/httpGet/host",
            "/spec/containers/0/readinessProbe/tcpSocket/host",
            "/spec/containers/0/lifecycle/preStop/httpGet/host",
            "/spec/containers/1/lifecycle/postStart/tcpSocket/host",
        ]
    );
    assert!(eval(pod, Level::Baseline, Version::Minor(33)).allowed);
}

#[test]
fn version_exemptions() {
    let windows = r#"
apiVersion: v1
kind: Pod
metadata: {name: w}
spec:
  os: {name: windows}
  securityContext: {runAsNonRoot: true}
  containers: [{name: c, image: x}]
"#;
    assert!(eval(windows, Level::Restricted, Version::Minor(25)).allowed);
    let old = eval(windows, Level::Restricted, Version::Minor(24));
    let checks: Vec<&str> = old.violations.iter().map(|v| v.check.as_str()).collect();
    assert_eq!(
        checks,
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "seccompProfile_restricted"
        ]
    );
    let userns = r#"
apiVersion: v1
kind: Pod
metadata: {name: u}
spec:
  hostUsers: false
  securityContext: {runAsUser: 0, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: c
    image: x
    securityContext:
      procMount: Unmasked
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#;
    assert!(eval(userns, Level::Baseline, Version::Minor(35)).allowed);
    assert_eq!(
        message(userns, Level::Restricted, Version::Minor(35)),
        r#"violates PodSecurity "restricted:v1.35": procMount (container "c" must not set securityContext.procMount to "Unmasked")"#
    );
    assert_eq!(
        forbidden_detail(&eval(userns, Level::Restricted, Version::Minor(34))),
        concat!(
            r#"procMount (container "c" must not set securityContext.procMount to "Unmasked"), "#,
            r#"runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), "#,
            r#"runAsUser=0 (pod must not set runAsUser=0)"#
        )
    );
}

#[test]
fn newer_versions_evaluate_as_the_newest_policy() {
    let pod = r#"
apiVersion: v1
kind: Pod
metadata: {name: s}
spec:
  securityContext:
    sysctls: [{name: net.ipv4.tcp_notsent_lowat, value: "1"}, {name: net.ipv4.tcp_rmem, value: "1"}]
  containers: [{name: c, image: x}]
"#;
    assert_eq!(
        message(pod, Level::Baseline, Version::Minor(31)),
        r#"violates PodSecurity "baseline:v1.31": forbidden sysctls (net.ipv4.tcp_notsent_lowat, net.ipv4.tcp_rmem)"#
    );
    assert!(!eval(pod, Level::Baseline, Version::Minor(36)).allowed);
    assert!(eval(pod, Level::Baseline, Version::Minor(37)).allowed);
    assert!(eval(pod, Level::Baseline, Version::Minor(99)).allowed);
    assert!(eval(pod, Level::Baseline, Version::Latest).allowed);
}

#[test]
fn warning_message_wording() {
    let evaluation = eval(BAD_POD, Level::Baseline, Version::Latest);
    let warning = warning_message(Level::Baseline, Version::Latest, &evaluation);
    assert!(
        warning.starts_with(
            r#"would violate PodSecurity "baseline:latest": forbidden AppArmor profile ("#
        ),
        "{warning}"
    );
}

#[test]
fn other_kinds_are_not_evaluated() {
    for yaml in [
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n",
    ] {
        assert_eq!(
            evaluate(&object(yaml), Level::Restricted, Version::Latest),
            None
        );
    }
    let empty = object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n");
    let evaluation = evaluate(&empty, Level::Restricted, Version::Latest).expect("a workload");
    assert!(evaluation.allowed);
}
