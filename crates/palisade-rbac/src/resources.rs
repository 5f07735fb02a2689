//! Resource names as kubectl takes them: plural, singular, short names and kinds of built-in
//! resources and of the CustomResourceDefinitions in the input, and the verbs RBAC knows.
//! [`Resources::resolve`] turns what a user typed into the request's group, resource and
//! subresource, or says why it cannot (unknown, with the nearest name; ambiguous).

use palisade_core::{nearest, Object};
use serde_json::Value;

use crate::authz::Attributes;

/// One resource type: its group, plural name, kind and kubectl short names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    pub group: String,
    /// The plural name RBAC rules use (`deployments`).
    pub plural: String,
    /// The singular name (`deployment`).
    pub singular: String,
    pub kind: String,
    pub short_names: Vec<String>,
}

/// Built-in resources: group, plural, kind, short names. The singular is the kind in lower
/// case for all of them.
const BUILTIN: &[(&str, &str, &str, &[&str])] = &[
    ("", "bindings", "Binding", &[]),
    ("", "componentstatuses", "ComponentStatus", &["cs"]),
    ("", "configmaps", "ConfigMap", &["cm"]),
    ("", "endpoints", "Endpoints", &["ep"]),
    ("", "events", "Event", &["ev"]),
    ("", "limitranges", "LimitRange", &["limits"]),
    ("", "namespaces", "Namespace", &["ns"]),
    ("", "nodes", "Node", &["no"]),
    (
        "",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        &["pvc"],
    ),
    ("", "persistentvolumes", "PersistentVolume", &["pv"]),
    ("", "pods", "Pod", &["po"]),
    ("", "podtemplates", "PodTemplate", &[]),
    (
        "",
        "replicationcontrollers",
        "ReplicationController",
        &["rc"],
    ),
    ("", "resourcequotas", "ResourceQuota", &["quota"]),
    ("", "secrets", "Secret", &[]),
    ("", "serviceaccounts", "ServiceAccount", &["sa"]),
    ("", "services", "Service", &["svc"]),
    // Impersonation targets: not objects, but resources RBAC rules name.
    ("", "users", "User", &[]),
    ("", "groups", "Group", &[]),
    ("authentication.k8s.io", "uids", "UID", &[]),
    ("authentication.k8s.io", "userextras", "UserExtra", &[]),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        "ValidatingAdmissionPolicy",
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        &[],
    ),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        &["crd", "crds"],
    ),
    ("apiregistration.k8s.io", "apiservices", "APIService", &[]),
    ("apps", "controllerrevisions", "ControllerRevision", &[]),
    ("apps", "daemonsets", "DaemonSet", &["ds"]),
    ("apps", "deployments", "Deployment", &["deploy"]),
    ("apps", "replicasets", "ReplicaSet", &["rs"]),
    ("apps", "statefulsets", "StatefulSet", &["sts"]),
    (
        "authentication.k8s.io",
        "selfsubjectreviews",
        "SelfSubjectReview",
        &[],
    ),
    ("authentication.k8s.io", "tokenreviews", "TokenReview", &[]),
    (
        "authorization.k8s.io",
        "localsubjectaccessreviews",
        "LocalSubjectAccessReview",
        &[],
    ),
    (
        "authorization.k8s.io",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        &[],
    ),
    (
        "authorization.k8s.io",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        &[],
    ),
    (
        "authorization.k8s.io",
        "subjectaccessreviews",
        "SubjectAccessReview",
        &[],
    ),
    (
        "autoscaling",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        &["hpa"],
    ),
    ("batch", "cronjobs", "CronJob", &["cj"]),
    ("batch", "jobs", "Job", &[]),
    (
        "certificates.k8s.io",
        "certificatesigningrequests",
        "CertificateSigningRequest",
        &["csr"],
    ),
    ("certificates.k8s.io", "signers", "Signer", &[]),
    ("coordination.k8s.io", "leases", "Lease", &[]),
    ("discovery.k8s.io", "endpointslices", "EndpointSlice", &[]),
    ("events.k8s.io", "events", "Event", &["ev"]),
    ("networking.k8s.io", "ingressclasses", "IngressClass", &[]),
    ("networking.k8s.io", "ingresses", "Ingress", &["ing"]),
    (
        "networking.k8s.io",
        "networkpolicies",
        "NetworkPolicy",
        &["netpol"],
    ),
    ("node.k8s.io", "runtimeclasses", "RuntimeClass", &[]),
    (
        "policy",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        &["pdb"],
    ),
    (
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        "ClusterRoleBinding",
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "clusterroles",
        "ClusterRole",
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "rolebindings",
        "RoleBinding",
        &[],
    ),
    ("rbac.authorization.k8s.io", "roles", "Role", &[]),
    (
        "scheduling.k8s.io",
        "priorityclasses",
        "PriorityClass",
        &["pc"],
    ),
    ("storage.k8s.io", "csidrivers", "CSIDriver", &[]),
    ("storage.k8s.io", "csinodes", "CSINode", &[]),
    ("storage.k8s.io", "storageclasses", "StorageClass", &["sc"]),
    (
        "storage.k8s.io",
        "volumeattachments",
        "VolumeAttachment",
        &[],
    ),
];

/// Subresources of built-in resources (`*` for every resource).
const SUBRESOURCES: &[(&str, &[&str])] = &[
    ("*", &["status"]),
    (
        "pods",
        &[
            "attach",
            "binding",
            "ephemeralcontainers",
            "eviction",
            "exec",
            "log",
            "portforward",
            "proxy",
            "resize",
        ],
    ),
    ("deployments", &["scale", "rollback"]),
    ("replicasets", &["scale"]),
    ("statefulsets", &["scale"]),
    ("replicationcontrollers", &["scale"]),
    ("services", &["proxy"]),
    ("nodes", &["proxy"]),
    ("serviceaccounts", &["token"]),
    ("namespaces", &["finalize"]),
    ("certificatesigningrequests", &["approval"]),
];

/// The verbs of the Kubernetes API and of RBAC's special checks.
pub const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "impersonate",
    "bind",
    "escalate",
    "approve",
    "sign",
    "attest",
    "use",
    "proxy",
    "*",
];

/// The resource types a request may name: built-in ones, those of the CRDs in the input, and
/// those that the input's RBAC rules name in a group nothing else defines.
#[derive(Debug, Clone)]
pub struct Resources {
    types: Vec<ResourceType>,
    /// Verbs that the input's rules name besides [`VERBS`] (custom verbs are allowed).
    verbs: Vec<String>,
    /// `(resource, subresource)` pairs that the input's rules name.
    subresources: Vec<(String, String)>,
}

/// Why a request's resource or verb cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("unknown verb {verb:?}{}", suggestion(.nearest))]
    UnknownVerb {
        verb: String,
        nearest: Option<String>,
    },
    #[error(
        "unknown resource {resource:?}: not a built-in resource, nor one of a \
         CustomResourceDefinition or RBAC rule in the input{}",
        suggestion(.nearest)
    )]
    UnknownResource {
        resource: String,
        nearest: Option<String>,
    },
    #[error(
        "{target:?} is ambiguous: {resource} has no subresource {part:?}, and palisade reads \
         RESOURCE/SUBRESOURCE; for the object named {part:?}, give `{resource} --name {part}`"
    )]
    Ambiguous {
        target: String,
        resource: String,
        part: String,
    },
}

fn suggestion(nearest: &Option<String>) -> String {
    match nearest {
        Some(name) => format!("; did you mean {name:?}?"),
        None => String::new(),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Resources {
    /// The built-in types, those of the CRDs among `objects`, and the resources and verbs
    /// named by the Roles and ClusterRoles among them.
    pub fn new(objects: &[Object]) -> Resources {
        let mut types: Vec<ResourceType> = BUILTIN
            .iter()
            .map(|(group, plural, kind, short)| ResourceType {
                group: (*group).to_owned(),
                plural: (*plural).to_owned(),
                singular: kind.to_ascii_lowercase(),
                kind: (*kind).to_owned(),
                short_names: short.iter().map(|s| (*s).to_owned()).collect(),
            })
            .collect();
        let mut verbs = Vec::new();
        let mut subresources = Vec::new();
        for object in objects {
            let v = &object.value;
            match (object.group(), object.kind()) {
                ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                    let names = &v["spec"]["names"];
                    let (Some(group), Some(plural)) =
                        (v["spec"]["group"].as_str(), names["plural"].as_str())
                    else {
                        continue;
                    };
                    let kind = names["kind"].as_str().unwrap_or_default();
                    types.push(ResourceType {
                        group: group.to_owned(),
                        plural: plural.to_owned(),
                        singular: names["singular"]
                            .as_str()
                            .map_or_else(|| kind.to_ascii_lowercase(), str::to_owned),
                        kind: kind.to_owned(),
                        short_names: strings(&names["shortNames"]),
                    });
                }
                ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => {
                    for rule in v["rules"].as_array().into_iter().flatten() {
                        verbs.extend(strings(&rule["verbs"]));
                        for group in strings(&rule["apiGroups"]) {
                            for resource in strings(&rule["resources"]) {
                                let (plural, sub) =
                                    resource.split_once('/').unwrap_or((&resource, ""));
                                if !sub.is_empty() && sub != "*" {
                                    subresources.push((plural.to_owned(), sub.to_owned()));
                                }
                                if group == "*"
                                    || plural.is_empty()
                                    || plural.contains('*')
                                    || types.iter().any(|t| t.plural == plural)
                                {
                                    continue;
                                }
                                types.push(ResourceType {
                                    group: group.clone(),
                                    plural: plural.to_owned(),
                                    singular: String::new(),
                                    kind: String::new(),
                                    short_names: Vec::new(),
                                });
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        verbs.retain(|v| !VERBS.contains(&v.as_str()));
        verbs.sort();
        verbs.dedup();
        Resources {
            types,
            verbs,
            subresources,
        }
    }

    /// Whether `verb` is a verb of the API, of RBAC, or of a rule in the input.
    pub fn check_verb(&self, verb: &str) -> Result<(), ResolveError> {
        let known = || {
            VERBS
                .iter()
                .copied()
                .chain(self.verbs.iter().map(String::as_str))
        };
        if known().any(|v| v == verb) {
            return Ok(());
        }
        Err(ResolveError::UnknownVerb {
            verb: verb.to_owned(),
            nearest: nearest(verb, known()).map(str::to_owned),
        })
    }

    /// The types a name stands for: its plural, singular, short name or kind (any case), in
    /// `group` when one is given.
    fn lookup(&self, name: &str, group: Option<&str>) -> Option<&ResourceType> {
        let lower = name.to_ascii_lowercase();
        // `events` is in the core group and in events.k8s.io: the first (core) one is used,
        // as kubectl does.
        self.types
            .iter()
            .filter(|t| group.is_none_or(|g| t.group == g))
            .find(|t| {
                t.plural == lower
                    || t.singular == lower
                    || t.kind.to_ascii_lowercase() == lower
                    || t.short_names.contains(&lower)
            })
    }

    /// Parses `kubectl auth can-i VERB TARGET`'s target (as [`Attributes::parse`]) with the
    /// names kubectl accepts: `secret`, `secrets`, `po`, `Deployment`, a CRD's names, with
    /// `RESOURCE.GROUP` to choose among groups; `api_group` replaces the group of the resource
    /// found. A part after `/` must be a subresource of the resource: for an object's name,
    /// the request is ambiguous.
    pub fn resolve(
        &self,
        verb: &str,
        target: &str,
        api_group: Option<&str>,
    ) -> Result<Attributes, ResolveError> {
        self.check_verb(verb)?;
        if target.starts_with('/') {
            return Ok(Attributes::non_resource(verb, target));
        }
        let (resource, subresource) = target.split_once('/').unwrap_or((target, ""));
        if resource == "*" {
            return Ok(Attributes::parse(verb, target, api_group));
        }
        // `RESOURCE.GROUP`: resource names hold no dots, groups may.
        let (name, group) = match resource.split_once('.') {
            Some((name, group)) => (name, Some(group)),
            None => (resource, None),
        };
        let Some(ty) = self.lookup(name, group) else {
            let candidates = self.types.iter().flat_map(|t| {
                [t.plural.as_str(), t.singular.as_str()]
                    .into_iter()
                    .chain(t.short_names.iter().map(String::as_str))
                    .filter(|s| !s.is_empty())
            });
            return Err(ResolveError::UnknownResource {
                resource: resource.to_owned(),
                nearest: nearest(name, candidates).map(str::to_owned),
            });
        };
        if !subresource.is_empty() && subresource != "*" && !self.has_subresource(ty, subresource) {
            return Err(ResolveError::Ambiguous {
                target: target.to_owned(),
                resource: ty.plural.clone(),
                part: subresource.to_owned(),
            });
        }
        let group = api_group.unwrap_or(&ty.group);
        let mut attrs = Attributes::resource(verb, group, &ty.plural);
        attrs.subresource = subresource.to_owned();
        Ok(attrs)
    }

    /// Whether `sub` is a subresource of `ty`: a built-in one, `scale` of a custom resource
    /// (which its CRD may enable), or one that a rule in the input names for it.
    fn has_subresource(&self, ty: &ResourceType, sub: &str) -> bool {
        let custom = !BUILTIN.iter().any(|b| b.1 == ty.plural);
        SUBRESOURCES
            .iter()
            .filter(|(r, _)| *r == "*" || *r == ty.plural)
            .any(|(_, subs)| subs.contains(&sub))
            || (custom && sub == "scale")
            || self
                .subresources
                .iter()
                .any(|(r, s)| *r == ty.plural && s == sub)
    }
}

/// The group of a built-in resource given by its plural or short name, for
/// [`Attributes::parse`]: `(plural, group)`.
pub(crate) fn builtin(name: &str) -> Option<(&'static str, &'static str)> {
    BUILTIN
        .iter()
        .find(|(_, plural, _, short)| *plural == name || short.contains(&name))
        .map(|(group, plural, _, _)| (*plural, *group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_the_plural_and_group_kubectl_uses() {
        let resources = Resources::new(&[]);
        let resolve = |target: &str| {
            let a = resources.resolve("get", target, None).unwrap();
            (a.api_group, a.resource, a.subresource)
        };
        let expect = |g: &str, r: &str, s: &str| (g.to_owned(), r.to_owned(), s.to_owned());
        assert_eq!(resolve("events"), expect("", "events", ""));
        assert_eq!(
            resolve("events.events.k8s.io"),
            expect("events.k8s.io", "events", "")
        );
        assert_eq!(
            resolve("NetworkPolicy"),
            expect("networking.k8s.io", "networkpolicies", "")
        );
        assert_eq!(
            resolve("netpol"),
            expect("networking.k8s.io", "networkpolicies", "")
        );
        assert_eq!(
            resolve("deploy/scale"),
            expect("apps", "deployments", "scale")
        );
        assert_eq!(resolve("pods/*"), expect("", "pods", "*"));
        assert_eq!(
            resources.resolve("get", "/healthz", None).unwrap().path,
            "/healthz"
        );
        assert!(matches!(
            resources.resolve("get", "deploy/web", None),
            Err(ResolveError::Ambiguous { .. })
        ));
        assert_eq!(
            resources.resolve("get", "ingresss", None),
            Err(ResolveError::UnknownResource {
                resource: "ingresss".into(),
                nearest: Some("ingresses".into())
            })
        );
        assert_eq!(
            resources.check_verb("patchh"),
            Err(ResolveError::UnknownVerb {
                verb: "patchh".into(),
                nearest: Some("patch".into())
            })
        );
        assert_eq!(resources.check_verb("*"), Ok(()));
    }
}
