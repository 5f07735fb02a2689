//! The rough edges a new user hits: RBAC resource names as kubectl takes them, duplicate
//! objects, `pss suggest` against the label in force, `netpol eval` with addresses, the same
//! `-f/--format` everywhere and `explain` for a terminal.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

/// Runs `palisade ARGS` in `dir` without colour: exit code, stdout, stderr.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(cargo_bin("palisade"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn files(contents: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in contents {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

const RBAC: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: app}
rules:
  - apiGroups: ['']
    resources: [secrets, pods, pods/log]
    verbs: [get]
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get]
  - apiGroups: [example.com]
    resources: [widgets]
    verbs: [get, frobnicate]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: app}
subjects: [{kind: User, name: alice}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wg]}
  versions: [{name: v1, served: true, storage: true}]
";

#[test]
fn rbac_takes_resource_names_as_kubectl_does() {
    let dir = files(&[("rbac.yaml", RBAC)]);
    for (resource, plural, group) in [
        ("secret", "secrets", ""),
        ("secrets", "secrets", ""),
        ("Secret", "secrets", ""),
        ("po", "pods", ""),
        ("pod", "pods", ""),
        ("deploy", "deployments", "apps"),
        ("Deployment", "deployments", "apps"),
        ("deployment.apps", "deployments", "apps"),
        ("wg", "widgets", "example.com"),
        ("widget", "widgets", "example.com"),
        ("Widget", "widgets", "example.com"),
        ("pods/log", "pods", ""),
    ] {
        let (code, out, err) = run(
            dir.path(),
            &["rbac", "who-can", "get", resource, "rbac.yaml"],
        );
        assert_eq!(code, 0, "{resource}: {err}");
        assert!(out.contains("User alice"), "{resource}: {out}");
        let (code, out, err) = run(
            dir.path(),
            &[
                "rbac",
                "can-i",
                "get",
                resource,
                "--as",
                "alice",
                "-n",
                "app",
                "rbac.yaml",
            ],
        );
        assert_eq!((code, out.as_str()), (0, "yes\n"), "{resource}: {err}");
        let (_, out, _) = run(
            dir.path(),
            &[
                "rbac",
                "who-can",
                "get",
                resource,
                "--format",
                "json",
                "rbac.yaml",
            ],
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["request"]["resource"], plural, "{resource}");
        assert_eq!(v["request"]["group"], group, "{resource}");
    }
    // A custom verb that a rule names is a verb.
    let (code, out, _) = run(
        dir.path(),
        &["rbac", "who-can", "frobnicate", "widgets", "rbac.yaml"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("User alice"), "{out}");
}

#[test]
fn rbac_unknown_resources_and_verbs_are_errors_with_the_nearest_name() {
    let dir = files(&[("rbac.yaml", RBAC)]);
    let cases: [(&[&str], &str); 4] = [
        (
            &["who-can", "get", "secerts"],
            "error: unknown resource \"secerts\": not a built-in resource, nor one of a \
             CustomResourceDefinition or RBAC rule in the input; did you mean \"secrets\"?",
        ),
        (
            &["who-can", "gett", "secrets"],
            "error: unknown verb \"gett\"; did you mean \"get\"?",
        ),
        (
            &["can-i", "lst", "pods", "--as", "alice"],
            "error: unknown verb \"lst\"; did you mean \"list\"?",
        ),
        (
            &["who-can", "get", "gadgets.example.com"],
            "error: unknown resource \"gadgets.example.com\"",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["rbac"];
        all.extend(args);
        all.push("rbac.yaml");
        let (code, out, err) = run(dir.path(), &all);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(out.is_empty(), "no answer: {out}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn rbac_resource_slash_name_is_ambiguous_and_points_to_name() {
    let dir = files(&[("rbac.yaml", RBAC)]);
    let (code, out, err) = run(
        dir.path(),
        &[
            "rbac",
            "who-can",
            "get",
            "configmaps/app-config",
            "rbac.yaml",
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains(
            "error: \"configmaps/app-config\" is ambiguous: configmaps has no subresource \
             \"app-config\", and palisade reads RESOURCE/SUBRESOURCE; for the object named \
             \"app-config\", give `configmaps --name app-config`"
        ),
        "{err}"
    );
    // What it points to works.
    let (code, _, err) = run(
        dir.path(),
        &[
            "rbac",
            "who-can",
            "get",
            "configmaps",
            "--name",
            "app-config",
            "rbac.yaml",
        ],
    );
    assert_eq!(code, 0, "{err}");
}

fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn two_definitions_of_one_object_are_reported_with_both_places() {
    let sa = |automount: bool| {
        format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n\
             automountServiceAccountToken: {automount}\n"
        )
    };
    let dir = files(&[
        ("a.yaml", &sa(false)),
        ("b.yaml", &sa(true)),
        ("c.yaml", &sa(false)),
    ]);
    let (code, out, _) = run(
        dir.path(),
        &["scan", "--no-config", "--select", "YAML002", "."],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "medium[YAML002] ServiceAccount shop/web is defined again here with different \
             content (first at a.yaml:4:3); only one of the two can exist in a cluster\n --> \
             b.yaml:4:3"
        ),
        "{out}"
    );
    // c.yaml is a copy of a.yaml: not reported.
    assert!(out.contains("1 finding (1 medium)"), "{out}");
}

#[test]
fn two_files_defining_the_same_objects_differently_are_reported_once() {
    let objects = |automount: bool| {
        ["web", "api", "db"]
            .map(|name| {
                format!(
                    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  \
                     namespace: shop\nautomountServiceAccountToken: {automount}\n"
                )
            })
            .join("---\n")
    };
    let dir = files(&[
        ("install.yaml", &objects(false)),
        ("ha.yaml", &objects(true)),
    ]);
    let (code, out, _) = run(
        dir.path(),
        &["scan", "--no-config", "--select", "YAML002", "."],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "ServiceAccount shop/web is defined again here with different content (first at \
             ha.yaml:4:3); only one of the two can exist in a cluster; 2 more objects of this \
             file are defined differently in ha.yaml\n --> install.yaml:4:3"
        ),
        "{out}"
    );
    assert!(out.contains("1 finding (1 medium)"), "{out}");
}

/// The two example sets live in their own namespaces: scanning them together (and with the
/// policy examples) loses nothing and reports no duplicate (the README's numbers).
#[test]
fn the_example_sets_do_not_collide() {
    let count = |path: &str| {
        let (_, out, err) = run(&repo_root(), &["scan", "--no-config", "-f", "json", path]);
        let v: Value = serde_json::from_str(&out).expect(&err);
        let findings = v["findings"].as_array().unwrap().clone();
        assert!(findings.iter().all(|f| f["rule"] != "YAML002"), "{path}");
        findings.len()
    };
    let insecure = count("examples/insecure");
    let policies = count("examples/policies");
    assert_eq!(count("examples/hardened"), 0);
    assert_eq!(insecure, 101, "the README says 101");
    assert_eq!(policies, 86, "the README says 86");
    // The example policies also judge the insecure set: 5 more POL001 findings there.
    assert_eq!(
        count("examples/"),
        insecure + policies + 5,
        "the README says 192"
    );
}

const PSS_NAMESPACE: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: v1
kind: Pod
metadata: {name: root, namespace: shop}
spec:
  containers: [{name: app, image: app}]
";

#[test]
fn pss_suggest_warns_when_weaker_than_the_label_in_force() {
    let dir = files(&[("ns.yaml", PSS_NAMESPACE)]);
    let (code, out, err) = run(dir.path(), &["pss", "suggest", "ns.yaml"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(
            "namespace shop: baseline:v1.37 (1 workload), enforces restricted:latest now\n"
        ),
        "{out}"
    );
    assert_eq!(
        err,
        "warning: ns.yaml:6:5: namespace shop: the suggestion baseline:v1.37 is weaker than \
         restricted:latest, which its labels enforce now: applying it would loosen the \
         namespace; fix the workloads that restricted:latest denies instead\n"
    );
    let (_, out, _) = run(dir.path(), &["pss", "suggest", "ns.yaml", "-f", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["weakerThanCurrent"], true);

    // A suggestion as strict as the label says nothing.
    let compliant = PSS_NAMESPACE.replace("restricted", "baseline");
    let dir = files(&[("ns.yaml", &compliant)]);
    let (code, _, err) = run(dir.path(), &["pss", "suggest", "ns.yaml"]);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn pss_version_without_level_uses_the_default_level() {
    let dir = files(&[("ns.yaml", PSS_NAMESPACE)]);
    // The default level is restricted: judged at restricted:v1.24 instead of the labels.
    let (code, out, err) = run(dir.path(), &["pss", "ns.yaml", "--version", "v1.24"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.starts_with(
            "ns.yaml:8: Pod shop/root: denied: violates PodSecurity \"restricted:v1.24\""
        ),
        "{out}"
    );
    // With --default-level, that one.
    let (code, out, err) = run(
        dir.path(),
        &[
            "pss",
            "ns.yaml",
            "--version",
            "v1.24",
            "--default-level",
            "baseline",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("ns.yaml:8: Pod shop/root: allowed (baseline:v1.24)\n"),
        "{out}"
    );
}

/// Two policies select `shop/web` for ingress: one allows the office range on port 80, the
/// other only the pod `other`. Egress goes to one DNS server only.
const NETPOL: &str = r#"apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: "c:1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: shop, labels: {app: other}}
spec: {containers: [{name: c, image: "c:1"}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-office, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/24}}], ports: [{port: 80}]}]
  egress: [{to: [{ipBlock: {cidr: 8.8.8.8/32}}], ports: [{port: 53, protocol: UDP}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-other, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: other}}}]}]
"#;

fn eval(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["netpol", "eval", "np.yaml"];
    all.extend(args);
    run(dir, &all)
}

#[test]
fn netpol_eval_takes_addresses_and_cidrs() {
    let dir = files(&[("np.yaml", NETPOL)]);
    let (code, out, err) = eval(
        dir.path(),
        &[
            "--source",
            "10.0.0.5",
            "--destination",
            "shop/web",
            "--port",
            "80",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // Only the rule that allows it: not the other policy, which allows only other peers.
    assert_eq!(
        out,
        "allowed: 10.0.0.5 => shop/web TCP/80\n\tIngress: NetworkPolicy 'shop/from-office' \
         Ingress rule #1 allows TCP 80\n"
    );
    let (code, out, _) = eval(
        dir.path(),
        &[
            "--source",
            "10.0.0.5",
            "--destination",
            "shop/web",
            "--port",
            "443",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        out.starts_with("denied: 10.0.0.5 => shop/web TCP/443\n"),
        "{out}"
    );

    // A range that the policy allows only in part: denied, with the parts.
    let (code, out, _) = eval(
        dir.path(),
        &[
            "--source",
            "10.0.0.0/16",
            "--destination",
            "shop/web",
            "--port",
            "80",
            "-f",
            "json",
        ],
    );
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(
        v["ranges"],
        serde_json::json!([
            {"range": "10.0.0.0-10.0.0.255", "allowed": true},
            {"range": "10.0.1.0-10.0.255.255", "allowed": false}
        ])
    );

    // An address as the destination, for egress.
    let dns = |ip: &str| {
        eval(
            dir.path(),
            &[
                "--source",
                "shop/web",
                "--destination",
                ip,
                "--port",
                "53",
                "--protocol",
                "UDP",
            ],
        )
    };
    let (code, out, _) = dns("8.8.8.8");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Egress rule #1 allows UDP 53"), "{out}");
    let (code, out, _) = dns("1.1.1.1");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("selects the pod but no rule matches the peer (denied)"),
        "{out}"
    );

    // Errors: two addresses, IPv6.
    let (code, _, err) = eval(
        dir.path(),
        &[
            "--source",
            "1.2.3.4",
            "--destination",
            "10.0.0.0/8",
            "--port",
            "53",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("both addresses: one must be a workload"),
        "{err}"
    );
    let (code, _, err) = eval(
        dir.path(),
        &[
            "--source",
            "fe80::1",
            "--destination",
            "shop/web",
            "--port",
            "80",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("IPv6 addresses are not supported"), "{err}");
}

#[test]
fn netpol_eval_of_an_allowed_connection_lists_no_denial() {
    let dir = files(&[("np.yaml", NETPOL)]);
    let (code, out, err) = eval(
        dir.path(),
        &[
            "--source",
            "shop/other",
            "--destination",
            "shop/web",
            "--port",
            "80",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("denied"), "{out}");
    assert_eq!(
        out,
        "allowed: shop/other => shop/web TCP/80\n\tIngress: NetworkPolicy 'shop/from-other' \
         Ingress rule #1 allows All Connections\n"
    );
}

/// The subcommands listed under `Commands:` in a help text.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_command_with_a_format_takes_dash_f() {
    let dir = tempfile::tempdir().unwrap();
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut with_format = Vec::new();
    while let Some(command) = pending.pop() {
        let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
        args.push("--help");
        let (code, help, err) = run(dir.path(), &args);
        assert_eq!(code, 0, "{command:?}: {err}");
        for sub in subcommands(&help) {
            let mut next = command.clone();
            next.push(sub);
            pending.push(next);
        }
        for line in help.lines().filter(|l| l.contains("--format")) {
            let option = line.trim_start();
            if option.starts_with('-') {
                assert!(
                    option.starts_with("-f, --format <"),
                    "{command:?} has {option:?}: every --format is -f/--format"
                );
                with_format.push(command.join(" "));
            }
        }
    }
    // At least these (commands added later are checked above as well).
    for command in [
        "explain",
        "netpol eval",
        "netpol list",
        "pss",
        "pss suggest",
        "rbac can-i",
        "rbac graph",
        "rbac paths",
        "rbac who-can",
        "rules",
        "scan",
    ] {
        assert!(
            with_format.iter().any(|c| c == command),
            "{command} in {with_format:?}"
        );
    }
    // `text` is a format of every command whose output is text.
    let np = files(&[("np.yaml", NETPOL)]);
    let (code, out, err) = run(np.path(), &["netpol", "list", "np.yaml", "-f", "text"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("shop/other[Pod] => shop/web[Pod] : All Connections"),
        "{out}"
    );
}

#[test]
fn explain_renders_for_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run(dir.path(), &["explain", "POD001"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(
            "POD001 privileged-container: Container runs privileged\n\nseverity: critical\n"
        ),
        "{out}"
    );
    // No markdown syntax, no colour when not on a terminal, lines wrapped.
    for raw in ["`", "**", "](", "\n#", "|---", "```", "\x1b["] {
        assert!(!out.contains(raw), "{raw:?} in {out}");
    }
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    assert!(
        out.contains("\n    securityContext:\n      privileged: false\n"),
        "{out}"
    );
    // The page itself, on request.
    let (_, md, _) = run(dir.path(), &["explain", "POD001", "-f", "markdown"]);
    let page = std::fs::read_to_string(repo_root().join("docs/rules/POD001.md")).unwrap();
    assert_eq!(md, page);

    // On a terminal (through `script`, where it is installed), with colours.
    let script = Path::new("/usr/bin/script");
    if !script.exists() {
        eprintln!(
            "SKIPPED the terminal half of explain_renders_for_a_terminal: no {}",
            script.display()
        );
        return;
    }
    let command = format!("{} explain POD001", cargo_bin("palisade").display());
    let out = Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("COLUMNS", "60")
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("\x1b[1mWhat it finds\x1b[0m"), "{tty}");
    assert!(
        tty.contains("\x1b[36msecurityContext.privileged: true\x1b[0m"),
        "{tty}"
    );
}
