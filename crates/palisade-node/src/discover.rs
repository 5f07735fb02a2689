//! Finding the components of a node under its root, as kube-bench's `cfg/config.yaml` does:
//! the first existing file of each component's candidate paths, the running processes (on a
//! live node), and the files their flags name.

use std::collections::HashMap;
use std::path::PathBuf;

use palisade_core::{decode_first_document, load_path, read_path, LoadError, Object, Pos};

use crate::flags::{self, Flags, UnitFile};
use crate::{Component, Location, Options, Unchecked};

/// Candidate configuration files of each component (kube-bench's `confs`), in its order.
fn confs(component: Component) -> &'static [&'static str] {
    match component {
        Component::Apiserver => &[
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            "/etc/kubernetes/manifests/kube-apiserver.yml",
            "/etc/kubernetes/manifests/kube-apiserver.manifest",
            "/var/snap/kube-apiserver/current/args",
            "/var/snap/microk8s/current/args/kube-apiserver",
            "/etc/kubernetes/manifests/talos-kube-apiserver.yaml",
            "/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml",
        ],
        Component::ControllerManager => &[
            "/etc/kubernetes/manifests/kube-controller-manager.yaml",
            "/etc/kubernetes/manifests/kube-controller-manager.yml",
            "/etc/kubernetes/manifests/kube-controller-manager.manifest",
            "/var/snap/kube-controller-manager/current/args",
            "/var/snap/microk8s/current/args/kube-controller-manager",
            "/etc/kubernetes/manifests/talos-kube-controller-manager.yaml",
            "/var/lib/rancher/rke2/agent/pod-manifests/kube-controller-manager.yaml",
        ],
        Component::Scheduler => &[
            "/etc/kubernetes/manifests/kube-scheduler.yaml",
            "/etc/kubernetes/manifests/kube-scheduler.yml",
            "/etc/kubernetes/manifests/kube-scheduler.manifest",
            "/var/snap/kube-scheduler/current/args",
            "/var/snap/microk8s/current/args/kube-scheduler",
            "/etc/kubernetes/manifests/talos-kube-scheduler.yaml",
            "/var/lib/rancher/rke2/agent/pod-manifests/kube-scheduler.yaml",
        ],
        Component::Etcd => &[
            "/etc/kubernetes/manifests/etcd.yaml",
            "/etc/kubernetes/manifests/etcd.yml",
            "/etc/kubernetes/manifests/etcd.manifest",
            "/var/lib/rancher/rke2/agent/pod-manifests/etcd.yaml",
            "/etc/etcd/etcd.conf",
            "/var/snap/etcd/common/etcd.conf.yml",
            "/var/snap/etcd/common/etcd.conf.yaml",
            "/var/snap/microk8s/current/args/etcd",
            "/usr/lib/systemd/system/etcd.service",
        ],
        Component::Kubelet => &[
            "/var/lib/kubelet/config.yaml",
            "/var/lib/kubelet/config.yml",
            "/etc/kubernetes/kubelet-config.yaml",
            "/etc/kubernetes/kubelet/kubelet-config.json",
            "/etc/kubernetes/kubelet/config.json",
            "/home/kubernetes/kubelet-config.yaml",
            "/home/kubernetes/kubelet-config.yml",
            "/etc/default/kubeletconfig.json",
            "/etc/kubernetes/kubelet.yaml",
        ],
        Component::Proxy => &[
            "/var/lib/kube-proxy/config.conf",
            "/etc/kubernetes/proxy",
            "/var/snap/kube-proxy/current/args",
            "/var/snap/microk8s/current/args/kube-proxy",
        ],
    }
}

const KUBELET_UNITS: &[&str] = &[
    "/lib/systemd/system/kubelet.service",
    "/usr/lib/systemd/system/kubelet.service",
    "/etc/systemd/system/kubelet.service",
];
const KUBELET_DROPINS: &[&str] = &[
    "/usr/lib/systemd/system/kubelet.service.d",
    "/etc/systemd/system/kubelet.service.d",
];
/// kube-bench's `$kubeletsvc` candidates.
const KUBELET_SVC: &[&str] = &[
    "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
    "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
    "/etc/systemd/system/kubelet.service",
    "/lib/systemd/system/kubelet.service",
    "/etc/systemd/system/snap.kubelet.daemon.service",
    "/etc/systemd/system/snap.microk8s.daemon-kubelet.service",
];
const KUBELET_KUBECONFIG: &[&str] = &[
    "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/kubelet-kubeconfig.conf",
    "/var/lib/kubelet/kubeconfig",
    "/etc/kubernetes/kubelet-kubeconfig",
    "/etc/kubernetes/kubelet/kubeconfig",
    "/var/lib/rancher/rke2/agent/kubelet.kubeconfig",
    "/var/lib/rancher/k3s/agent/kubelet.kubeconfig",
];
const KUBELET_CAFILE: &[&str] = &[
    "/etc/kubernetes/pki/ca.crt",
    "/etc/kubernetes/certs/ca.crt",
    "/etc/kubernetes/cert/ca.pem",
    "/var/lib/rancher/rke2/agent/client-ca.crt",
    "/var/lib/rancher/k3s/agent/client-ca.crt",
];
const PROXY_KUBECONFIG: &[&str] = &[
    "/etc/kubernetes/proxy.conf",
    "/etc/kubernetes/kubelet-kubeconfig",
    "/etc/kubernetes/ssl/kubecfg-kube-proxy.yaml",
    "/var/lib/kube-proxy/kubeconfig.conf",
    "/var/lib/rancher/rke2/agent/kubeproxy.kubeconfig",
    "/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig",
];
const SCHEDULER_KUBECONFIG: &[&str] = &[
    "/etc/kubernetes/scheduler.conf",
    "/var/lib/kube-scheduler/kubeconfig",
    "/var/lib/rancher/rke2/server/cred/scheduler.kubeconfig",
];
const CONTROLLER_MANAGER_KUBECONFIG: &[&str] = &[
    "/etc/kubernetes/controller-manager.conf",
    "/var/lib/kube-controller-manager/kubeconfig",
    "/var/lib/rancher/rke2/server/cred/controller.kubeconfig",
];
const ETCD_DATA_DIRS: &[&str] = &[
    "/var/lib/etcd/default.etcd",
    "/var/lib/etcd/data.etcd",
    "/var/lib/rancher/k3s/server/db/etcd",
];
/// How many processes a live node's `/proc` is read for, at most.
const MAX_PROCESSES: usize = 100_000;

/// A file's mode and owner.
#[derive(Debug, Clone)]
pub struct Stat {
    pub mode: u32,
    /// `user:group`, by the node's own `/etc/passwd` and `/etc/group`.
    pub owner: String,
}

/// What was found of one component.
#[derive(Debug, Default)]
pub struct Found {
    /// The node path of its configuration file (a static pod manifest), when one exists.
    pub conf: Option<String>,
    /// Its flags, or why they could not be read.
    pub flags: Option<Result<Flags, Unchecked>>,
    /// Whether the component runs on this node (a configuration file or a process).
    pub present: bool,
}

/// A decoded configuration file (the kubelet's, kube-proxy's).
#[derive(Debug)]
pub struct Config {
    pub object: Object,
    /// The node path.
    pub path: String,
}

/// Everything the checks read, found once.
pub struct Node {
    pub root: PathBuf,
    pub components: HashMap<Component, Found>,
    pub kubelet_config: Option<Result<Config, Unchecked>>,
    pub proxy_config: Option<Result<Config, Unchecked>>,
    /// The `EncryptionConfiguration` of `--encryption-provider-config`: `None` when the flag is
    /// not set.
    pub encryption: Option<Result<Object, Unchecked>>,
    /// The API server's audit settings, when its flags could be read.
    pub audit: Option<crate::AuditSettings>,
    pub objects: Vec<Object>,
    pub errors: Vec<LoadError>,
    pub sources: Vec<(Component, Location)>,
    pub(crate) limits: palisade_core::Limits,
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

impl Node {
    pub fn discover(options: &Options) -> Node {
        let mut node = Node {
            root: options.root.clone(),
            components: HashMap::new(),
            kubelet_config: None,
            proxy_config: None,
            encryption: None,
            audit: None,
            objects: Vec::new(),
            errors: Vec::new(),
            sources: Vec::new(),
            limits: options.limits,
            users: HashMap::new(),
            groups: HashMap::new(),
        };
        node.users = node.names("/etc/passwd");
        node.groups = node.names("/etc/group");
        let processes = if options.processes {
            node.processes()
        } else {
            HashMap::new()
        };
        for component in Component::ALL {
            let found = node.find_component(component, processes.get(&component));
            if let Some(Ok(flags)) = &found.flags {
                node.sources.push((component, flags.anchor.clone()));
            }
            node.components.insert(component, found);
        }
        node.kubelet_config = node.kubelet_config();
        node.proxy_config = node.proxy_config();
        node.encryption = node.named_config("--encryption-provider-config");
        // The audit policy is decoded for the audit policy rules too.
        let policy = node.named_config("--audit-policy-file");
        node.audit = node.flags(Component::Apiserver).map(|flags| {
            let at = |flag: &str| flags.get(flag).map(|f| f.location.clone());
            crate::AuditSettings {
                policy: policy.map(|loaded| {
                    let set = flags
                        .get("--audit-policy-file")
                        .expect("the policy was named");
                    let problem = match loaded {
                        Ok(object) if object.kind() == "Policy" => None,
                        Ok(object) => Some(format!(
                            "--audit-policy-file names {}, which holds a {}, not an audit Policy",
                            object.source.path,
                            object.kind()
                        )),
                        Err(unchecked) => Some(unchecked.reason),
                    };
                    (set.location.clone(), problem)
                }),
                log_path: at("--audit-log-path"),
                webhook: at("--audit-webhook-config-file"),
                anchor: flags.anchor.clone(),
            }
        });
        node
    }

    /// The path under the root of a path on the node.
    /// Symlinks are followed inside the root, as the node would follow them: see
    /// [`Node::resolve`]. A path whose links loop is returned as it is, for the error of reading
    /// it to say so.
    pub fn host(&self, path: &str) -> PathBuf {
        self.resolve(path, true)
            .unwrap_or_else(|_| self.root.join(path.trim_start_matches('/')))
    }

    /// The path under the root of a path on the node, its symlinks followed inside the root: an
    /// absolute target is read under the root, `..` stops at the root (a copy of a node's disk
    /// has links that mean the node's own paths). With `follow_last` false, a symlink as the
    /// last component is not followed. At most 40 links, as Linux.
    pub fn resolve(&self, path: &str, follow_last: bool) -> Result<PathBuf, String> {
        fn parts(path: &str) -> impl Iterator<Item = String> + '_ {
            path.split('/')
                .filter(|c| !c.is_empty())
                .rev()
                .map(str::to_owned)
        }
        let mut pending: Vec<String> = parts(path).collect();
        let mut done: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            let here = self.root.join(done.join("/")).join(&part);
            let link = (follow_last || !pending.is_empty())
                .then(|| std::fs::read_link(&here).ok())
                .flatten();
            match link {
                Some(target) => {
                    links += 1;
                    if links > 40 {
                        return Err(format!("{path}: too many levels of symbolic links"));
                    }
                    let target = target.to_string_lossy().into_owned();
                    if target.starts_with('/') {
                        done.clear();
                    }
                    pending.extend(parts(&target));
                }
                None => done.push(part),
            }
        }
        Ok(self.root.join(done.join("/")))
    }

    /// How reports name a path on the node: the path read.
    pub fn display(&self, path: &str) -> String {
        let relative = path.trim_start_matches('/');
        if relative.is_empty() {
            return self.root.display().to_string();
        }
        self.root.join(relative).display().to_string()
    }

    /// Whether a path exists on the node (a dangling symlink or a loop counts: reading it says
    /// why it cannot be read).
    pub fn exists(&self, path: &str) -> bool {
        match self.resolve(path, false) {
            Ok(at) => std::fs::symlink_metadata(at).is_ok(),
            Err(_) => true,
        }
    }

    fn first_existing(&self, candidates: &[&str]) -> Option<String> {
        candidates
            .iter()
            .find(|p| self.exists(p))
            .map(|p| (*p).to_owned())
    }

    /// The mode and owner of a file (following symlinks).
    pub fn stat(&self, path: &str) -> Result<Stat, String> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(self.resolve(path, true)?).map_err(|e| e.to_string())?;
        let user = self
            .users
            .get(&meta.uid())
            .cloned()
            .unwrap_or_else(|| default_name(meta.uid()));
        let group = self
            .groups
            .get(&meta.gid())
            .cloned()
            .unwrap_or_else(|| default_name(meta.gid()));
        Ok(Stat {
            mode: meta.mode() & 0o7777,
            owner: format!("{user}:{group}"),
        })
    }

    /// The files under a folder of the node (the folder first), at most `limit` deep levels,
    /// never following symlinks to folders.
    pub fn walk(&self, dir: &str) -> Result<Vec<String>, String> {
        let mut out = vec![dir.trim_end_matches('/').to_owned()];
        let mut pending = vec![dir.trim_end_matches('/').to_owned()];
        std::fs::read_dir(self.host(dir)).map_err(|e| e.to_string())?;
        while let Some(current) = pending.pop() {
            let listed = self.host(&current);
            let Ok(entries) = std::fs::read_dir(&listed) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                let path = format!("{current}/{name}");
                // A symlink to a folder is listed, never followed: no loop, no escape.
                let is_dir =
                    std::fs::symlink_metadata(listed.join(&name)).is_ok_and(|m| m.is_dir());
                if is_dir && out.len() < 100_000 {
                    pending.push(path.clone());
                }
                out.push(path);
                if out.len() >= 100_000 {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// `uid → name` of a passwd or group file of the node.
    fn names(&self, path: &str) -> HashMap<u32, String> {
        let Ok(bytes) = read_path(&self.host(path), path, &self.limits) else {
            return HashMap::new();
        };
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                let id = fields.nth(1)?.parse().ok()?;
                Some((id, name.to_owned()))
            })
            .collect()
    }

    /// The command lines of the node's processes that run a component.
    fn processes(&self) -> HashMap<Component, (String, Vec<String>)> {
        let mut out = HashMap::new();
        let Ok(entries) = std::fs::read_dir(self.host("/proc")) else {
            return out;
        };
        for entry in entries.flatten().take(MAX_PROCESSES) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let path = format!("/proc/{name}/cmdline");
            let Ok(bytes) = read_path(&self.host(&path), &path, &self.limits) else {
                continue;
            };
            let argv: Vec<String> = bytes
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let Some(program) = argv.first() else {
                continue;
            };
            let program = program.rsplit('/').next().unwrap_or(program);
            // `hyperkube kubelet` runs the component named by its first argument.
            let binary = if program == "hyperkube" {
                argv.get(1).map(String::as_str).unwrap_or("")
            } else {
                program
            };
            if let Some(component) = Component::ALL.into_iter().find(|c| {
                c.binary() == binary || (binary == "apiserver" && *c == Component::Apiserver)
            }) {
                out.entry(component).or_insert((self.display(&path), argv));
            }
        }
        out
    }

    fn find_component(
        &mut self,
        component: Component,
        process: Option<&(String, Vec<String>)>,
    ) -> Found {
        let mut found = Found::default();
        if component == Component::Kubelet {
            return self.find_kubelet(process);
        }
        if let Some(conf) = self.first_existing(confs(component)) {
            found.present = true;
            found.flags = Some(self.conf_flags(component, &conf));
            found.conf = Some(conf);
        }
        if let Some((file, argv)) = process {
            found.present = true;
            if !matches!(found.flags, Some(Ok(_))) {
                found.flags = Some(Ok(flags::from_cmdline(argv, file)));
            }
        }
        found
    }

    /// The flags of a component's configuration file: a static pod manifest, or an arguments
    /// or environment file.
    fn conf_flags(&mut self, component: Component, conf: &str) -> Result<Flags, Unchecked> {
        let display = self.display(conf);
        let manifest = [".yaml", ".yml", ".manifest"]
            .iter()
            .any(|ext| conf.ends_with(ext))
            && !conf.contains("etcd.conf");
        if manifest {
            let loaded = load_path(&self.host(conf), &display, &self.limits);
            let object = loaded.objects.into_iter().find(|o| o.kind() == "Pod");
            let first_error = loaded.errors.first().cloned();
            self.errors.extend(loaded.errors);
            return match (object, first_error) {
                (Some(object), _) => {
                    flags::from_manifest(&object, component.binary()).ok_or_else(|| Unchecked {
                        location: Location::new(&display, Pos::new(1, 1)),
                        reason: "the static pod manifest has no containers".to_owned(),
                    })
                }
                (None, Some(error)) => Err(Unchecked {
                    location: Location::new(&display, error.pos),
                    reason: format!("cannot read the manifest: {}", error.message),
                }),
                (None, None) => Err(Unchecked {
                    location: Location::new(&display, Pos::new(1, 1)),
                    reason: "the file holds no Pod".to_owned(),
                }),
            };
        }
        match read_path(&self.host(conf), &display, &self.limits) {
            Ok(bytes) => Ok(flags::from_args_file(
                &String::from_utf8_lossy(&bytes),
                &display,
            )),
            Err(error) => Err(Unchecked {
                location: Location::file(&display),
                reason: error.message,
            }),
        }
    }

    fn find_kubelet(&mut self, process: Option<&(String, Vec<String>)>) -> Found {
        let mut found = Found::default();
        if let Some((file, argv)) = process {
            found.present = true;
            found.flags = Some(Ok(flags::from_cmdline(argv, file)));
            return found;
        }
        let mut units = Vec::new();
        for path in KUBELET_UNITS {
            if let Some(unit) = self.read_unit(path) {
                units.push(unit);
            }
        }
        for dir in KUBELET_DROPINS {
            let Ok(entries) = std::fs::read_dir(self.host(dir)) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".conf"))
                .collect();
            names.sort();
            for name in names {
                if let Some(unit) = self.read_unit(&format!("{dir}/{name}")) {
                    units.push(unit);
                }
            }
        }
        if !units.is_empty() {
            found.present = true;
            let flags = flags::from_systemd(&units, |path| self.read_unit(path));
            found.flags = Some(flags.ok_or_else(|| Unchecked {
                location: Location::file(&units[0].display),
                reason: "the kubelet's systemd unit has no ExecStart".to_owned(),
            }));
        } else if let Some(conf) = self.first_existing(confs(Component::Kubelet)) {
            // A kubelet configured by its file alone: no flag is set.
            found.present = true;
            found.flags = Some(Ok(Flags {
                anchor: Location::new(self.display(&conf), Pos::new(1, 1)),
                ..Flags::default()
            }));
        }
        found
    }

    fn read_unit(&self, path: &str) -> Option<UnitFile> {
        let display = self.display(path);
        let bytes = read_path(&self.host(path), &display, &self.limits).ok()?;
        Some(UnitFile {
            display,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// The flags of a component, if it was found with readable flags.
    pub fn flags(&self, component: Component) -> Option<&Flags> {
        self.components
            .get(&component)?
            .flags
            .as_ref()?
            .as_ref()
            .ok()
    }

    /// The path on the node named by a component's flag (through its static pod's mounts).
    pub fn flag_path(&self, component: Component, flag: &str) -> Option<String> {
        let flags = self.flags(component)?;
        Some(flags.host_path(&flags.get(flag)?.value))
    }

    fn kubelet_config(&mut self) -> Option<Result<Config, Unchecked>> {
        let path = match self.flag_path(Component::Kubelet, "--config") {
            Some(path) => path,
            None => self.first_existing(confs(Component::Kubelet))?,
        };
        Some(self.load_config(&path))
    }

    fn proxy_config(&mut self) -> Option<Result<Config, Unchecked>> {
        let path = match self.flag_path(Component::Proxy, "--config") {
            Some(path) => path,
            None => self
                .first_existing(&["/var/lib/kube-proxy/config.conf"])
                .or_else(|| self.first_existing(PROXY_KUBECONFIG))?,
        };
        Some(self.load_config(&path))
    }

    /// Decodes a YAML or JSON configuration file, with positions.
    fn load_config(&mut self, path: &str) -> Result<Config, Unchecked> {
        let display = self.display(path);
        let loaded = load_path(&self.host(path), &display, &self.limits);
        if let Some(error) = loaded.errors.first() {
            let unchecked = Unchecked {
                location: Location::new(&display, error.pos),
                reason: error.message.clone(),
            };
            self.errors.extend(loaded.errors);
            return Err(unchecked);
        }
        if let Some(object) = loaded.objects.into_iter().next() {
            return Ok(Config {
                object,
                path: path.to_owned(),
            });
        }
        // A configuration without `apiVersion` and `kind`: its values, without positions.
        let bytes = read_path(&self.host(path), &display, &self.limits).map_err(|e| Unchecked {
            location: Location::file(&display),
            reason: e.message,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        match decode_first_document(&text, &self.limits) {
            Ok(Some(value)) if value.is_object() => Ok(Config {
                object: Object::from_value(value, &display),
                path: path.to_owned(),
            }),
            _ => Err(Unchecked {
                location: Location::file(&display),
                reason: "the file is not a YAML or JSON configuration".to_owned(),
            }),
        }
    }

    /// Decodes the file an API server flag names, keeping its objects for the per-object rules.
    fn named_config(&mut self, flag: &str) -> Option<Result<Object, Unchecked>> {
        let flags = self.flags(Component::Apiserver)?;
        let set = flags.get(flag)?.clone();
        let path = flags.host_path(&set.value);
        let display = self.display(&path);
        let loaded = load_path(&self.host(&path), &display, &self.limits);
        let first = loaded.objects.first().cloned();
        let error = loaded.errors.first().cloned();
        self.errors.extend(loaded.errors);
        self.objects.extend(loaded.objects);
        Some(match (first, error) {
            (Some(object), _) => Ok(object),
            (None, Some(error)) => Err(Unchecked {
                location: set.location,
                reason: format!(
                    "{flag} names {display}, which cannot be read: {}",
                    error.message
                ),
            }),
            (None, None) => Err(Unchecked {
                location: set.location,
                reason: format!("{flag} names {display}, which holds no object"),
            }),
        })
    }

    /// The files a mode or owner check reads (node paths), or why there are none.
    pub fn targets(&self, target: crate::Target) -> Result<Vec<String>, Unchecked> {
        use crate::Target::*;
        let missing = |what: &str, candidates: &[&str]| Unchecked {
            location: Location::file(self.display(candidates[0])),
            reason: format!("{what} not found (looked for {})", candidates.join(", ")),
        };
        let one = |path: Option<String>, what: &str, candidates: &[&str]| match path {
            Some(path) if self.exists(&path) => Ok(vec![path]),
            Some(path) => Err(Unchecked {
                location: Location::file(self.display(&path)),
                reason: format!("{what} {path} does not exist"),
            }),
            None => Err(missing(what, candidates)),
        };
        match target {
            ComponentConf(component) => {
                let conf = self.components.get(&component).and_then(|f| f.conf.clone());
                one(
                    conf,
                    &format!("the {} configuration file", component.binary()),
                    confs(component),
                )
            }
            EtcdDataDir => {
                let flags = self.flags(Component::Etcd);
                let set = flags.and_then(|f| {
                    f.get("--data-dir")
                        .or_else(|| f.env("ETCD_DATA_DIR"))
                        .map(|d| f.host_path(&d.value))
                });
                let dir = set
                    .filter(|d| self.host(d).is_dir())
                    .or_else(|| self.first_existing(ETCD_DATA_DIRS));
                one(dir, "the etcd data directory", ETCD_DATA_DIRS)
            }
            AdminConfs => {
                let candidates = [
                    "/etc/kubernetes/admin.conf",
                    "/etc/kubernetes/super-admin.conf",
                ];
                let found: Vec<String> = candidates
                    .iter()
                    .filter(|p| self.exists(p))
                    .map(|p| (*p).to_owned())
                    .collect();
                if found.is_empty() {
                    Err(missing("the administrator kubeconfig", &candidates))
                } else {
                    Ok(found)
                }
            }
            SchedulerKubeconfig => one(
                self.first_existing(SCHEDULER_KUBECONFIG),
                "the scheduler's kubeconfig",
                SCHEDULER_KUBECONFIG,
            ),
            ControllerManagerKubeconfig => one(
                self.first_existing(CONTROLLER_MANAGER_KUBECONFIG),
                "the controller manager's kubeconfig",
                CONTROLLER_MANAGER_KUBECONFIG,
            ),
            Pki | PkiCerts | PkiKeys => {
                let dir = "/etc/kubernetes/pki";
                let all = self.walk(dir).map_err(|reason| Unchecked {
                    location: Location::file(self.display(dir)),
                    reason: format!("cannot read {dir}: {reason}"),
                })?;
                let files: Vec<String> = match target {
                    PkiCerts => all.into_iter().filter(|p| p.ends_with(".crt")).collect(),
                    PkiKeys => all.into_iter().filter(|p| p.ends_with(".key")).collect(),
                    _ => all,
                };
                if files.is_empty() {
                    Err(Unchecked {
                        location: Location::file(self.display(dir)),
                        reason: format!("no such files in {dir}"),
                    })
                } else {
                    Ok(files)
                }
            }
            Cni => {
                let conf_dir = self
                    .flag_path(Component::Kubelet, "--cni-conf-dir")
                    .unwrap_or_else(|| "/etc/cni/net.d".to_owned());
                let mut files = Vec::new();
                for dir in [conf_dir.as_str(), "/var/lib/cni/networks"] {
                    if let Ok(all) = self.walk(dir) {
                        files.extend(all.into_iter().skip(1));
                    }
                }
                if files.is_empty() {
                    Err(Unchecked {
                        location: Location::file(self.display(&conf_dir)),
                        reason: format!("no CNI files in {conf_dir} or /var/lib/cni/networks"),
                    })
                } else {
                    Ok(files)
                }
            }
            KubeletService => one(
                self.first_existing(KUBELET_SVC),
                "the kubelet service file",
                KUBELET_SVC,
            ),
            ProxyKubeconfig => {
                let set = self.flag_path(Component::Proxy, "--kubeconfig");
                one(
                    set.or_else(|| self.first_existing(PROXY_KUBECONFIG)),
                    "the kube-proxy kubeconfig",
                    PROXY_KUBECONFIG,
                )
            }
            KubeletKubeconfig => {
                let set = self.flag_path(Component::Kubelet, "--kubeconfig");
                one(
                    set.or_else(|| self.first_existing(KUBELET_KUBECONFIG)),
                    "the kubelet's kubeconfig",
                    KUBELET_KUBECONFIG,
                )
            }
            KubeletCaFile => {
                let from_config = match &self.kubelet_config {
                    Some(Ok(config)) => config
                        .object
                        .value
                        .pointer("/authentication/x509/clientCAFile")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                    _ => None,
                };
                let set = self
                    .flag_path(Component::Kubelet, "--client-ca-file")
                    .or(from_config);
                one(
                    set.or_else(|| self.first_existing(KUBELET_CAFILE)),
                    "the kubelet's client CA file",
                    KUBELET_CAFILE,
                )
            }
            KubeletConfig => match &self.kubelet_config {
                Some(Ok(config)) => Ok(vec![config.path.clone()]),
                Some(Err(unchecked)) => {
                    // The file exists but is malformed: its mode and owner still count.
                    let path = self.flag_path(Component::Kubelet, "--config");
                    match path.filter(|p| self.exists(p)) {
                        Some(path) => Ok(vec![path]),
                        None => Err(unchecked.clone()),
                    }
                }
                None => Err(missing(
                    "the kubelet configuration file",
                    confs(Component::Kubelet),
                )),
            },
        }
    }
}

/// The name of an ID without an entry in the node's passwd or group file.
fn default_name(id: u32) -> String {
    if id == 0 {
        "root".to_owned()
    } else {
        id.to_string()
    }
}
