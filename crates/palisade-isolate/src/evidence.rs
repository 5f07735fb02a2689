//! Evidence, collected before anything changes: the pod, its owner chain, its events, the logs
//! of every container (and of its previous instance), its node and image digests, and the
//! NetworkPolicies and Services in force. The files are written into a directory of their own
//! with a SHA-256 manifest (`SHA256SUMS`, the format `sha256sum -c` checks); the directory
//! appears under its final name only once every file is written and synced.

use std::io::Write;
use std::path::{Path, PathBuf};

use kube::api::{ApiResource, DynamicObject, GroupVersionKind, LogParams};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::cluster::{code, list, EVENTS, NETWORK_POLICIES, SERVICES};
use crate::Error;

/// The most read of one container's log; more is cut, and the cut is recorded.
pub const LOG_LIMIT_BYTES: i64 = 64 * 1024 * 1024;
/// How far up the owner chain is followed.
const MAX_OWNERS: usize = 8;

/// A pod's owner, from its `ownerReferences`.
#[derive(Debug, Clone)]
pub struct OwnerRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

fn owner_refs(object: &Value) -> Vec<(OwnerRef, bool)> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some((
                OwnerRef {
                    api_version: r.get("apiVersion")?.as_str()?.to_owned(),
                    kind: r.get("kind")?.as_str()?.to_owned(),
                    name: r.get("name")?.as_str()?.to_owned(),
                },
                r.get("controller").and_then(Value::as_bool) == Some(true),
            ))
        })
        .collect()
}

/// The owner with `controller: true`.
pub fn controller_ref(object: &Value) -> Option<OwnerRef> {
    owner_refs(object)
        .into_iter()
        .find(|(_, controller)| *controller)
        .map(|(r, _)| r)
}

/// Gets an owner (namespaced in `namespace`, or cluster-scoped), finding its plural by
/// discovery. `None` when it is gone.
pub async fn get_owner(
    client: &kube::Client,
    namespace: &str,
    owner: &OwnerRef,
) -> Result<Option<Value>, Error> {
    let (group, version) = owner
        .api_version
        .rsplit_once('/')
        .unwrap_or(("", owner.api_version.as_str()));
    let gvk = GroupVersionKind::gvk(group, version, &owner.kind);
    let what = format!("get {} {namespace}/{}", owner.kind, owner.name);
    let (resource, caps): (ApiResource, _) = match kube::discovery::pinned_kind(client, &gvk).await
    {
        Ok(found) => found,
        Err(e) if code(&e) == Some(404) => return Ok(None),
        Err(source) => {
            return Err(Error::Kube {
                what,
                source: Box::new(source),
            })
        }
    };
    let api: kube::Api<DynamicObject> = match caps.scope {
        kube::discovery::Scope::Namespaced => {
            kube::Api::namespaced_with(client.clone(), namespace, &resource)
        }
        kube::discovery::Scope::Cluster => kube::Api::all_with(client.clone(), &resource),
    };
    match api.get(&owner.name).await {
        Ok(object) => {
            let mut value = serde_json::to_value(&object).unwrap_or_default();
            value["apiVersion"] = json!(owner.api_version);
            value["kind"] = json!(owner.kind);
            Ok(Some(value))
        }
        Err(e) if code(&e) == Some(404) => Ok(None),
        Err(source) => Err(Error::Kube {
            what,
            source: Box::new(source),
        }),
    }
}

/// One file of the evidence.
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The evidence of one pod, in memory until written.
#[derive(Debug, Default)]
pub struct Evidence {
    pub files: Vec<File>,
    /// What could not be collected, and why (recorded in `summary.json` too).
    pub missing: Vec<String>,
}

impl Evidence {
    fn json(&mut self, name: &str, value: &Value) {
        let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
        bytes.push(b'\n');
        self.files.push(File {
            name: name.to_owned(),
            bytes,
        });
    }
}

fn safe_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Collects the evidence of the pod (as read at `pod`).
pub async fn collect(
    client: &kube::Client,
    pod: &Value,
    incident: &str,
    now: jiff::Timestamp,
) -> Result<Evidence, Error> {
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_owned();
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let uid = pod.pointer("/metadata/uid").cloned().unwrap_or_default();
    let mut evidence = Evidence::default();
    evidence.json("pod.json", pod);

    // The owner chain, each owner's controller up to the top.
    let mut owners = Vec::new();
    let mut current = pod.clone();
    while owners.len() < MAX_OWNERS {
        let Some(owner) = controller_ref(&current)
            .or_else(|| owner_refs(&current).into_iter().next().map(|(r, _)| r))
        else {
            break;
        };
        match get_owner(client, &ns, &owner).await {
            Ok(Some(object)) => {
                owners.push(object.clone());
                current = object;
            }
            Ok(None) => {
                evidence
                    .missing
                    .push(format!("owner {} {} is gone", owner.kind, owner.name));
                break;
            }
            Err(e) => {
                evidence
                    .missing
                    .push(format!("owner {} {}: {e}", owner.kind, owner.name));
                break;
            }
        }
    }
    evidence.json("owners.json", &json!(owners));

    // Events about the pod.
    match list(client, &EVENTS, Some(&ns)).await {
        Ok(events) => {
            let about: Vec<Value> = events
                .unwrap_or_default()
                .into_iter()
                .filter(|e| {
                    e.pointer("/involvedObject/kind").and_then(Value::as_str) == Some("Pod")
                        && (e.pointer("/involvedObject/uid") == Some(&uid)
                            || e.pointer("/involvedObject/name").and_then(Value::as_str)
                                == Some(name.as_str()))
                })
                .collect();
            evidence.json("events.json", &json!(about));
        }
        Err(e) => evidence.missing.push(format!("events: {e}")),
    }

    // Logs of every container, and of its previous instance.
    let spec = pod.get("spec").cloned().unwrap_or_default();
    let mut containers = Vec::new();
    for list_name in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec
            .get(list_name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = c.get("name").and_then(Value::as_str) {
                containers.push(n.to_owned());
            }
        }
    }
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(client.clone(), &ns);
    let mut logs = Vec::new();
    for container in &containers {
        for previous in [false, true] {
            let params = LogParams {
                container: Some(container.clone()),
                previous,
                limit_bytes: Some(LOG_LIMIT_BYTES),
                timestamps: true,
                ..LogParams::default()
            };
            let file = format!(
                "logs/{}{}.log",
                safe_name(container),
                if previous { ".previous" } else { "" }
            );
            match pods.logs(&name, &params).await {
                Ok(text) => {
                    let cut = text.len() as i64 >= LOG_LIMIT_BYTES;
                    logs.push(json!({"container": container, "previous": previous, "file": file, "bytes": text.len(), "cut": cut}));
                    evidence.files.push(File {
                        name: file,
                        bytes: text.into_bytes(),
                    });
                }
                // No previous instance: the container never restarted.
                Err(e) if previous && code(&e) == Some(400) => {
                    logs.push(json!({"container": container, "previous": true, "file": null, "note": "no previous instance"}));
                }
                Err(e) => {
                    evidence.missing.push(format!(
                        "log of container {container}{}: {e}",
                        if previous { " (previous)" } else { "" }
                    ));
                }
            }
        }
    }

    // What is in force around it.
    let policies = list(client, &NETWORK_POLICIES, Some(&ns)).await;
    match policies {
        Ok(p) => evidence.json("networkpolicies.json", &json!(p.unwrap_or_default())),
        Err(e) => evidence.missing.push(format!("NetworkPolicies: {e}")),
    }
    match list(client, &SERVICES, Some(&ns)).await {
        Ok(services) => {
            let labels = pod
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let selecting: Vec<Value> = services
                .unwrap_or_default()
                .into_iter()
                .filter(|s| {
                    s.pointer("/spec/selector")
                        .and_then(Value::as_object)
                        .is_some_and(|sel| {
                            !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
                        })
                })
                .collect();
            evidence.json("services.json", &json!(selecting));
        }
        Err(e) => evidence.missing.push(format!("Services: {e}")),
    }

    // The pod at a glance.
    let images: Vec<Value> = [
        "initContainerStatuses",
        "containerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .flat_map(|key| {
        pod.pointer(&format!("/status/{key}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    })
    .map(|s| {
        json!({
            "container": s.get("name"),
            "image": s.get("image"),
            "imageID": s.get("imageID"),
            "containerID": s.get("containerID"),
            "restartCount": s.get("restartCount"),
        })
    })
    .collect();
    let summary = json!({
        "incident": incident,
        "collectedAt": jiff::Timestamp::from_second(now.as_second()).unwrap_or(now).to_string(),
        "pod": format!("{ns}/{name}"),
        "uid": uid,
        "node": pod.pointer("/spec/nodeName"),
        "podIP": pod.pointer("/status/podIP"),
        "hostNetwork": pod.pointer("/spec/hostNetwork").and_then(Value::as_bool).unwrap_or(false),
        "images": images,
        "logs": logs,
        "missing": evidence.missing,
    });
    evidence.json("summary.json", &summary);
    Ok(evidence)
}

/// The manifest: one `<sha256>  <file>` line per file, sorted by name.
pub fn manifest(files: &[File]) -> String {
    let mut lines: Vec<String> = files
        .iter()
        .map(|f| {
            let digest = Sha256::digest(&f.bytes);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            format!("{hex}  {}\n", f.name)
        })
        .collect();
    lines.sort_by(|a, b| a[66..].cmp(&b[66..]));
    lines.concat()
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Writes the evidence into a new directory under `root`, named after the pod, the incident
/// and the time, with `SHA256SUMS`. The files are written in a hidden directory first, which
/// is renamed when complete: a crash leaves no partial evidence under the final name.
pub fn write(
    evidence: &Evidence,
    root: &Path,
    namespace: &str,
    pod: &str,
    incident: &str,
    now: jiff::Timestamp,
) -> Result<PathBuf, Error> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Evidence { path, source }
    };
    std::fs::create_dir_all(root).map_err(io(root))?;
    let stamp = now
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let base = safe_name(&format!("{namespace}_{pod}_{incident}_{stamp}"));
    let mut final_dir = root.join(&base);
    let mut n = 1;
    while final_dir.exists() {
        n += 1;
        final_dir = root.join(format!("{base}-{n}"));
    }
    let partial = root.join(format!(
        ".{}.partial-{}",
        final_dir
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("evidence"),
        std::process::id()
    ));
    create_private_dir(&partial).map_err(io(&partial))?;
    for file in &evidence.files {
        let path = partial.join(&file.name);
        if let Some(parent) = path.parent().filter(|p| *p != partial) {
            if !parent.exists() {
                create_private_dir(parent).map_err(io(parent))?;
            }
        }
        write_synced(&path, &file.bytes).map_err(io(&path))?;
    }
    let sums = partial.join("SHA256SUMS");
    write_synced(&sums, manifest(&evidence.files).as_bytes()).map_err(io(&sums))?;
    std::fs::rename(&partial, &final_dir).map_err(io(&final_dir))?;
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(root) {
        // The rename is durable once the parent directory is synced.
        let _ = dir.sync_all();
    }
    Ok(final_dir)
}

/// Checks a written evidence directory against its `SHA256SUMS`: the files whose content
/// changed, or that are missing.
pub fn verify(dir: &Path) -> Result<Vec<String>, Error> {
    let sums = dir.join("SHA256SUMS");
    let text = std::fs::read_to_string(&sums).map_err(|source| Error::Evidence {
        path: sums.display().to_string(),
        source,
    })?;
    let mut bad = Vec::new();
    for line in text.lines() {
        let Some((hex, name)) = line.split_once("  ") else {
            bad.push(line.to_owned());
            continue;
        };
        let ok = std::fs::read(dir.join(name)).is_ok_and(|bytes| {
            let digest = Sha256::digest(&bytes);
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                == hex
        });
        if !ok {
            bad.push(name.to_owned());
        }
    }
    Ok(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_written_whole_with_a_manifest_that_shows_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let evidence = Evidence {
            files: vec![
                File {
                    name: "pod.json".into(),
                    bytes: b"{}\n".to_vec(),
                },
                File {
                    name: "logs/app.log".into(),
                    bytes: b"hello\n".to_vec(),
                },
            ],
            missing: Vec::new(),
        };
        let now: jiff::Timestamp = "2026-12-05T07:13:00Z".parse().unwrap();
        let out = write(&evidence, dir.path(), "shop", "web", "inc-1", now).unwrap();
        assert_eq!(out.file_name().unwrap(), "shop_web_inc-1_20261205T071300Z");
        let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
        // sha256("hello\n")
        assert!(
            sums.starts_with(
                "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  logs/app.log\n"
            ),
            "{sums}"
        );
        assert_eq!(verify(&out).unwrap(), Vec::<String>::new());
        std::fs::write(out.join("logs/app.log"), "edited\n").unwrap();
        assert_eq!(verify(&out).unwrap(), ["logs/app.log"]);
        // A second collection gets a directory of its own; no partial directory is left.
        let again = write(&evidence, dir.path(), "shop", "web", "inc-1", now).unwrap();
        assert_ne!(again, out);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }
}
