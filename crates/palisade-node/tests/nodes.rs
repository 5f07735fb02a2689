//! The audit of realistic node folders (`tests/nodes/<node>/`): a kubeadm control plane with
//! its defaults, a hardened one, a misconfigured one and a worker. Each folder is copied to a
//! temporary folder where the modes of `modes.txt` are set (git does not keep them) and where
//! `/etc/passwd` and `/etc/group` name the test's own user `root` (or `kube` on the
//! misconfigured node), so that owners are the same whoever runs the tests. `expected.txt`
//! holds the outcome of every check on the node; `PALISADE_UPDATE_EXPECTED=1` rewrites it.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use palisade_node::{audit, Options, Outcome, Section, Test, CHECKS};

fn nodes() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/nodes")
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of a node folder with its modes and owners set.
fn prepare(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy(&nodes().join(name), root);
    let modes = std::fs::read_to_string(root.join("modes.txt")).unwrap();
    let uid = std::fs::metadata(root).unwrap().uid();
    let gid = std::fs::metadata(root).unwrap().gid();
    for line in modes.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split(' ');
        let (path, mode) = (fields.next().unwrap(), fields.next().unwrap());
        let mode = u32::from_str_radix(mode, 8).unwrap();
        std::fs::set_permissions(root.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
        // A third field names the owner (`etcd`): only root can give a file away.
        if fields.next() == Some("etcd") {
            std::os::unix::fs::chown(root.join(path), Some(ETCD), Some(ETCD))
                .expect("the node tests run as root, to give files to etcd");
        }
    }
    let user = if name == "misconfigured" {
        "kube"
    } else {
        "root"
    };
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        format!("{user}:x:{uid}:{gid}::/root:/bin/sh\netcd:x:{ETCD}:{ETCD}::/var/lib/etcd:/sbin/nologin\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("etc/group"),
        format!("{user}:x:{gid}:\netcd:x:{ETCD}:\n"),
    )
    .unwrap();
    dir
}

/// The uid and gid of the `etcd` user on the test nodes.
const ETCD: u32 = 64_990;

fn options(root: &Path) -> Options {
    Options {
        processes: false,
        ..Options::new(root)
    }
}

fn outcomes(name: &str) -> String {
    let dir = prepare(name);
    let result = audit(&options(dir.path()));
    let mut out = String::new();
    for r in &result.results {
        out.push_str(&format!("{} {}", r.id, r.outcome.as_str()));
        let failing: Vec<String> = r
            .observations
            .iter()
            .filter(|o| !o.ok)
            .map(|o| {
                let file = o
                    .location
                    .file
                    .strip_prefix(&*dir.path().to_string_lossy())
                    .unwrap_or(&o.location.file)
                    .to_owned();
                format!("{file}:{}", o.location.pos.line)
            })
            .collect();
        if !failing.is_empty() && r.outcome != Outcome::Pass {
            out.push_str(&format!(" at {}", failing.join(" ")));
        }
        if let Some(u) = &r.unchecked {
            let reason = u.reason.replace(&*dir.path().to_string_lossy(), "");
            out.push_str(&format!(" ({reason})"));
        }
        out.push('\n');
    }
    out
}

fn check_node(name: &str) {
    let actual = outcomes(name);
    let path = nodes().join(name).join("expected.txt");
    if std::env::var_os("PALISADE_UPDATE_EXPECTED").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    let diff: Vec<String> = expected
        .lines()
        .zip(actual.lines())
        .filter(|(e, a)| e != a)
        .map(|(e, a)| format!("expected {e}\n     got {a}"))
        .collect();
    assert!(
        diff.is_empty() && expected.lines().count() == actual.lines().count(),
        "{name}:\n{}",
        diff.join("\n")
    );
}

#[test]
fn kubeadm_defaults() {
    if !palisade_testdata::can_give_files_away("kubeadm_defaults") {
        return;
    }
    check_node("kubeadm-default");
}

#[test]
fn hardened_control_plane() {
    if !palisade_testdata::can_give_files_away("hardened_control_plane") {
        return;
    }
    check_node("hardened");
    let dir = prepare("hardened");
    let result = audit(&options(dir.path()));
    for section in [Section::Master, Section::Etcd, Section::Node] {
        assert_eq!(result.counts(section).fail, 0, "{section:?}");
    }
    // The files the API server names are decoded for the per-object rules.
    let kinds: Vec<&str> = result.objects.iter().map(|o| o.kind()).collect();
    assert_eq!(kinds, ["EncryptionConfiguration", "Policy"]);
    let audit = result.audit.as_ref().unwrap();
    let (at, problem) = audit.policy.as_ref().unwrap();
    assert_eq!((at.pos.line, problem), (23, &None));
    assert!(audit.log_path.is_some() && audit.webhook.is_none());
}

#[test]
fn an_audit_policy_that_cannot_be_read_is_said_so() {
    if !palisade_testdata::can_give_files_away("an_audit_policy_that_cannot_be_read_is_said_so") {
        return;
    }
    let dir = prepare("hardened");
    std::fs::remove_file(dir.path().join("etc/kubernetes/audit/policy.yaml")).unwrap();
    let result = audit(&options(dir.path()));
    let settings = result.audit.as_ref().unwrap();
    let problem = settings.policy.as_ref().unwrap().1.as_ref().unwrap();
    assert!(problem.contains("cannot be read"), "{problem}");
    // The benchmark only asks for the flag.
    assert_eq!(result.result("3.2.1").unwrap().outcome, Outcome::Pass);
}

#[test]
fn misconfigured_control_plane() {
    if !palisade_testdata::can_give_files_away("misconfigured_control_plane") {
        return;
    }
    check_node("misconfigured");
    let dir = prepare("misconfigured");
    let result = audit(&options(dir.path()));
    // The API server takes the last of a flag given twice: --profiling=false, then =true.
    let profiling = result.result("1.2.15").unwrap();
    assert_eq!(profiling.outcome, Outcome::Fail);
    assert_eq!(profiling.observations[0].location.pos.line, 30);
    // The kubelet's flag overrides its configuration file.
    let audit_settings = result.audit.as_ref().unwrap();
    assert!(audit_settings.policy.is_none() && audit_settings.log_path.is_none());
    let anonymous = result.result("4.2.1").unwrap();
    assert!(anonymous.observations[0]
        .location
        .file
        .ends_with("kubeadm-flags.env"));
}

#[test]
fn worker_node() {
    if !palisade_testdata::can_give_files_away("worker_node") {
        return;
    }
    check_node("worker");
    let dir = prepare("worker");
    let result = audit(&options(dir.path()));
    let master = result.counts(Section::Master);
    assert_eq!((master.pass, master.fail, master.warn), (0, 0, 0));
    assert!(result.counts(Section::Node).pass > 0);
}

#[test]
fn bad_input_gives_warnings_not_crashes() {
    if !palisade_testdata::can_give_files_away("bad_input_gives_warnings_not_crashes") {
        return;
    }
    let dir = prepare("kubeadm-default");
    let root = dir.path();
    // A malformed manifest, a symlink loop and an unreadable configuration.
    std::fs::write(
        root.join("etc/kubernetes/manifests/kube-scheduler.yaml"),
        "apiVersion: v1\nkind: Pod\nspec: [unclosed\n",
    )
    .unwrap();
    std::fs::remove_file(root.join("etc/kubernetes/admin.conf")).unwrap();
    std::fs::remove_file(root.join("etc/kubernetes/super-admin.conf")).unwrap();
    std::os::unix::fs::symlink("loop-b", root.join("etc/kubernetes/loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", root.join("etc/kubernetes/loop-b")).unwrap();
    std::fs::remove_file(root.join("etc/kubernetes/admin.conf")).ok();
    std::os::unix::fs::symlink("loop-a", root.join("etc/kubernetes/admin.conf")).unwrap();
    std::fs::remove_file(root.join("var/lib/kubelet/config.yaml")).unwrap();
    std::fs::create_dir(root.join("var/lib/kubelet/config.yaml")).unwrap();
    let result = audit(&options(root));
    let scheduler = result.result("1.4.1").unwrap();
    assert_eq!(scheduler.outcome, Outcome::Warn);
    let reason = &scheduler.unchecked.as_ref().unwrap().reason;
    assert!(reason.contains("cannot read the manifest"), "{reason}");
    assert!(!result.errors.is_empty());
    let admin = result.result("1.1.13").unwrap();
    assert_eq!(admin.outcome, Outcome::Warn);
    assert!(
        admin
            .unchecked
            .as_ref()
            .unwrap()
            .reason
            .contains("symbolic links"),
        "{admin:?}"
    );
    let kubelet = result.result("4.2.1").unwrap();
    assert_eq!(kubelet.outcome, Outcome::Warn, "{kubelet:?}");
    // The other checks still ran.
    assert_eq!(result.result("1.2.6").unwrap().outcome, Outcome::Pass);
    assert_eq!(result.result("2.1").unwrap().outcome, Outcome::Pass);
}

#[test]
fn an_empty_root_is_not_a_node() {
    let dir = tempfile::tempdir().unwrap();
    let result = audit(&options(dir.path()));
    assert!(result.results.iter().all(|r| r.outcome == Outcome::Info));
}

/// Every automated check of kube-bench's `cfg/cis-1.12` (sections 1 to 4) is in the table,
/// tested rather than manual; the manual ones are manual here too.
#[test]
fn every_automated_kube_bench_check_is_implemented() {
    let Some(dir) = palisade_testdata::shared(
        "conformance/kube-bench",
        "every_automated_kube_bench_check_is_implemented",
    ) else {
        return;
    };
    // The files are read line by line: one of them continues a quoted scalar at an indentation
    // the YAML loader refuses. A check is `      - id:` at six spaces, then its fields.
    let mut checks: Vec<(String, bool, bool)> = Vec::new();
    for file in ["master.yaml", "etcd.yaml", "controlplane.yaml", "node.yaml"] {
        let text = std::fs::read_to_string(dir.join("cfg/cis-1.12").join(file)).unwrap();
        for line in text.lines() {
            if let Some(id) = line.strip_prefix("      - id: ") {
                checks.push((id.trim().to_owned(), false, false));
            } else if let Some(last) = checks.last_mut() {
                let field = line.trim();
                if field.starts_with("type:") && field.contains("manual") {
                    last.1 = true;
                } else if field == "scored: true" {
                    last.2 = true;
                }
            }
        }
    }
    for (id, manual, scored) in &checks {
        let ours = CHECKS
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{id} is not in the table"));
        assert_eq!(matches!(ours.test, Test::Manual), *manual, "{id}");
        assert_eq!(ours.scored, *scored, "{id}");
    }
    let automated = checks.iter().filter(|c| !c.1).count();
    assert_eq!(automated, 92);
    assert_eq!(checks.len(), CHECKS.len());
}

/// On a live node the running processes' command lines count: the kubelet's overrides its
/// systemd unit, and a component without a manifest is found by its process.
#[test]
fn processes_of_a_live_node() {
    if !palisade_testdata::can_give_files_away("processes_of_a_live_node") {
        return;
    }
    let dir = prepare("worker");
    let root = dir.path();
    let proc_dir = root.join("proc/4242");
    std::fs::create_dir_all(root.join("proc/self")).unwrap();
    std::fs::create_dir_all(&proc_dir).unwrap();
    let argv = [
        "/usr/bin/kubelet",
        "--config=/var/lib/kubelet/config.yaml",
        "--kubeconfig=/etc/kubernetes/kubelet.conf",
        "--read-only-port",
        "10255",
    ];
    std::fs::write(proc_dir.join("cmdline"), argv.join("\0") + "\0").unwrap();
    let proxy = root.join("proc/4343");
    std::fs::create_dir_all(&proxy).unwrap();
    std::fs::write(
        proxy.join("cmdline"),
        "/usr/local/bin/kube-proxy\0--metrics-bind-address=0.0.0.0:10249\0",
    )
    .unwrap();
    // Not a process: no digits.
    std::fs::write(root.join("proc/self/cmdline"), "kube-apiserver\0").unwrap();
    let options = Options::new(root);
    assert!(options.processes);
    let result = audit(&options);
    let port = result.result("4.2.4").unwrap();
    assert_eq!(port.outcome, Outcome::Warn);
    let at = &port.observations[0].location;
    assert!(at.file.ends_with("/proc/4242/cmdline"), "{at:?}");
    // The column of `--read-only-port` in the command line joined by spaces.
    assert_eq!(
        at.pos.col,
        1 + argv[..3].iter().map(|a| a.len() + 1).sum::<usize>() as u32
    );
    assert_eq!(result.result("4.3.1").unwrap().outcome, Outcome::Fail);
    assert_eq!(result.counts(Section::Master).info, 60);
}

/// Symlinks in a copy of a node's files mean the node's paths: an absolute target is read under
/// the root, never on the machine that runs the audit; links that loop are a WARN.
#[test]
fn symlinks_resolve_inside_the_root() {
    if !palisade_testdata::can_give_files_away("symlinks_resolve_inside_the_root") {
        return;
    }
    let dir = prepare("worker");
    let root = dir.path();
    std::fs::create_dir_all(root.join("srv")).unwrap();
    std::fs::rename(
        root.join("etc/kubernetes/kubelet.conf"),
        root.join("srv/kubelet.conf"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "/srv/kubelet.conf",
        root.join("etc/kubernetes/kubelet.conf"),
    )
    .unwrap();
    // The CA: an absolute loop, which the machine running the audit would resolve elsewhere.
    std::fs::remove_file(root.join("etc/kubernetes/pki/ca.crt")).unwrap();
    std::os::unix::fs::symlink(
        "/etc/kubernetes/pki/ca.crt",
        root.join("etc/kubernetes/pki/ca.crt"),
    )
    .unwrap();
    let result = audit(&options(root));
    let kubeconfig = result.result("4.1.5").unwrap();
    assert_eq!(kubeconfig.outcome, Outcome::Pass, "{kubeconfig:?}");
    let ca = result.result("4.1.7").unwrap();
    assert_eq!(ca.outcome, Outcome::Warn);
    let reason = &ca.unchecked.as_ref().unwrap().reason;
    assert!(reason.contains("symbolic links"), "{reason}");
}

/// The CNI configuration the runtime loads (the first in name order) and whether its plugins
/// enforce NetworkPolicy.
#[test]
fn cni_configuration_in_use() {
    if !palisade_testdata::can_give_files_away("cni_configuration_in_use") {
        return;
    }
    let dir = prepare("hardened");
    let root = dir.path();
    let calico = audit(&options(root)).cni.unwrap();
    assert_eq!(calico.types, ["calico"]);
    assert_eq!(calico.network_policy, Some(true));
    // A flannel configuration first in name order is the one in use.
    std::fs::write(
        root.join("etc/cni/net.d/05-flannel.conflist"),
        "{\n  \"name\": \"cbr0\",\n  \"cniVersion\": \"0.3.1\",\n  \"plugins\": [\n    {\n      \"type\": \"flannel\",\n      \"delegate\": {\"hairpinMode\": true, \"isDefaultGateway\": true}\n    },\n    {\"type\": \"portmap\", \"capabilities\": {\"portMappings\": true}}\n  ]\n}\n",
    )
    .unwrap();
    let flannel = audit(&options(root)).cni.unwrap();
    assert_eq!(flannel.types, ["flannel", "portmap"]);
    assert_eq!(flannel.network_policy, Some(false));
    assert_eq!(flannel.location.pos.line, 6);
    // An unknown plugin: no verdict.
    std::fs::write(
        root.join("etc/cni/net.d/01-aws.conflist"),
        "{\"cniVersion\": \"0.4.0\", \"name\": \"aws-cni\", \"plugins\": [{\"type\": \"aws-cni\"}]}",
    )
    .unwrap();
    assert_eq!(audit(&options(root)).cni.unwrap().network_policy, None);
    // A malformed file is skipped for the next one.
    std::fs::write(root.join("etc/cni/net.d/00-broken.conf"), "{ not json").unwrap();
    assert_eq!(audit(&options(root)).cni.unwrap().types, ["aws-cni"]);
}
