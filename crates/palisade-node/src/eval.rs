//! Evaluating one check on a node, with kube-bench's comparisons and outcomes.

use serde_json::Value;

use crate::checks::{BinOp, Check, Compare, Item, Op, Target, Test};
use crate::discover::Node;
use crate::{CheckResult, Component, Location, Observation, Outcome, Section, Unchecked};

pub fn run(check: &'static Check, node: &Node) -> CheckResult {
    let mut result = CheckResult {
        id: check.id,
        section: check.section,
        outcome: Outcome::Pass,
        observations: Vec::new(),
        unchecked: None,
    };
    if let Some(reason) = not_here(check, node) {
        result.outcome = Outcome::Info;
        result.unchecked = Some(reason);
        return result;
    }
    let tested = match &check.test {
        Test::Manual => Err(Unchecked {
            location: Location::file(node.display("/")),
            reason: "a manual check: review it by hand".to_owned(),
        }),
        Test::Mode { target, mask } => files(node, *target, false, |path, stat| {
            let ok = stat.mode & !mask == 0;
            let message = format!(
                "{} has mode {:o}, expected {:o} or stricter",
                path, stat.mode, mask
            );
            (ok, message)
        }),
        Test::Owner {
            target,
            owner,
            missing_ok,
        } => files(node, *target, *missing_ok, |path, stat| {
            let ok = stat.owner == *owner;
            (
                ok,
                format!("{path} is owned by {}, expected {owner}", stat.owner),
            )
        }),
        Test::Flags {
            component,
            op,
            items,
        } => flags(node, *component, *op, items),
        Test::EncryptionProviders { allowed } => providers(node, allowed),
    };
    match tested {
        Ok((passed, observations)) => {
            result.observations = observations;
            result.outcome = match (passed, check.scored) {
                (true, _) => Outcome::Pass,
                (false, true) => Outcome::Fail,
                (false, false) => Outcome::Warn,
            };
        }
        Err(unchecked) => {
            result.outcome = Outcome::Warn;
            result.unchecked = Some(unchecked);
        }
    }
    result
}

/// Why a check does not apply to this node: its component does not run here.
fn not_here(check: &Check, node: &Node) -> Option<Unchecked> {
    let present = |c: Component| node.components.get(&c).is_some_and(|f| f.present);
    let control_plane = [
        Component::Apiserver,
        Component::ControllerManager,
        Component::Scheduler,
    ]
    .into_iter()
    .any(present);
    let etcd_check = matches!(
        check.test,
        Test::Mode {
            target: Target::ComponentConf(Component::Etcd) | Target::EtcdDataDir,
            ..
        } | Test::Owner {
            target: Target::ComponentConf(Component::Etcd) | Target::EtcdDataDir,
            ..
        }
    );
    let (applies, what) = match check.section {
        Section::Etcd => (present(Component::Etcd), "etcd"),
        _ if etcd_check => (present(Component::Etcd), "etcd"),
        Section::Master | Section::ControlPlane => (control_plane, "the control plane"),
        Section::Node => (present(Component::Kubelet), "the kubelet"),
    };
    (!applies).then(|| Unchecked {
        location: Location::file(node.display("/")),
        reason: format!("{what} does not run on this node"),
    })
}

type Tested = Result<(bool, Vec<Observation>), Unchecked>;

/// A mode or owner test of each file of a target.
fn files(
    node: &Node,
    target: Target,
    missing_ok: bool,
    test: impl Fn(&str, &crate::discover::Stat) -> (bool, String),
) -> Tested {
    let paths = match node.targets(target) {
        Ok(paths) => paths,
        Err(unchecked) if missing_ok => {
            let observation = Observation {
                location: unchecked.location,
                message: format!("{} (a missing file passes)", unchecked.reason),
                ok: true,
            };
            return Ok((true, vec![observation]));
        }
        Err(unchecked) => return Err(unchecked),
    };
    let mut observations = Vec::new();
    for path in &paths {
        let display = node.display(path);
        match node.stat(path) {
            Ok(stat) => {
                let (ok, message) = test(&display, &stat);
                observations.push(Observation {
                    location: Location::file(&display),
                    message,
                    ok,
                });
            }
            Err(reason) => {
                // One unreadable file among many leaves the others tested; alone, nothing is.
                if paths.len() == 1 {
                    return Err(Unchecked {
                        location: Location::file(&display),
                        reason: format!("cannot read {display}: {reason}"),
                    });
                }
                observations.push(Observation {
                    location: Location::file(&display),
                    message: format!("cannot read {display}: {reason}"),
                    ok: false,
                });
            }
        }
    }
    let passed = observations.iter().all(|o| o.ok);
    Ok((passed, observations))
}

/// A setting's value and where it is written.
struct Setting {
    value: String,
    /// How it is written: `--flag=value` or `field: value`.
    written: String,
    location: Location,
}

/// The flags of a component, and its configuration file for the kubelet and kube-proxy.
fn flags(node: &Node, component: Component, op: BinOp, items: &[Item]) -> Tested {
    let found = node.components.get(&component);
    let flags = match found.and_then(|f| f.flags.as_ref()) {
        Some(Ok(flags)) => flags,
        Some(Err(unchecked)) => return Err(unchecked.clone()),
        None => {
            return Err(Unchecked {
                location: Location::file(node.display("/")),
                reason: format!(
                    "{} not found: no configuration file or process of it on this node",
                    component.binary()
                ),
            })
        }
    };
    let config = match component {
        Component::Kubelet => node.kubelet_config.as_ref(),
        Component::Proxy => node.proxy_config.as_ref(),
        _ => None,
    };
    let config = match config {
        Some(Err(unchecked)) if items.iter().any(|i| !i.path.is_empty()) => {
            // The flags may still decide: a flag overrides the file.
            if items.iter().all(|i| flags_value(flags, i).is_none()) {
                return Err(unchecked.clone());
            }
            None
        }
        Some(Ok(config)) => Some(config),
        _ => None,
    };
    let lookup = |item: &Item| -> Option<Setting> {
        if let Some(setting) = flags_value(flags, item) {
            return Some(setting);
        }
        let config = config?;
        if item.path.is_empty() {
            return None;
        }
        let pointer: String = item.path.iter().map(|k| format!("/{k}")).collect();
        let value = config.object.value.pointer(&pointer)?;
        let text = scalar(value);
        let location = Location::new(&config.object.source.path, config.object.locate(&pointer));
        Some(Setting {
            written: format!("{}: {text}", item.path.join(".")),
            value: text,
            location,
        })
    };
    let missing_at = |item: &Item| -> Location {
        match config {
            Some(config) if !item.path.is_empty() => {
                let pointer: String = item.path.iter().map(|k| format!("/{k}")).collect();
                let pos = config.object.locate(&pointer);
                Location::new(&config.object.source.path, pos)
            }
            _ => flags.anchor.clone(),
        }
    };
    let results: Vec<(bool, Option<Setting>)> = items
        .iter()
        .map(|item| {
            let setting = lookup(item);
            (item_holds(item, setting.as_ref()), setting)
        })
        .collect();
    let passed = match op {
        BinOp::And => results.iter().all(|(ok, _)| *ok),
        BinOp::Or => results.iter().any(|(ok, _)| *ok),
    };
    // One observation per setting the check reads, holding when the check holds for it.
    let mut observations: Vec<Observation> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (item, (_, setting)) in items.iter().zip(&results) {
        if seen.contains(&item.flag) {
            continue;
        }
        seen.push(item.flag);
        let same: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].flag == item.flag)
            .collect();
        let ok = match op {
            BinOp::And => same.iter().all(|&i| results[i].0),
            BinOp::Or => passed,
        };
        let expected = expectation(same.iter().map(|&i| &items[i]));
        let observation = match setting {
            Some(setting) => Observation {
                location: setting.location.clone(),
                message: format!("{}; expected {expected}", setting.written),
                ok,
            },
            None => {
                let also = if item.path.is_empty() || config.is_none() {
                    String::new()
                } else {
                    format!(
                        " and `{}` is not in the configuration file",
                        item.path.join(".")
                    )
                };
                Observation {
                    location: missing_at(item),
                    message: format!(
                        "{} is not set{also}; expected {expected}",
                        display_flag(item)
                    ),
                    ok,
                }
            }
        };
        observations.push(observation);
    }
    Ok((passed, observations))
}

fn display_flag(item: &Item) -> String {
    if item.flag.starts_with('-') {
        item.flag.to_owned()
    } else {
        format!("the feature gate {}", item.flag)
    }
}

/// A flag's value (the last of the flag given twice), a feature gate of `--feature-gates`, or
/// an environment variable.
fn flags_value(flags: &crate::Flags, item: &Item) -> Option<Setting> {
    if !item.flag.starts_with('-') {
        let gates = flags.get("--feature-gates")?;
        let value = gates.value.split(',').rev().find_map(|gate| {
            let (name, value) = gate.split_once('=')?;
            (name.trim() == item.flag).then(|| value.trim().to_owned())
        })?;
        return Some(Setting {
            written: format!("--feature-gates={}", gates.value),
            value,
            location: gates.location.clone(),
        });
    }
    if let Some(flag) = flags.get(item.flag) {
        return Some(Setting {
            written: format!("{}={}", flag.name, flag.value),
            value: flag.value.clone(),
            location: flag.location.clone(),
        });
    }
    let var = flags.env(item.env?)?;
    Some(Setting {
        written: format!("{}={}", var.name, var.value),
        value: var.value.clone(),
        location: var.location.clone(),
    })
}

/// A configuration value as kube-bench compares it: scalars as text, lists joined by commas.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(","),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether one test item holds for the setting found (or its absence).
fn item_holds(item: &Item, setting: Option<&Setting>) -> bool {
    match (item.set, setting, item.compare) {
        (Some(false), None, _) => true,
        (Some(false), Some(_), _) => false,
        (_, None, _) => false,
        (_, Some(_), None) => true,
        (_, Some(setting), Some(compare)) => compares(compare, &setting.value),
    }
}

/// kube-bench's comparison of a value.
pub(crate) fn compares(compare: Compare, value: &str) -> bool {
    let expected = compare.value;
    match compare.op {
        Op::Eq => value == expected || (is_zero(value) && is_zero(expected)),
        Op::NotEq => !(value == expected || (is_zero(value) && is_zero(expected))),
        Op::Gte => match (value.trim().parse::<f64>(), expected.parse::<f64>()) {
            (Ok(v), Ok(e)) => v >= e,
            _ => false,
        },
        Op::Has => value.contains(expected),
        Op::NotHave => !value.contains(expected),
        Op::ValidElements => {
            let allowed: Vec<&str> = expected.split(',').map(str::trim).collect();
            let elements: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .collect();
            !elements.is_empty() && elements.iter().all(|e| allowed.contains(e))
        }
    }
}

/// A zero number or duration (`0`, `0s`, `0m0s`).
fn is_zero(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty()
        && value
            .chars()
            .all(|c| c == '0' || c == '.' || "hms".contains(c))
        && value.starts_with('0')
}

/// What the items on one setting expect, in words.
fn expectation<'i>(items: impl Iterator<Item = &'i Item>) -> String {
    let words: Vec<String> = items
        .map(|item| match (item.set, item.compare) {
            (Some(false), _) => "not set".to_owned(),
            (_, None) => "set".to_owned(),
            (_, Some(c)) => match c.op {
                Op::Eq => c.value.to_owned(),
                Op::NotEq => format!("not {}", c.value),
                Op::Gte => format!("{} or more", c.value),
                Op::Has => format!("to include {}", c.value),
                Op::NotHave => format!("not to include {}", c.value),
                Op::ValidElements => format!("only of {}", c.value),
            },
        })
        .collect();
    words.join(" or ")
}

/// The first provider of each resource of the `EncryptionConfiguration`.
fn providers(node: &Node, allowed: &[&str]) -> Tested {
    let flags = match node.flags(Component::Apiserver) {
        Some(flags) => flags,
        None => {
            return Err(Unchecked {
                location: Location::file(node.display("/")),
                reason: "kube-apiserver's flags could not be read".to_owned(),
            })
        }
    };
    let object = match &node.encryption {
        None => {
            return Err(Unchecked {
                location: flags.anchor.clone(),
                reason: "--encryption-provider-config is not set, so there is no provider to check"
                    .to_owned(),
            })
        }
        Some(Err(unchecked)) => return Err(unchecked.clone()),
        Some(Ok(object)) => object,
    };
    let file = object.source.path.clone();
    let resources = object
        .value
        .get("resources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut observations = Vec::new();
    for (i, resource) in resources.iter().enumerate() {
        let pointer = format!("/resources/{i}/providers/0");
        let first = resource
            .pointer("/providers/0")
            .and_then(Value::as_object)
            .and_then(|p| p.keys().next().cloned());
        let (ok, message) = match first {
            Some(name) => (
                allowed.contains(&name.as_str()),
                format!(
                    "the first provider of resources[{i}] is {name}; expected one of {}",
                    allowed.join(", ")
                ),
            ),
            None => (false, format!("resources[{i}] lists no provider")),
        };
        observations.push(Observation {
            location: Location::new(&file, object.locate(&pointer)),
            message,
            ok,
        });
    }
    if observations.is_empty() {
        observations.push(Observation {
            location: Location::new(&file, object.locate("/resources")),
            message: "the encryption configuration lists no resources".to_owned(),
            ok: false,
        });
    }
    let passed = observations.iter().all(|o| o.ok);
    Ok((passed, observations))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(op: Op, value: &'static str) -> Compare {
        Compare { op, value }
    }

    #[test]
    fn comparisons_are_kube_bench_s() {
        assert!(compares(c(Op::Eq, "false"), "false"));
        assert!(!compares(c(Op::Eq, "false"), "true"));
        assert!(compares(c(Op::NotEq, "0"), "5m"));
        assert!(!compares(c(Op::NotEq, "0"), "0s"));
        assert!(compares(c(Op::Gte, "30"), "30"));
        assert!(!compares(c(Op::Gte, "30"), "7"));
        assert!(!compares(c(Op::Gte, "30"), "thirty"));
        assert!(compares(c(Op::Has, "Node"), "Node,RBAC"));
        assert!(compares(c(Op::NotHave, "AlwaysAllow"), "Node,RBAC"));
        assert!(!compares(c(Op::NotHave, "AlwaysAllow"), "AlwaysAllow"));
        assert!(compares(c(Op::ValidElements, "a,b,c"), "a,c"));
        assert!(!compares(c(Op::ValidElements, "a,b,c"), "a,d"));
        assert!(!compares(c(Op::ValidElements, "a,b,c"), ""));
    }
}
