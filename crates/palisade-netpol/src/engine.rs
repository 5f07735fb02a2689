//! Evaluation of the allowed connections between two peers, layer by layer:
//! AdminNetworkPolicies (by priority), NetworkPolicies, then the BaselineAdminNetworkPolicy
//! and the system default (allow).

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use crate::index::{Scope, WorkloadIndex, WorkloadSet};
use crate::model::{
    Action, AdminPeer, AdminPolicy, AdminPort, AdminRule, Input, Namespace, NetworkPolicy, NpPeer,
    NpRule, PortSpec, Workload,
};
use crate::sets::{ConnSet, IntervalSet, MAX_PORT, MIN_PORT};

/// One end of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// Index into [`Cluster::workloads`].
    Workload(usize),
    /// A range of external addresses.
    Ip(IntervalSet),
}

/// A rule's contribution to a decision, for explanations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// `NetworkPolicy 'ns/name'`, `AdminNetworkPolicy 'name'`, …
    pub policy: String,
    /// `Ingress rule #1`, or the admin rule name; empty when the policy selects the pod but
    /// no rule matches the peer.
    pub rule: String,
    pub ingress: bool,
    /// What the rule does to the connections it covers.
    pub verdict: Verdict,
    pub conns: ConnSet,
}

impl std::fmt::Display for Step {
    /// One line: the direction, the policy and rule, and what it does to which connections.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dir = if self.ingress { "Ingress" } else { "Egress" };
        let verb = match self.verdict {
            Verdict::Isolate => {
                return write!(
                    f,
                    "{dir}: {} selects the pod but no rule matches the peer (denied)",
                    self.policy
                )
            }
            Verdict::Allow => "allows",
            Verdict::Deny => "denies",
            Verdict::Pass => "passes",
        };
        write!(
            f,
            "{dir}: {} {} {verb} {}",
            self.policy, self.rule, self.conns
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny,
    Pass,
    /// The policy isolates the pod but no rule allows the peer.
    Isolate,
}

/// The model plus the synthetic ingress controller, ready for evaluation. The policies that
/// select a workload and the peers a rule selects are computed once, on first use.
#[derive(Clone, Debug)]
pub struct Cluster<'a> {
    pub input: &'a Input,
    workloads: Vec<&'a Workload>,
    namespaces: BTreeMap<&'a str, &'a Namespace>,
    /// The NetworkPolicies of each namespace.
    namespace_policies: HashMap<&'a str, Vec<usize>>,
    /// The policies selecting each workload.
    selecting: Vec<OnceCell<Selecting>>,
    /// The workloads by namespace and label, for the peers of rules.
    index: OnceCell<WorkloadIndex<'a>>,
    /// What the rules of each NetworkPolicy, each AdminNetworkPolicy and the
    /// BaselineAdminNetworkPolicy select.
    policy_rules: Vec<RuleCells<'a>>,
    admin_rules: Vec<RuleCells<'a>>,
    baseline_rules: RuleCells<'a>,
}

pub const INGRESS_CONTROLLER: &str = "ingress-controller";
pub const INGRESS_CONTROLLER_NS: &str = "ingress-controller-ns";

struct PodRef<'c> {
    workload: &'c Workload,
    namespace: Option<&'c Namespace>,
}

/// The synthetic ingress controller pod and its namespace.
static INGRESS_CONTROLLER_POD: LazyLock<(Workload, Namespace)> = LazyLock::new(|| {
    let pod = Workload {
        namespace: INGRESS_CONTROLLER_NS.to_owned(),
        name: INGRESS_CONTROLLER.to_owned(),
        kind: "Pod".to_owned(),
        labels: Default::default(),
        ports: Vec::new(),
        object: usize::MAX,
        pointer: String::new(),
        fake: true,
    };
    let namespace = Namespace {
        name: INGRESS_CONTROLLER_NS.to_owned(),
        labels: [(
            crate::model::NS_NAME_LABEL.to_owned(),
            INGRESS_CONTROLLER_NS.to_owned(),
        )]
        .into(),
    };
    (pod, namespace)
});

/// The policies that select one workload.
#[derive(Clone, Debug, Default)]
struct Selecting {
    /// The NetworkPolicies isolating it for ingress, in input order.
    ingress: Vec<usize>,
    /// The NetworkPolicies isolating it for egress, in input order.
    egress: Vec<usize>,
    /// The AdminNetworkPolicies whose subject it is, in priority order.
    admin: Vec<usize>,
    /// Whether it is a subject of the BaselineAdminNetworkPolicy.
    baseline: bool,
}

/// What each rule of one policy selects, computed on first use.
#[derive(Clone, Debug, Default)]
struct RuleCells<'a> {
    ingress: Vec<OnceCell<RuleSelection<'a>>>,
    egress: Vec<OnceCell<RuleSelection<'a>>>,
}

impl<'a> RuleCells<'a> {
    fn new(ingress: usize, egress: usize) -> Self {
        RuleCells {
            ingress: (0..ingress).map(|_| OnceCell::new()).collect(),
            egress: (0..egress).map(|_| OnceCell::new()).collect(),
        }
    }

    fn direction(&self, ingress: bool) -> &[OnceCell<RuleSelection<'a>>] {
        if ingress {
            &self.ingress
        } else {
            &self.egress
        }
    }
}

/// What one rule selects.
#[derive(Clone, Debug)]
struct RuleSelection<'a> {
    peers: Peers<'a>,
    /// The connections it covers, when they do not depend on the destination (no named
    /// port).
    conns: Option<ConnSet>,
}

/// The peers a rule selects.
#[derive(Clone, Debug)]
pub(crate) enum Peers<'a> {
    /// Every workload and address (a NetworkPolicy rule without peers).
    All,
    Listed {
        workloads: WorkloadSet,
        /// An address range is selected when it lies within one of these.
        blocks: Vec<&'a IntervalSet>,
    },
}

impl Peers<'_> {
    fn selects(&self, peer: &Peer) -> bool {
        match (self, peer) {
            (Peers::All, _) => true,
            (Peers::Listed { workloads, .. }, Peer::Workload(w)) => workloads.contains(*w),
            (Peers::Listed { blocks, .. }, Peer::Ip(ip)) => {
                blocks.iter().any(|block| ip.is_subset(block))
            }
        }
    }
}

impl<'a> Cluster<'a> {
    pub fn new(input: &'a Input) -> Self {
        let namespaces = input
            .namespaces
            .iter()
            .map(|(name, namespace)| (name.as_str(), namespace))
            .collect();
        Cluster::with(input, input.workloads.iter().collect(), namespaces)
    }

    fn with(
        input: &'a Input,
        workloads: Vec<&'a Workload>,
        namespaces: BTreeMap<&'a str, &'a Namespace>,
    ) -> Self {
        let mut namespace_policies: HashMap<&str, Vec<usize>> = HashMap::new();
        for (p, np) in input.policies.iter().enumerate() {
            namespace_policies
                .entry(np.namespace.as_str())
                .or_default()
                .push(p);
        }
        Cluster {
            input,
            selecting: (0..workloads.len()).map(|_| OnceCell::new()).collect(),
            workloads,
            namespaces,
            namespace_policies,
            index: OnceCell::new(),
            policy_rules: input
                .policies
                .iter()
                .map(|np| RuleCells::new(np.ingress.len(), np.egress.len()))
                .collect(),
            admin_rules: input
                .admin
                .iter()
                .map(|anp| RuleCells::new(anp.ingress.len(), anp.egress.len()))
                .collect(),
            baseline_rules: input
                .baseline
                .as_ref()
                .map(|banp| RuleCells::new(banp.ingress.len(), banp.egress.len()))
                .unwrap_or_default(),
        }
    }

    /// Adds the synthetic ingress controller pod and returns its peer.
    pub fn add_ingress_controller(&mut self) -> Peer {
        let (pod, namespace) = &*INGRESS_CONTROLLER_POD;
        let mut workloads = std::mem::take(&mut self.workloads);
        workloads.push(pod);
        let mut namespaces = std::mem::take(&mut self.namespaces);
        namespaces.entry(INGRESS_CONTROLLER_NS).or_insert(namespace);
        *self = Cluster::with(self.input, workloads, namespaces);
        Peer::Workload(self.workloads.len() - 1)
    }

    pub fn workloads(&self) -> &[&'a Workload] {
        &self.workloads
    }

    pub fn peer_string(&self, peer: &Peer) -> String {
        match peer {
            Peer::Workload(i) => self.workloads[*i].display(),
            Peer::Ip(set) => format!("{}[External]", crate::sets::ip_ranges_string(set)),
        }
    }

    fn workload(&self, peer: &Peer) -> Option<&'a Workload> {
        match peer {
            Peer::Workload(i) => Some(self.workloads[*i]),
            Peer::Ip(_) => None,
        }
    }

    fn index(&self) -> &WorkloadIndex<'a> {
        self.index.get_or_init(|| {
            WorkloadIndex::new(
                self.workloads.clone(),
                self.namespaces.iter().map(|(&n, &ns)| (n, ns)).collect(),
            )
        })
    }

    /// The policies selecting a workload.
    fn selecting(&self, pod: usize) -> &Selecting {
        self.selecting[pod].get_or_init(|| {
            let workload = self.workloads[pod];
            let pod = PodRef {
                workload,
                namespace: self.namespaces.get(workload.namespace.as_str()).copied(),
            };
            let policies = self
                .namespace_policies
                .get(workload.namespace.as_str())
                .map_or(&[][..], Vec::as_slice);
            let isolating = |ingress: bool| {
                policies
                    .iter()
                    .copied()
                    .filter(|&p| np_selects(&self.input.policies[p], workload, ingress))
                    .collect()
            };
            Selecting {
                ingress: isolating(true),
                egress: isolating(false),
                admin: (0..self.input.admin.len())
                    .filter(|&a| subject_selects(&self.input.admin[a].subject, &pod))
                    .collect(),
                baseline: self
                    .input
                    .baseline
                    .as_ref()
                    .is_some_and(|banp| subject_selects(&banp.subject, &pod)),
            }
        })
    }

    /// What a rule of a NetworkPolicy selects.
    fn policy_rule(&self, policy: usize, ingress: bool, rule: usize) -> &RuleSelection<'a> {
        self.policy_rules[policy].direction(ingress)[rule].get_or_init(|| {
            let np = &self.input.policies[policy];
            let rule = if ingress {
                &np.ingress[rule]
            } else {
                &np.egress[rule]
            };
            let named = rule
                .ports
                .iter()
                .any(|p| matches!(p.port, Some(PortSpec::Name(_))));
            RuleSelection {
                peers: self.np_rule_peers(np, rule),
                conns: (!named).then(|| np_rule_conns(rule, None)),
            }
        })
    }

    /// The workloads a NetworkPolicy's podSelector matches in its namespace, whatever its
    /// policy types.
    pub(crate) fn policy_pods(&self, np: &'a NetworkPolicy) -> Vec<usize> {
        self.index()
            .select(Scope::Named(&np.namespace), Some(&np.pod_selector))
    }

    /// The peers a rule of a NetworkPolicy selects.
    pub(crate) fn np_rule_peers(&self, np: &'a NetworkPolicy, rule: &'a NpRule) -> Peers<'a> {
        if rule.peers.is_empty() {
            return Peers::All;
        }
        let index = self.index();
        let mut workloads = WorkloadSet::default();
        let mut blocks = Vec::new();
        for peer in &rule.peers {
            match peer {
                NpPeer::IpBlock(block) => blocks.push(block),
                NpPeer::Selectors {
                    namespace,
                    pod: sel,
                } => {
                    let scope = match namespace {
                        None => Scope::Named(&np.namespace),
                        Some(s) => Scope::Matching(s),
                    };
                    workloads.extend(index.select(scope, sel.as_ref()).into_iter().filter(|&w| {
                        let pod = self.workloads[w];
                        !pod.fake || self.namespaces.contains_key(pod.namespace.as_str())
                    }));
                }
                NpPeer::Invalid => {}
            }
        }
        Peers::Listed { workloads, blocks }
    }

    /// All connections allowed from `src` to `dst`; `trace` collects the deciding rules.
    pub fn allowed(&self, src: &Peer, dst: &Peer, mut trace: Option<&mut Vec<Step>>) -> ConnSet {
        let egress = self.xgress(src, dst, false, trace.as_deref_mut());
        if egress.is_empty() {
            return egress;
        }
        let ingress = self.xgress(src, dst, true, trace);
        egress.intersect(&ingress)
    }

    fn xgress(
        &self,
        src: &Peer,
        dst: &Peer,
        ingress: bool,
        mut trace: Option<&mut Vec<Step>>,
    ) -> ConnSet {
        let selected = if ingress { dst } else { src };
        let other = if ingress { src } else { dst };
        let Peer::Workload(pod) = *selected else {
            return ConnSet::all();
        };
        let selecting = self.selecting(pod);
        let mut allowed = ConnSet::none();
        let mut denied = ConnSet::none();
        let mut pass = ConnSet::none();
        for &i in &selecting.admin {
            let anp = &self.input.admin[i];
            let rules = if ingress { &anp.ingress } else { &anp.egress };
            if rules.is_empty() {
                continue;
            }
            let (a, d, p) = self.admin_conns(
                anp,
                &self.admin_rules[i],
                other,
                dst,
                ingress,
                trace.as_deref_mut(),
            );
            let new_d = d.subtract(&allowed).subtract(&pass);
            let new_a = a.subtract(&denied).subtract(&pass);
            let new_p = p.subtract(&denied).subtract(&allowed);
            denied = denied.union(&new_d);
            allowed = allowed.union(&new_a);
            pass = pass.union(&new_p);
        }
        if allowed.union(&denied).is_all() {
            return allowed;
        }
        let policies = if ingress {
            &selecting.ingress
        } else {
            &selecting.egress
        };
        if !policies.is_empty() {
            let mut np_allowed = ConnSet::none();
            for &p in policies {
                np_allowed.union_with(&self.np_conns(p, other, dst, ingress, trace.as_deref_mut()));
            }
            np_allowed.subtract_with(&denied);
            np_allowed.union_with(&allowed);
            return np_allowed;
        }
        if let Some(banp) = &self.input.baseline {
            let rules = if ingress { &banp.ingress } else { &banp.egress };
            if !rules.is_empty() && selecting.baseline {
                let (_, d, _) =
                    self.admin_conns(banp, &self.baseline_rules, other, dst, ingress, trace);
                denied = denied.union(&d.subtract(&allowed));
            }
        }
        let mut conns = ConnSet::all();
        conns.subtract_with(&denied);
        conns
    }

    fn admin_conns(
        &self,
        policy: &'a AdminPolicy,
        cells: &RuleCells<'a>,
        other: &Peer,
        dst: &Peer,
        ingress: bool,
        mut trace: Option<&mut Vec<Step>>,
    ) -> (ConnSet, ConnSet, ConnSet) {
        let rules = if ingress {
            &policy.ingress
        } else {
            &policy.egress
        };
        let mut allowed = ConnSet::none();
        let mut denied = ConnSet::none();
        let mut pass = ConnSet::none();
        let dst_pod = self.workload(dst);
        for (rule, cell) in rules.iter().zip(cells.direction(ingress)) {
            let Some(action) = rule.action else { continue };
            if policy.baseline && action == Action::Pass {
                continue;
            }
            let selection = cell.get_or_init(|| self.admin_rule_selection(rule, ingress));
            if !selection.peers.selects(other) {
                continue;
            }
            let computed;
            let conns = match &selection.conns {
                Some(conns) => conns,
                None => {
                    computed = admin_rule_conns(rule, dst_pod);
                    &computed
                }
            };
            let (target, minus1, minus2) = match action {
                Action::Allow => (&mut allowed, &denied, &pass),
                Action::Deny => (&mut denied, &allowed, &pass),
                Action::Pass => (&mut pass, &allowed, &denied),
            };
            let add = conns.subtract(minus1).subtract(minus2);
            *target = target.union(&add);
            if let Some(t) = trace.as_deref_mut() {
                if !add.is_empty() {
                    t.push(Step {
                        policy: policy.full_name(),
                        rule: rule.name.clone(),
                        ingress,
                        verdict: match action {
                            Action::Allow => Verdict::Allow,
                            Action::Deny => Verdict::Deny,
                            Action::Pass => Verdict::Pass,
                        },
                        conns: add,
                    });
                }
            }
        }
        (allowed, denied, pass)
    }

    fn admin_rule_selection(&self, rule: &'a AdminRule, ingress: bool) -> RuleSelection<'a> {
        let index = self.index();
        let mut workloads = WorkloadSet::default();
        let mut blocks = Vec::new();
        for peer in &rule.peers {
            match peer {
                AdminPeer::Networks(nets) if !ingress => blocks.extend(nets),
                AdminPeer::Namespaces(sel) => {
                    workloads.extend(index.select(Scope::Matching(sel), None));
                }
                AdminPeer::Pods {
                    namespace,
                    pod: sel,
                } => workloads.extend(index.select(Scope::Matching(namespace), Some(sel))),
                _ => {}
            }
        }
        let named = rule
            .ports
            .iter()
            .flatten()
            .any(|p| matches!(p, AdminPort::Named(_)));
        RuleSelection {
            peers: Peers::Listed { workloads, blocks },
            conns: (!named).then(|| admin_rule_conns(rule, None)),
        }
    }

    fn np_conns(
        &self,
        policy: usize,
        other: &Peer,
        dst: &Peer,
        ingress: bool,
        mut trace: Option<&mut Vec<Step>>,
    ) -> ConnSet {
        let np = &self.input.policies[policy];
        let rules = if ingress { &np.ingress } else { &np.egress };
        let dst_pod = self.workload(dst);
        let mut res = ConnSet::none();
        for (idx, rule) in rules.iter().enumerate() {
            let selection = self.policy_rule(policy, ingress, idx);
            if !selection.peers.selects(other) {
                continue;
            }
            let computed;
            let conns = match &selection.conns {
                Some(conns) => conns,
                None => {
                    computed = np_rule_conns(rule, dst_pod);
                    &computed
                }
            };
            if let Some(t) = trace.as_deref_mut() {
                t.push(Step {
                    policy: np.full_name(),
                    rule: format!(
                        "{} rule #{}",
                        if ingress { "Ingress" } else { "Egress" },
                        idx + 1
                    ),
                    ingress,
                    verdict: Verdict::Allow,
                    conns: conns.clone(),
                });
            }
            res.union_with(conns);
            if res.is_all() {
                return res;
            }
        }
        if let Some(t) = trace {
            if res.is_empty() {
                t.push(Step {
                    policy: np.full_name(),
                    rule: String::new(),
                    ingress,
                    verdict: Verdict::Isolate,
                    conns: ConnSet::none(),
                });
            }
        }
        res
    }
}

/// Whether a NetworkPolicy isolates the workload in the given direction.
fn np_selects(np: &NetworkPolicy, workload: &Workload, ingress: bool) -> bool {
    if workload.namespace != np.namespace {
        return false;
    }
    let affects = if ingress {
        np.affects_ingress
    } else {
        np.affects_egress
    };
    affects && np.pod_selector.matches(&workload.labels)
}

fn subject_selects(subject: &AdminPeer, pod: &PodRef<'_>) -> bool {
    let ns_labels = pod.namespace.map(|n| &n.labels);
    match subject {
        AdminPeer::Namespaces(sel) => ns_labels.is_some_and(|l| sel.matches(l)),
        AdminPeer::Pods {
            namespace,
            pod: sel,
        } => ns_labels.is_some_and(|l| namespace.matches(l)) && sel.matches(&pod.workload.labels),
        _ => false,
    }
}

fn valid_range(lo: i64, hi: i64) -> Option<(u64, u64)> {
    let (lo, hi) = (u64::try_from(lo).ok()?, u64::try_from(hi).ok()?);
    (lo >= MIN_PORT && hi <= MAX_PORT && lo <= hi).then_some((lo, hi))
}

/// Connections a NetworkPolicy rule allows towards `dst` (named ports resolved on it).
pub fn np_rule_conns(rule: &NpRule, dst: Option<&Workload>) -> ConnSet {
    if rule.ports.is_empty() {
        return ConnSet::all();
    }
    let mut res = ConnSet::none();
    for port in &rule.ports {
        let add = match &port.port {
            None => ConnSet::single(port.protocol, MIN_PORT, MAX_PORT),
            Some(PortSpec::Number(n)) => match valid_range(*n, port.end_port.unwrap_or(*n)) {
                Some((lo, hi)) => ConnSet::single(port.protocol, lo, hi),
                None => ConnSet::none(),
            },
            Some(PortSpec::Name(name)) => match dst.and_then(|d| d.named_port(name)) {
                Some((proto, n)) if proto == port.protocol && port.end_port.is_none() => {
                    ConnSet::single(proto, n, n)
                }
                _ => ConnSet::none(),
            },
        };
        res = res.union(&add);
    }
    res
}

fn admin_rule_conns(rule: &AdminRule, dst: Option<&Workload>) -> ConnSet {
    let Some(ports) = &rule.ports else {
        return ConnSet::all();
    };
    let mut res = ConnSet::none();
    for port in ports {
        let add = match port {
            AdminPort::Number(p, n) => match valid_range(*n, *n) {
                Some((lo, hi)) => ConnSet::single(*p, lo, hi),
                None => ConnSet::none(),
            },
            AdminPort::Range(p, s, e) => match valid_range(*s, *e) {
                Some((lo, hi)) => ConnSet::single(*p, lo, hi),
                None => ConnSet::none(),
            },
            AdminPort::Named(name) => match dst.and_then(|d| d.named_port(name)) {
                Some((proto, n)) => ConnSet::single(proto, n, n),
                None => ConnSet::none(),
            },
            AdminPort::Invalid => ConnSet::none(),
        };
        res = res.union(&add);
    }
    res
}

/// The address blocks policies reference as sources (`ingress`) or destinations.
pub fn referenced_blocks(input: &Input, ingress: bool) -> Vec<IntervalSet> {
    let mut out = Vec::new();
    for np in &input.policies {
        let rules = if ingress { &np.ingress } else { &np.egress };
        for rule in rules {
            for peer in &rule.peers {
                if let NpPeer::IpBlock(block) = peer {
                    out.push(block.clone());
                }
            }
        }
    }
    if !ingress {
        for anp in input.admin.iter().chain(input.baseline.as_ref()) {
            for rule in &anp.egress {
                for peer in &rule.peers {
                    if let AdminPeer::Networks(nets) = peer {
                        out.extend(nets.iter().cloned());
                    }
                }
            }
        }
    }
    out
}
