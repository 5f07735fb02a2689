use std::collections::HashMap;

use palisade_core::rule::{Framework, Reference, Severity};
use palisade_core::views::{kinds, WORKLOADS};

use crate::{declare_rule, Emit, Entry, Inventory, InventoryRule};

/// The kinds compared: those that decide what runs, what is exposed and who may do what (the
/// others, such as ConfigMaps, Secrets and CRDs, can be large and are not kept for the whole
/// run).
const KINDS: &[&str] = &kinds::<{ WORKLOADS.len() + 9 }>(
    &[
        "Namespace",
        "Service",
        "Ingress",
        "NetworkPolicy",
        "ServiceAccount",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
    ],
    false,
);

declare_rule! {
    /// Object is defined twice with different content.
    pub struct DuplicateObject;
    checks: Inventory,
    id: "YAML002",
    slug: "duplicate-object",
    title: "Object is defined twice with different content",
    severity: Severity::Medium,
    category: "input",
    kinds: KINDS,
    summary: "Two documents of the input define the same object (API group, kind, namespace and \
name) with different content. Reported at the second definition's name, with the place of the \
first. Two identical copies are not reported. When the two definitions are in different files, \
the pair of files is reported once, at its first such object, with the number of the others. Compared kinds: workloads, Namespaces, Services, \
Ingresses, NetworkPolicies, ServiceAccounts and RBAC roles and bindings. An object without \
`metadata.namespace` is compared with the others without one only.",
    rationale: "Only one of the two can exist in a cluster: whichever is applied last replaces the \
other, so what a reviewer reads in one file is not what runs. Checks that relate objects \
(NetworkPolicy reachability, RBAC, Pod Security by namespace) can also see only one of them, so \
findings about the other may be lost. Two environments or two variants of an application kept in \
one tree (for example a hardened and an insecure set) belong in their own namespaces, or in \
inputs scanned separately.",
    remediation: "Delete one of the two definitions, rename one, or move each set into its own \
namespace:\n\n```yaml\nmetadata:\n  name: web\n  namespace: shop-staging   # and shop-production \
in the other set\n```\n\nWhen the two are environments that are never applied together, scan \
each one on its own (`palisade scan overlays/staging`).",
    references: &[Reference::url(
        Framework::Docs,
        "Object names and IDs",
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/",
    )],
    fix: None,
}

/// What makes two definitions the same object.
type Identity<'a> = (&'a str, &'a str, &'a str, &'a str);

fn identity(object: Entry<'_>) -> Identity<'_> {
    (
        object.group(),
        object.kind(),
        object.namespace().unwrap_or_default(),
        object.name(),
    )
}

/// The first cross-file duplicate of one file pair, and how many more the pair has.
struct FilePair {
    index: usize,
    message: String,
    more: usize,
}

impl InventoryRule for DuplicateObject {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        // The first definition of each identity, and those already reported as different from
        // it (a third copy equal to the second is reported once).
        let mut first: HashMap<Identity<'_>, usize> = HashMap::new();
        // Duplicates across two files are reported once per pair of files (two variants of an
        // application kept side by side share most of their objects).
        let mut pairs: HashMap<(&str, &str), FilePair> = HashMap::new();
        let mut pair_order: Vec<(&str, &str)> = Vec::new();
        for (index, object) in inventory.objects.iter().enumerate() {
            if !KINDS.contains(&object.kind()) || object.name().is_empty() {
                continue;
            }
            let Some(&earlier) = first.get(&identity(object)) else {
                first.insert(identity(object), index);
                continue;
            };
            let Some(original) = inventory.objects.get(earlier) else {
                continue;
            };
            if inventory.same_content(earlier, index) {
                continue;
            }
            let pos = original.locate("/metadata/name");
            let (_, kind, namespace, name) = identity(object);
            let shown = if namespace.is_empty() {
                name.to_owned()
            } else {
                format!("{namespace}/{name}")
            };
            let message =
                format!(
                "{kind} {shown} is defined again here with different content (first at {}:{}:{}); \
                 only one of the two can exist in a cluster",
                original.source().path, pos.line, pos.col
            );
            let (here, there) = (
                object.source().path.as_str(),
                original.source().path.as_str(),
            );
            if here == there {
                out.push((index, Emit::new("/metadata/name", message)));
                continue;
            }
            match pairs.get_mut(&(here, there)) {
                Some(pair) => pair.more += 1,
                None => {
                    pair_order.push((here, there));
                    pairs.insert(
                        (here, there),
                        FilePair {
                            index,
                            message,
                            more: 0,
                        },
                    );
                }
            }
        }
        for key in pair_order {
            let pair = &pairs[&key];
            let message = match pair.more {
                0 => pair.message.clone(),
                more => format!(
                    "{}; {more} more object{} of this file {} defined differently in {}",
                    pair.message,
                    if more == 1 { "" } else { "s" },
                    if more == 1 { "is" } else { "are" },
                    key.1
                ),
            };
            out.push((pair.index, Emit::new("/metadata/name", message)));
        }
    }
}
