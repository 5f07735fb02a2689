//! Command-line flags of a component, wherever they are written: a static pod manifest's
//! `command` and `args`, an arguments file (snap, `etcd.conf`), a process's `/proc/<pid>/cmdline`,
//! or a systemd unit with its drop-ins and environment files (the kubelet). Every flag keeps the
//! place it is written; a flag given twice counts once, with its last value, as the components'
//! flag parsing does.

use std::collections::HashMap;

use palisade_core::{Object, Pos};
use serde::Serialize;
use serde_json::Value;

use crate::Location;

/// One flag, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// The flag with its dashes, e.g. `--anonymous-auth`, or an environment variable's name.
    pub name: String,
    /// The value (`true` for a boolean flag given without one).
    pub value: String,
    pub location: Location,
}

/// The flags of one component.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Flags {
    /// Every flag in the order given (a later one overrides an earlier one of the same name).
    pub list: Vec<Flag>,
    /// Environment variables that set flags (`ETCD_CERT_FILE=...` in an environment file).
    pub env: Vec<Flag>,
    /// Where a missing flag belongs: the manifest's `command`, the unit's `ExecStart`.
    pub anchor: Location,
    /// For a static pod: each `mountPath` of the container and the host path it shows, so that
    /// a path in a flag can be read on the host.
    #[serde(skip)]
    pub mounts: Vec<(String, String)>,
}

impl Flags {
    /// The flag's last occurrence: the value the component uses.
    pub fn get(&self, name: &str) -> Option<&Flag> {
        self.list.iter().rev().find(|f| f.name == name)
    }

    /// The environment variable's last assignment.
    pub fn env(&self, name: &str) -> Option<&Flag> {
        self.env.iter().rev().find(|f| f.name == name)
    }

    /// The path on the host of a path the component sees (through its static pod's hostPath
    /// mounts), or the path itself.
    pub fn host_path(&self, path: &str) -> String {
        let best = self
            .mounts
            .iter()
            .filter(|(mount, _)| {
                let mount = mount.trim_end_matches('/');
                path == mount || path.starts_with(&format!("{mount}/"))
            })
            .max_by_key(|(mount, _)| mount.len());
        match best {
            Some((mount, host)) => {
                let rest = &path[mount.trim_end_matches('/').len()..];
                format!("{}{rest}", host.trim_end_matches('/'))
            }
            None => path.to_owned(),
        }
    }

    /// Reads `tokens` (flags and their values) into flags.
    fn push_tokens(&mut self, tokens: Vec<(String, Location)>) {
        let mut tokens = tokens.into_iter().peekable();
        while let Some((token, location)) = tokens.next() {
            if !token.starts_with('-') || token == "-" || token == "--" {
                continue;
            }
            let (name, value) = match token.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => match tokens.peek() {
                    Some((next, _)) if !next.starts_with('-') => {
                        let value = next.clone();
                        tokens.next();
                        (token, value)
                    }
                    _ => (token, "true".to_owned()),
                },
            };
            self.list.push(Flag {
                name,
                value,
                location,
            });
        }
    }
}

/// The flags of the container of a static pod manifest that runs `binary`.
pub fn from_manifest(object: &Object, binary: &str) -> Option<Flags> {
    let spec = object.value.get("spec")?;
    let containers = spec.get("containers")?.as_array()?;
    let runs = |c: &Value| {
        c.get("name").and_then(Value::as_str) == Some(binary)
            || c.get("command")
                .and_then(|c| c.get(0))
                .and_then(Value::as_str)
                .is_some_and(|cmd| cmd.rsplit('/').next() == Some(binary))
    };
    let index = containers.iter().position(runs).unwrap_or(0);
    let container = containers.get(index)?;
    let base = format!("/spec/containers/{index}");
    let file = object.source.path.clone();
    let mut flags = Flags {
        anchor: Location::new(&file, object.locate(&format!("{base}/command"))),
        ..Flags::default()
    };
    if container.get("command").is_none() {
        flags.anchor = Location::new(&file, object.locate(&format!("{base}/args")));
    }
    let mut tokens = Vec::new();
    for field in ["command", "args"] {
        let Some(items) = container.get(field).and_then(Value::as_array) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            if let Some(text) = item.as_str() {
                let pos = object.locate(&format!("{base}/{field}/{i}"));
                tokens.push((text.to_owned(), Location::new(&file, pos)));
            }
        }
    }
    flags.push_tokens(tokens);
    // Environment variables of the container set flags too (etcd reads `ETCD_*`).
    if let Some(env) = container.get("env").and_then(Value::as_array) {
        for (i, var) in env.iter().enumerate() {
            if let (Some(name), Some(value)) = (
                var.get("name").and_then(Value::as_str),
                var.get("value").and_then(Value::as_str),
            ) {
                flags.env.push(Flag {
                    name: name.to_owned(),
                    value: value.to_owned(),
                    location: Location::new(&file, object.locate(&format!("{base}/env/{i}"))),
                });
            }
        }
    }
    let volumes: HashMap<&str, &str> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            Some((
                v.get("name")?.as_str()?,
                v.get("hostPath")?.get("path")?.as_str()?,
            ))
        })
        .collect();
    for mount in container
        .get("volumeMounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(path)) = (
            mount.get("name").and_then(Value::as_str),
            mount.get("mountPath").and_then(Value::as_str),
        ) else {
            continue;
        };
        if let Some(host) = volumes.get(name) {
            flags.mounts.push((path.to_owned(), (*host).to_owned()));
        }
    }
    Some(flags)
}

/// The flags of an arguments file: one or more flags a line (snap's `args`), or `NAME=value`
/// lines (an environment file such as `etcd.conf`), with `#` comments.
pub fn from_args_file(text: &str, file: &str) -> Flags {
    let mut flags = Flags {
        anchor: Location::new(file, Pos::new(1, 1)),
        ..Flags::default()
    };
    let mut tokens = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index as u32 + 1;
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        if let Some((name, value)) = env_assignment(trimmed) {
            let col = (line.len() - trimmed.len()) as u32 + 1;
            flags.env.push(Flag {
                name,
                value,
                location: Location::new(file, Pos::new(number, col)),
            });
            continue;
        }
        for (word, col) in words(line) {
            tokens.push((word, Location::new(file, Pos::new(number, col))));
        }
    }
    flags.push_tokens(tokens);
    flags
}

/// A `NAME=value` line of an environment file, with the quotes around the value removed.
fn env_assignment(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once('=')?;
    let name = name.strip_prefix("export ").unwrap_or(name).trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    Some((name.to_owned(), value.to_owned()))
}

/// The flags of a process's command line (`/proc/<pid>/cmdline`, NUL-separated).
pub fn from_cmdline(argv: &[String], file: &str) -> Flags {
    let mut flags = Flags {
        anchor: Location::new(file, Pos::new(1, 1)),
        ..Flags::default()
    };
    let mut col = 1u32;
    let mut tokens = Vec::new();
    for arg in argv {
        tokens.push((arg.clone(), Location::new(file, Pos::new(1, col))));
        col += arg.chars().count() as u32 + 1;
    }
    flags.push_tokens(tokens);
    flags
}

/// The words of a line, split at white space outside quotes, each with its 1-based column.
fn words(line: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0u32;
    let mut quote: Option<char> = None;
    for (col, c) in line.chars().enumerate() {
        let col = col as u32 + 1;
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => {
                if current.is_empty() {
                    start = col;
                }
                quote = Some(c);
            }
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    out.push((std::mem::take(&mut current), start));
                }
            }
            (None, c) => {
                if current.is_empty() {
                    start = col;
                }
                current.push(c);
            }
        }
    }
    if !current.is_empty() {
        out.push((current, start));
    }
    out
}

/// One file of a systemd unit (the unit or a drop-in), or an environment file it names.
pub struct UnitFile {
    pub display: String,
    pub text: String,
}

/// The kubelet's flags from its systemd unit and drop-ins (in the order systemd reads them),
/// with the variables of their `Environment=` lines and `EnvironmentFile=`s expanded, as
/// kubeadm's `10-kubeadm.conf` writes them. `read_env_file` reads an environment file by its
/// path on the node (`None` when it does not exist).
pub fn from_systemd(
    units: &[UnitFile],
    mut read_env_file: impl FnMut(&str) -> Option<UnitFile>,
) -> Option<Flags> {
    let mut vars: HashMap<String, (String, Location)> = HashMap::new();
    let mut exec: Option<(String, Location)> = None;
    for unit in units {
        let mut lines = unit.text.lines().enumerate().peekable();
        while let Some((index, line)) = lines.next() {
            let number = index as u32 + 1;
            let mut line = line.trim().to_owned();
            while line.ends_with('\\') {
                line.pop();
                match lines.next() {
                    Some((_, next)) => {
                        line.push(' ');
                        line.push_str(next.trim());
                    }
                    None => break,
                }
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let location = Location::new(&unit.display, Pos::new(number, 1));
            match key.trim() {
                "Environment" => {
                    for (word, col) in words(value) {
                        if let Some((name, val)) = word.split_once('=') {
                            let at = Location::new(
                                &unit.display,
                                Pos::new(number, col + key.len() as u32 + 1),
                            );
                            vars.insert(name.to_owned(), (val.to_owned(), at));
                        }
                    }
                }
                "EnvironmentFile" => {
                    let path = value.trim().trim_start_matches('-');
                    if let Some(file) = read_env_file(path) {
                        for (index, line) in file.text.lines().enumerate() {
                            if let Some((name, val)) = env_assignment(line.trim()) {
                                let at =
                                    Location::new(&file.display, Pos::new(index as u32 + 1, 1));
                                vars.insert(name, (val, at));
                            }
                        }
                    }
                }
                "ExecStart" => {
                    let value = value.trim();
                    // `ExecStart=` alone resets the commands of the units read before.
                    exec = (!value.is_empty()).then(|| (value.to_owned(), location));
                }
                _ => {}
            }
        }
    }
    let (command, location) = exec?;
    let mut tokens = Vec::new();
    for (word, col) in words(&command).into_iter().skip(1) {
        let name = word
            .strip_prefix("${")
            .and_then(|w| w.strip_suffix('}'))
            .or_else(|| word.strip_prefix('$'));
        match name {
            Some(name) => {
                // An unset variable expands to nothing, as in systemd.
                if let Some((value, at)) = vars.get(name) {
                    for (w, c) in words(value) {
                        let pos = Pos::new(at.pos.line, at.pos.col + c - 1);
                        tokens.push((w, Location::new(&at.file, pos)));
                    }
                }
            }
            None => {
                let pos = Pos::new(location.pos.line, col + "ExecStart=".len() as u32);
                tokens.push((word, Location::new(&location.file, pos)));
            }
        }
    }
    let mut flags = Flags {
        anchor: location,
        ..Flags::default()
    };
    flags.push_tokens(tokens);
    Some(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_given_twice_keeps_its_last_value() {
        let flags = from_args_file("--profiling=true\n--profiling=false --v 2\n", "args");
        let f = flags.get("--profiling").unwrap();
        assert_eq!(f.value, "false");
        assert_eq!(f.location.pos, Pos::new(2, 1));
        assert_eq!(flags.get("--v").unwrap().value, "2");
    }

    #[test]
    fn env_files_set_variables() {
        let flags = from_args_file(
            "# etcd\nETCD_CERT_FILE=\"/etc/etcd/server.crt\"\n",
            "etcd.conf",
        );
        assert_eq!(
            flags.env("ETCD_CERT_FILE").unwrap().value,
            "/etc/etcd/server.crt"
        );
    }

    #[test]
    fn systemd_units_expand_variables_from_environment_files() {
        let unit = UnitFile {
            display: "10-kubeadm.conf".into(),
            text: "[Service]\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS --read-only-port=10255\n".into(),
        };
        let flags = from_systemd(&[unit], |path| {
            (path == "/var/lib/kubelet/kubeadm-flags.env").then(|| UnitFile {
                display: "kubeadm-flags.env".into(),
                text: "KUBELET_KUBEADM_ARGS=\"--anonymous-auth=true\"\n".into(),
            })
        })
        .unwrap();
        let config = flags.get("--config").unwrap();
        assert_eq!(config.value, "/var/lib/kubelet/config.yaml");
        assert_eq!(config.location.pos.line, 2);
        let anonymous = flags.get("--anonymous-auth").unwrap();
        assert_eq!(anonymous.location.file, "kubeadm-flags.env");
        let port = flags.get("--read-only-port").unwrap();
        assert_eq!((port.location.pos.line, port.value.as_str()), (5, "10255"));
        assert_eq!(
            &"ExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS --read-only-port=10255"
                [port.location.pos.col as usize - 1..],
            "--read-only-port=10255"
        );
    }

    #[test]
    fn paths_in_flags_map_through_host_path_mounts() {
        let flags = Flags {
            mounts: vec![
                ("/etc/kubernetes".into(), "/etc/kubernetes".into()),
                ("/etc/kubernetes/enc".into(), "/srv/enc/".into()),
            ],
            ..Flags::default()
        };
        assert_eq!(
            flags.host_path("/etc/kubernetes/enc/e.yaml"),
            "/srv/enc/e.yaml"
        );
        assert_eq!(flags.host_path("/etc/kubernetes/a"), "/etc/kubernetes/a");
        assert_eq!(flags.host_path("/etc/kubernetesx"), "/etc/kubernetesx");
    }
}
