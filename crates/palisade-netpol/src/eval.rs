//! Single-connection verdicts and per-pair explanations.

use crate::engine::{referenced_blocks, Cluster, Peer, Step, Verdict};
use crate::model::Input;
use crate::sets::{ip_atoms, ConnSet, Protocol};

/// The verdict on one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalResult {
    pub allowed: bool,
    /// Names of the policies whose rules decided it (sorted, unique); empty when only the
    /// system default applies.
    pub policies: Vec<String>,
    /// The rules that matched, in evaluation order.
    pub steps: Vec<Step>,
}

/// Why a connection could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// No workload with this `ns/name`.
    UnknownWorkload(String),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::UnknownWorkload(w) => write!(f, "workload {w} not found in the input"),
        }
    }
}

impl std::error::Error for EvalError {}

fn find(cluster: &Cluster<'_>, name: &str) -> Result<Peer, EvalError> {
    let (ns, wl) = name.split_once('/').unwrap_or(("default", name));
    cluster
        .workloads()
        .iter()
        .position(|w| w.namespace == ns && w.name == wl)
        .map(Peer::Workload)
        .ok_or_else(|| EvalError::UnknownWorkload(name.to_owned()))
}

/// Decides whether `source` may connect to `destination` (both `ns/name` of workloads) on
/// the protocol and port.
pub fn eval(
    input: &Input,
    source: &str,
    destination: &str,
    protocol: Protocol,
    port: u16,
) -> Result<EvalResult, EvalError> {
    let cluster = Cluster::new(input);
    let src = find(&cluster, source)?;
    let dst = find(&cluster, destination)?;
    let mut steps = Vec::new();
    let allowed = cluster.allowed(&src, &dst, Some(&mut steps));
    let port = u64::from(port);
    let allowed = allowed.contains(protocol, port);
    // An allowed connection is explained by the rules covering it; a denied one by the
    // policies that isolate the pod, the rules denying it and the rules allowing only other
    // connections.
    steps.retain(|s| match s.verdict {
        Verdict::Isolate => true,
        Verdict::Allow if !allowed => true,
        _ => s.conns.contains(protocol, port),
    });
    let mut policies: Vec<String> = steps.iter().map(|s| s.policy.clone()).collect();
    policies.sort();
    policies.dedup();
    Ok(EvalResult {
        allowed,
        policies,
        steps,
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
