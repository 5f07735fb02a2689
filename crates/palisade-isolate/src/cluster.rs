//! The cluster side: reading what the plan needs, applying it step by step, undoing it, and
//! reading what the proof needs.

use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use serde_json::{json, Map, Value};

use crate::plan::{
    self, Current, Incident, Plan, PolicyAction, BY, DETACHED, INCIDENT, QUARANTINE_LABEL, REASON,
    TIME,
};
use crate::Error;

/// A resource type, as the paths of the API name it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
}

pub(crate) const PODS: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
};
pub(crate) const SERVICES: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Service",
    plural: "services",
};
pub(crate) const EVENTS: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Event",
    plural: "events",
};
pub(crate) const NAMESPACES: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
};
pub(crate) const NETWORK_POLICIES: Kind = Kind {
    group: "networking.k8s.io",
    version: "v1",
    kind: "NetworkPolicy",
    plural: "networkpolicies",
};
const ADMIN_POLICIES: Kind = Kind {
    group: "policy.networking.k8s.io",
    version: "v1alpha1",
    kind: "AdminNetworkPolicy",
    plural: "adminnetworkpolicies",
};
const BASELINE_POLICIES: Kind = Kind {
    group: "policy.networking.k8s.io",
    version: "v1alpha1",
    kind: "BaselineAdminNetworkPolicy",
    plural: "baselineadminnetworkpolicies",
};
const DAEMON_SETS: Kind = Kind {
    group: "apps",
    version: "v1",
    kind: "DaemonSet",
    plural: "daemonsets",
};

impl Kind {
    fn resource(&self) -> ApiResource {
        let gvk = GroupVersionKind::gvk(self.group, self.version, self.kind);
        ApiResource::from_gvk_with_plural(&gvk, self.plural)
    }

    pub(crate) fn api(&self, client: &kube::Client, namespace: Option<&str>) -> Api<DynamicObject> {
        let resource = self.resource();
        match namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
            None => Api::all_with(client.clone(), &resource),
        }
    }

    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// The HTTP status of a refused request.
pub(crate) fn code(error: &kube::Error) -> Option<u16> {
    match error {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// An object as JSON, with its `apiVersion` and `kind` (list items come without them).
fn to_value(object: &DynamicObject, kind: &Kind) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), json!(kind.api_version()));
        map.insert("kind".into(), json!(kind.kind));
    }
    value
}

fn kube_error(what: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
    let what = what.into();
    move |source| Error::Kube {
        what,
        source: Box::new(source),
    }
}

/// Gets an object; `None` when it does not exist.
pub(crate) async fn get(
    client: &kube::Client,
    kind: &Kind,
    namespace: Option<&str>,
    name: &str,
) -> Result<Option<Value>, Error> {
    let what = format!(
        "get {} {}{name}",
        kind.plural,
        namespace.map(|n| format!("{n}/")).unwrap_or_default()
    );
    match kind.api(client, namespace).get(name).await {
        Ok(object) => Ok(Some(to_value(&object, kind))),
        Err(e) if code(&e) == Some(404) => Ok(None),
        Err(e) => Err(kube_error(what)(e)),
    }
}

/// Lists the objects of a type (in a namespace, or everywhere), page by page. `Ok(None)` when
/// the type is not served (`404`).
pub(crate) async fn list(
    client: &kube::Client,
    kind: &Kind,
    namespace: Option<&str>,
) -> Result<Option<Vec<Value>>, Error> {
    let api = kind.api(client, namespace);
    let mut params = ListParams::default().limit(500);
    let mut items = Vec::new();
    loop {
        let page = match api.list(&params).await {
            Ok(page) => page,
            Err(e) if code(&e) == Some(404) => return Ok(None),
            Err(e) => {
                return Err(kube_error(format!(
                    "list {}{}",
                    kind.plural,
                    namespace.map(|n| format!(" in {n}")).unwrap_or_default()
                ))(e))
            }
        };
        items.extend(page.items.iter().map(|o| to_value(o, kind)));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(Some(items)),
        }
    }
}

/// What `isolate` is asked to do.
#[derive(Debug, Clone)]
pub struct Request {
    pub namespace: String,
    pub pod: String,
    /// `--incident`; without it, the pod's quarantine label's (a re-run), or a new one.
    pub incident: Option<String>,
    pub reason: Option<String>,
    /// The kubeconfig user.
    pub by: String,
    pub detach: bool,
    pub now: jiff::Timestamp,
}

/// The pod's controller: its owner with `controller: true`, when it can be read.
async fn controller(client: &kube::Client, pod: &Value) -> Result<Option<Value>, Error> {
    let Some(owner) = crate::evidence::controller_ref(pod) else {
        return Ok(None);
    };
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    crate::evidence::get_owner(client, ns, &owner).await
}

/// Reads the pod and what the plan depends on, and plans.
pub async fn load_plan(client: &kube::Client, request: &Request) -> Result<(Plan, Value), Error> {
    let ns = request.namespace.as_str();
    let pod = get(client, &PODS, Some(ns), &request.pod)
        .await?
        .ok_or_else(|| Error::PodNotFound(format!("{ns}/{}", request.pod)))?;
    let id = match &request.incident {
        Some(id) => id.clone(),
        None => pod
            .pointer(&format!(
                "/metadata/labels/{}",
                QUARANTINE_LABEL.replace('/', "~1")
            ))
            .and_then(Value::as_str)
            .map_or_else(|| Incident::default_id(request.now), str::to_owned),
    };
    Incident::check_id(&id)?;
    let time = jiff::Timestamp::from_second(request.now.as_second()).unwrap_or(request.now);
    let incident = Incident {
        id: id.clone(),
        reason: request
            .reason
            .clone()
            .unwrap_or_else(|| "quarantined with palisade isolate".to_owned()),
        time: time.to_string(),
        by: request.by.clone(),
    };
    let policy = get(client, &NETWORK_POLICIES, Some(ns), &incident.policy_name()).await?;
    let mut unread = None;
    let (services, controller) = if request.detach {
        let services = list(client, &SERVICES, Some(ns)).await?.unwrap_or_default();
        let controller = match controller(client, &pod).await {
            Ok(controller) => controller,
            Err(e) => {
                unread = Some(format!(
                    "The pod's controller could not be read ({e}): the labels it selects on are not known and not removed."
                ));
                None
            }
        };
        (services, controller)
    } else {
        (Vec::new(), None)
    };
    let current = Current {
        pod: &pod,
        policy: policy.as_ref(),
        services: &services,
        controller: controller.as_ref(),
    };
    let mut plan = plan::plan(&current, &incident, request.detach)?;
    plan.detach_notes.extend(unread);
    Ok((plan, pod))
}

/// What `--apply` did, step by step.
#[derive(Debug, Default)]
pub struct Applied {
    /// Each step done, in words (`created NetworkPolicy shop/…`, `unchanged …`).
    pub done: Vec<String>,
    /// Whether anything changed in the cluster.
    pub changed: bool,
    /// The step that failed; the later steps were not attempted.
    pub failed: Option<Error>,
    /// The steps not attempted because of the failure.
    pub not_done: Vec<String>,
}

/// Applies the plan: first the NetworkPolicy (which selects nothing until the pod has the
/// label), then the pod's labels and annotations in one patch (the label is what isolates it).
/// Each step checks what exists, so running again, or after an interruption, is safe.
pub async fn apply(client: &kube::Client, plan: &Plan) -> Applied {
    let ns = plan.namespace.as_str();
    let policy_name = plan.incident.policy_name();
    let mut applied = Applied::default();
    let policies = NETWORK_POLICIES.api(client, Some(ns));
    let pod_step = format!("label and annotate pod {ns}/{}", plan.pod);
    let policy_step = match &plan.policy_action {
        PolicyAction::Create => {
            let object: DynamicObject = match serde_json::from_value(plan.policy.clone()) {
                Ok(object) => object,
                Err(e) => {
                    applied.failed = Some(Error::Internal(e.to_string()));
                    applied.not_done =
                        vec![format!("create NetworkPolicy {ns}/{policy_name}"), pod_step];
                    return applied;
                }
            };
            match policies.create(&PostParams::default(), &object).await {
                Ok(_) => {
                    applied.changed = true;
                    Ok(format!("created NetworkPolicy {ns}/{policy_name}"))
                }
                // Created by a run that was interrupted after the create: it is the same.
                Err(e) if code(&e) == Some(409) => Ok(format!(
                    "NetworkPolicy {ns}/{policy_name} exists already (unchanged)"
                )),
                Err(e) => Err(kube_error(format!(
                    "create NetworkPolicy {ns}/{policy_name}"
                ))(e)),
            }
        }
        PolicyAction::Update(patch) => {
            match policies
                .patch(&policy_name, &PatchParams::default(), &Patch::Merge(patch))
                .await
            {
                Ok(_) => {
                    applied.changed = true;
                    Ok(format!(
                        "restored the spec of NetworkPolicy {ns}/{policy_name}"
                    ))
                }
                Err(e) => Err(kube_error(format!(
                    "patch NetworkPolicy {ns}/{policy_name}"
                ))(e)),
            }
        }
        PolicyAction::Unchanged => Ok(format!(
            "NetworkPolicy {ns}/{policy_name} is in place (unchanged)"
        )),
    };
    match policy_step {
        Ok(step) => applied.done.push(step),
        Err(e) => {
            applied.failed = Some(e);
            applied.not_done.push(pod_step);
            return applied;
        }
    }
    let Some(patch) = &plan.pod_patch else {
        applied.done.push(format!(
            "pod {ns}/{} has its labels and annotations (unchanged)",
            plan.pod
        ));
        return applied;
    };
    let pods = PODS.api(client, Some(ns));
    match pods
        .patch(&plan.pod, &PatchParams::default(), &Patch::Strategic(patch))
        .await
    {
        Ok(_) => {
            applied.changed = true;
            applied.done.push(format!(
                "labelled pod {ns}/{} {QUARANTINE_LABEL}={} and annotated it{}",
                plan.pod,
                plan.incident.id,
                if plan.detach.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; removed labels {}",
                        plan.detach
                            .iter()
                            .map(|d| d.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ));
        }
        Err(e) if code(&e) == Some(404) => {
            applied.failed = Some(Error::PodVanished(format!("{ns}/{}", plan.pod)));
            applied.not_done.push(pod_step);
        }
        Err(e) => {
            applied.failed = Some(kube_error(format!("patch pod {ns}/{}", plan.pod))(e));
            applied.not_done.push(pod_step);
        }
    }
    applied
}

/// Removes exactly what the incident added: the quarantine label (when it is this incident's),
/// the incident's annotations, the labels it detached (put back), and its NetworkPolicy (when
/// it carries this incident's label). Returns the steps done; nothing left is not an error.
pub async fn undo(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    incident: &str,
) -> Result<Vec<String>, Error> {
    Incident::check_id(incident)?;
    let mut done = Vec::new();
    if let Some(current) = get(client, &PODS, Some(namespace), pod).await? {
        let labels = current
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(json!({}));
        let annotations = current
            .pointer("/metadata/annotations")
            .cloned()
            .unwrap_or(json!({}));
        let mut label_patch = Map::new();
        let mut annotation_patch = Map::new();
        if labels.get(QUARANTINE_LABEL).and_then(Value::as_str) == Some(incident) {
            label_patch.insert(QUARANTINE_LABEL.into(), Value::Null);
        }
        if annotations.get(INCIDENT).and_then(Value::as_str) == Some(incident) {
            for key in [INCIDENT, REASON, TIME, BY, DETACHED] {
                if annotations.get(key).is_some() {
                    annotation_patch.insert(key.into(), Value::Null);
                }
            }
            let detached: Map<String, Value> = annotations
                .get(DETACHED)
                .and_then(Value::as_str)
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default();
            for (key, value) in detached {
                if labels.get(&key).is_none() {
                    label_patch.insert(key, value);
                }
            }
        }
        if !label_patch.is_empty() || !annotation_patch.is_empty() {
            let patch =
                json!({"metadata": {"labels": label_patch, "annotations": annotation_patch}});
            PODS.api(client, Some(namespace))
                .patch(pod, &PatchParams::default(), &Patch::Strategic(&patch))
                .await
                .map_err(kube_error(format!("patch pod {namespace}/{pod}")))?;
            done.push(format!(
                "removed the incident's labels and annotations from pod {namespace}/{pod}"
            ));
        }
    }
    let name = plan::policy_name(incident);
    if let Some(policy) = get(client, &NETWORK_POLICIES, Some(namespace), &name).await? {
        let ours = policy
            .pointer("/metadata/labels")
            .and_then(|l| l.get(INCIDENT))
            .and_then(Value::as_str)
            == Some(incident);
        if ours {
            match NETWORK_POLICIES
                .api(client, Some(namespace))
                .delete(&name, &DeleteParams::default())
                .await
            {
                Ok(_) => done.push(format!("deleted NetworkPolicy {namespace}/{name}")),
                Err(e) if code(&e) == Some(404) => {}
                Err(e) => {
                    return Err(kube_error(format!(
                        "delete NetworkPolicy {namespace}/{name}"
                    ))(e))
                }
            }
        }
    }
    Ok(done)
}

/// The objects the proof needs: pods, namespaces, NetworkPolicies (everywhere when allowed,
/// else the pod's namespace), AdminNetworkPolicies and the BaselineAdminNetworkPolicy (when
/// served). The notes say what could not be read.
pub async fn proof_objects(
    client: &kube::Client,
    namespace: &str,
) -> Result<(Vec<Value>, Vec<String>), Error> {
    let mut objects = Vec::new();
    let mut notes = Vec::new();
    for kind in [PODS, NETWORK_POLICIES] {
        match list(client, &kind, None).await {
            Ok(Some(items)) => objects.extend(items),
            Ok(None) => {}
            Err(Error::Kube { source, .. }) if code(&source) == Some(403) => {
                notes.push(format!(
                    "{} of other namespaces could not be read (forbidden); peers there are not in the proof",
                    kind.plural
                ));
                objects.extend(
                    list(client, &kind, Some(namespace))
                        .await?
                        .unwrap_or_default(),
                );
            }
            Err(e) => return Err(e),
        }
    }
    for kind in [NAMESPACES, ADMIN_POLICIES, BASELINE_POLICIES] {
        match list(client, &kind, None).await {
            Ok(items) => objects.extend(items.unwrap_or_default()),
            Err(Error::Kube { source, .. }) if code(&source) == Some(403) => notes.push(format!(
                "{} could not be read (forbidden): the proof does without them",
                kind.plural
            )),
            Err(e) => return Err(e),
        }
    }
    Ok((objects, notes))
}

/// What the cluster's network plugin does with NetworkPolicy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cni {
    /// A plugin known to enforce NetworkPolicy (its name).
    Enforcing(String),
    /// Only plugins known not to enforce it.
    NotEnforcing(String),
    /// None recognised (or kube-system could not be read).
    Unknown,
}

/// Plugins that enforce NetworkPolicy, by a part of their DaemonSet or pod names.
const ENFORCING: &[&str] = &[
    "calico",
    "cilium",
    "antrea",
    "weave-net",
    "kube-router",
    "canal",
    "kube-ovn",
    "ovnkube",
    "azure-npm",
    "anetd",
    "aws-network-policy-agent",
    "romana",
];
/// Plugins that do not.
const NOT_ENFORCING: &[&str] = &["flannel", "kube-flannel"];

/// Looks at the DaemonSets (then pods) of `kube-system` for known network plugins.
pub async fn cni(client: &kube::Client) -> Cni {
    let mut names = Vec::new();
    for kind in [DAEMON_SETS, PODS] {
        if let Ok(Some(items)) = list(client, &kind, Some("kube-system")).await {
            names.extend(items.iter().filter_map(|o| {
                o.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }));
        }
    }
    classify(&names)
}

pub(crate) fn classify(names: &[String]) -> Cni {
    for name in names {
        if let Some(cni) = ENFORCING.iter().find(|c| name.contains(*c)) {
            return Cni::Enforcing((*cni).to_owned());
        }
    }
    for name in names {
        if let Some(cni) = NOT_ENFORCING.iter().find(|c| name.contains(*c)) {
            return Cni::NotEnforcing((*cni).to_owned());
        }
    }
    Cni::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_plugins_are_recognised_by_name() {
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            classify(&names(&["kube-proxy", "calico-node"])),
            Cni::Enforcing("calico".into())
        );
        assert_eq!(
            classify(&names(&["kube-flannel-ds", "kube-proxy"])),
            Cni::NotEnforcing("flannel".into())
        );
        // Canal is flannel with Calico's policy: it enforces.
        assert_eq!(
            classify(&names(&["kube-flannel-ds", "canal"])),
            Cni::Enforcing("canal".into())
        );
        assert_eq!(classify(&names(&["kindnet", "coredns"])), Cni::Unknown);
    }
}
