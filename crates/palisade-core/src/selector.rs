//! Kubernetes label selectors (`metav1.LabelSelector`): `matchLabels` and `matchExpressions`
//! parsed into typed requirements, as apimachinery's `LabelSelectorAsSelector` reads them.
//!
//! What a missing (null) or rejected selector selects depends on the caller (a NetworkPolicy's
//! absent `podSelector` selects every pod; an aggregation selector the controller rejects leaves
//! the role unchanged), so [`LabelSelector::parse`] refuses null and returns why a selector is
//! invalid, and the caller decides.

use std::collections::BTreeMap;

use serde_json::Value;

/// Why the API server would reject a label selector.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("the selector is not a mapping")]
    NotAMapping,
    #[error("matchLabels is not a mapping")]
    MatchLabelsNotAMapping,
    #[error("matchLabels value of {0:?} is not a string")]
    LabelValueNotAString(String),
    #[error("matchExpressions is not a list")]
    MatchExpressionsNotAList,
    #[error("a matchExpressions entry has no key")]
    MissingKey,
    #[error("operator {operator} on {key:?} needs values")]
    MissingValues { operator: String, key: String },
    #[error("operator {operator} on {key:?} takes no values")]
    UnexpectedValues { operator: String, key: String },
    #[error("unknown operator {operator:?} on {key:?}")]
    UnknownOperator { operator: String, key: String },
}

/// How label values that YAML decodes as booleans or numbers (`app: true`, `tier: 1`) are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalars {
    /// Only strings are label values, as the API server decodes the selector.
    Strict,
    /// Booleans and numbers are read as their text, as a YAML-level reader of manifests does.
    Stringify,
}

/// The labels of an object, as selectors read them: one value per key.
pub trait LabelSet {
    fn label(&self, key: &str) -> Option<&str>;
}

impl LabelSet for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

/// The labels of an object (or the pairs of a Service selector), sorted by key, one value per
/// key (the last given wins). A sorted vector: an object has a few labels, and a `BTreeMap`
/// node takes room for eleven (about 550 bytes); the models of a large input hold tens of
/// thousands of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`, returning the value it replaces.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.into_iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl LabelSet for Labels {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl FromIterator<(String, String)> for Labels {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        let mut labels = Labels::default();
        for (key, value) in pairs {
            labels.insert(key, value);
        }
        labels.0.shrink_to_fit();
        labels
    }
}

impl<const N: usize> From<[(String, String); N]> for Labels {
    fn from(pairs: [(String, String); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a String, &'a String),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(key, value)| (key, value))
    }
}

/// One requirement on a label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// From `matchLabels`: the label has exactly this value.
    Equals { key: String, value: String },
    /// The label is present with one of the values.
    In { key: String, values: Vec<String> },
    /// The label is absent or has none of the values.
    NotIn { key: String, values: Vec<String> },
    /// The label is present.
    Exists { key: String },
    /// The label is absent.
    DoesNotExist { key: String },
}

impl Requirement {
    /// The label key the requirement is about.
    pub fn key(&self) -> &str {
        match self {
            Requirement::Equals { key, .. }
            | Requirement::In { key, .. }
            | Requirement::NotIn { key, .. }
            | Requirement::Exists { key }
            | Requirement::DoesNotExist { key } => key,
        }
    }

    /// Whether `labels` satisfy the requirement.
    pub fn matches<L: LabelSet + ?Sized>(&self, labels: &L) -> bool {
        let is_one_of = |values: &[String], v: &str| values.iter().any(|value| value == v);
        match self {
            Requirement::Equals { key, value } => labels.label(key) == Some(value.as_str()),
            Requirement::In { key, values } => {
                labels.label(key).is_some_and(|v| is_one_of(values, v))
            }
            Requirement::NotIn { key, values } => {
                labels.label(key).is_none_or(|v| !is_one_of(values, v))
            }
            Requirement::Exists { key } => labels.label(key).is_some(),
            Requirement::DoesNotExist { key } => labels.label(key).is_none(),
        }
    }
}

/// A valid label selector: labels match when they satisfy every requirement, so the empty
/// selector (`{}`) matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        LabelSelector::default()
    }

    /// Parses a `LabelSelector` (null `matchLabels` or `matchExpressions` are absent ones);
    /// `value` itself must be a mapping.
    pub fn parse(value: &Value, scalars: Scalars) -> Result<LabelSelector, SelectorError> {
        let map = value.as_object().ok_or(SelectorError::NotAMapping)?;
        let mut requirements = Vec::new();
        if let Some(labels) = map.get("matchLabels").filter(|v| !v.is_null()) {
            let labels = labels
                .as_object()
                .ok_or(SelectorError::MatchLabelsNotAMapping)?;
            for (key, value) in labels {
                let value = scalar(value, scalars)
                    .ok_or_else(|| SelectorError::LabelValueNotAString(key.clone()))?;
                requirements.push(Requirement::Equals {
                    key: key.clone(),
                    value,
                });
            }
        }
        if let Some(exprs) = map.get("matchExpressions").filter(|v| !v.is_null()) {
            let exprs = exprs
                .as_array()
                .ok_or(SelectorError::MatchExpressionsNotAList)?;
            for expr in exprs {
                requirements.push(expression(expr, scalars)?);
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// The requirements, `matchLabels` first.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// The `matchLabels` pairs: a matching object carries each of them.
    pub fn equalities(&self) -> impl Iterator<Item = (&str, &str)> {
        self.requirements.iter().filter_map(|r| match r {
            Requirement::Equals { key, value } => Some((key.as_str(), value.as_str())),
            _ => None,
        })
    }

    /// Whether the selector has no requirement (and so matches everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches<L: LabelSet + ?Sized>(&self, labels: &L) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

fn scalar(value: &Value, scalars: Scalars) -> Option<String> {
    match (value, scalars) {
        (Value::String(s), _) => Some(s.clone()),
        (Value::Bool(b), Scalars::Stringify) => Some(b.to_string()),
        (Value::Number(n), Scalars::Stringify) => Some(n.to_string()),
        _ => None,
    }
}

/// One `matchExpressions` entry; entries of `values` that are not label values are skipped.
fn expression(expr: &Value, scalars: Scalars) -> Result<Requirement, SelectorError> {
    let key = expr
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or(SelectorError::MissingKey)?
        .to_owned();
    let values: Vec<String> = expr
        .get("values")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|v| scalar(v, scalars)).collect())
        .unwrap_or_default();
    let operator = expr.get("operator").and_then(Value::as_str).unwrap_or("");
    match operator {
        "In" | "NotIn" if values.is_empty() => Err(SelectorError::MissingValues {
            operator: operator.to_owned(),
            key,
        }),
        "Exists" | "DoesNotExist" if !values.is_empty() => Err(SelectorError::UnexpectedValues {
            operator: operator.to_owned(),
            key,
        }),
        "In" => Ok(Requirement::In { key, values }),
        "NotIn" => Ok(Requirement::NotIn { key, values }),
        "Exists" => Ok(Requirement::Exists { key }),
        "DoesNotExist" => Ok(Requirement::DoesNotExist { key }),
        other => Err(SelectorError::UnknownOperator {
            operator: other.to_owned(),
            key,
        }),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    proptest! {
        /// `Labels` holds, lists and matches what a `BTreeMap` built from the same pairs does.
        #[test]
        fn labels_are_a_map(
            pairs in proptest::collection::vec(("[a-d]{1,2}", "[xy]{0,2}"), 0..12),
            key in "[a-d]{1,2}",
            values in proptest::collection::vec("[xy]{0,2}", 0..3),
        ) {
            let map: BTreeMap<String, String> = pairs.iter().cloned().collect();
            let labels: Labels = pairs.into_iter().collect();
            prop_assert!(labels.iter().eq(map.iter()));
            prop_assert_eq!(labels.len(), map.len());
            prop_assert_eq!(labels.get(&key), map.get(&key));
            let expressions = ["In", "NotIn", "Exists", "DoesNotExist"].map(|operator| {
                json!({"matchLabels": {key.as_str(): values.first().cloned().unwrap_or_default()},
                       "matchExpressions": [{"key": key, "operator": operator, "values": values}]})
            });
            for selector in expressions {
                if let Ok(selector) = LabelSelector::parse(&selector, Scalars::Strict) {
                    prop_assert_eq!(selector.matches(&labels), selector.matches(&map));
                }
            }
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn strict(value: Value) -> Result<LabelSelector, SelectorError> {
        LabelSelector::parse(&value, Scalars::Strict)
    }

    #[test]
    fn requirements_match_as_apimachinery_does() {
        let selector = strict(json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "team", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist", "values": []},
            ]
        }))
        .unwrap();
        assert_eq!(selector.requirements().len(), 5);
        assert_eq!(selector.equalities().collect::<Vec<_>>(), [("app", "web")]);
        let base = [("app", "web"), ("tier", "front"), ("team", "a")];
        assert!(selector.matches(&labels(&base)));
        // NotIn holds when the label is absent, and fails on a listed value.
        assert!(!selector.matches(&labels(&[&base[..], &[("env", "dev")]].concat())));
        assert!(selector.matches(&labels(&[&base[..], &[("env", "prod")]].concat())));
        assert!(!selector.matches(&labels(&[&base[..], &[("legacy", "")]].concat())));
        assert!(!selector.matches(&labels(&[("app", "web"), ("tier", "back"), ("team", "a")])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("tier", "front")])));
        assert!(!selector.matches(&labels(&[("app", "db"), ("tier", "front"), ("team", "a")])));
    }

    #[test]
    fn the_empty_selector_matches_everything() {
        for value in [
            json!({}),
            json!({"matchLabels": null, "matchExpressions": null}),
            json!({"matchLabels": {}, "matchExpressions": []}),
        ] {
            let selector = strict(value).unwrap();
            assert!(selector.is_empty());
            assert!(selector.matches(&labels(&[])));
            assert!(selector.matches(&labels(&[("any", "thing")])));
            assert_eq!(selector, LabelSelector::everything());
        }
        assert!(!strict(json!({"matchLabels": {"a": "b"}}))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn invalid_selectors_say_why() {
        let cases = [
            (json!(null), SelectorError::NotAMapping),
            (json!(["app"]), SelectorError::NotAMapping),
            (
                json!({"matchLabels": "app"}),
                SelectorError::MatchLabelsNotAMapping,
            ),
            (
                json!({"matchLabels": {"app": null}}),
                SelectorError::LabelValueNotAString("app".into()),
            ),
            (
                json!({"matchExpressions": {}}),
                SelectorError::MatchExpressionsNotAList,
            ),
            (
                json!({"matchExpressions": [{"operator": "Exists"}]}),
                SelectorError::MissingKey,
            ),
            (
                json!({"matchExpressions": [{"key": "", "operator": "Exists"}]}),
                SelectorError::MissingKey,
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "In", "values": [{}]}]}),
                SelectorError::MissingValues {
                    operator: "In".into(),
                    key: "a".into(),
                },
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
                SelectorError::UnexpectedValues {
                    operator: "Exists".into(),
                    key: "a".into(),
                },
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}),
                SelectorError::UnknownOperator {
                    operator: "Gt".into(),
                    key: "a".into(),
                },
            ),
        ];
        for (value, error) in cases {
            assert_eq!(strict(value.clone()), Err(error), "{value}");
        }
        assert_eq!(
            SelectorError::LabelValueNotAString("app".into()).to_string(),
            "matchLabels value of \"app\" is not a string"
        );
    }

    #[test]
    fn booleans_and_numbers_are_label_values_only_when_stringified() {
        let value = json!({
            "matchLabels": {"enabled": true, "tier": 1},
            "matchExpressions": [{"key": "v", "operator": "In", "values": [2, "x"]}]
        });
        assert_eq!(
            LabelSelector::parse(&value, Scalars::Strict),
            Err(SelectorError::LabelValueNotAString("enabled".into()))
        );
        let selector = LabelSelector::parse(&value, Scalars::Stringify).unwrap();
        assert!(selector.matches(&labels(&[("enabled", "true"), ("tier", "1"), ("v", "2")])));
        assert!(!selector.matches(&labels(&[("enabled", "true"), ("tier", "1"), ("v", "3")])));
    }
}
