//! The analysed cluster: namespaces, workloads, policies and ingress objects, built from
//! loaded Kubernetes objects.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use palisade_core::selector::{LabelSelector, LabelSet, Scalars, SelectorError};
use palisade_core::views::POD_RUNNING_KINDS;
use palisade_core::{Object, Source};
use serde_json::Value;

use crate::sets::{is_ipv6, parse_cidr, IntervalSet, Protocol};

pub use palisade_core::selector::Labels;

/// The label every namespace carries implicitly.
pub const NS_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A label selector as policies are evaluated: an absent (null) selector selects everything,
/// one the API server would reject selects nothing. Booleans and numbers in label values are
/// read as their text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    Valid(LabelSelector),
    Invalid(SelectorError),
}

impl Selector {
    pub fn everything() -> Self {
        Selector::Valid(LabelSelector::everything())
    }

    pub fn parse(value: &Value) -> Selector {
        if value.is_null() {
            return Selector::everything();
        }
        match LabelSelector::parse(value, Scalars::Stringify) {
            Ok(selector) => Selector::Valid(selector),
            Err(error) => Selector::Invalid(error),
        }
    }

    /// Whether the selector is valid and has no requirement: it selects everything.
    pub fn selects_everything(&self) -> bool {
        matches!(self, Selector::Valid(selector) if selector.is_empty())
    }

    /// The `matchLabels` pairs a selected object carries (none for an invalid selector).
    pub fn equalities(&self) -> impl Iterator<Item = (&str, &str)> {
        match self {
            Selector::Valid(selector) => Some(selector.equalities()),
            Selector::Invalid(_) => None,
        }
        .into_iter()
        .flatten()
    }

    pub fn matches<L: LabelSet + ?Sized>(&self, labels: &L) -> bool {
        match self {
            Selector::Valid(selector) => selector.matches(labels),
            Selector::Invalid(_) => false,
        }
    }
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn labels_of(value: Option<&Value>) -> Labels {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| scalar_string(v).map(|v| (k.clone(), v)))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerPort {
    pub name: String,
    pub port: u64,
    pub protocol: Protocol,
}

/// One workload as netpol-analyzer names it: a Pod without controller, or the controller of
/// its pods (`ns/name[Kind]`).
#[derive(Clone, Debug)]
pub struct Workload {
    pub namespace: String,
    pub name: String,
    pub kind: String,
    pub labels: Labels,
    pub ports: Vec<ContainerPort>,
    /// Index of the object it was built from (first one seen).
    pub object: usize,
    /// JSON pointer of its pod template labels (or pod labels).
    pub pointer: String,
    /// The synthetic ingress controller workload.
    pub fake: bool,
}

impl Workload {
    /// `ns/name[Kind]`, or `{name}` for the synthetic ingress controller.
    pub fn display(&self) -> String {
        if self.fake {
            return format!("{{{}}}", self.name);
        }
        format!("{}/{}[{}]", self.namespace, self.name, self.kind)
    }

    /// Resolves a named container port: its protocol and number.
    pub fn named_port(&self, name: &str) -> Option<(Protocol, u64)> {
        self.ports
            .iter()
            .find(|p| p.name == name)
            .map(|p| (p.protocol, p.port))
    }
}

#[derive(Clone, Debug)]
pub struct Namespace {
    pub name: String,
    pub labels: Labels,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSpec {
    Number(i64),
    Name(String),
}

#[derive(Clone, Debug)]
pub struct NpPort {
    pub protocol: Protocol,
    pub port: Option<PortSpec>,
    pub end_port: Option<i64>,
}

#[derive(Clone, Debug)]
pub enum NpPeer {
    Selectors {
        namespace: Option<Selector>,
        pod: Option<Selector>,
    },
    IpBlock(IntervalSet),
    Invalid,
}

#[derive(Clone, Debug)]
pub struct NpRule {
    pub peers: Vec<NpPeer>,
    pub ports: Vec<NpPort>,
}

#[derive(Clone, Debug)]
pub struct NetworkPolicy {
    pub namespace: String,
    pub name: String,
    pub pod_selector: Selector,
    pub ingress: Vec<NpRule>,
    pub egress: Vec<NpRule>,
    pub affects_ingress: bool,
    pub affects_egress: bool,
    pub object: usize,
}

impl NetworkPolicy {
    pub fn full_name(&self) -> String {
        format!("NetworkPolicy '{}/{}'", self.namespace, self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
    Pass,
}

#[derive(Clone, Debug)]
pub enum AdminPeer {
    Namespaces(Selector),
    Pods { namespace: Selector, pod: Selector },
    Networks(Vec<IntervalSet>),
    Nodes,
    Invalid,
}

#[derive(Clone, Debug)]
pub enum AdminPort {
    Number(Protocol, i64),
    Named(String),
    Range(Protocol, i64, i64),
    Invalid,
}

#[derive(Clone, Debug)]
pub struct AdminRule {
    pub name: String,
    pub action: Option<Action>,
    pub peers: Vec<AdminPeer>,
    pub ports: Option<Vec<AdminPort>>,
}

#[derive(Clone, Debug)]
pub struct AdminPolicy {
    pub name: String,
    pub priority: i64,
    pub subject: AdminPeer,
    pub ingress: Vec<AdminRule>,
    pub egress: Vec<AdminRule>,
    pub baseline: bool,
    pub object: usize,
}

impl AdminPolicy {
    pub fn full_name(&self) -> String {
        if self.baseline {
            format!("BaselineAdminNetworkPolicy '{}'", self.name)
        } else {
            format!("AdminNetworkPolicy '{}'", self.name)
        }
    }
}

#[derive(Clone, Debug)]
pub struct ServicePort {
    pub name: String,
    pub port: i64,
    pub target: Option<PortSpec>,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    pub selector: Option<Labels>,
    pub ports: Vec<ServicePort>,
}

/// An Ingress or Route: services it exposes with the requested port (if any).
#[derive(Clone, Debug)]
pub struct IngressObject {
    pub namespace: String,
    pub name: String,
    pub route: bool,
    pub backends: Vec<(String, Option<PortSpec>)>,
}

/// A custom resource whose controller creates pods, and the labels it gives them.
#[derive(Clone, Copy, Debug)]
pub struct PodMaker {
    pub group: &'static str,
    pub kind: &'static str,
    /// Pointer of the labels the resource asks its pods to carry.
    pub labels: &'static str,
    /// Labels the controller sets to a fixed value.
    pub fixed: &'static [(&'static str, &'static str)],
    /// Labels the controller sets to the resource's name.
    pub named: &'static [&'static str],
    /// Labels the controller sets to a value the manifests do not give (versions, shards,
    /// revision hashes, pod names): any requirement on them may hold.
    pub any_value: &'static [&'static str],
}

/// Labels the StatefulSet controller adds to each pod, with values known only in the cluster.
const STATEFULSET_POD_LABELS: [&str; 3] = [
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
];

const PROMETHEUS_ANY_VALUE: &[&str] = &[
    "app.kubernetes.io/version",
    "operator.prometheus.io/shard",
    STATEFULSET_POD_LABELS[0],
    STATEFULSET_POD_LABELS[1],
    STATEFULSET_POD_LABELS[2],
];

const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "prometheus-operator");

/// The custom resources whose pods the NetworkPolicy checks know, with the labels their
/// controllers set (the Prometheus Operator's `Prometheus`, `PrometheusAgent`, `Alertmanager`
/// and `ThanosRuler`; the agent-sandbox `SandboxTemplate`). Older operator releases also set
/// `app`; it is kept, so a selector written for either release matches.
pub const POD_MAKERS: &[PodMaker] = &[
    PodMaker {
        group: "monitoring.coreos.com",
        kind: "Prometheus",
        labels: "/spec/podMetadata/labels",
        fixed: &[
            ("app", "prometheus"),
            ("app.kubernetes.io/name", "prometheus"),
            MANAGED_BY,
        ],
        named: &[
            "prometheus",
            "app.kubernetes.io/instance",
            "operator.prometheus.io/name",
        ],
        any_value: PROMETHEUS_ANY_VALUE,
    },
    PodMaker {
        group: "monitoring.coreos.com",
        kind: "PrometheusAgent",
        labels: "/spec/podMetadata/labels",
        fixed: &[
            ("app", "prometheus"),
            ("app.kubernetes.io/name", "prometheus-agent"),
            MANAGED_BY,
        ],
        named: &["app.kubernetes.io/instance", "operator.prometheus.io/name"],
        any_value: PROMETHEUS_ANY_VALUE,
    },
    PodMaker {
        group: "monitoring.coreos.com",
        kind: "Alertmanager",
        labels: "/spec/podMetadata/labels",
        fixed: &[
            ("app", "alertmanager"),
            ("app.kubernetes.io/name", "alertmanager"),
            MANAGED_BY,
        ],
        named: &["alertmanager", "app.kubernetes.io/instance"],
        any_value: PROMETHEUS_ANY_VALUE,
    },
    PodMaker {
        group: "monitoring.coreos.com",
        kind: "ThanosRuler",
        labels: "/spec/podMetadata/labels",
        fixed: &[
            ("app", "thanos-ruler"),
            ("app.kubernetes.io/name", "thanos-ruler"),
            MANAGED_BY,
        ],
        named: &["thanos-ruler", "app.kubernetes.io/instance"],
        any_value: PROMETHEUS_ANY_VALUE,
    },
    PodMaker {
        group: "extensions.agents.x-k8s.io",
        kind: "SandboxTemplate",
        labels: "/spec/podTemplate/metadata/labels",
        fixed: &[],
        named: &[],
        any_value: &[],
    },
];

/// Whether [`Input::from_indexed`] reads objects of `kind` (it passes over the
/// others).
pub fn reads_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "NetworkPolicy"
            | "AdminNetworkPolicy"
            | "BaselineAdminNetworkPolicy"
            | "Service"
            | "Ingress"
            | "Route"
    ) || POD_RUNNING_KINDS.contains(&kind)
        || POD_MAKER_KINDS.contains(&kind)
}

/// The kinds of [`POD_MAKERS`], in its order.
pub const POD_MAKER_KINDS: [&str; POD_MAKERS.len()] = {
    let mut out = [""; POD_MAKERS.len()];
    let mut i = 0;
    while i < POD_MAKERS.len() {
        out[i] = POD_MAKERS[i].kind;
        i += 1;
    }
    out
};

/// The pods a custom resource of [`POD_MAKERS`] makes its controller create.
#[derive(Clone, Debug)]
pub struct OperatedPods {
    pub namespace: String,
    pub labels: Labels,
    /// Labels whose value is not known ([`PodMaker::any_value`]).
    pub any_value: &'static [&'static str],
    /// Index of the custom resource.
    pub object: usize,
}

impl OperatedPods {
    fn of(maker: &PodMaker, index: usize, obj: &Object, namespace: String) -> OperatedPods {
        let mut labels = labels_of(obj.value.pointer(maker.labels));
        for (key, value) in maker.fixed {
            labels.insert((*key).to_owned(), (*value).to_owned());
        }
        for key in maker.named {
            labels.insert((*key).to_owned(), obj.name().to_owned());
        }
        OperatedPods {
            namespace,
            labels,
            any_value: maker.any_value,
            object: index,
        }
    }

    /// Whether `selector` may select these pods: every requirement holds on the known labels
    /// or is about a label whose value is not known.
    pub fn may_match(&self, selector: &Selector) -> bool {
        match selector {
            Selector::Valid(selector) => selector
                .requirements()
                .iter()
                .all(|r| self.any_value.contains(&r.key()) || r.matches(&self.labels)),
            Selector::Invalid(_) => false,
        }
    }
}

/// Everything the analysis needs.
#[derive(Clone, Debug, Default)]
pub struct Input {
    /// The file of each object the model was built from, by index.
    pub sources: HashMap<usize, Arc<Source>>,
    pub namespaces: BTreeMap<String, Namespace>,
    pub workloads: Vec<Workload>,
    pub policies: Vec<NetworkPolicy>,
    /// AdminNetworkPolicies sorted by priority (lowest number first).
    pub admin: Vec<AdminPolicy>,
    pub baseline: Option<AdminPolicy>,
    pub services: Vec<Service>,
    pub ingresses: Vec<IngressObject>,
    /// Pods that controllers create from custom resources ([`POD_MAKERS`]).
    pub operated: Vec<OperatedPods>,
    /// Problems found while building the model (duplicates, bad fields).
    pub warnings: Vec<String>,
}

/// Loads every `.yaml`, `.yml` and `.json` file under `path` (recursively, sorted) and
/// builds the model. Files that fail to decode are skipped, as netpol-analyzer does.
pub fn load_dir(path: &Path) -> Input {
    let mut files = Vec::new();
    collect_files(path, &mut files);
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        let display = file.display().to_string();
        let loaded = palisade_core::load_path(&file, &display, &palisade_core::Limits::default());
        objects.extend(loaded.objects);
    }
    Input::from_objects(&objects)
}

fn collect_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(p);
        }
    }
}

fn namespace_of(obj: &Object, unset: &dyn Fn(&Object) -> String) -> String {
    match obj.namespace() {
        Some(ns) if !ns.is_empty() => ns.to_owned(),
        _ => unset(obj),
    }
}

fn int_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn port_spec(v: &Value) -> Option<PortSpec> {
    match v {
        Value::Number(n) => n.as_i64().map(PortSpec::Number),
        Value::String(s) => Some(match s.parse::<i64>() {
            Ok(n) => PortSpec::Number(n),
            Err(_) => PortSpec::Name(s.clone()),
        }),
        _ => None,
    }
}

/// The fields of a workload's pod spec that the model reads, relative to the pod spec.
pub const POD_SPEC_READS: &[&str] = &["/containers/*/ports"];

/// The fields of a workload's pod metadata that the model reads.
pub const POD_METADATA_READS: &[&str] = &["/labels"];

/// The other fields of a workload that the model reads: a Pod's controlling owner.
pub const WORKLOAD_READS: &[&str] = &["/metadata/ownerReferences"];

fn container_ports(spec: &Value) -> Vec<ContainerPort> {
    let mut out = Vec::new();
    for c in spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for p in c
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(port) = p.get("containerPort").and_then(int_value) else {
                continue;
            };
            let protocol = p
                .get("protocol")
                .and_then(Value::as_str)
                .and_then(Protocol::parse)
                .unwrap_or(Protocol::Tcp);
            out.push(ContainerPort {
                name: p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                port: u64::try_from(port).unwrap_or(0),
                protocol,
            });
        }
    }
    out
}

impl Input {
    /// Builds the model from loaded objects (their order decides which object defines a
    /// workload seen twice).
    pub fn from_objects(objects: &[Object]) -> Input {
        Input::from_objects_with(objects, &|_| "default".to_owned())
    }

    /// Like [`Input::from_objects`], with `unset` naming the namespace of objects that have
    /// no `metadata.namespace` (instead of `default`).
    pub fn from_objects_with(objects: &[Object], unset: &dyn Fn(&Object) -> String) -> Input {
        Input::from_indexed(objects.iter().enumerate(), unset)
    }

    /// Like [`Input::from_objects_with`], from objects given one at a time with their index in
    /// the input, in increasing order (objects of kinds the model does not read,
    /// [`reads_kind`], may be left out).
    pub fn from_indexed<O: Borrow<Object>>(
        objects: impl IntoIterator<Item = (usize, O)>,
        unset: &dyn Fn(&Object) -> String,
    ) -> Input {
        let mut input = Input::default();
        let mut seen = HashSet::new();
        for (index, obj) in objects {
            let obj = obj.borrow();
            input.sources.insert(index, Arc::clone(&obj.source));
            let kind = obj.kind();
            let namespace = || namespace_of(obj, unset);
            if kind == "Namespace" {
                let name = obj.name().to_owned();
                let mut labels = labels_of(obj.value.pointer("/metadata/labels"));
                if !labels.contains_key(NS_NAME_LABEL) {
                    labels.insert(NS_NAME_LABEL.to_owned(), name.clone());
                }
                if input.namespaces.contains_key(&name) {
                    input
                        .warnings
                        .push(format!("namespace {name} is defined more than once"));
                    continue;
                }
                input
                    .namespaces
                    .insert(name.clone(), Namespace { name, labels });
            } else if POD_RUNNING_KINDS.contains(&kind) {
                input.add_workload(index, obj, namespace(), &mut seen);
            } else if kind == "NetworkPolicy" && obj.group() == "networking.k8s.io" {
                input.policies.push(parse_netpol(index, obj, namespace()));
            } else if kind == "AdminNetworkPolicy" || kind == "BaselineAdminNetworkPolicy" {
                let baseline = kind == "BaselineAdminNetworkPolicy";
                let policy = parse_admin(index, obj, baseline);
                if baseline {
                    if input.baseline.is_none() && policy.name == "default" {
                        input.baseline = Some(policy);
                    } else {
                        input.warnings.push(format!(
                            "BaselineAdminNetworkPolicy '{}' ignored: only one named default is allowed",
                            policy.name
                        ));
                    }
                } else {
                    input.admin.push(policy);
                }
            } else if kind == "Service" {
                input.services.push(parse_service(obj, namespace()));
            } else if kind == "Ingress" && obj.group() == "networking.k8s.io" {
                input.ingresses.push(parse_ingress(obj, namespace()));
            } else if kind == "Route" {
                input.ingresses.push(parse_route(obj, namespace()));
            } else if let Some(maker) = POD_MAKERS
                .iter()
                .find(|m| m.kind == kind && m.group == obj.group())
            {
                let pods = OperatedPods::of(maker, index, obj, namespace());
                input.operated.push(pods);
            }
        }
        input.admin.sort_by_key(|p| p.priority);
        let missing: Vec<String> = input
            .workloads
            .iter()
            .map(|w| w.namespace.clone())
            .filter(|ns| !input.namespaces.contains_key(ns))
            .collect();
        for ns in missing {
            input.ensure_namespace(&ns);
        }
        input
    }

    pub(crate) fn ensure_namespace(&mut self, ns: &str) {
        self.namespaces
            .entry(ns.to_owned())
            .or_insert_with(|| Namespace {
                name: ns.to_owned(),
                labels: [(NS_NAME_LABEL.to_owned(), ns.to_owned())].into(),
            });
    }

    /// Adds the workload `obj` defines (reading only [`WORKLOAD_READS`] and the pod spec's and
    /// pod metadata's fields of [`POD_SPEC_READS`] and [`POD_METADATA_READS`]), unless `seen` (the namespace, name and kind of those
    /// added so far) has it already.
    fn add_workload(
        &mut self,
        index: usize,
        obj: &Object,
        namespace: String,
        seen: &mut HashSet<(String, String, String)>,
    ) {
        let kind = obj.kind();
        let v = &obj.value;
        let (name, wkind, labels, ports, pointer) = if kind == "Pod" {
            let pod_name = obj.name().to_owned();
            if pod_name.starts_with("virt-launcher-") {
                return;
            }
            let mut owner = None;
            for r in v
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if r.get("controller").and_then(Value::as_bool) == Some(true) {
                    let okind = r.get("kind").and_then(Value::as_str).unwrap_or_default();
                    if okind != "Node" {
                        owner = Some((
                            r.get("name")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            okind.to_owned(),
                        ));
                    }
                    break;
                }
            }
            let (name, wkind) = match owner {
                Some((name, kind)) if kind.is_empty() => (name, "Pod".to_owned()),
                Some(owner) => owner,
                None => (pod_name, "Pod".to_owned()),
            };
            let spec = v.get("spec").unwrap_or(&Value::Null);
            (
                name,
                wkind,
                labels_of(v.pointer("/metadata/labels")),
                container_ports(spec),
                "/metadata/labels".to_owned(),
            )
        } else {
            let template = if kind == "CronJob" {
                "/spec/jobTemplate/spec/template"
            } else {
                "/spec/template"
            };
            let labels = labels_of(v.pointer(&format!("{template}/metadata/labels")));
            let spec = v
                .pointer(&format!("{template}/spec"))
                .unwrap_or(&Value::Null);
            (
                obj.name().to_owned(),
                kind.to_owned(),
                labels,
                container_ports(spec),
                format!("{template}/metadata/labels"),
            )
        };
        if !seen.insert((namespace.clone(), name.clone(), wkind.clone())) {
            return;
        }
        self.workloads.push(Workload {
            namespace,
            name,
            kind: wkind,
            labels,
            ports,
            object: index,
            pointer,
            fake: false,
        });
    }
}

fn parse_protocol(v: Option<&Value>) -> Option<Protocol> {
    match v.and_then(Value::as_str) {
        None | Some("") => Some(Protocol::Tcp),
        Some(s) => Protocol::parse(s),
    }
}

fn parse_np_rule(rule: &Value, peers_key: &str) -> NpRule {
    let mut peers = Vec::new();
    for p in rule
        .get(peers_key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ns = p.get("namespaceSelector").filter(|v| !v.is_null());
        let pod = p.get("podSelector").filter(|v| !v.is_null());
        let ip = p.get("ipBlock").filter(|v| !v.is_null());
        let peer = match (ns, pod, ip) {
            (None, None, None) => NpPeer::Invalid,
            (_, _, Some(_)) if ns.is_some() || pod.is_some() => NpPeer::Invalid,
            (None, None, Some(ip)) => {
                let cidr = ip.get("cidr").and_then(Value::as_str).and_then(parse_cidr);
                match cidr {
                    Some(mut block) => {
                        let mut ok = true;
                        for e in ip
                            .get("except")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            match e.as_str().and_then(parse_cidr) {
                                Some(hole) => block = block.subtract(&hole),
                                None => ok = false,
                            }
                        }
                        if ok {
                            NpPeer::IpBlock(block)
                        } else {
                            NpPeer::Invalid
                        }
                    }
                    None => NpPeer::Invalid,
                }
            }
            _ => NpPeer::Selectors {
                namespace: ns.map(Selector::parse),
                pod: pod.map(Selector::parse),
            },
        };
        peers.push(peer);
    }
    let mut ports = Vec::new();
    for p in rule
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(protocol) = parse_protocol(p.get("protocol")) else {
            continue;
        };
        ports.push(NpPort {
            protocol,
            port: p.get("port").and_then(port_spec),
            end_port: p.get("endPort").and_then(int_value),
        });
    }
    NpRule { peers, ports }
}

/// The directions a NetworkPolicy applies to, as the API server defaults `policyTypes`: when
/// the list is absent or empty, Ingress always and Egress when the policy has egress rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyTypes {
    pub ingress: bool,
    pub egress: bool,
    /// Whether `policyTypes` lists the directions explicitly.
    pub explicit: bool,
}

impl PolicyTypes {
    /// The policy types of a NetworkPolicy `spec`.
    pub fn of(spec: &Value) -> PolicyTypes {
        let listed: Option<Vec<&str>> = spec
            .get("policyTypes")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .map(|a| a.iter().filter_map(Value::as_str).collect());
        match listed {
            Some(t) => PolicyTypes {
                ingress: t.contains(&"Ingress"),
                egress: t.contains(&"Egress"),
                explicit: true,
            },
            None => PolicyTypes {
                ingress: true,
                egress: spec
                    .get("egress")
                    .and_then(Value::as_array)
                    .is_some_and(|rules| !rules.is_empty()),
                explicit: false,
            },
        }
    }
}

fn parse_netpol(index: usize, obj: &Object, namespace: String) -> NetworkPolicy {
    let v = &obj.value;
    let spec = v.get("spec").unwrap_or(&Value::Null);
    let ingress: Vec<NpRule> = spec
        .get("ingress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| parse_np_rule(r, "from"))
        .collect();
    let egress: Vec<NpRule> = spec
        .get("egress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| parse_np_rule(r, "to"))
        .collect();
    let types = PolicyTypes::of(spec);
    let (affects_ingress, affects_egress) = (types.ingress, types.egress);
    NetworkPolicy {
        namespace,
        name: obj.name().to_owned(),
        pod_selector: Selector::parse(spec.get("podSelector").unwrap_or(&Value::Null)),
        ingress,
        egress,
        affects_ingress,
        affects_egress,
        object: index,
    }
}

fn parse_admin_peer(p: &Value) -> AdminPeer {
    let fields: Vec<&str> = ["namespaces", "pods", "networks", "nodes"]
        .into_iter()
        .filter(|k| p.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    if fields.len() != 1 {
        return AdminPeer::Invalid;
    }
    match fields[0] {
        "namespaces" => AdminPeer::Namespaces(Selector::parse(&p["namespaces"])),
        "pods" => AdminPeer::Pods {
            namespace: Selector::parse(p["pods"].get("namespaceSelector").unwrap_or(&Value::Null)),
            pod: Selector::parse(p["pods"].get("podSelector").unwrap_or(&Value::Null)),
        },
        "networks" => {
            let mut nets = Vec::new();
            for n in p["networks"].as_array().into_iter().flatten() {
                let Some(text) = n.as_str() else {
                    return AdminPeer::Invalid;
                };
                if is_ipv6(text) {
                    continue;
                }
                match parse_cidr(text) {
                    Some(block) => nets.push(block),
                    None => return AdminPeer::Invalid,
                }
            }
            AdminPeer::Networks(nets)
        }
        _ => AdminPeer::Nodes,
    }
}

fn parse_admin_rule(r: &Value, peers_key: &str) -> AdminRule {
    let action = match r.get("action").and_then(Value::as_str) {
        Some("Allow") => Some(Action::Allow),
        Some("Deny") => Some(Action::Deny),
        Some("Pass") => Some(Action::Pass),
        _ => None,
    };
    let peers = r
        .get(peers_key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(parse_admin_peer)
        .collect();
    let ports = r.get("ports").and_then(Value::as_array).map(|a| {
        a.iter()
            .map(|p| {
                let set: Vec<&str> = ["portNumber", "namedPort", "portRange"]
                    .into_iter()
                    .filter(|k| p.get(*k).is_some_and(|v| !v.is_null()))
                    .collect();
                if set.len() != 1 {
                    return AdminPort::Invalid;
                }
                let proto = |v: &Value| parse_protocol(v.get("protocol"));
                match set[0] {
                    "portNumber" => {
                        let pn = &p["portNumber"];
                        match (proto(pn), pn.get("port").and_then(int_value)) {
                            (Some(pr), Some(n)) => AdminPort::Number(pr, n),
                            _ => AdminPort::Invalid,
                        }
                    }
                    "namedPort" => match p["namedPort"].as_str() {
                        Some(n) => AdminPort::Named(n.to_owned()),
                        None => AdminPort::Invalid,
                    },
                    _ => {
                        let pr = &p["portRange"];
                        match (
                            proto(pr),
                            pr.get("start").and_then(int_value),
                            pr.get("end").and_then(int_value),
                        ) {
                            (Some(x), Some(s), Some(e)) => AdminPort::Range(x, s, e),
                            _ => AdminPort::Invalid,
                        }
                    }
                }
            })
            .collect()
    });
    AdminRule {
        name: r
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        action,
        peers,
        ports,
    }
}

fn parse_admin(index: usize, obj: &Object, baseline: bool) -> AdminPolicy {
    let spec = obj.value.get("spec").unwrap_or(&Value::Null);
    let subject = spec
        .get("subject")
        .map(parse_admin_peer)
        .unwrap_or(AdminPeer::Invalid);
    let subject = match subject {
        AdminPeer::Namespaces(_) | AdminPeer::Pods { .. } => subject,
        _ => AdminPeer::Invalid,
    };
    let rules = |key: &str, peers: &str| -> Vec<AdminRule> {
        spec.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| parse_admin_rule(r, peers))
            .collect()
    };
    AdminPolicy {
        name: obj.name().to_owned(),
        priority: spec.get("priority").and_then(int_value).unwrap_or(0),
        subject,
        ingress: rules("ingress", "from"),
        egress: rules("egress", "to"),
        baseline,
        object: index,
    }
}

fn parse_service(obj: &Object, namespace: String) -> Service {
    let v = &obj.value;
    let selector = v
        .pointer("/spec/selector")
        .filter(|s| s.is_object())
        .map(|s| labels_of(Some(s)));
    let ports = v
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| ServicePort {
            name: p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            port: p.get("port").and_then(int_value).unwrap_or(0),
            target: p
                .get("targetPort")
                .and_then(port_spec)
                .filter(|t| *t != PortSpec::Number(0) && *t != PortSpec::Name(String::new())),
        })
        .collect();
    Service {
        namespace,
        name: obj.name().to_owned(),
        selector,
        ports,
    }
}

fn backend_port(v: Option<&Value>) -> Option<PortSpec> {
    let v = v?;
    if let Some(name) = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        return Some(PortSpec::Name(name.to_owned()));
    }
    v.get("number")
        .and_then(int_value)
        .filter(|n| *n != 0)
        .map(PortSpec::Number)
}

fn parse_ingress(obj: &Object, namespace: String) -> IngressObject {
    let v = &obj.value;
    let mut backends = Vec::new();
    if let Some(svc) = v.pointer("/spec/defaultBackend/service") {
        if let Some(name) = svc.get("name").and_then(Value::as_str) {
            backends.push((name.to_owned(), backend_port(svc.get("port"))));
        }
    }
    for rule in v
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for path in rule
            .pointer("/http/paths")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(svc) = path.pointer("/backend/service") {
                if let Some(name) = svc.get("name").and_then(Value::as_str) {
                    backends.push((name.to_owned(), backend_port(svc.get("port"))));
                }
            }
        }
    }
    IngressObject {
        namespace,
        name: obj.name().to_owned(),
        route: false,
        backends,
    }
}

fn parse_route(obj: &Object, namespace: String) -> IngressObject {
    let v = &obj.value;
    let port = v.pointer("/spec/port/targetPort").and_then(port_spec);
    let port = port.filter(|p| *p != PortSpec::Number(0));
    let mut backends = Vec::new();
    let mut add = |target: &Value| {
        let kind = target.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.is_empty() || kind == "Service" {
            if let Some(name) = target.get("name").and_then(Value::as_str) {
                backends.push((name.to_owned(), port.clone()));
            }
        }
    };
    if let Some(to) = v.pointer("/spec/to") {
        add(to);
    }
    for b in v
        .pointer("/spec/alternateBackends")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add(b);
    }
    IngressObject {
        namespace,
        name: obj.name().to_owned(),
        route: true,
        backends,
    }
}
