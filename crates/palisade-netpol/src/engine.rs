//! Evaluation of the allowed connections between two peers, layer by layer:
//! AdminNetworkPolicies (by priority), NetworkPolicies, then the BaselineAdminNetworkPolicy
//! and the system default (allow).

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

/// The model plus the synthetic ingress controller, ready for evaluation.
#[derive(Clone, Debug)]
pub struct Cluster<'a> {
    pub input: &'a Input,
    pub workloads: Vec<Workload>,
    pub namespaces: std::collections::BTreeMap<String, Namespace>,
}

pub const INGRESS_CONTROLLER: &str = "ingress-controller";
pub const INGRESS_CONTROLLER_NS: &str = "ingress-controller-ns";

struct PodRef<'c> {
    workload: &'c Workload,
    namespace: Option<&'c Namespace>,
}

impl<'a> Cluster<'a> {
    pub fn new(input: &'a Input) -> Self {
        Cluster {
            input,
            workloads: input.workloads.clone(),
            namespaces: input.namespaces.clone(),
        }
    }

    /// Adds the synthetic ingress controller pod and returns its peer.
    pub fn add_ingress_controller(&mut self) -> Peer {
        self.workloads.push(Workload {
            namespace: INGRESS_CONTROLLER_NS.to_owned(),
            name: INGRESS_CONTROLLER.to_owned(),
            kind: "Pod".to_owned(),
            labels: Default::default(),
            ports: Vec::new(),
            object: usize::MAX,
            pointer: String::new(),
            fake: true,
        });
        self.namespaces
            .entry(INGRESS_CONTROLLER_NS.to_owned())
            .or_insert_with(|| Namespace {
                name: INGRESS_CONTROLLER_NS.to_owned(),
                labels: [(
                    crate::model::NS_NAME_LABEL.to_owned(),
                    INGRESS_CONTROLLER_NS.to_owned(),
                )]
                .into(),
            });
        Peer::Workload(self.workloads.len() - 1)
    }

    pub fn peer_string(&self, peer: &Peer) -> String {
        match peer {
            Peer::Workload(i) => self.workloads[*i].display(),
            Peer::Ip(set) => format!("{}[External]", crate::sets::ip_ranges_string(set)),
        }
    }

    fn pod(&self, peer: &Peer) -> Option<PodRef<'_>> {
        match peer {
            Peer::Workload(i) => {
                let workload = &self.workloads[*i];
                Some(PodRef {
                    workload,
                    namespace: self.namespaces.get(&workload.namespace),
                })
            }
            Peer::Ip(_) => None,
        }
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
        let Some(pod) = self.pod(selected) else {
            return ConnSet::all();
        };
        let mut allowed = ConnSet::none();
        let mut denied = ConnSet::none();
        let mut pass = ConnSet::none();
        for anp in &self.input.admin {
            let rules = if ingress { &anp.ingress } else { &anp.egress };
            if rules.is_empty() || !subject_selects(&anp.subject, &pod) {
                continue;
            }
            let (a, d, p) = self.admin_conns(anp, rules, other, dst, ingress, trace.as_deref_mut());
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
        let policies: Vec<&NetworkPolicy> = self
            .input
            .policies
            .iter()
            .filter(|np| np_selects(np, pod.workload, ingress))
            .collect();
        if !policies.is_empty() {
            let mut np_allowed = ConnSet::none();
            for np in policies {
                np_allowed =
                    np_allowed.union(&self.np_conns(np, other, dst, ingress, trace.as_deref_mut()));
            }
            return allowed.union(&np_allowed.subtract(&denied));
        }
        if let Some(banp) = &self.input.baseline {
            let rules = if ingress { &banp.ingress } else { &banp.egress };
            if !rules.is_empty() && subject_selects(&banp.subject, &pod) {
                let (_, d, _) = self.admin_conns(banp, rules, other, dst, ingress, trace);
                denied = denied.union(&d.subtract(&allowed));
            }
        }
        ConnSet::all().subtract(&denied)
    }

    fn admin_conns(
        &self,
        policy: &AdminPolicy,
        rules: &[AdminRule],
        other: &Peer,
        dst: &Peer,
        ingress: bool,
        mut trace: Option<&mut Vec<Step>>,
    ) -> (ConnSet, ConnSet, ConnSet) {
        let mut allowed = ConnSet::none();
        let mut denied = ConnSet::none();
        let mut pass = ConnSet::none();
        let other_pod = self.pod(other);
        let dst_pod = self.pod(dst);
        for rule in rules {
            let Some(action) = rule.action else { continue };
            if policy.baseline && action == Action::Pass {
                continue;
            }
            let selects = rule.peers.iter().any(|p| match (p, &other_pod, other) {
                (AdminPeer::Networks(nets), _, Peer::Ip(ip)) if !ingress => {
                    nets.iter().any(|n| ip.is_subset(n))
                }
                (AdminPeer::Namespaces(_) | AdminPeer::Pods { .. }, Some(pod), _) => {
                    subject_selects(p, pod)
                }
                _ => false,
            });
            if !selects {
                continue;
            }
            let conns = admin_rule_conns(rule, dst_pod.as_ref().map(|p| p.workload));
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

    fn np_conns(
        &self,
        np: &NetworkPolicy,
        other: &Peer,
        dst: &Peer,
        ingress: bool,
        mut trace: Option<&mut Vec<Step>>,
    ) -> ConnSet {
        let rules = if ingress { &np.ingress } else { &np.egress };
        let dst_pod = self.pod(dst).map(|p| p.workload);
        let mut res = ConnSet::none();
        for (idx, rule) in rules.iter().enumerate() {
            if !self.np_rule_selects(np, rule, other) {
                continue;
            }
            let conns = np_rule_conns(rule, dst_pod);
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
            res = res.union(&conns);
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

    pub(crate) fn np_rule_selects(&self, np: &NetworkPolicy, rule: &NpRule, peer: &Peer) -> bool {
        if rule.peers.is_empty() {
            return true;
        }
        let pod = self.pod(peer);
        rule.peers.iter().any(|p| match (p, &pod, peer) {
            (NpPeer::IpBlock(block), _, Peer::Ip(ip)) => ip.is_subset(block),
            (
                NpPeer::Selectors {
                    namespace,
                    pod: sel,
                },
                Some(pod),
                _,
            ) => {
                if pod.workload.fake && pod.namespace.is_none() {
                    return false;
                }
                let ns_ok = match namespace {
                    None => pod.workload.namespace == np.namespace,
                    Some(s) => pod.namespace.is_some_and(|n| s.matches(&n.labels)),
                };
                ns_ok && sel.as_ref().is_none_or(|s| s.matches(&pod.workload.labels))
            }
            _ => false,
        })
    }
}

/// Whether a NetworkPolicy isolates the workload in the given direction.
pub fn np_selects(np: &NetworkPolicy, workload: &Workload, ingress: bool) -> bool {
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
