//! Single-connection verdicts and per-pair explanations.

use crate::engine::{referenced_blocks, Cluster, Peer, Step, Verdict};
use crate::model::Input;
use crate::sets::{
    ip_atoms, ip_ranges_string, is_ipv6, parse_cidr, parse_ipv4, ConnSet, IntervalSet, Protocol,
};

/// The verdict on one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalResult {
    pub allowed: bool,
    /// Names of the policies whose rules decided it (sorted, unique); empty when only the
    /// system default applies.
    pub policies: Vec<String>,
    /// The rules that matched, in evaluation order.
    pub steps: Vec<Step>,
    /// When an end is an address range that policies' `ipBlock`s split into parts judged
    /// differently: each part (`a.b.c.d-w.x.y.z`) and whether it may connect. `allowed` is
    /// then false. Empty otherwise.
    pub ranges: Vec<(String, bool)>,
}

/// Why a connection could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// No workload with this `ns/name`.
    UnknownWorkload(String),
    /// An IPv6 address or range: the model covers IPv4 only.
    Ipv6(String),
    /// Both ends are addresses: policies judge connections of pods only.
    NoWorkload,
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::UnknownWorkload(w) => write!(
                f,
                "workload {w} not found in the input (give NS/NAME of a workload, an IPv4 \
                 address or a CIDR)"
            ),
            EvalError::Ipv6(a) => write!(f, "{a}: IPv6 addresses are not supported, only IPv4"),
            EvalError::NoWorkload => write!(
                f,
                "the source and the destination are both addresses: one must be a workload"
            ),
        }
    }
}

impl std::error::Error for EvalError {}

/// An IPv4 address or CIDR as the set of addresses it covers.
fn address(text: &str) -> Result<Option<IntervalSet>, EvalError> {
    if let Some(ip) = parse_ipv4(text) {
        return Ok(Some(IntervalSet::range(ip, ip)));
    }
    if let Some(range) = parse_cidr(text) {
        return Ok(Some(range));
    }
    if is_ipv6(text) {
        return Err(EvalError::Ipv6(text.to_owned()));
    }
    Ok(None)
}

/// The peers an end stands for: a workload (`ns/name`, or `name` in `default`), or the parts
/// of an address range that the `ipBlock`s of the input's rules (ingress ones for a source,
/// egress ones for a destination) tell apart.
fn find(
    cluster: &Cluster<'_>,
    input: &Input,
    name: &str,
    source: bool,
) -> Result<Vec<Peer>, EvalError> {
    if let Some(range) = address(name)? {
        return Ok(ip_atoms(&referenced_blocks(input, source))
            .into_iter()
            .map(|atom| atom.intersect(&range))
            .filter(|part| !part.is_empty())
            .map(Peer::Ip)
            .collect());
    }
    let (ns, wl) = name.split_once('/').unwrap_or(("default", name));
    cluster
        .workloads()
        .iter()
        .position(|w| w.namespace == ns && w.name == wl)
        .map(|i| vec![Peer::Workload(i)])
        .ok_or_else(|| EvalError::UnknownWorkload(name.to_owned()))
}

/// Decides whether `source` may connect to `destination` on the protocol and port. Each is
/// the `ns/name` of a workload, or (one of them) an IPv4 address or CIDR: a range is allowed
/// when every address in it is, and [`EvalResult::ranges`] says which parts are when only
/// some are.
pub fn eval(
    input: &Input,
    source: &str,
    destination: &str,
    protocol: Protocol,
    port: u16,
) -> Result<EvalResult, EvalError> {
    let cluster = Cluster::new(input);
    let srcs = find(&cluster, input, source, true)?;
    let dsts = find(&cluster, input, destination, false)?;
    if srcs.iter().chain(&dsts).all(|p| matches!(p, Peer::Ip(_))) {
        return Err(EvalError::NoWorkload);
    }
    let port = u64::from(port);
    let mut steps: Vec<Step> = Vec::new();
    let mut ranges = Vec::new();
    let mut all_allowed = true;
    for src in &srcs {
        for dst in &dsts {
            let mut trace = Vec::new();
            let allowed = cluster
                .allowed(src, dst, Some(&mut trace))
                .contains(protocol, port);
            // An allowed connection is explained by the rules that allow (or pass) it: none of
            // those that isolate the pod or deny other connections. A denied one by the
            // policies that isolate the pod, the rules denying it and the rules allowing only
            // other connections.
            trace.retain(|s| match s.verdict {
                Verdict::Allow | Verdict::Pass if allowed => s.conns.contains(protocol, port),
                _ if allowed => false,
                Verdict::Isolate | Verdict::Allow => true,
                _ => s.conns.contains(protocol, port),
            });
            all_allowed &= allowed;
            for step in trace {
                if !steps.contains(&step) {
                    steps.push(step);
                }
            }
            if let Peer::Ip(part) = if matches!(src, Peer::Ip(_)) { src } else { dst } {
                ranges.push((ip_ranges_string(part), allowed));
            }
        }
    }
    if ranges.len() == 1 {
        ranges.clear();
    }
    let mut policies: Vec<String> = steps.iter().map(|s| s.policy.clone()).collect();
    policies.sort();
    policies.dedup();
    Ok(EvalResult {
        allowed: all_allowed,
        policies,
        steps,
        ranges,
    })
}

/// For every pair of peers (workloads and external ranges), the allowed connections and the
/// rules that decide them. Pairs with only the system default are listed at the end.
pub fn explain(input: &Input) -> String {
    let cluster = Cluster::new(input);
    let workloads: Vec<Peer> = (0..cluster.workloads().len()).map(Peer::Workload).collect();
    let srcs: Vec<Peer> = ip_atoms(&referenced_blocks(input, true))
        .into_iter()
        .map(Peer::Ip)
        .chain(workloads.iter().cloned())
        .collect();
    let dsts: Vec<Peer> = ip_atoms(&referenced_blocks(input, false))
        .into_iter()
        .map(Peer::Ip)
        .chain(workloads.iter().cloned())
        .collect();
    let mut explained: Vec<(String, String, ConnSet, Vec<Step>)> = Vec::new();
    for s in &srcs {
        for d in &dsts {
            if matches!((s, d), (Peer::Ip(_), Peer::Ip(_))) {
                continue;
            }
            let (ss, ds) = (cluster.peer_string(s), cluster.peer_string(d));
            if ss == ds {
                continue;
            }
            let mut steps = Vec::new();
            let conns = cluster.allowed(s, d, Some(&mut steps));
            explained.push((ss, ds, conns, steps));
        }
    }
    explained.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut out = String::new();
    let mut defaults = Vec::new();
    for (s, d, conns, steps) in &explained {
        if steps.is_empty() {
            defaults.push(format!("{s} => {d}"));
            continue;
        }
        out.push_str(&format!("Connections between {s} => {d}: {conns}\n"));
        for step in steps {
            out.push_str(&format!("\t{}\n", step));
        }
        out.push('\n');
    }
    if !defaults.is_empty() {
        out.push_str("All Connections due to the system default (Allow all):\n");
        for line in defaults {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use palisade_core::{load_str, Limits};

    use super::*;

    const POLICIES: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: office, namespace: shop}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/24, except: [10.0.0.128/25]}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: nobody, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
";

    fn input() -> Input {
        Input::from_objects(&load_str(POLICIES, "np.yaml", &Limits::default()).objects)
    }

    #[test]
    fn addresses_and_ranges_are_peers() {
        let input = input();
        let at = |source: &str| eval(&input, source, "shop/web", Protocol::Tcp, 80).unwrap();
        let allowed = at("10.0.0.1");
        assert!(allowed.allowed);
        assert!(allowed.ranges.is_empty());
        // Only the rule that allows it: not `nobody`, which isolates the pod.
        assert_eq!(allowed.policies, ["NetworkPolicy 'shop/office'"]);
        assert!(allowed.steps.iter().all(|s| s.verdict == Verdict::Allow));
        assert!(!at("10.0.0.200").allowed);
        let partly = at("10.0.0.0/24");
        assert!(!partly.allowed);
        assert_eq!(
            partly.ranges,
            [
                ("10.0.0.0-10.0.0.127".to_owned(), true),
                ("10.0.0.128-10.0.0.255".to_owned(), false)
            ]
        );
        assert_eq!(
            eval(&input, "1.1.1.1", "2.2.2.2", Protocol::Tcp, 80),
            Err(EvalError::NoWorkload)
        );
        assert_eq!(
            eval(&input, "::1", "shop/web", Protocol::Tcp, 80),
            Err(EvalError::Ipv6("::1".to_owned()))
        );
    }
}
