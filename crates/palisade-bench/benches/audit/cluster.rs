//! The audit benchmark's default mix (`AUDIT_BENCH_MIX=cluster`): the log of a 20-node cluster
//! whose API server runs the audit policy of the Kubernetes documentation's example
//! (`omitStages: [RequestReceived]`; pods at `RequestResponse`; secrets and configmaps at
//! `Metadata`; the other core resources at `Request`; everything else at `Metadata`).
//!
//! Most requests come from the cluster's own components (kubelets renewing their leases and
//! patching pod status, controllers reading and updating what they own, leader election,
//! watches, events); workloads' service accounts read; people and CI make a few percent of the
//! requests. The proportions, per 10,000 events, are `MIX` below; docs/benchmarks.md
//! gives the reasoning and sources.

use palisade_bench::rng::Rng;
use serde_json::{json, Map, Value};

/// What kind of request an event is, with its weight per 10,000 events.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A kubelet renews its node's Lease in `kube-node-lease` (every 10 s per node).
    NodeLease,
    /// Leader election of the controller manager and the scheduler (get, update a Lease).
    LeaderElection,
    /// A kubelet patches its Node's status.
    NodeStatus,
    /// A kubelet patches a pod's status.
    PodStatus,
    /// A kubelet's watches (started, and ended after their timeout).
    KubeletWatch,
    /// A kubelet gets its Node, or a pod's ConfigMap or Secret.
    KubeletGet,
    /// Controllers list, get and watch what they manage.
    ControllerRead,
    /// Controllers update the status of ReplicaSets, Deployments, EndpointSlices.
    ControllerUpdate,
    /// Kubelets and controllers create Events (with the Event).
    EventCreate,
    /// Workloads' service accounts read (monitoring, ingress controller, applications).
    WorkloadRead,
    /// kube-proxy watches EndpointSlices.
    ProxyWatch,
    /// Load balancers' health checks, anonymous, on `/readyz` and `/livez`.
    HealthProbe,
    /// A controller (replicaset, job, daemonset) creates a pod (with the pod).
    PodCreate,
    /// The scheduler binds a pod to a node (`pods/binding`, with the Binding).
    PodBinding,
    /// A controller or the garbage collector deletes a pod.
    PodDelete,
    /// A controller reads a Secret.
    SystemSecretGet,
    /// A person reads (`kubectl get`, `describe`, `logs`).
    HumanRead,
    /// A person opens a shell in a pod.
    HumanExec,
    /// A person forwards a port.
    HumanPortForward,
    /// A person reads a Secret.
    HumanSecretGet,
    /// A person changes something (`kubectl apply`, `rollout restart`).
    HumanWrite,
    /// The CI's service account deploys (patch Deployments, apply Services and ConfigMaps).
    CiDeploy,
    /// A request that authorization refused (403).
    Forbidden,
    /// A request whose credentials were refused (401).
    Unauthenticated,
}

/// The kinds of request and their weights per 10,000 events (bursts of 401s come on top).
pub const MIX: &[(Kind, u32)] = &[
    (Kind::NodeLease, 1800),
    (Kind::LeaderElection, 500),
    (Kind::NodeStatus, 200),
    (Kind::PodStatus, 600),
    (Kind::KubeletWatch, 1000),
    (Kind::KubeletGet, 400),
    (Kind::ControllerRead, 1455),
    (Kind::ControllerUpdate, 700),
    (Kind::EventCreate, 600),
    (Kind::WorkloadRead, 1200),
    (Kind::ProxyWatch, 300),
    (Kind::HealthProbe, 200),
    (Kind::PodCreate, 150),
    (Kind::PodBinding, 150),
    (Kind::PodDelete, 150),
    (Kind::SystemSecretGet, 30),
    (Kind::HumanRead, 300),
    (Kind::HumanExec, 8),
    (Kind::HumanPortForward, 2),
    (Kind::HumanSecretGet, 5),
    (Kind::HumanWrite, 20),
    (Kind::CiDeploy, 100),
    (Kind::Forbidden, 100),
    (Kind::Unauthenticated, 30),
];

/// Milliseconds between two events: 40 events per second, 7 hours for 1,000,000 events.
const STEP_MS: usize = 25;
/// Every this many events, a burst of failed logins from one address (a password or token
/// being guessed): `BURST` requests answered 401, one every 100 ms.
const BURST_EVERY: usize = 200_000;
const BURST: usize = 40;

const NODES: usize = 20;
const APP_NAMESPACES: &[&str] = &["shop", "payments", "default", "monitoring", "ingress-nginx"];
const HUMANS: &[&str] = &["alice@example.com", "bob@example.com", "carol@example.com"];
const CONTROLLERS: &[&str] = &[
    "replicaset-controller",
    "deployment-controller",
    "endpointslice-controller",
    "job-controller",
    "daemon-set-controller",
    "generic-garbage-collector",
    "namespace-controller",
    "statefulset-controller",
];
const VERSION: &str = "v1.30.2 (linux/amd64) kubernetes/3968350";

/// Who sends a request.
struct Actor {
    user: Value,
    agent: String,
    ip: String,
}

fn kubelet(rng: &mut Rng) -> (Actor, usize) {
    let n = rng.below(NODES);
    (
        Actor {
            user: json!({"username": format!("system:node:worker-{n}"),
                         "groups": ["system:nodes", "system:authenticated"]}),
            agent: format!("kubelet/{VERSION}"),
            ip: format!("10.0.1.{}", 10 + n),
        },
        n,
    )
}

fn controller(name: &str) -> Actor {
    Actor {
        user: json!({"username": format!("system:serviceaccount:kube-system:{name}"),
                     "uid": "3b5e1f0a-6c2d-4e8f-9a1b-2c3d4e5f6a7b",
                     "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                                "system:authenticated"],
                     "extra": {"authentication.kubernetes.io/credential-id":
                               ["JTI=6f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b"]}}),
        agent: format!(
            "kube-controller-manager/{VERSION}/system:serviceaccount:kube-system:{name}"
        ),
        ip: "10.0.0.10".to_owned(),
    }
}

fn component(user: &str, agent: &str) -> Actor {
    Actor {
        user: json!({"username": user, "groups": ["system:authenticated"]}),
        agent: format!("{agent}/{VERSION}/leader-election"),
        ip: "10.0.0.10".to_owned(),
    }
}

fn workload(rng: &mut Rng, ns: &str, sa: &str, agent: &str) -> Actor {
    Actor {
        user: json!({"username": format!("system:serviceaccount:{ns}:{sa}"),
                     "uid": "9c8b7a6f-5e4d-4c3b-8a29-1f0e9d8c7b6a",
                     "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{ns}"),
                                "system:authenticated"],
                     "extra": {"authentication.kubernetes.io/credential-id":
                                   ["JTI=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"],
                               "authentication.kubernetes.io/node-name": [format!("worker-{}", rng.below(NODES))],
                               "authentication.kubernetes.io/pod-name": [format!("{sa}-6d8f9c7b5-x2k4p")],
                               "authentication.kubernetes.io/pod-uid": ["7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"]}}),
        agent: agent.to_owned(),
        ip: format!("10.244.{}.{}", rng.below(NODES), 2 + rng.below(250)),
    }
}

fn human(rng: &mut Rng) -> Actor {
    Actor {
        user: json!({"username": *rng.pick(HUMANS), "groups": ["developers", "system:authenticated"],
                     "extra": {"authentication.kubernetes.io/credential-id": ["JTI=oidc-5f4e3d2c"]}}),
        agent: format!("kubectl/{VERSION}"),
        ip: format!("192.168.10.{}", 20 + rng.below(30)),
    }
}

fn ci(rng: &mut Rng) -> Actor {
    workload(rng, "ci", "deployer", &format!("kubectl/{VERSION}"))
}

/// One request, before it is written as an event.
struct Req {
    actor: Actor,
    level: &'static str,
    stage: &'static str,
    verb: &'static str,
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    subresource: Option<&'static str>,
    namespace: Option<String>,
    name: Option<String>,
    query: String,
    code: u64,
    request: Option<Value>,
    response: Option<Value>,
}

impl Req {
    fn new(actor: Actor, verb: &'static str, resource: &'static str) -> Req {
        Req {
            actor,
            level: "Metadata",
            stage: "ResponseComplete",
            verb,
            group: "",
            version: "v1",
            resource,
            subresource: None,
            namespace: None,
            name: None,
            query: String::new(),
            code: if verb == "create" { 201 } else { 200 },
            request: None,
            response: None,
        }
    }

    fn ns(mut self, ns: &str) -> Req {
        self.namespace = Some(ns.to_owned());
        self
    }

    fn name(mut self, name: String) -> Req {
        self.name = Some(name);
        self
    }

    fn group(mut self, group: &'static str, version: &'static str) -> Req {
        self.group = group;
        self.version = version;
        self
    }

    /// The level the documentation's policy gives it: pods `RequestResponse`, secrets and
    /// configmaps `Metadata`, other core resources `Request`, the rest `Metadata`.
    fn level_by_policy(mut self) -> Req {
        self.level = match (self.group, self.resource, self.subresource) {
            ("", "pods", None) => "RequestResponse",
            ("", "secrets" | "configmaps", _) => "Metadata",
            ("", "pods", Some("log" | "status")) => "Metadata",
            ("", _, _) => "Request",
            _ => "Metadata",
        };
        self
    }

    fn uri(&self) -> String {
        let mut uri = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if let Some(ns) = &self.namespace {
            uri.push_str(&format!("/namespaces/{ns}"));
        }
        uri.push('/');
        uri.push_str(self.resource);
        if let Some(name) = &self.name {
            if self.verb != "create" || self.subresource.is_some() {
                uri.push('/');
                uri.push_str(name);
            }
        }
        if let Some(sub) = self.subresource {
            uri.push('/');
            uri.push_str(sub);
        }
        uri.push_str(&self.query);
        uri
    }

    fn into_event(self, rng: &mut Rng, i: usize) -> Value {
        let ms = i * STEP_MS;
        let ts = format!(
            "2024-05-01T{:02}:{:02}:{:02}.{:06}Z",
            (ms / 3_600_000) % 24,
            (ms / 60_000) % 60,
            (ms / 1000) % 60,
            (ms % 1000) * 1000 + rng.below(1000)
        );
        let uri = self.uri();
        let mut m = Map::new();
        m.insert("kind".into(), json!("Event"));
        m.insert("apiVersion".into(), json!("audit.k8s.io/v1"));
        m.insert("level".into(), json!(self.level));
        m.insert(
            "auditID".into(),
            json!(format!(
                "{:08x}-1c2d-4e5f-8a9b-{:012x}",
                i,
                rng.next_u64() & 0xffff_ffff_ffff
            )),
        );
        m.insert("stage".into(), json!(self.stage));
        m.insert("requestURI".into(), json!(uri));
        m.insert("verb".into(), json!(self.verb));
        m.insert("user".into(), self.actor.user);
        m.insert("sourceIPs".into(), json!([self.actor.ip]));
        m.insert("userAgent".into(), json!(self.actor.agent));
        let mut object_ref = Map::new();
        object_ref.insert("resource".into(), json!(self.resource));
        if let Some(ns) = &self.namespace {
            object_ref.insert("namespace".into(), json!(ns));
        }
        if let Some(name) = &self.name {
            object_ref.insert("name".into(), json!(name));
        }
        if !self.group.is_empty() {
            object_ref.insert("apiGroup".into(), json!(self.group));
        }
        object_ref.insert("apiVersion".into(), json!(self.version));
        if let Some(sub) = self.subresource {
            object_ref.insert("subresource".into(), json!(sub));
        }
        m.insert("objectRef".into(), Value::Object(object_ref));
        let status = match self.code {
            401 => json!({"metadata": {}, "status": "Failure", "message": "Unauthorized",
                          "reason": "Unauthorized", "code": 401}),
            403 => json!({"metadata": {}, "status": "Failure",
                          "message": format!("{} is forbidden: User cannot {} resource \"{}\" in API group \"{}\"",
                                             self.resource, self.verb, self.resource, self.group),
                          "reason": "Forbidden", "details": {"kind": self.resource}, "code": 403}),
            code => json!({"metadata": {}, "code": code}),
        };
        m.insert("responseStatus".into(), status);
        if self.level != "Metadata" {
            if let Some(object) = self.request {
                m.insert("requestObject".into(), object);
            }
        }
        if self.level == "RequestResponse" {
            if let Some(object) = self.response {
                m.insert("responseObject".into(), object);
            }
        }
        m.insert("requestReceivedTimestamp".into(), json!(ts));
        m.insert("stageTimestamp".into(), json!(ts));
        match self.code {
            401 => {}
            403 => {
                m.insert(
                    "annotations".into(),
                    json!({"authorization.k8s.io/decision": "forbid",
                           "authorization.k8s.io/reason": ""}),
                );
            }
            _ => {
                let reason = if self.actor.agent.starts_with("ELB") {
                    "RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of ClusterRole \"system:public-info-viewer\" to Group \"system:unauthenticated\""
                } else {
                    "RBAC: allowed by ClusterRoleBinding \"system:controller:replicaset-controller\" of ClusterRole \"system:controller:replicaset-controller\" to ServiceAccount \"replicaset-controller/kube-system\""
                };
                m.insert(
                    "annotations".into(),
                    json!({"authorization.k8s.io/decision": "allow",
                           "authorization.k8s.io/reason": reason}),
                );
            }
        }
        Value::Object(m)
    }
}

/// A pod as a ReplicaSet, Job or DaemonSet makes it; `system` for a kube-proxy-like DaemonSet pod
/// in `kube-system` (privileged, host network, host paths).
fn pod(rng: &mut Rng, name: &str, ns: &str, owner: &str, system: bool) -> Value {
    if system {
        return json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": "kube-proxy-", "name": name, "namespace": ns,
                         "labels": {"k8s-app": "kube-proxy", "controller-revision-hash": "6b8d7f9c4"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "kube-proxy",
                                              "uid": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "controller": true,
                                              "blockOwnerDeletion": true}]},
            "spec": {"hostNetwork": true, "priorityClassName": "system-node-critical",
                     "serviceAccountName": "kube-proxy", "nodeSelector": {"kubernetes.io/os": "linux"},
                     "containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.30.2",
                                     "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                                                 "--hostname-override=$(NODE_NAME)"],
                                     "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                                     "securityContext": {"privileged": true},
                                     "volumeMounts": [{"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"},
                                                      {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                                                      {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": true}]}],
                     "volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy"}},
                                 {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                                 {"name": "lib-modules", "hostPath": {"path": "/lib/modules"}}],
                     "tolerations": [{"operator": "Exists"}]}});
    }
    let hardened = rng.chance(50);
    let app = name.split('-').next().unwrap_or("web");
    let containers: Vec<Value> = (0..1 + usize::from(rng.chance(30)))
        .map(|c| {
            let mut container = json!({
                "name": if c == 0 { app.to_owned() } else { "sidecar".to_owned() },
                "image": format!("registry.example.com/{ns}/{app}:1.{}.{}", rng.below(20), rng.below(10)),
                "ports": [{"containerPort": 8080 + c, "protocol": "TCP"}],
                "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "eu-west-1"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent"});
            if hardened {
                container["securityContext"] = json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}});
                container["readinessProbe"] = json!({"httpGet": {"path": "/ready", "port": 8080 + c}, "periodSeconds": 10});
            }
            container
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"generateName": format!("{app}-6d8f9c7b5-"), "name": name, "namespace": ns,
                        "labels": {"app": app, "pod-template-hash": "6d8f9c7b5"},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner, "name": format!("{app}-6d8f9c7b5"),
                                             "uid": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", "controller": true,
                                             "blockOwnerDeletion": true}]},
           "spec": {"serviceAccountName": app, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                    "securityContext": if hardened { json!({"seccompProfile": {"type": "RuntimeDefault"}}) } else { json!({}) },
                    "containers": containers}})
}

fn app_ns(rng: &mut Rng) -> &'static str {
    APP_NAMESPACES[rng.below(APP_NAMESPACES.len())]
}

fn pod_name(rng: &mut Rng) -> String {
    let app = *rng.pick(&["web", "api", "worker", "cart", "checkout"]);
    format!("{app}-6d8f9c7b5-{:05x}", rng.below(1 << 20))
}

fn pick_kind(rng: &mut Rng) -> Kind {
    let mut roll = rng.below(10_000) as u32;
    for (kind, weight) in MIX {
        if roll < *weight {
            return *kind;
        }
        roll -= weight;
    }
    Kind::ControllerRead
}

/// Event `i` of the log.
pub fn event(rng: &mut Rng, i: usize) -> Value {
    if i % BURST_EVERY < BURST && i >= BURST_EVERY / 2 {
        // Guessing: 401s from one address outside the cluster.
        let actor = Actor {
            user: json!({}),
            agent: "python-requests/2.31.0".to_owned(),
            ip: "203.0.113.7".to_owned(),
        };
        let mut req = Req::new(actor, "list", "secrets").ns("kube-system");
        req.stage = "ResponseStarted";
        req.code = 401;
        return req.into_event(rng, i);
    }
    let req = match pick_kind(rng) {
        Kind::NodeLease => {
            let (actor, n) = kubelet(rng);
            let mut req = Req::new(actor, "update", "leases")
                .group("coordination.k8s.io", "v1")
                .ns("kube-node-lease")
                .name(format!("worker-{n}"));
            req.query = "?timeout=10s".to_owned();
            req
        }
        Kind::LeaderElection => {
            let (user, agent, name) = if rng.chance(50) {
                (
                    "system:kube-controller-manager",
                    "kube-controller-manager",
                    "kube-controller-manager",
                )
            } else {
                ("system:kube-scheduler", "kube-scheduler", "kube-scheduler")
            };
            let verb = if rng.chance(50) { "get" } else { "update" };
            let mut req = Req::new(component(user, agent), verb, "leases")
                .group("coordination.k8s.io", "v1")
                .ns("kube-system")
                .name(name.to_owned());
            req.query = "?timeout=5s".to_owned();
            req
        }
        Kind::NodeStatus => {
            let (actor, n) = kubelet(rng);
            let mut req = Req::new(actor, "patch", "nodes").name(format!("worker-{n}"));
            req.subresource = Some("status");
            req.query = "?timeout=10s".to_owned();
            req.request = Some(json!({"status": {"$setElementOrder/conditions": [
                {"type": "MemoryPressure"}, {"type": "DiskPressure"}, {"type": "PIDPressure"}, {"type": "Ready"}],
                "conditions": [{"lastHeartbeatTime": "2024-05-01T10:00:00Z", "type": "Ready"}]}}));
            req.level_by_policy()
        }
        Kind::PodStatus => {
            let (actor, _) = kubelet(rng);
            let ns = app_ns(rng);
            let mut req = Req::new(actor, "patch", "pods").ns(ns).name(pod_name(rng));
            req.subresource = Some("status");
            req.request = Some(
                json!({"metadata": {"uid": "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"},
                "status": {"$setElementOrder/conditions": [{"type": "Initialized"}, {"type": "Ready"},
                    {"type": "ContainersReady"}, {"type": "PodScheduled"}],
                    "conditions": [{"lastTransitionTime": "2024-05-01T10:00:00Z", "status": "True", "type": "Ready"}],
                    "containerStatuses": [{"containerID": "containerd://4f3e2d1c0b", "image": "registry.example.com/app:1.2.0",
                        "name": "app", "ready": true, "restartCount": 0, "started": true,
                        "state": {"running": {"startedAt": "2024-05-01T09:59:58Z"}}}]}}),
            );
            req.level_by_policy()
        }
        Kind::KubeletWatch => {
            let (actor, n) = kubelet(rng);
            let resource = *rng.pick(&["pods", "nodes", "services", "configmaps", "secrets"]);
            let mut req = Req::new(actor, "watch", resource);
            if matches!(resource, "configmaps" | "secrets") {
                req = req.ns(app_ns(rng));
            }
            req.query = if resource == "pods" {
                format!("?allowWatchBookmarks=true&fieldSelector=spec.nodeName%3Dworker-{n}&timeout=7m40s&watch=true")
            } else {
                "?allowWatchBookmarks=true&timeout=9m12s&watch=true".to_owned()
            };
            if rng.chance(50) {
                req.stage = "ResponseStarted";
            }
            req.level_by_policy()
        }
        Kind::KubeletGet => {
            let (actor, n) = kubelet(rng);
            let req = match rng.below(3) {
                0 => Req::new(actor, "get", "nodes").name(format!("worker-{n}")),
                1 => Req::new(actor, "get", "configmaps")
                    .ns(app_ns(rng))
                    .name("app-config".to_owned()),
                _ => Req::new(actor, "get", "serviceaccounts")
                    .ns(app_ns(rng))
                    .name("default".to_owned()),
            };
            req.level_by_policy()
        }
        Kind::ControllerRead => {
            let name = *rng.pick(CONTROLLERS);
            let (group, version, resource) = *rng.pick(&[
                ("apps", "v1", "replicasets"),
                ("apps", "v1", "deployments"),
                ("discovery.k8s.io", "v1", "endpointslices"),
                ("", "v1", "pods"),
                ("batch", "v1", "jobs"),
                ("apps", "v1", "daemonsets"),
            ]);
            let verb = *rng.pick(&["get", "list", "watch"]);
            let mut req = Req::new(controller(name), verb, resource).group(group, version);
            if verb == "get" {
                req = req.ns(app_ns(rng)).name(pod_name(rng));
            } else if verb == "watch" {
                req.query =
                    "?allowWatchBookmarks=true&resourceVersion=123456&timeout=8m3s&watch=true"
                        .to_owned();
            }
            if group.is_empty() {
                req = req.group("", "v1");
            }
            // Reads of pods at RequestResponse carry no object: only writes do.
            req.level_by_policy()
        }
        Kind::ControllerUpdate => {
            let name = *rng.pick(CONTROLLERS);
            let (group, resource) = *rng.pick(&[
                ("apps", "replicasets"),
                ("apps", "deployments"),
                ("discovery.k8s.io", "endpointslices"),
            ]);
            let mut req = Req::new(controller(name), "update", resource)
                .group(group, "v1")
                .ns(app_ns(rng))
                .name(pod_name(rng));
            if resource != "endpointslices" {
                req.subresource = Some("status");
            }
            req
        }
        Kind::EventCreate => {
            let (actor, n) = kubelet(rng);
            let ns = app_ns(rng);
            let pod = pod_name(rng);
            let (reason, message) = *rng.pick(&[
                (
                    "Pulled",
                    "Container image \"registry.example.com/app:1.2.0\" already present on machine",
                ),
                ("Created", "Created container app"),
                ("Started", "Started container app"),
                (
                    "Unhealthy",
                    "Readiness probe failed: HTTP probe failed with statuscode: 503",
                ),
            ]);
            let event_name = format!("{pod}.17c8a2b3d4e5f6a7");
            let mut req = Req::new(actor, "create", "events")
                .ns(ns)
                .name(event_name.clone());
            req.request = Some(json!({"kind": "Event", "apiVersion": "v1",
                "metadata": {"name": event_name, "namespace": ns},
                "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod, "apiVersion": "v1",
                                   "uid": "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928", "fieldPath": "spec.containers{app}"},
                "reason": reason, "message": message,
                "source": {"component": "kubelet", "host": format!("worker-{n}")},
                "firstTimestamp": "2024-05-01T10:00:00Z", "lastTimestamp": "2024-05-01T10:00:00Z",
                "count": 1, "type": if reason == "Unhealthy" { "Warning" } else { "Normal" },
                "reportingComponent": "kubelet", "reportingInstance": format!("worker-{n}")}));
            req.level_by_policy()
        }
        Kind::WorkloadRead => {
            let (ns, sa, agent, resources): (&str, &str, &str, &[&'static str]) = *rng.pick(&[
                (
                    "monitoring",
                    "prometheus-k8s",
                    "Prometheus/2.53.0",
                    &["pods", "endpoints", "services", "nodes"][..],
                ),
                (
                    "ingress-nginx",
                    "ingress-nginx",
                    "nginx-ingress-controller/v1.10.1",
                    &["services", "endpoints", "configmaps"][..],
                ),
                (
                    "shop",
                    "api",
                    "api/1.4.2 (linux/amd64) kubernetes/v0.30.2",
                    &["configmaps"][..],
                ),
            ]);
            let resource = *rng.pick(resources);
            let verb = *rng.pick(&["get", "list", "watch"]);
            let actor = workload(rng, ns, sa, agent);
            let mut req = Req::new(actor, verb, resource);
            if resource != "nodes" {
                req = req.ns(if sa == "prometheus-k8s" {
                    app_ns(rng)
                } else {
                    ns
                });
            }
            if verb == "get" {
                req = req.name(format!("{resource}-{}", rng.below(50)));
            }
            req.level_by_policy()
        }
        Kind::ProxyWatch => {
            let mut actor = component("system:kube-proxy", "kube-proxy");
            actor.agent = format!("kube-proxy/{VERSION}");
            actor.ip = format!("10.0.1.{}", 10 + rng.below(NODES));
            let mut req =
                Req::new(actor, "watch", "endpointslices").group("discovery.k8s.io", "v1");
            req.query = "?allowWatchBookmarks=true&labelSelector=%21service.kubernetes.io%2Fheadless&timeout=9m1s&watch=true".to_owned();
            req
        }
        Kind::HealthProbe => {
            let actor = Actor {
                user: json!({"username": "system:anonymous", "groups": ["system:unauthenticated"]}),
                agent: "ELB-HealthChecker/2.0".to_owned(),
                ip: format!("10.0.0.{}", 200 + rng.below(3)),
            };
            let path = if rng.chance(50) { "/readyz" } else { "/livez" };
            let mut m = Req::new(actor, "get", "").into_event(rng, i);
            m["requestURI"] = json!(path);
            m.as_object_mut().unwrap().remove("objectRef");
            return m;
        }
        Kind::PodCreate => {
            let system = rng.chance(5);
            let (ns, name, owner, actor) = if system {
                let name = format!("kube-proxy-{:05x}", rng.below(1 << 20));
                (
                    "kube-system",
                    name,
                    "DaemonSet",
                    controller("daemon-set-controller"),
                )
            } else {
                let (owner, ctl) = *rng.pick(&[
                    ("ReplicaSet", "replicaset-controller"),
                    ("ReplicaSet", "replicaset-controller"),
                    ("ReplicaSet", "replicaset-controller"),
                    ("Job", "job-controller"),
                ]);
                (app_ns(rng), pod_name(rng), owner, controller(ctl))
            };
            let object = pod(rng, &name, ns, owner, system);
            let mut req = Req::new(actor, "create", "pods").ns(ns).name(name.clone());
            req.response = Some(json!({"kind": "Pod", "apiVersion": "v1",
                "metadata": {"name": name, "namespace": ns, "uid": "0d1f2e3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
                             "resourceVersion": "123456", "creationTimestamp": "2024-05-01T10:00:00Z"},
                "status": {"phase": "Pending", "qosClass": "Burstable"}}));
            req.request = Some(object);
            req.level_by_policy()
        }
        Kind::PodBinding => {
            let mut actor = component("system:kube-scheduler", "kube-scheduler");
            actor.agent = format!("kube-scheduler/{VERSION}/scheduler");
            let ns = app_ns(rng);
            let name = pod_name(rng);
            let mut req = Req::new(actor, "create", "pods").ns(ns).name(name.clone());
            req.subresource = Some("binding");
            req.request = Some(json!({"kind": "Binding", "apiVersion": "v1",
                "metadata": {"name": name, "namespace": ns, "uid": "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"},
                "target": {"kind": "Node", "name": format!("worker-{}", rng.below(NODES))}}));
            req.level_by_policy()
        }
        Kind::PodDelete => {
            let actor = if rng.chance(50) {
                controller(if rng.chance(50) {
                    "replicaset-controller"
                } else {
                    "generic-garbage-collector"
                })
            } else {
                kubelet(rng).0
            };
            let mut req = Req::new(actor, "delete", "pods")
                .ns(app_ns(rng))
                .name(pod_name(rng));
            req.request = Some(
                json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/__internal",
                                      "gracePeriodSeconds": 30, "propagationPolicy": "Background"}),
            );
            req.level_by_policy()
        }
        Kind::SystemSecretGet => {
            let actor = workload(
                rng,
                "ingress-nginx",
                "ingress-nginx",
                "nginx-ingress-controller/v1.10.1",
            );
            Req::new(actor, "get", "secrets")
                .ns(app_ns(rng))
                .name("tls-cert".to_owned())
                .level_by_policy()
        }
        Kind::HumanRead => {
            let resource = *rng.pick(&["pods", "services", "configmaps", "events", "nodes"]);
            let verb = if rng.chance(30) { "get" } else { "list" };
            let mut req = Req::new(human(rng), verb, resource);
            if resource != "nodes" {
                req = req.ns(app_ns(rng));
            }
            if verb == "get" {
                req = req.name(pod_name(rng));
            }
            req.query = "?limit=500".to_owned();
            req.level_by_policy()
        }
        kind @ (Kind::HumanExec | Kind::HumanPortForward) => {
            let exec = matches!(kind, Kind::HumanExec);
            let mut req = Req::new(human(rng), "create", "pods")
                .ns(app_ns(rng))
                .name(pod_name(rng));
            req.stage = "ResponseStarted";
            req.code = 101;
            if exec {
                req.subresource = Some("exec");
                req.query = "?command=sh&container=app&stdin=true&stdout=true&tty=true".to_owned();
            } else {
                req.subresource = Some("portforward");
            }
            req.level_by_policy()
        }
        Kind::HumanSecretGet => Req::new(human(rng), "get", "secrets")
            .ns(app_ns(rng))
            .name("db-credentials".to_owned())
            .level_by_policy(),
        Kind::HumanWrite => {
            let mut req = Req::new(human(rng), "patch", "deployments")
                .group("apps", "v1")
                .ns(app_ns(rng))
                .name("web".to_owned());
            req.query = "?fieldManager=kubectl-rollout".to_owned();
            req
        }
        Kind::CiDeploy => {
            let actor = ci(rng);
            let ns = *rng.pick(&["shop", "payments"]);
            match rng.below(3) {
                0 => {
                    let mut req = Req::new(actor, "patch", "deployments")
                        .group("apps", "v1")
                        .ns(ns)
                        .name("api".to_owned());
                    req.query =
                        "?fieldManager=kubectl-client-side-apply&fieldValidation=Strict".to_owned();
                    req
                }
                1 => {
                    let mut req = Req::new(actor, "patch", "services")
                        .ns(ns)
                        .name("api".to_owned());
                    req.request = Some(
                        json!({"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"v1\",\"kind\":\"Service\"}"}},
                        "spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}}),
                    );
                    req.level_by_policy()
                }
                _ => Req::new(actor, "get", "configmaps")
                    .ns(ns)
                    .name("api-config".to_owned())
                    .level_by_policy(),
            }
        }
        Kind::Forbidden => {
            let mut req = if rng.chance(50) {
                let actor = workload(
                    rng,
                    "shop",
                    "api",
                    "api/1.4.2 (linux/amd64) kubernetes/v0.30.2",
                );
                Req::new(actor, "list", "secrets").ns("shop")
            } else {
                Req::new(human(rng), "get", "secrets")
                    .ns("kube-system")
                    .name("bootstrap-token-abcdef".to_owned())
            };
            req.code = 403;
            req.level_by_policy()
        }
        Kind::Unauthenticated => {
            let actor = Actor {
                user: json!({}),
                agent: format!("kubectl/{VERSION}"),
                ip: format!("192.168.10.{}", 20 + rng.below(30)),
            };
            let mut req = Req::new(actor, "list", "pods").ns(app_ns(rng));
            req.stage = "ResponseStarted";
            req.code = 401;
            req
        }
    };
    req.into_event(rng, i)
}
