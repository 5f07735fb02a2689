//! Synthetic multi-document manifest streams with the mix of a real application repository:
//! Deployments (some hardened, some not), Services, ServiceAccounts, ConfigMaps, RBAC,
//! NetworkPolicies, a few StatefulSets and CronJobs, and rare CustomResourceDefinition-sized
//! documents with large schemas.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::rng::Rng;

/// The kinds generated and their share per thousand objects.
pub const MIX: &[(&str, usize)] = &[
    ("Deployment", 115),
    ("Service", 185),
    ("ServiceAccount", 150),
    ("ConfigMap", 129),
    ("Role", 70),
    ("RoleBinding", 90),
    ("ClusterRole", 25),
    ("ClusterRoleBinding", 25),
    ("NetworkPolicy", 130),
    ("StatefulSet", 20),
    ("CronJob", 20),
    ("Secret", 30),
    ("CustomResourceDefinition", 1),
];

const IMAGES: &[&str] = &[
    "registry.example.com/shop/api",
    "registry.example.com/shop/web",
    "docker.io/library/nginx",
    "quay.io/prometheus/node-exporter",
    "ghcr.io/example/worker",
    "redis",
];
const TAGS: &[&str] = &["1.4.2", "latest", "v2.11.0", "2024.06.1", "7.2-alpine"];
const TIERS: &[&str] = &["frontend", "backend", "cache", "batch", "data"];
const VERBS: &[&str] = &[
    "[\"get\", \"list\", \"watch\"]",
    "[\"get\", \"list\", \"watch\", \"create\", \"update\", \"patch\", \"delete\"]",
    "[\"*\"]",
    "[\"get\"]",
];
const RESOURCES: &[&str] = &[
    "[\"pods\", \"pods/log\"]",
    "[\"configmaps\"]",
    "[\"secrets\"]",
    "[\"deployments\", \"replicasets\"]",
    "[\"*\"]",
];

/// Generates `count` objects from `seed`, writing them as one YAML stream to `out`.
pub fn write_stream(count: usize, seed: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let mut doc = String::with_capacity(32 * 1024);
    for index in 0..count {
        doc.clear();
        object(&mut rng, index, &mut doc);
        out.write_all(b"---\n")?;
        out.write_all(doc.as_bytes())?;
    }
    Ok(())
}

/// The stream [`write_stream`] writes, as a string.
pub fn stream(count: usize, seed: u64) -> String {
    let mut out = Vec::new();
    write_stream(count, seed, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("the generator writes UTF-8")
}

fn kind(rng: &mut Rng) -> &'static str {
    let total: usize = MIX.iter().map(|(_, w)| w).sum();
    let mut roll = rng.below(total);
    for (kind, weight) in MIX {
        if roll < *weight {
            return kind;
        }
        roll -= weight;
    }
    MIX[0].0
}

fn object(rng: &mut Rng, index: usize, out: &mut String) {
    let ns = format!("team-{}", rng.below(40));
    let app = format!("{}-{index}", rng.pick(TIERS));
    match kind(rng) {
        "Deployment" => workload(rng, "apps/v1", "Deployment", &ns, &app, out),
        "StatefulSet" => workload(rng, "apps/v1", "StatefulSet", &ns, &app, out),
        "CronJob" => workload(rng, "batch/v1", "CronJob", &ns, &app, out),
        "Service" => service(rng, &ns, &app, out),
        "ServiceAccount" => {
            let automount = rng.chance(50);
            let _ = write!(
                out,
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app: {app}\nautomountServiceAccountToken: {automount}\n"
            );
        }
        "ConfigMap" => {
            let _ = write!(
                out,
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n  namespace: {ns}\n  labels:\n    app: {app}\ndata:\n  LOG_LEVEL: \"info\"\n  TIMEOUT: \"{}s\"\n  config.yaml: |\n    listen: 0.0.0.0:{}\n    upstream: http://{app}.{ns}.svc:8080\n    retries: {}\n",
                5 + rng.below(55),
                8000 + rng.below(1000),
                rng.below(5)
            );
        }
        "Secret" => {
            let _ = write!(
                out,
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {app}-credentials\n  namespace: {ns}\ntype: Opaque\ndata:\n  username: YWRtaW4=\n  password: {:016x}\n",
                rng.next_u64()
            );
        }
        "Role" => role(rng, "Role", Some(&ns), &app, out),
        "ClusterRole" => role(rng, "ClusterRole", None, &app, out),
        "RoleBinding" => binding(rng, "RoleBinding", Some(&ns), &app, out),
        "ClusterRoleBinding" => binding(rng, "ClusterRoleBinding", None, &app, out),
        "NetworkPolicy" => network_policy(rng, &ns, &app, out),
        _ => crd(rng, index, out),
    }
}

fn workload(rng: &mut Rng, api: &str, kind: &str, ns: &str, app: &str, out: &mut String) {
    let tier = rng.pick(TIERS);
    let _ = write!(
        out,
        "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {app}\n    app.kubernetes.io/part-of: shop\n    tier: {tier}\n"
    );
    let indent = if kind == "CronJob" {
        let _ = write!(
            out,
            "spec:\n  schedule: \"{} */{} * * *\"\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n          labels:\n            app: {app}\n        spec:\n          restartPolicy: OnFailure\n",
            rng.below(60),
            1 + rng.below(12)
        );
        "          "
    } else {
        let _ = write!(
            out,
            "spec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n        tier: {tier}\n    spec:\n",
            1 + rng.below(5)
        );
        "      "
    };
    let hardened = rng.chance(60);
    if rng.chance(50) {
        let _ = writeln!(out, "{indent}serviceAccountName: {app}");
    }
    if !hardened && rng.chance(20) {
        let _ = writeln!(out, "{indent}hostNetwork: true");
    }
    if hardened {
        let _ = write!(
            out,
            "{indent}securityContext:\n{indent}  runAsNonRoot: true\n{indent}  seccompProfile:\n{indent}    type: RuntimeDefault\n"
        );
    }
    let _ = writeln!(out, "{indent}containers:");
    let containers = 1 + usize::from(rng.chance(25));
    for c in 0..containers {
        let image = rng.pick(IMAGES);
        let tag = rng.pick(TAGS);
        let port = 8000 + rng.below(1000);
        let _ = write!(
            out,
            "{indent}- name: c{c}\n{indent}  image: {image}:{tag}\n{indent}  ports:\n{indent}  - containerPort: {port}\n{indent}    name: http\n{indent}  env:\n{indent}  - name: PORT\n{indent}    value: \"{port}\"\n{indent}  - name: NAMESPACE\n{indent}    valueFrom:\n{indent}      fieldRef:\n{indent}        fieldPath: metadata.namespace\n"
        );
        if hardened || rng.chance(30) {
            let _ = write!(
                out,
                "{indent}  resources:\n{indent}    requests:\n{indent}      cpu: {}m\n{indent}      memory: {}Mi\n{indent}    limits:\n{indent}      memory: {}Mi\n",
                50 * (1 + rng.below(8)),
                64 * (1 + rng.below(8)),
                128 * (1 + rng.below(8))
            );
        }
        if hardened {
            let _ = write!(
                out,
                "{indent}  readinessProbe:\n{indent}    httpGet:\n{indent}      path: /healthz\n{indent}      port: http\n{indent}  securityContext:\n{indent}    allowPrivilegeEscalation: false\n{indent}    readOnlyRootFilesystem: true\n{indent}    capabilities:\n{indent}      drop: [\"ALL\"]\n"
            );
        } else if rng.chance(15) {
            let _ = write!(
                out,
                "{indent}  securityContext:\n{indent}    privileged: true\n"
            );
        }
    }
}

fn service(rng: &mut Rng, ns: &str, app: &str, out: &mut String) {
    let kind = if rng.chance(10) {
        "LoadBalancer"
    } else {
        "ClusterIP"
    };
    let _ = write!(
        out,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app: {app}\nspec:\n  type: {kind}\n  selector:\n    app: {app}\n  ports:\n  - name: http\n    port: 80\n    targetPort: {}\n    protocol: TCP\n",
        8000 + rng.below(1000)
    );
}

fn role(rng: &mut Rng, kind: &str, ns: Option<&str>, app: &str, out: &mut String) {
    let _ = write!(
        out,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: {app}\n"
    );
    if let Some(ns) = ns {
        let _ = writeln!(out, "  namespace: {ns}");
    }
    let _ = writeln!(out, "rules:");
    for _ in 0..1 + rng.below(3) {
        let group = if rng.chance(50) { "\"\"" } else { "\"apps\"" };
        let _ = write!(
            out,
            "- apiGroups: [{group}]\n  resources: {}\n  verbs: {}\n",
            rng.pick(RESOURCES),
            rng.pick(VERBS)
        );
    }
}

fn binding(rng: &mut Rng, kind: &str, ns: Option<&str>, app: &str, out: &mut String) {
    let _ = write!(
        out,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: {app}\n"
    );
    if let Some(ns) = ns {
        let _ = writeln!(out, "  namespace: {ns}");
    }
    let role_kind = if ns.is_none() || rng.chance(30) {
        "ClusterRole"
    } else {
        "Role"
    };
    let role = if rng.chance(3) { "cluster-admin" } else { app };
    let _ = write!(
        out,
        "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {role_kind}\n  name: {role}\nsubjects:\n- kind: ServiceAccount\n  name: {app}\n  namespace: {}\n",
        ns.unwrap_or("kube-system")
    );
    if rng.chance(10) {
        let _ = write!(
            out,
            "- kind: Group\n  apiGroup: rbac.authorization.k8s.io\n  name: system:authenticated\n"
        );
    }
}

fn network_policy(rng: &mut Rng, ns: &str, app: &str, out: &mut String) {
    let _ = write!(
        out,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  podSelector:\n    matchLabels:\n      app: {app}\n  policyTypes: [\"Ingress\", \"Egress\"]\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels:\n          tier: {}\n    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: {}\n    ports:\n    - protocol: TCP\n      port: {}\n  egress:\n  - to:\n    - ipBlock:\n        cidr: 10.{}.0.0/16\n        except: [\"10.{}.1.0/24\"]\n    ports:\n    - protocol: TCP\n      port: 443\n  - ports:\n    - protocol: UDP\n      port: 53\n",
        rng.pick(TIERS),
        format_args!("team-{}", rng.below(40)),
        8000 + rng.below(1000),
        rng.below(256),
        rng.below(256)
    );
}

/// A CustomResourceDefinition with a schema of a few hundred properties (15–45 KB), the size
/// that operator bundles put in repositories.
fn crd(rng: &mut Rng, index: usize, out: &mut String) {
    let plural = format!("widgets{index}");
    let _ = write!(
        out,
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.example.com\nspec:\n  group: example.com\n  names:\n    kind: Widget{index}\n    plural: {plural}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n"
    );
    for section in 0..8 + rng.below(8) {
        let _ = write!(
            out,
            "              section{section}:\n                description: Settings of part {section} of the widget; every field is optional.\n                type: object\n                properties:\n"
        );
        for field in 0..12 + rng.below(12) {
            let (ty, extra) = match rng.below(4) {
                0 => ("string", "\n                    maxLength: 253"),
                1 => (
                    "integer",
                    "\n                    format: int32\n                    minimum: 0",
                ),
                2 => ("boolean", ""),
                _ => (
                    "array",
                    "\n                    items:\n                      type: string",
                ),
            };
            let _ = write!(
                out,
                "                  field{field}:\n                    description: Field {field} of section {section}.\n                    type: {ty}{extra}\n"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_load_cleanly() {
        let a = stream(500, 1);
        assert_eq!(a, stream(500, 1));
        assert_ne!(a, stream(500, 2));
        let loaded = palisade_core::load_str(&a, "gen.yaml", &palisade_core::Limits::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.objects.len(), 500);
        for kind in ["Deployment", "Service", "RoleBinding", "NetworkPolicy"] {
            assert!(
                loaded.objects.iter().any(|o| o.kind() == kind),
                "no {kind} in 500 objects"
            );
        }
    }

    #[test]
    fn crds_are_large() {
        let mut out = String::new();
        crd(&mut Rng::new(3), 0, &mut out);
        assert!(out.len() > 10_000, "{} bytes", out.len());
        let loaded = palisade_core::load_str(&out, "crd.yaml", &palisade_core::Limits::default());
        assert_eq!(loaded.objects[0].kind(), "CustomResourceDefinition");
    }
}
