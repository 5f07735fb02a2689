//! What `cluster watch` knows of the cluster, and its evaluation: kept up to date change by
//! change, and re-evaluated in part.
//!
//! Findings are grouped by namespace (`None`: cluster-scoped objects), which is how the
//! PolicyReports group them. An evaluation recomputes only what a change can affect, and gives
//! for each namespace exactly what a full evaluation of the same objects gives (the watch
//! correctness test checks this against `cluster scan`):
//! - per-object rules run when their object changes (kept with the object);
//! - the namespace-local inventory rules ([`NAMESPACE_LOCAL`](super::scope::NAMESPACE_LOCAL))
//!   run again on the namespaces where an object they read changed, each with the cluster-scoped
//!   objects; a change of a cluster-scoped object they read re-runs them all;
//! - the rules that read a few other namespaces ([`REACHING`](super::scope::REACHING): NET007,
//!   POD016, POD017) run again on the namespaces where an object they read changed and on those
//!   a changed object reaches into (a binding's subjects, before and after the change), each with
//!   the cluster-scoped objects and the objects that reach into it; over the whole cluster when a
//!   cluster-scoped object they read changed, or while a namespace's findings read every
//!   namespace (a policy's egress to other namespaces' named ports);
//! - every other inventory rule runs again over the whole cluster when an object of a kind it
//!   reads changed;
//! - a namespace's findings are merged, folded and sorted again only when one of those parts
//!   changed in it (folding reads the namespace and the cluster-scoped objects: the owners of a
//!   namespaced object are in its namespace or cluster-scoped), and its report is built again
//!   only then, or when the credentials to mask changed.

use std::collections::{BTreeSet, HashMap, HashSet};

use palisade_cluster::{fold_with, inventory_order, object_url, Owners, Present, ResourceType};
use palisade_core::rule::Finding;
use palisade_core::{Object, Redactor};
use palisade_rules::Engine;
use serde_json::Value;

use super::scope::{same_findings, Beyond, Scoped};

/// A namespace, `None` for cluster-scoped objects.
pub type Group = Option<String>;
/// An object within its group: apiVersion, kind, name.
type Name = (String, String, String);

/// An object and what the per-object rules found in it.
struct Entry {
    object: Object,
    findings: Vec<Finding>,
    credentials: Vec<String>,
}

/// Where an object goes in the inventory order (as [`inventory_order`] sorts).
fn order_key(o: &Object) -> (bool, &str, &str, Option<&str>, &str) {
    (
        o.value.pointer("/metadata/ownerReferences").is_some(),
        o.api_version(),
        o.kind(),
        o.namespace(),
        o.name(),
    )
}

/// An object's identity in the cluster: apiVersion, kind, namespace, name.
type Identity = (String, String, Option<String>, String);

fn identity(o: &Object) -> Identity {
    (
        o.api_version().to_owned(),
        o.kind().to_owned(),
        o.namespace().map(str::to_owned),
        o.name().to_owned(),
    )
}

/// Every object the inventory rules read, in the inventory order, kept between evaluations: the
/// changes are merged in (objects moved, not copied) instead of every object being copied and
/// sorted again.
#[derive(Default)]
struct Sorted {
    objects: Vec<Object>,
    /// `objects` is to be made again from the cache (after a list).
    stale: bool,
    /// Objects to add, and the identities of the objects to take out, since the last merge.
    added: Vec<Object>,
    removed: HashSet<Identity>,
}

impl Sorted {
    /// Notes that the object of `id` changed: `new` is its new version if it is kept.
    fn change(&mut self, id: Identity, new: Option<&Object>) {
        if self.stale {
            return;
        }
        self.added.retain(|o| identity(o) != id);
        self.removed.insert(id);
        if let Some(new) = new {
            self.added.push(new.clone());
        }
    }

    /// Where the object of `id` is in `objects`, found by bisection (its key is known but for
    /// whether it has owners).
    fn position(&self, id: &Identity) -> Option<usize> {
        [false, true].into_iter().find_map(|owned| {
            let key = (
                owned,
                id.0.as_str(),
                id.1.as_str(),
                id.2.as_deref(),
                id.3.as_str(),
            );
            let at = self.objects.partition_point(|o| order_key(o) < key);
            self.objects
                .get(at)
                .is_some_and(|o| order_key(o) == key)
                .then_some(at)
        })
    }

    /// Merges the changes in: the objects taken out and the places of the new ones are found
    /// by bisection, then every object is moved once.
    fn merge(&mut self) {
        if self.added.is_empty() && self.removed.is_empty() {
            return;
        }
        let removed = std::mem::take(&mut self.removed);
        let mut dropped: Vec<usize> = removed.iter().filter_map(|id| self.position(id)).collect();
        dropped.sort_unstable();
        let mut added = std::mem::take(&mut self.added);
        added.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
        let places: Vec<usize> = added
            .iter()
            .map(|a| {
                self.objects
                    .partition_point(|o| order_key(o) < order_key(a))
            })
            .collect();
        let old = std::mem::take(&mut self.objects);
        let mut merged = Vec::with_capacity(old.len() + added.len());
        let mut added = added.into_iter().zip(places).peekable();
        let mut dropped = dropped.into_iter().peekable();
        for (i, object) in old.into_iter().enumerate() {
            while let Some((next, _)) = added.next_if(|(_, place)| *place <= i) {
                merged.push(next);
            }
            if dropped.next_if_eq(&i).is_none() {
                merged.push(object);
            }
        }
        merged.extend(added.map(|(next, _)| next));
        self.objects = merged;
    }

    /// The positions, in order, of the objects in `namespaces` (`None`: cluster-scoped). The
    /// objects of one namespace are together within each run of one kind (the order is by
    /// owners, apiVersion, kind, namespace, name), so each run is bisected, not every object
    /// read.
    fn positions_in(&self, namespaces: &[Option<&str>]) -> Vec<usize> {
        let objects = &self.objects;
        fn prefix(o: &Object) -> (bool, &str, &str) {
            let key = order_key(o);
            (key.0, key.1, key.2)
        }
        let mut positions = Vec::new();
        let mut start = 0;
        while let Some(head) = objects.get(start) {
            let run = prefix(head);
            let end = start + objects[start..].partition_point(|o| prefix(o) <= run);
            let slice = &objects[start..end];
            for namespace in namespaces {
                let from = slice.partition_point(|o| o.namespace() < *namespace);
                let to = slice.partition_point(|o| o.namespace() <= *namespace);
                positions.extend(start + from..start + to);
            }
            start = end;
        }
        positions.sort_unstable();
        positions.dedup();
        positions
    }
}

/// What a change can affect.
#[derive(Default)]
struct Dirty {
    /// Everything (a resource type was listed again).
    all: bool,
    /// Groups with a changed object.
    groups: HashSet<Group>,
    /// Groups where the namespace-local rules run again (`local_all`: all of them).
    local: HashSet<Group>,
    local_all: bool,
    /// Kinds of changed objects that inventory rules read.
    kinds: HashSet<String>,
    /// The same with their groups.
    changed_in: HashSet<(Group, String)>,
}

/// What the watch knows of the objects that reach across namespaces for the rules of one
/// [`Reach`](super::scope::Reach) ([`Scoped::reaching`]).
#[derive(Default)]
struct Reached {
    /// Objects that reach into other namespaces ([`Reach::into`](super::scope::Reach::into)).
    into: HashMap<Identity, Beyond>,
    /// Objects whose namespace's findings read every namespace
    /// ([`Reach::reads_everything`](super::scope::Reach::reads_everything)).
    wide: HashSet<Identity>,
    /// Namespaces that objects which changed since the last evaluation reach into (before or
    /// after the change); `into_all`: every namespace.
    dirty: HashSet<String>,
    dirty_all: bool,
    /// The rules' findings, by group.
    findings: HashMap<Group, Vec<Finding>>,
}

impl Reached {
    fn reach(&mut self, beyond: &Beyond) {
        match beyond {
            Beyond::All => self.dirty_all = true,
            Beyond::Some(namespaces) => self.dirty.extend(namespaces.iter().cloned()),
        }
    }
}

/// The findings of one group, ready to report.
#[derive(Default)]
struct Reported {
    findings: Vec<Finding>,
    /// The credentials its findings carry and its objects hold (masked in every report).
    credentials: BTreeSet<String>,
    /// For the cluster-scoped group: its findings before folding, which the findings of
    /// namespaced objects they own fold into.
    present: Option<Present>,
}

pub struct Cache<'e> {
    engine: &'e Engine,
    scoped: Scoped,
    server: String,
    types: HashMap<(String, String), ResourceType>,
    folding: bool,
    namespace: Option<String>,
    groups: HashMap<Group, HashMap<Name, Entry>>,
    dirty: Dirty,
    /// Findings of the namespace-local rules, and of each group of the others, by group.
    local: HashMap<Group, Vec<Finding>>,
    global: Vec<HashMap<Group, Vec<Finding>>>,
    reached: Vec<Reached>,
    reported: HashMap<Group, Reported>,
    /// The credentials of every group, as the last redactor masked them.
    masked: BTreeSet<String>,
    redactor: Option<Redactor>,
    /// The cluster-scoped findings before folding ([`Reported::present`]).
    cluster_present: Present,
    sorted: Sorted,
}

/// Splits findings by the group of their object.
fn by_group(findings: Vec<Finding>) -> HashMap<Group, Vec<Finding>> {
    let mut groups: HashMap<Group, Vec<Finding>> = HashMap::new();
    for f in findings {
        groups
            .entry(f.object.namespace.clone())
            .or_default()
            .push(f);
    }
    groups
}

/// Replaces `old` with `new`, noting in `changed` the groups whose findings differ.
fn replace(
    old: &mut HashMap<Group, Vec<Finding>>,
    new: HashMap<Group, Vec<Finding>>,
    changed: &mut HashSet<Group>,
) {
    for (group, findings) in &new {
        if !old
            .get(group)
            .is_some_and(|old| same_findings(old, findings))
        {
            changed.insert(group.clone());
        }
    }
    for group in old.keys() {
        if !new.contains_key(group) {
            changed.insert(group.clone());
        }
    }
    *old = new;
}

impl<'e> Cache<'e> {
    pub fn new(
        engine: &'e Engine,
        scoped: Scoped,
        server: String,
        types: &[ResourceType],
        folding: bool,
        namespace: Option<String>,
    ) -> Self {
        let global = scoped.global.iter().map(|_| HashMap::new()).collect();
        let reached = scoped.reaching.iter().map(|_| Reached::default()).collect();
        Cache {
            engine,
            scoped,
            server,
            types: types
                .iter()
                .map(|t| ((t.api_version(), t.kind.clone()), t.clone()))
                .collect(),
            folding,
            namespace,
            groups: HashMap::new(),
            dirty: Dirty {
                all: true,
                ..Dirty::default()
            },
            local: HashMap::new(),
            global,
            reached,
            reported: HashMap::new(),
            masked: BTreeSet::new(),
            redactor: Redactor::new(Vec::<String>::new()).ok(),
            cluster_present: Present::default(),
            sorted: Sorted {
                stale: true,
                ..Sorted::default()
            },
        }
    }

    fn object(&self, value: Value) -> Object {
        let type_key = (
            value["apiVersion"].as_str().unwrap_or("").to_owned(),
            value["kind"].as_str().unwrap_or("").to_owned(),
        );
        let url = match self.types.get(&type_key) {
            Some(resource) => object_url(&self.server, resource, &value),
            None => self.server.clone(),
        };
        Object::from_value(value, &url)
    }

    /// Notes what a change of `object` can affect.
    fn touch(&mut self, object: &Object) {
        let group: Group = object.namespace().map(str::to_owned);
        let kept = self.engine.keep_for_inventory(object);
        if kept && self.scoped.local.is_some() {
            match &group {
                Some(_) => {
                    self.dirty.local.insert(group.clone());
                }
                None => self.dirty.local_all = true,
            }
        }
        if kept {
            self.dirty.kinds.insert(object.kind().to_owned());
            self.dirty
                .changed_in
                .insert((group.clone(), object.kind().to_owned()));
        }
        self.dirty.groups.insert(group);
    }

    /// Notes the change of the object of `id` (`new`: its new version, if it is kept) in what
    /// is known of the objects that reach across namespaces.
    fn reach(&mut self, id: &Identity, new: Option<&Object>) {
        for (part, reached) in self.scoped.reaching.iter().zip(&mut self.reached) {
            if let Some(old) = reached.into.remove(id) {
                reached.reach(&old);
            }
            reached.wide.remove(id);
            let Some(new) = new else { continue };
            if let Some(beyond) = part.reach.into(new) {
                reached.reach(&beyond);
                reached.into.insert(id.clone(), beyond);
            }
            if part.reach.reads_everything(new) {
                reached.wide.insert(id.clone());
            }
        }
    }

    /// An object created or changed.
    pub fn apply(&mut self, value: Value) {
        let object = self.object(value);
        self.touch(&object);
        let entry = Entry {
            findings: self.engine.check_object(&object),
            credentials: self.engine.unreported_credentials(&object),
            object,
        };
        let name = (
            entry.object.api_version().to_owned(),
            entry.object.kind().to_owned(),
            entry.object.name().to_owned(),
        );
        let kept = self.engine.keep_for_inventory(&entry.object);
        let id = identity(&entry.object);
        self.reach(&id, kept.then_some(&entry.object));
        self.sorted.change(id, kept.then_some(&entry.object));
        let group = entry.object.namespace().map(str::to_owned);
        self.groups.entry(group).or_default().insert(name, entry);
    }

    pub fn delete(&mut self, value: Value) {
        let object = self.object(value);
        self.touch(&object);
        let id = identity(&object);
        self.reach(&id, None);
        self.sorted.change(id, None);
        let group = object.namespace().map(str::to_owned);
        let name = (
            object.api_version().to_owned(),
            object.kind().to_owned(),
            object.name().to_owned(),
        );
        if let Some(entries) = self.groups.get_mut(&group) {
            entries.remove(&name);
            if entries.is_empty() {
                self.groups.remove(&group);
            }
        }
    }

    /// Every object of a resource type, listed again: replaces what was known of it.
    pub fn listed(&mut self, resource: &ResourceType, objects: Vec<Value>) {
        let (api_version, kind) = (resource.api_version(), resource.kind.clone());
        for entries in self.groups.values_mut() {
            entries.retain(|name, _| name.0 != api_version || name.1 != kind);
        }
        self.groups.retain(|_, entries| !entries.is_empty());
        for reached in &mut self.reached {
            let other = |id: &Identity| id.0 != api_version || id.1 != kind;
            reached.into.retain(|id, _| other(id));
            reached.wide.retain(other);
        }
        self.dirty.all = true;
        self.sorted = Sorted {
            stale: true,
            ..Sorted::default()
        };
        for object in objects {
            self.apply(object);
        }
    }

    /// Brings [`Cache::sorted`] up to date: every object the inventory rules read, in the
    /// inventory order. Every part of the inventory rules runs on them (or on those of some
    /// namespaces), as all the rules of a full evaluation run on the objects any of them reads.
    fn refresh_sorted(&mut self) {
        if self.sorted.stale {
            let engine = self.engine;
            let mut objects: Vec<Object> = self
                .groups
                .values()
                .flat_map(HashMap::values)
                .filter(|e| engine.keep_for_inventory(&e.object))
                .map(|e| e.object.clone())
                .collect();
            inventory_order(&mut objects);
            self.sorted = Sorted {
                objects,
                ..Sorted::default()
            };
        } else {
            self.sorted.merge();
        }
    }

    /// The objects of [`Cache::sorted`] in `group` and the cluster-scoped ones.
    fn kept_in(&self, group: &Group) -> Vec<Object> {
        self.sorted
            .positions_in(&[None, group.as_deref()])
            .into_iter()
            .map(|i| self.sorted.objects[i].clone())
            .collect()
    }

    /// The objects of [`Cache::sorted`] that the rules of `reaching` read for their findings in
    /// `namespace`: those of the namespace, the cluster-scoped ones, and those that reach into
    /// the namespace (as `scope::tests::reach_input` chooses them).
    fn reach_input(&self, reached: &Reached, namespace: &str) -> Vec<Object> {
        let mut positions = self.sorted.positions_in(&[None, Some(namespace)]);
        positions.extend(
            reached
                .into
                .iter()
                .filter(|(_, beyond)| beyond.reaches(namespace))
                .filter_map(|(id, _)| self.sorted.position(id)),
        );
        positions.sort_unstable();
        positions.dedup();
        positions
            .into_iter()
            .map(|i| self.sorted.objects[i].clone())
            .collect()
    }

    /// Runs the rules that reach across namespaces where the changes reach: on each namespace
    /// with a changed object they read or that a changed object reaches into, with the objects
    /// that reach into it ([`Cache::reach_input`]); over the whole cluster when a cluster-scoped
    /// object they read changed, a changed object reaches every namespace, or a namespace's
    /// findings read every namespace.
    fn run_reaching(&mut self, dirty: &Dirty, changed: &mut HashSet<Group>) {
        for i in 0..self.scoped.reaching.len() {
            let part = &self.scoped.reaching[i];
            let reached = &mut self.reached[i];
            let into = std::mem::take(&mut reached.dirty);
            let into_all = std::mem::take(&mut reached.dirty_all);
            let mut groups: BTreeSet<Group> = dirty
                .changed_in
                .iter()
                .filter(|(_, kind)| part.reads(kind))
                .map(|(group, _)| group.clone())
                .collect();
            groups.extend(into.into_iter().map(Some));
            if groups.is_empty() && !dirty.all && !into_all {
                continue;
            }
            if dirty.all || into_all || groups.contains(&None) || !reached.wide.is_empty() {
                let findings = part.engine.check_inventory(&self.sorted.objects);
                replace(&mut self.reached[i].findings, by_group(findings), changed);
                continue;
            }
            for group in groups {
                let Some(namespace) = group.as_deref() else {
                    continue;
                };
                let objects = self.reach_input(&self.reached[i], namespace);
                let findings = by_group(self.scoped.reaching[i].engine.check_inventory(&objects))
                    .remove(&group)
                    .unwrap_or_default();
                let reached = &mut self.reached[i];
                let old = reached.findings.remove(&group).unwrap_or_default();
                if !same_findings(&old, &findings) {
                    changed.insert(group.clone());
                }
                if !findings.is_empty() {
                    reached.findings.insert(group, findings);
                }
            }
        }
    }

    /// Runs what the changes since the last evaluation affect; returns the groups whose
    /// findings changed.
    fn run_inventory(&mut self) -> HashSet<Group> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut changed = dirty.groups.clone();
        self.refresh_sorted();
        if dirty.all {
            changed.extend(self.groups.keys().cloned());
            changed.extend(self.reported.keys().cloned());
        }
        if let Some(local) = &self.scoped.local {
            if dirty.all || dirty.local_all {
                let findings = local.check_inventory(&self.sorted.objects);
                replace(&mut self.local, by_group(findings), &mut changed);
            } else {
                for group in &dirty.local {
                    let objects = self.kept_in(group);
                    let mut findings = by_group(local.check_inventory(&objects))
                        .remove(group)
                        .unwrap_or_default();
                    let old = self.local.remove(group).unwrap_or_default();
                    if !same_findings(&old, &findings) {
                        changed.insert(group.clone());
                    }
                    if !findings.is_empty() {
                        self.local
                            .insert(group.clone(), std::mem::take(&mut findings));
                    }
                }
            }
        }
        self.run_reaching(&dirty, &mut changed);
        let run: Vec<usize> = (0..self.scoped.global.len())
            .filter(|&i| dirty.all || dirty.kinds.iter().any(|k| self.scoped.global[i].reads(k)))
            .collect();
        if !run.is_empty() {
            for i in run {
                let findings = self.scoped.global[i]
                    .engine
                    .check_inventory(&self.sorted.objects);
                replace(&mut self.global[i], by_group(findings), &mut changed);
            }
        }
        changed
    }

    /// Evaluates what changed: the groups whose reports are to be built again, and the
    /// masking of every credential (`None` when it cannot be built: nothing is published).
    pub fn evaluate(&mut self) -> Vec<Group> {
        let mut changed = self.run_inventory();
        // Folding a namespace reads the cluster-scoped findings too.
        if changed.contains(&None) && self.folding {
            changed.extend(self.groups.keys().cloned());
            changed.extend(self.reported.keys().cloned());
        }
        // The cluster-scoped group first: the others fold against its findings.
        let mut order: Vec<Group> = changed.into_iter().collect();
        order.sort();
        for group in &order {
            let mut reported = self.report_group(group);
            if let Some(present) = reported.present.take() {
                self.cluster_present = present;
            }
            if reported.findings.is_empty() && reported.credentials.is_empty() {
                self.reported.remove(group);
            } else {
                self.reported.insert(group.clone(), reported);
            }
        }
        let credentials: BTreeSet<String> = self
            .reported
            .values()
            .flat_map(|r| r.credentials.iter().cloned())
            .collect();
        if credentials != self.masked {
            // Every report is masked anew, and those evaluated again stay in even when their
            // group is gone (their report and metrics are emptied).
            let mut all: BTreeSet<Group> = order.into_iter().collect();
            all.extend(self.groups());
            order = all.into_iter().collect();
            self.redactor = Redactor::new(&credentials).ok();
            self.masked = credentials;
        }
        order
    }

    /// The masking of every credential the findings and objects hold; `None` when it cannot
    /// be built (then nothing is published).
    pub fn redactor(&self) -> Option<&Redactor> {
        self.redactor.as_ref()
    }

    /// Every group known (with objects or findings reported).
    pub fn groups(&self) -> Vec<Group> {
        let mut groups: BTreeSet<Group> = self.groups.keys().cloned().collect();
        groups.extend(self.reported.keys().cloned());
        groups.into_iter().collect()
    }

    fn owners_of(&self, group: &Group) -> Owners {
        let mut owners = Owners::default();
        if let Some(entries) = self.groups.get(group) {
            for entry in entries.values() {
                owners.add(&entry.object.value);
            }
        }
        owners
    }

    /// The findings of one group, as a full evaluation gives them for its objects.
    fn report_group(&self, group: &Group) -> Reported {
        let entries = self.groups.get(group);
        let objects = entries.into_iter().flat_map(HashMap::values);
        let mut inventory: Vec<Finding> = self
            .local
            .get(group)
            .into_iter()
            .chain(self.global.iter().filter_map(|g| g.get(group)))
            .chain(self.reached.iter().filter_map(|r| r.findings.get(group)))
            .flatten()
            .cloned()
            .collect();
        self.scoped.rule_order(&mut inventory);
        let mut findings: Vec<Finding> = objects
            .clone()
            .flat_map(|e| e.findings.iter().cloned())
            .chain(inventory)
            .collect();
        findings = self.engine.merge_same_control(findings);
        let mut present = None;
        if self.folding {
            let mut owners = self.owners_of(group);
            let mut here = Present::of(&findings);
            if group.is_some() {
                // The owner of a namespaced object may be cluster-scoped.
                owners.extend(&self.owners_of(&None));
                here.extend(&self.cluster_present);
            } else {
                present = Some(Present::of(&findings));
            }
            findings = fold_with(findings, &here, &owners);
        }
        super::in_namespace(&mut findings, self.namespace.as_deref());
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut credentials: BTreeSet<String> = findings
            .iter()
            .flat_map(|f| f.secrets.iter().cloned())
            .collect();
        credentials.extend(objects.flat_map(|e| e.credentials.iter().cloned()));
        Reported {
            findings,
            credentials,
            present,
        }
    }

    /// The findings of one group.
    pub fn findings(&self, group: &Group) -> &[Finding] {
        self.reported
            .get(group)
            .map(|r| r.findings.as_slice())
            .unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(n: usize, version: usize) -> Object {
        let mut metadata =
            json!({"name": format!("o{}", n % 7), "labels": {"v": version.to_string()}});
        if !n.is_multiple_of(3) {
            metadata["namespace"] = json!(format!("ns-{}", n % 4));
        }
        if n.is_multiple_of(5) {
            metadata["ownerReferences"] = json!([{"uid": "u"}]);
        }
        let kind = ["Pod", "Service", "Deployment"][n % 3];
        Object::from_value(
            json!({"apiVersion": "v1", "kind": kind, "metadata": metadata}),
            "x",
        )
    }

    /// Changes merged into the sorted objects give what sorting them all again gives.
    #[test]
    fn merged_changes_keep_the_inventory_order() {
        let mut live: HashMap<Identity, Object> = HashMap::new();
        let mut sorted = Sorted::default();
        let mut seed = 7u64;
        for round in 0..40 {
            for _ in 0..(round % 9) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let n = (seed >> 33) as usize % 60;
                let new = object(n, round);
                let id = identity(&new);
                if (seed >> 40).is_multiple_of(4) {
                    live.remove(&id);
                    sorted.change(id, None);
                } else {
                    sorted.change(id.clone(), Some(&new));
                    live.insert(id, new);
                }
            }
            sorted.merge();
            let mut expected: Vec<Object> = live.values().cloned().collect();
            inventory_order(&mut expected);
            let names = |objects: &[Object]| -> Vec<String> {
                objects
                    .iter()
                    .map(|o| format!("{:?} {}", identity(o), o.value["metadata"]["labels"]["v"]))
                    .collect()
            };
            assert_eq!(names(&sorted.objects), names(&expected), "round {round}");
            // Bisection finds what reading every object finds.
            for namespace in [None, Some("ns-1"), Some("ns-2"), Some("ns-9")] {
                let read: Vec<usize> = (0..expected.len())
                    .filter(|&i| {
                        expected[i].namespace() == namespace || expected[i].namespace().is_none()
                    })
                    .collect();
                assert_eq!(
                    sorted.positions_in(&[None, namespace]),
                    read,
                    "round {round}"
                );
            }
            for (i, object) in sorted.objects.iter().enumerate() {
                assert_eq!(sorted.position(&identity(object)), Some(i));
            }
            assert_eq!(sorted.position(&identity(&object(61, 0))), None);
        }
        assert!(sorted.objects.len() > 10);
    }
}
