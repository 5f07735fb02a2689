//! The `list` command: every allowed connection between workloads and external ranges,
//! and its renderings (txt, json, csv, md, dot) byte-compatible with netpol-analyzer.

use std::collections::{BTreeMap, HashSet};

use crate::engine::{referenced_blocks, Cluster, Peer, INGRESS_CONTROLLER};
use crate::model::{Input, PortSpec};
use crate::sets::{ip_atoms, ConnSet, Protocol};

/// Direction restriction for `--focus-direction`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    #[default]
    Both,
    Ingress,
    Egress,
}

/// Options of the `list` command.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    /// `--focus-workload` (names or `ns/name`).
    pub focus_workloads: Vec<String>,
    /// `--focus-workload-peer` (only with focus workloads).
    pub focus_workload_peers: Vec<String>,
    pub focus_direction: Direction,
    /// `--focus-conn`: only this protocol and port.
    pub focus_conn: Option<(Protocol, u16)>,
}

impl ListOptions {
    /// Parses a `--focus-conn` value such as `tcp-8080`.
    pub fn parse_focus_conn(text: &str) -> Option<(Protocol, u16)> {
        let (proto, port) = text.split_once('-')?;
        let port: u16 = port.parse().ok()?;
        (port >= 1).then_some(())?;
        Some((Protocol::parse(proto)?, port))
    }
}

/// One line of the list: `src => dst : conn`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub src: String,
    pub dst: String,
    pub conns: ConnSet,
}

/// The result of `list`.
#[derive(Clone, Debug, Default)]
pub struct ConnList {
    /// Sorted by source, then destination.
    pub connections: Vec<Connection>,
    /// The focus connection, when `--focus-conn` was given (rendered without conn column).
    pub focus_conn: Option<ConnSet>,
    /// Workload strings (`ns/name[Kind]`) shown in the graph (dot).
    pub peers: Vec<String>,
    pub warnings: Vec<String>,
}

/// Output formats of `list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Txt,
    Json,
    Csv,
    Md,
    Dot,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "txt" => Some(Format::Txt),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "md" => Some(Format::Md),
            "dot" => Some(Format::Dot),
            _ => None,
        }
    }
}

fn is_focus(cluster: &Cluster<'_>, peer: &Peer, list: &[String]) -> bool {
    if list.is_empty() {
        return true;
    }
    match peer {
        Peer::Workload(i) => {
            let w = cluster.workloads()[*i];
            list.iter().any(|f| {
                *f == w.name
                    || f.strip_prefix(w.namespace.as_str())
                        .and_then(|rest| rest.strip_prefix('/'))
                        == Some(w.name.as_str())
            })
        }
        Peer::Ip(_) => false,
    }
}

/// The peers with their names.
fn named(cluster: &Cluster<'_>, peers: impl Iterator<Item = Peer>) -> Vec<(Peer, String)> {
    peers
        .map(|p| {
            let name = cluster.peer_string(&p);
            (p, name)
        })
        .collect()
}

/// Whether the pair is listed; the names are those of [`Cluster::peer_string`].
fn include_pair(
    cluster: &Cluster<'_>,
    opts: &ListOptions,
    (src, src_name): (&Peer, &str),
    (dst, dst_name): (&Peer, &str),
) -> bool {
    if matches!((src, dst), (Peer::Ip(_), Peer::Ip(_))) || src_name == dst_name {
        return false;
    }
    let focus = &opts.focus_workloads;
    match opts.focus_direction {
        Direction::Ingress if !is_focus(cluster, dst, focus) => return false,
        Direction::Egress if !is_focus(cluster, src, focus) => return false,
        _ => {}
    }
    let peer_ok = |p: &Peer| focus.is_empty() || is_focus(cluster, p, &opts.focus_workload_peers);
    (is_focus(cluster, src, focus) && peer_ok(dst))
        || (is_focus(cluster, dst, focus) && peer_ok(src))
}

/// Computes the connectivity list of the input.
pub fn connlist(input: &Input, opts: &ListOptions) -> ConnList {
    let mut out = ConnList::default();
    let focus_set = opts
        .focus_conn
        .map(|(p, port)| ConnSet::single(p, u64::from(port), u64::from(port)));
    out.focus_conn = focus_set.clone();
    if input.workloads.is_empty() {
        return out;
    }
    let mut cluster = Cluster::new(input);
    let workloads: Vec<Peer> = (0..cluster.workloads().len()).map(Peer::Workload).collect();
    let src_ips: Vec<Peer> = ip_atoms(&referenced_blocks(input, true))
        .into_iter()
        .map(Peer::Ip)
        .collect();
    let dst_ips: Vec<Peer> = ip_atoms(&referenced_blocks(input, false))
        .into_iter()
        .map(Peer::Ip)
        .collect();
    for w in &workloads {
        if is_focus(&cluster, w, &opts.focus_workloads)
            || (!opts.focus_workload_peers.is_empty()
                && is_focus(&cluster, w, &opts.focus_workload_peers))
        {
            out.peers.push(cluster.peer_string(w));
        }
    }
    let ingress = ingress_targets(&cluster);
    let exists = |list: &[String], cluster: &Cluster<'_>| {
        list.is_empty()
            || list.iter().any(|f| {
                (f == INGRESS_CONTROLLER && !ingress.is_empty())
                    || workloads
                        .iter()
                        .any(|w| is_focus(cluster, w, std::slice::from_ref(f)))
            })
    };
    if !exists(&opts.focus_workloads, &cluster)
        || (!opts.focus_workloads.is_empty() && !exists(&opts.focus_workload_peers, &cluster))
    {
        out.warnings
            .push("no focus workload exists in the input".to_owned());
        return out;
    }
    let mut lines = Vec::new();
    let push = |src: String, dst: String, conns: ConnSet, lines: &mut Vec<Connection>| {
        if conns.is_empty() {
            return;
        }
        let conns = match &focus_set {
            Some(f) if f.is_subset(&conns) => f.clone(),
            Some(_) => return,
            None => conns,
        };
        lines.push(Connection { src, dst, conns });
    };
    let srcs = named(
        &cluster,
        src_ips.into_iter().chain(workloads.iter().cloned()),
    );
    let dsts = named(
        &cluster,
        dst_ips.into_iter().chain(workloads.iter().cloned()),
    );
    for (src, src_name) in &srcs {
        for (dst, dst_name) in &dsts {
            if !include_pair(&cluster, opts, (src, src_name), (dst, dst_name)) {
                continue;
            }
            let conns = cluster.allowed(src, dst, None);
            push(src_name.clone(), dst_name.clone(), conns, &mut lines);
        }
    }
    if !ingress.is_empty() {
        let controller = cluster.add_ingress_controller();
        let controller_name = cluster.peer_string(&controller);
        for (idx, conns) in ingress {
            let dst = Peer::Workload(idx);
            let dst_name = cluster.peer_string(&dst);
            if !include_pair(
                &cluster,
                opts,
                (&controller, &controller_name),
                (&dst, &dst_name),
            ) {
                continue;
            }
            let allowed = cluster.allowed(&controller, &dst, None);
            push(
                controller_name.clone(),
                dst_name,
                conns.intersect(&allowed),
                &mut lines,
            );
        }
    }
    lines.sort_by(|a, b| (&a.src, &a.dst).cmp(&(&b.src, &b.dst)));
    out.connections = lines;
    out
}

/// Workloads exposed through Ingress/Route objects, with the TCP ports exposed.
fn ingress_targets(cluster: &Cluster<'_>) -> BTreeMap<usize, ConnSet> {
    let input = cluster.input;
    let mut res: BTreeMap<usize, ConnSet> = BTreeMap::new();
    let services: Vec<(&crate::model::Service, Vec<usize>)> = input
        .services
        .iter()
        .filter_map(|svc| {
            let sel = svc.selector.as_ref()?;
            let peers: Vec<usize> = cluster
                .workloads()
                .iter()
                .enumerate()
                .filter(|(_, w)| {
                    w.namespace == svc.namespace
                        && sel.iter().all(|(k, v)| w.labels.get(k) == Some(v))
                })
                .map(|(i, _)| i)
                .collect();
            (!peers.is_empty()).then_some((svc, peers))
        })
        .collect();
    if services.is_empty() {
        return res;
    }
    for ing in &input.ingresses {
        for (svc_name, required) in &ing.backends {
            let Some((svc, peers)) = services
                .iter()
                .find(|(s, _)| s.namespace == ing.namespace && s.name == *svc_name)
            else {
                continue;
            };
            let mut targets: Vec<PortSpec> = Vec::new();
            for sp in &svc.ports {
                let access = sp.target.clone().unwrap_or(PortSpec::Number(sp.port));
                match required {
                    None => targets.push(access),
                    Some(req) => {
                        let hit = match req {
                            PortSpec::Name(n) => !sp.name.is_empty() && sp.name == *n,
                            PortSpec::Number(n) => sp.port == *n,
                        } || sp.target.as_ref() == Some(req);
                        if hit {
                            targets.push(access);
                            break;
                        }
                    }
                }
            }
            for &peer in peers {
                let w = cluster.workloads()[peer];
                let mut conns = ConnSet::none();
                for t in &targets {
                    let num = match t {
                        PortSpec::Number(n) => u64::try_from(*n).ok(),
                        PortSpec::Name(name) => match w.named_port(name) {
                            Some((Protocol::Tcp, n)) => Some(n),
                            _ => None,
                        },
                    };
                    if let Some(num) = num {
                        if w.ports.iter().any(|p| p.port == num) {
                            conns = conns.union(&ConnSet::single(Protocol::Tcp, num, num));
                        }
                    }
                }
                let entry = res.entry(peer).or_default();
                *entry = entry.union(&conns);
            }
        }
    }
    res
}

fn csv_field(field: &str) -> String {
    let needs = field.contains([',', '"', '\r', '\n']) || field.starts_with([' ', '\t']);
    if needs {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders the list in the given format, as netpol-analyzer prints it.
pub fn render(list: &ConnList, format: Format) -> String {
    let focus = list.focus_conn.as_ref();
    let conns = &list.connections;
    match format {
        Format::Txt => {
            let mut out = String::new();
            if let Some(f) = focus {
                out.push_str(&format!("Permitted connections on {f}:\n"));
                for c in conns {
                    out.push_str(&format!("{} => {}\n", c.src, c.dst));
                }
            } else {
                for c in conns {
                    out.push_str(&format!("{} => {} : {}\n", c.src, c.dst, c.conns));
                }
            }
            out
        }
        Format::Json => {
            if conns.is_empty() {
                return "[]".to_owned();
            }
            let items: Vec<String> = conns
                .iter()
                .map(|c| {
                    let mut item = format!(
                        "  {{\n    \"src\": {},\n    \"dst\": {}",
                        json_string(&c.src),
                        json_string(&c.dst)
                    );
                    if focus.is_none() {
                        item.push_str(&format!(
                            ",\n    \"conn\": {}",
                            json_string(&c.conns.to_string())
                        ));
                    }
                    item.push_str("\n  }");
                    item
                })
                .collect();
            format!("[\n{}\n]", items.join(",\n"))
        }
        Format::Csv => {
            let mut out = String::new();
            out.push_str(if focus.is_some() {
                "src,dst\n"
            } else {
                "src,dst,conn\n"
            });
            for c in conns {
                let mut row = vec![csv_field(&c.src), csv_field(&c.dst)];
                if focus.is_none() {
                    row.push(csv_field(&c.conns.to_string()));
                }
                out.push_str(&row.join(","));
                out.push('\n');
            }
            out
        }
        Format::Md => {
            let mut out = String::new();
            if focus.is_some() {
                out.push_str("| src | dst |\n|-----|-----|");
            } else {
                out.push_str("| src | dst | conn |\n|-----|-----|------|");
            }
            for c in conns {
                if focus.is_some() {
                    out.push_str(&format!("\n| {} | {} |", c.src, c.dst));
                } else {
                    out.push_str(&format!("\n| {} | {} | {} |", c.src, c.dst, c.conns));
                }
            }
            out
        }
        Format::Dot => render_dot(list),
    }
}

fn render_dot(list: &ConnList) -> String {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut externals: Vec<String> = Vec::new();
    let mut visited: HashSet<&str> = HashSet::new();
    let names: Vec<&str> = list
        .connections
        .iter()
        .flat_map(|c| [c.src.as_str(), c.dst.as_str()])
        .chain(list.peers.iter().map(String::as_str))
        .collect();
    for peer in names {
        if !visited.insert(peer) {
            continue;
        }
        if peer.ends_with("[External]") {
            externals.push(format!(
                "\t\"{peer}\" [label=\"{peer}\" color=\"red2\" fontcolor=\"red2\"]"
            ));
        } else if peer.starts_with('{') {
            externals.push(format!(
                "\t\"{peer}\" [label=\"{peer}\" color=\"blue\" fontcolor=\"blue\"]"
            ));
        } else if let Some((ns, label)) = peer.split_once('/') {
            groups
                .entry(format!("{ns}[namespace]"))
                .or_default()
                .push(format!(
                    "\t\t\"{peer}\" [label=\"{label}\" color=\"blue\" fontcolor=\"blue\"]"
                ));
        }
    }
    let mut lines = vec!["digraph {".to_owned()];
    for (ns, mut peers) in groups {
        peers.sort();
        lines.push(format!(
            "\tsubgraph \"cluster_{}\" {{",
            ns.replace('-', "_")
        ));
        lines.push("\t\tcolor=\"black\"".to_owned());
        lines.push("\t\tfontcolor=\"black\"".to_owned());
        lines.extend(peers);
        lines.push(format!("\t\tlabel=\"{ns}\""));
        lines.push("\t}".to_owned());
    }
    externals.sort();
    lines.extend(externals);
    let mut edges: Vec<String> = list
        .connections
        .iter()
        .map(|c| {
            let weight = if c.src <= c.dst { "0.5" } else { "1" };
            format!(
                "\t\"{}\" -> \"{}\" [label=\"{}\" color=\"gold2\" fontcolor=\"darkgreen\" weight={weight}]",
                c.src, c.dst, c.conns
            )
        })
        .collect();
    edges.sort();
    lines.extend(edges);
    lines.push("}".to_owned());
    lines.join("\n")
}
