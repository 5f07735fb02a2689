//! Which rules run: `--select` / `--ignore` accept rule IDs, slugs and categories.

use crate::registry::{find, registry, Rule};
use palisade_core::nearest;

/// A selector that names no rule, slug or category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule or category {selector:?}{}", suggestion.as_ref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default())]
pub struct SelectorError {
    pub selector: String,
    pub suggestion: Option<String>,
}

/// The rules a selector names (`ALL` names every rule).
pub fn resolve_selector(selector: &str) -> Result<Vec<&'static dyn Rule>, SelectorError> {
    let rules = registry();
    if let Some(rule) = find(selector) {
        return Ok(vec![rule]);
    }
    let matched: Vec<_> = rules
        .iter()
        .copied()
        .filter(|r| selector.eq_ignore_ascii_case("ALL") || r.meta().category == selector)
        .collect();
    if matched.is_empty() {
        let names = rules
            .iter()
            .flat_map(|r| [r.meta().id, r.meta().slug, r.meta().category]);
        return Err(SelectorError {
            selector: selector.to_owned(),
            suggestion: nearest(selector, names).map(str::to_owned),
        });
    }
    Ok(matched)
}

/// The rules left after applying `select` (empty: all) then `ignore`.
pub fn select_rules(
    select: &[String],
    ignore: &[String],
) -> Result<Vec<&'static dyn Rule>, SelectorError> {
    let mut chosen: Vec<&'static dyn Rule> = if select.is_empty() {
        registry().to_vec()
    } else {
        let mut out = Vec::new();
        for selector in select {
            for rule in resolve_selector(selector)? {
                if !out
                    .iter()
                    .any(|r: &&dyn Rule| r.meta().id == rule.meta().id)
                {
                    out.push(rule);
                }
            }
        }
        out
    };
    for selector in ignore {
        let ignored = resolve_selector(selector)?;
        chosen.retain(|r| !ignored.iter().any(|i| i.meta().id == r.meta().id));
    }
    chosen.sort_by_key(|r| r.meta().id);
    Ok(chosen)
}
