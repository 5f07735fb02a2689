//! Workloads indexed by namespace and label: the workloads a selector matches are found among
//! those that carry one of its `matchLabels` pairs instead of by testing every workload. And
//! sets of workloads.

use std::collections::HashMap;

use crate::model::{Labels, Namespace, Selector, Workload};

/// A set of workloads, one bit per workload index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WorkloadSet(Vec<u64>);

impl WorkloadSet {
    pub(crate) fn contains(&self, workload: usize) -> bool {
        self.0
            .get(workload / 64)
            .is_some_and(|word| word >> (workload % 64) & 1 == 1)
    }

    /// The workloads, in increasing order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    i * 64 + bit
                })
            })
        })
    }
}

impl Extend<usize> for WorkloadSet {
    fn extend<I: IntoIterator<Item = usize>>(&mut self, workloads: I) {
        for workload in workloads {
            let word = workload / 64;
            if word >= self.0.len() {
                self.0.resize(word + 1, 0);
            }
            self.0[word] |= 1 << (workload % 64);
        }
    }
}

/// Items (namespaces, or the workloads of one namespace) by label.
#[derive(Clone, Debug, Default)]
struct LabelIndex<'a> {
    /// Every item, in increasing order.
    items: Vec<usize>,
    /// The items carrying each label (by key, then value), in increasing order.
    by_label: HashMap<&'a str, HashMap<&'a str, Vec<usize>>>,
}

impl<'a> LabelIndex<'a> {
    /// Adds an item; items must be added in increasing order.
    fn insert(&mut self, item: usize, labels: &'a Labels) {
        self.items.push(item);
        for (key, value) in labels {
            self.by_label
                .entry(key.as_str())
                .or_default()
                .entry(value.as_str())
                .or_default()
                .push(item);
        }
    }

    /// The items `selector` may match, in increasing order: those carrying its least common
    /// `matchLabels` pair, or all of them when it has none.
    fn candidates(&self, selector: &Selector) -> &[usize] {
        selector
            .equalities()
            .map(|(key, value)| {
                self.by_label
                    .get(key)
                    .and_then(|values| values.get(value))
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|items| items.len())
            .unwrap_or(&self.items)
    }
}

/// Where a selection looks for workloads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope<'s> {
    /// The namespace of this name, whether a Namespace object defines it or not.
    Named(&'s str),
    /// The defined namespaces whose labels the selector matches.
    Matching(&'s Selector),
}

/// The workloads of a cluster and its namespaces, with the workloads of each namespace by
/// label and the namespaces by label.
#[derive(Clone, Debug)]
pub(crate) struct WorkloadIndex<'a> {
    workloads: Vec<&'a Workload>,
    /// The defined namespaces, with their names.
    namespaces: Vec<(&'a str, &'a Namespace)>,
    namespace_labels: LabelIndex<'a>,
    /// The workloads of each namespace name.
    by_namespace: HashMap<&'a str, LabelIndex<'a>>,
}

impl<'a> WorkloadIndex<'a> {
    pub(crate) fn new(
        workloads: Vec<&'a Workload>,
        namespaces: Vec<(&'a str, &'a Namespace)>,
    ) -> Self {
        let mut namespace_labels = LabelIndex::default();
        for (i, (_, namespace)) in namespaces.iter().enumerate() {
            namespace_labels.insert(i, &namespace.labels);
        }
        let mut by_namespace: HashMap<&str, LabelIndex<'_>> = HashMap::new();
        for (i, w) in workloads.iter().enumerate() {
            by_namespace
                .entry(w.namespace.as_str())
                .or_default()
                .insert(i, &w.labels);
        }
        WorkloadIndex {
            workloads,
            namespaces,
            namespace_labels,
            by_namespace,
        }
    }

    /// The workloads in `scope` whose labels `pod` matches (all of them without `pod`), as
    /// increasing indices.
    pub(crate) fn select(&self, scope: Scope<'_>, pod: Option<&Selector>) -> Vec<usize> {
        let mut out = Vec::new();
        match scope {
            Scope::Named(name) => self.add_matching(name, pod, &mut out),
            Scope::Matching(selector) => {
                for &n in self.namespace_labels.candidates(selector) {
                    let (name, namespace) = self.namespaces[n];
                    if selector.matches(&namespace.labels) {
                        self.add_matching(name, pod, &mut out);
                    }
                }
                out.sort_unstable();
            }
        }
        out
    }

    /// Adds the workloads of namespace `name` that `pod` matches.
    fn add_matching(&self, name: &str, pod: Option<&Selector>, out: &mut Vec<usize>) {
        let Some(group) = self.by_namespace.get(name) else {
            return;
        };
        match pod {
            None => out.extend_from_slice(&group.items),
            Some(selector) => out.extend(
                group
                    .candidates(selector)
                    .iter()
                    .copied()
                    .filter(|&w| selector.matches(&self.workloads[w].labels)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn workload(namespace: &str, name: &str, labels: &[(&str, &str)]) -> Workload {
        Workload {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            kind: "Pod".to_owned(),
            labels: labels
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ports: Vec::new(),
            object: 0,
            pointer: String::new(),
            fake: false,
        }
    }

    fn namespace(name: &str, env: &str) -> Namespace {
        Namespace {
            name: name.to_owned(),
            labels: [("env".to_owned(), env.to_owned())].into(),
        }
    }

    #[test]
    fn workload_sets() {
        let mut set = WorkloadSet::default();
        assert!(!set.contains(0));
        set.extend([130, 3, 64, 3, 63]);
        assert_eq!(set.iter().collect::<Vec<_>>(), [3, 63, 64, 130]);
        assert!(set.contains(64) && set.contains(130) && !set.contains(65));
        assert!(!set.contains(1_000));
    }

    #[test]
    fn selections_agree_with_the_selectors() {
        let workloads = [
            workload("a", "w0", &[("app", "web"), ("tier", "front")]),
            workload("b", "w1", &[("app", "web")]),
            workload("a", "w2", &[("app", "db")]),
            workload("c", "w3", &[("app", "web")]),
            workload("b", "w4", &[("app", "web"), ("tier", "back")]),
        ];
        let namespaces = [namespace("a", "prod"), namespace("b", "prod")];
        let index = WorkloadIndex::new(
            workloads.iter().collect(),
            namespaces.iter().map(|n| (n.name.as_str(), n)).collect(),
        );
        let web = Selector::parse(&json!({"matchLabels": {"app": "web"}}));
        let front = Selector::parse(&json!({"matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front", "back"]}
        ]}));
        let prod = Selector::parse(&json!({"matchLabels": {"env": "prod"}}));
        let typo = Selector::parse(&json!({"matchLabels": {"app": "web", "tier": "nope"}}));
        let invalid = Selector::parse(&json!({"matchLabels": {"app": "web", "tier": []}}));

        assert_eq!(index.select(Scope::Named("a"), Some(&web)), [0]);
        assert_eq!(index.select(Scope::Named("a"), None), [0, 2]);
        // Namespace c has no Namespace object: it can be named, not matched by labels.
        assert_eq!(index.select(Scope::Named("c"), Some(&web)), [3]);
        assert_eq!(index.select(Scope::Matching(&prod), Some(&web)), [0, 1, 4]);
        assert_eq!(index.select(Scope::Matching(&prod), Some(&front)), [0, 4]);
        assert_eq!(
            index.select(Scope::Matching(&Selector::everything()), None),
            [0, 1, 2, 4]
        );
        assert!(index.select(Scope::Matching(&prod), Some(&typo)).is_empty());
        assert!(index.select(Scope::Named("d"), None).is_empty());
        assert!(index.select(Scope::Named("a"), Some(&invalid)).is_empty());

        // Every selection is what testing each workload with the selectors gives.
        for ns_selector in [&prod, &web, &Selector::everything(), &invalid] {
            for pod in [None, Some(&web), Some(&front), Some(&typo), Some(&invalid)] {
                let expected: Vec<usize> = (0..workloads.len())
                    .filter(|&w| {
                        namespaces
                            .iter()
                            .find(|n| n.name == workloads[w].namespace)
                            .is_some_and(|n| ns_selector.matches(&n.labels))
                            && pod.is_none_or(|s| s.matches(&workloads[w].labels))
                    })
                    .collect();
                assert_eq!(index.select(Scope::Matching(ns_selector), pod), expected);
            }
        }
    }
}
