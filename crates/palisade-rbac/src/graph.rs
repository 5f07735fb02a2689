//! The policy as a graph: subjects → bindings → roles → permissions.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::model::{Location, ObjectName, Policy, PolicyRule, Subject};

/// A subject node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphSubject {
    pub id: String,
    pub subject: Subject,
}

/// A binding node with its edges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphBinding {
    pub id: String,
    pub binding: ObjectName,
    /// Ids of the bound subjects.
    pub subjects: Vec<String>,
    /// Id of the role; `None` when the role does not exist.
    pub role: Option<String>,
    /// `roleRef.kind` and `roleRef.name` as written.
    pub role_ref: String,
}

/// A permission of a role, where it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    #[serde(flatten)]
    pub rule: PolicyRule,
    pub role: ObjectName,
    #[serde(flatten)]
    pub location: Location,
}

/// A role node with its permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphRole {
    pub id: String,
    pub role: ObjectName,
    /// Ids of the roles an aggregated ClusterRole collects.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aggregated_from: Vec<String>,
    pub permissions: Vec<Permission>,
}

/// Subjects, bindings and roles of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Graph {
    pub subjects: Vec<GraphSubject>,
    pub bindings: Vec<GraphBinding>,
    pub roles: Vec<GraphRole>,
}

fn role_id(name: &ObjectName) -> String {
    match &name.namespace {
        Some(ns) => format!("role:{ns}/{}", name.name),
        None => format!("clusterrole:{}", name.name),
    }
}

fn subject_id(subject: &Subject) -> String {
    match subject {
        Subject::User { name } => format!("user:{name}"),
        Subject::Group { name } => format!("group:{name}"),
        Subject::ServiceAccount { name, namespace } => format!("sa:{namespace}/{name}"),
    }
}

fn dot_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\l"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One line per permission: `verbs resources.group [names]` or `verbs URLs`.
pub fn describe_rule(rule: &PolicyRule) -> String {
    let verbs = rule.verbs.join(",");
    if !rule.non_resource_urls.is_empty() {
        return format!("{verbs} {}", rule.non_resource_urls.join(","));
    }
    let mut targets = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            if group.is_empty() {
                targets.push(resource.clone());
            } else {
                targets.push(format!("{resource}.{group}"));
            }
        }
    }
    let mut out = format!("{verbs} {}", targets.join(","));
    if !rule.resource_names.is_empty() {
        let _ = write!(out, " [{}]", rule.resource_names.join(","));
    }
    out
}

impl Policy {
    /// The graph of effective bindings and the roles they use (roles bound by nothing are
    /// included too, without edges).
    pub fn graph(&self) -> Graph {
        let mut subjects: BTreeMap<String, Subject> = BTreeMap::new();
        let mut bindings = Vec::new();
        for id in self.all_bindings() {
            let binding = &self.bindings[id];
            let mut ids = Vec::new();
            for s in &binding.subjects {
                let sid = subject_id(&s.subject);
                subjects
                    .entry(sid.clone())
                    .or_insert_with(|| s.subject.clone());
                if !ids.contains(&sid) {
                    ids.push(sid);
                }
            }
            let name = binding.name_ref();
            let bid = match &name.namespace {
                Some(ns) => format!("rolebinding:{ns}/{}", name.name),
                None => format!("clusterrolebinding:{}", name.name),
            };
            bindings.push(GraphBinding {
                id: bid,
                binding: name,
                subjects: ids,
                role: binding
                    .role
                    .map(|role| role_id(&self.roles[role].name_ref())),
                role_ref: format!("{} {}", binding.role_ref.kind, binding.role_ref.name),
            });
        }
        let mut roles = Vec::new();
        for role in self.roles.iter().filter(|r| r.effective) {
            let name = role.name_ref();
            roles.push(GraphRole {
                id: role_id(&name),
                aggregated_from: role
                    .aggregated_from
                    .iter()
                    .map(|r| role_id(&self.roles[*r].name_ref()))
                    .collect(),
                permissions: role
                    .rules
                    .iter()
                    .map(|r| {
                        let def = &self.rules[*r];
                        Permission {
                            rule: def.rule.clone(),
                            role: self.roles[def.role].name_ref(),
                            location: def.location.clone(),
                        }
                    })
                    .collect(),
                role: name,
            });
        }
        roles.sort_by(|a, b| a.id.cmp(&b.id));
        Graph {
            subjects: subjects
                .into_iter()
                .map(|(id, subject)| GraphSubject { id, subject })
                .collect(),
            bindings,
            roles,
        }
    }
}

impl Graph {
    /// Graphviz DOT: subjects (ellipses) → bindings (boxes) → roles (notes listing their
    /// permissions); missing roles are drawn dashed in red.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph rbac {\n  rankdir=LR;\n  node [fontsize=10];\n");
        for s in &self.subjects {
            let _ = writeln!(
                out,
                "  {} [shape=ellipse, label={}];",
                dot_quote(&s.id),
                dot_quote(&s.subject.to_string())
            );
        }
        for b in &self.bindings {
            let _ = writeln!(
                out,
                "  {} [shape=box, label={}];",
                dot_quote(&b.id),
                dot_quote(&b.binding.to_string())
            );
            for s in &b.subjects {
                let _ = writeln!(out, "  {} -> {};", dot_quote(s), dot_quote(&b.id));
            }
            match &b.role {
                Some(role) => {
                    let _ = writeln!(out, "  {} -> {};", dot_quote(&b.id), dot_quote(role));
                }
                None => {
                    let missing = format!("missing:{}", b.role_ref);
                    let _ = writeln!(
                        out,
                        "  {} [shape=box, style=dashed, color=red, label={}];\n  {} -> {} \
                         [style=dashed, color=red];",
                        dot_quote(&missing),
                        dot_quote(&format!("{} (missing)", b.role_ref)),
                        dot_quote(&b.id),
                        dot_quote(&missing)
                    );
                }
            }
        }
        for r in &self.roles {
            let mut label = format!("{}\n", r.role);
            for p in &r.permissions {
                label.push_str(&describe_rule(&p.rule));
                label.push('\n');
            }
            let _ = writeln!(
                out,
                "  {} [shape=note, label={}];",
                dot_quote(&r.id),
                dot_quote(&label)
            );
            for from in &r.aggregated_from {
                let _ = writeln!(
                    out,
                    "  {} -> {} [style=dotted, label=\"aggregated\"];",
                    dot_quote(from),
                    dot_quote(&r.id)
                );
            }
        }
        out.push_str("}\n");
        out
    }
}
