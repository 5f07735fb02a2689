//! The table `kubectl auth can-i --list` prints for a rules review.

use std::collections::HashMap;

use crate::authz::{NonResourceRule, ResourceRule};

/// A rule broken down to one group, resource and name, or one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    verbs: Vec<String>,
    api_groups: Vec<String>,
    resources: Vec<String>,
    resource_names: Vec<String>,
    urls: Vec<String>,
}

impl Row {
    /// The sort key kubectl uses: the rule's generated string form, which lists verbs first.
    fn sort_key(&self) -> String {
        format!(
            "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
            go_list(&self.verbs),
            go_list(&self.api_groups),
            go_list(&self.resources),
            go_list(&self.resource_names),
            go_list(&self.urls)
        )
    }

    /// The first column: `resource.group/subresource`.
    fn resource_column(&self) -> String {
        let Some(first) = self.resources.first() else {
            return String::new();
        };
        let (resource, sub) = match first.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (first.as_str(), None),
        };
        let mut out = resource.to_owned();
        if let Some(group) = self.api_groups.first().filter(|g| !g.is_empty()) {
            out.push('.');
            out.push_str(group);
        }
        if let Some(sub) = sub {
            out.push('/');
            out.push_str(sub);
        }
        out
    }
}

/// Go's `%v` of a string slice.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

fn breakdown(resource: &[ResourceRule], non_resource: &[NonResourceRule]) -> Vec<Row> {
    let mut rows = Vec::new();
    for rule in resource {
        for group in &rule.api_groups {
            for res in &rule.resources {
                let names: Vec<Vec<String>> = if rule.resource_names.is_empty() {
                    vec![Vec::new()]
                } else {
                    rule.resource_names
                        .iter()
                        .map(|n| vec![n.clone()])
                        .collect()
                };
                for names in names {
                    rows.push(Row {
                        verbs: rule.verbs.clone(),
                        api_groups: vec![group.clone()],
                        resources: vec![res.clone()],
                        resource_names: names,
                        urls: Vec::new(),
                    });
                }
            }
        }
    }
    for rule in non_resource {
        for url in &rule.non_resource_urls {
            rows.push(Row {
                verbs: rule.verbs.clone(),
                api_groups: Vec::new(),
                resources: Vec::new(),
                resource_names: Vec::new(),
                urls: vec![url.clone()],
            });
        }
    }
    rows
}

/// Merges the verbs of rows for the same group, resource and name; URL rows stay as they are.
fn compact(rows: Vec<Row>) -> Vec<Row> {
    let mut out = Vec::new();
    let mut simple: Vec<Row> = Vec::new();
    let mut index: HashMap<(String, String, Option<String>), usize> = HashMap::new();
    for row in rows {
        if !row.urls.is_empty() {
            out.push(row);
            continue;
        }
        let key = (
            row.api_groups[0].clone(),
            row.resources[0].clone(),
            row.resource_names.first().cloned(),
        );
        match index.get(&key) {
            Some(&i) => {
                for verb in row.verbs {
                    if !simple[i].verbs.contains(&verb) {
                        simple[i].verbs.push(verb);
                    }
                }
            }
            None => {
                index.insert(key, simple.len());
                simple.push(row);
            }
        }
    }
    out.extend(simple);
    out
}

/// Renders rules as `kubectl auth can-i --list` does: rules broken down per group, resource,
/// name and URL, verbs of the same resource merged, sorted, in aligned columns
/// `Resources  Non-Resource URLs  Resource Names  Verbs`.
pub fn render_rules(resource: &[ResourceRule], non_resource: &[NonResourceRule]) -> String {
    let mut rows = compact(breakdown(resource, non_resource));
    rows.sort_by_cached_key(Row::sort_key);
    let mut table = vec![[
        "Resources".to_owned(),
        "Non-Resource URLs".to_owned(),
        "Resource Names".to_owned(),
        "Verbs".to_owned(),
    ]];
    for row in &rows {
        table.push([
            row.resource_column(),
            go_list(&row.urls),
            go_list(&row.resource_names),
            go_list(&row.verbs),
        ]);
    }
    tabulate(&table)
}

/// Aligns cells as kubectl's tab writer: every column but the last is as wide as its widest
/// cell plus three spaces, and at least six.
pub(crate) fn tabulate<const N: usize>(table: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in table {
        for (i, cell) in row.iter().enumerate().take(N - 1) {
            widths[i] = widths[i].max(cell.chars().count() + 3).max(6);
        }
    }
    let mut out = String::new();
    for row in table {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}
