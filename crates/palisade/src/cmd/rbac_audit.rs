//! `palisade rbac suggest --from-audit LOG --user SUBJECT` and `palisade rbac unused
//! --from-audit LOG MANIFESTS...`: least privilege learned from the audit log.
//!
//! `suggest` prints the smallest Roles and ClusterRoles (with their bindings) that allow exactly
//! the requests the subject made: the verbs and resources seen, restricted to the object names
//! seen wherever every request of that verb named its object. `unused` lists the permissions
//! that bindings grant and no request used.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use palisade_audit::{read_events, Item, Request};
use palisade_rbac::split_service_account;

/// Roles and bindings that allow exactly what a subject did, learned from an audit log.
#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// The audit log(s) to learn from (`-` for standard input; gzip is read as such).
    #[arg(long = "from-audit", value_name = "LOG", required = true)]
    pub from_audit: Vec<String>,
    /// The subject: a user name, or `system:serviceaccount:NAMESPACE:NAME`.
    #[arg(long, value_name = "SUBJECT")]
    pub user: String,
    /// Only the requests made in this namespace.
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// The name the generated roles and bindings take (default: from the subject).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// What the subject did: per namespace ("" for cluster-wide), per (API group, resource), per
/// verb, the names it was used on (`None`: at least once on no named object, so `resourceNames`
/// cannot restrict it).
type Seen = BTreeMap<String, Resources>;

/// Per (API group, resource), per verb, the names seen.
type Resources = BTreeMap<(String, String), BTreeMap<String, Option<BTreeSet<String>>>>;

pub fn suggest(args: SuggestArgs) -> anyhow::Result<ExitCode> {
    let mut seen: Seen = BTreeMap::new();
    let mut urls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut errors = 0usize;
    let mut requests = 0usize;
    for file in &args.from_audit {
        let mut reader = match palisade_audit::open(file) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {file}: cannot read file: {e}");
                errors += 1;
                continue;
            }
        };
        read_events(&mut reader, file, &mut |item| match item {
            Item::Error(e) => {
                eprintln!("error: {e}");
                errors += 1;
            }
            Item::Event(event) => {
                let req = Request::new(&event);
                if req.user() != args.user
                    || !(req.complete() || req.started())
                    || req.code().is_some_and(|c| c == 401 || c == 403)
                {
                    return;
                }
                if req.started() && !matches!(req.subresource(), "exec" | "attach" | "portforward")
                {
                    return;
                }
                if let Some(ns) = &args.namespace {
                    if req.namespace() != ns {
                        return;
                    }
                }
                requests += 1;
                if !event.has("objectRef") {
                    let path = req.uri().split('?').next().unwrap_or("").to_owned();
                    urls.entry(path).or_default().insert(req.verb().to_owned());
                    return;
                }
                let resource = match req.subresource() {
                    "" => req.resource().to_owned(),
                    sub => format!("{}/{sub}", req.resource()),
                };
                let names = seen
                    .entry(req.namespace().to_owned())
                    .or_default()
                    .entry((req.api_group().to_owned(), resource))
                    .or_default()
                    .entry(req.verb().to_owned())
                    .or_insert_with(|| Some(BTreeSet::new()));
                let name = event.str_path(&["objectRef", "name"]).unwrap_or("");
                match names {
                    Some(set) if !name.is_empty() => {
                        set.insert(name.to_owned());
                    }
                    _ => *names = None,
                }
            }
        });
    }
    if requests == 0 {
        bail!("no request by {} in the log", args.user);
    }
    let base = args.name.clone().unwrap_or_else(|| {
        let raw = split_service_account(&args.user).map_or(args.user.as_str(), |(_, n)| n);
        let clean: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        format!("{}-observed", clean.trim_matches('-'))
    });
    print!("{}", render(&args.user, &base, &seen, &urls));
    Ok(if errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| yaml_str(&s)).collect();
    format!("[{}]", items.join(", "))
}

/// The rules of one role: verbs grouped when they apply to the same names.
fn rules(resources: &Resources) -> String {
    let mut out = String::new();
    for ((group, resource), verbs) in resources {
        let mut by_names: BTreeMap<Option<&BTreeSet<String>>, Vec<&str>> = BTreeMap::new();
        for (verb, names) in verbs {
            by_names.entry(names.as_ref()).or_default().push(verb);
        }
        for (names, verbs) in by_names {
            let _ = writeln!(out, "- apiGroups: {}", list([group.clone()]));
            let _ = writeln!(out, "  resources: {}", list([resource.clone()]));
            if let Some(names) = names {
                let _ = writeln!(out, "  resourceNames: {}", list(names.iter().cloned()));
            }
            let _ = writeln!(
                out,
                "  verbs: {}",
                list(verbs.iter().map(|v| v.to_string()))
            );
        }
    }
    out
}

fn subject(user: &str) -> String {
    match split_service_account(user) {
        Some((ns, name)) => format!(
            "- kind: ServiceAccount\n  name: {}\n  namespace: {}\n",
            yaml_str(name),
            yaml_str(ns)
        ),
        None => format!(
            "- kind: User\n  apiGroup: rbac.authorization.k8s.io\n  name: {}\n",
            yaml_str(user)
        ),
    }
}

fn render(
    user: &str,
    base: &str,
    seen: &Seen,
    urls: &BTreeMap<String, BTreeSet<String>>,
) -> String {
    let mut out =
        format!("# Least privilege for {user}, learned from the audit log by palisade.\n");
    for (ns, resources) in seen {
        let (role_kind, binding_kind) = if ns.is_empty() {
            ("ClusterRole", "ClusterRoleBinding")
        } else {
            ("Role", "RoleBinding")
        };
        let namespace = if ns.is_empty() {
            String::new()
        } else {
            format!("  namespace: {}\n", yaml_str(ns))
        };
        let mut role_rules = rules(resources);
        if ns.is_empty() {
            for (path, verbs) in urls {
                let _ = writeln!(role_rules, "- nonResourceURLs: {}", list([path.clone()]));
                let _ = writeln!(role_rules, "  verbs: {}", list(verbs.iter().cloned()));
            }
        }
        let _ = write!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {role_kind}\nmetadata:\n  name: {}\n{namespace}rules:\n{role_rules}",
            yaml_str(base)
        );
        let _ = write!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {binding_kind}\nmetadata:\n  name: {}\n{namespace}roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {role_kind}\n  name: {}\nsubjects:\n{}",
            yaml_str(base),
            yaml_str(base),
            subject(user)
        );
    }
    if !seen.contains_key("") && !urls.is_empty() {
        let mut role_rules = String::new();
        for (path, verbs) in urls {
            let _ = writeln!(role_rules, "- nonResourceURLs: {}", list([path.clone()]));
            let _ = writeln!(role_rules, "  verbs: {}", list(verbs.iter().cloned()));
        }
        let _ = write!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {}\nrules:\n{role_rules}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {}\nsubjects:\n{}",
            yaml_str(base),
            yaml_str(base),
            yaml_str(base),
            subject(user)
        );
    }
    out
}

/// Per subject, the permissions the manifests grant that no request of the audit log used.
#[derive(Debug, Args)]
pub struct UnusedArgs {
    /// The audit log(s) (`-` for standard input; gzip is read as such).
    #[arg(long = "from-audit", value_name = "LOG", required = true)]
    pub from_audit: Vec<String>,
    #[command(flatten)]
    pub input: crate::input::InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: super::rbac::TextFormat,
}

/// One permission: one verb on one resource (or URL) of one rule, as bound to a subject.
struct Grant {
    subject: String,
    binding: String,
    role: String,
    permission: String,
}

pub fn unused(args: UnusedArgs) -> anyhow::Result<ExitCode> {
    use palisade_rbac::{rule_allows, Attributes, BindingKind, Policy, PolicyRule, UserInfo};

    let loaded = crate::input::load_all(&args.input);
    let mut errors = loaded.errors.len();
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    let policy = Policy::from_objects(loaded.objects.iter().enumerate());

    // The distinct requests of the log that were not refused, with who made them.
    // User, groups, and verb, namespace, API group, resource, subresource, name, path.
    let mut requests: BTreeSet<(String, Vec<String>, [String; 7])> = BTreeSet::new();
    for file in &args.from_audit {
        let mut reader = match palisade_audit::open(file) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {file}: cannot read file: {e}");
                errors += 1;
                continue;
            }
        };
        read_events(&mut reader, file, &mut |item| match item {
            Item::Error(e) => {
                eprintln!("error: {e}");
                errors += 1;
            }
            Item::Event(event) => {
                let req = Request::new(&event);
                if !(req.complete() || req.started())
                    || req.code().is_some_and(|c| c == 401 || c == 403)
                {
                    return;
                }
                let path = if !event.has("objectRef") {
                    req.uri().split('?').next().unwrap_or("").to_owned()
                } else {
                    String::new()
                };
                let name = event.str_path(&["objectRef", "name"]).unwrap_or("");
                requests.insert((
                    req.user().to_owned(),
                    req.groups().map(str::to_owned).collect(),
                    [
                        req.verb().to_owned(),
                        req.namespace().to_owned(),
                        req.api_group().to_owned(),
                        req.resource().to_owned(),
                        req.subresource().to_owned(),
                        name.to_owned(),
                        path,
                    ],
                ));
            }
        });
    }
    let requests: Vec<(UserInfo, Attributes)> = requests
        .into_iter()
        .map(
            |(user, groups, [verb, namespace, api_group, resource, subresource, name, path])| {
                let resource_request = path.is_empty();
                (
                    UserInfo::new(user, groups),
                    Attributes {
                        verb,
                        namespace,
                        api_group,
                        resource,
                        subresource,
                        name,
                        path,
                        resource_request,
                    },
                )
            },
        )
        .collect();

    let mut unused: Vec<Grant> = Vec::new();
    for binding in &policy.bindings {
        let Some(role_id) = binding.role else {
            continue;
        };
        let role = &policy.roles[role_id];
        let scope = match binding.kind {
            BindingKind::ClusterRoleBinding => None,
            _ => binding.namespace.clone(),
        };
        for bound in &binding.subjects {
            let by_subject: Vec<&Attributes> = requests
                .iter()
                .filter(|(user, attrs)| {
                    user.matches(&bound.subject)
                        && scope
                            .as_deref()
                            .is_none_or(|ns| attrs.resource_request && attrs.namespace == ns)
                })
                .map(|(_, attrs)| attrs)
                .collect();
            for rule_id in &role.rules {
                let rule = &policy.rules[*rule_id].rule;
                let targets: Vec<(Vec<String>, Vec<String>)> = if rule.non_resource_urls.is_empty()
                {
                    rule.resources
                        .iter()
                        .map(|r| (vec![r.clone()], Vec::new()))
                        .collect()
                } else {
                    rule.non_resource_urls
                        .iter()
                        .map(|u| (Vec::new(), vec![u.clone()]))
                        .collect()
                };
                for verb in &rule.verbs {
                    for (resources, urls) in &targets {
                        let one = PolicyRule {
                            verbs: vec![verb.clone()],
                            api_groups: rule.api_groups.clone(),
                            resources: resources.clone(),
                            resource_names: rule.resource_names.clone(),
                            non_resource_urls: urls.clone(),
                        };
                        if by_subject.iter().any(|attrs| rule_allows(&one, attrs)) {
                            continue;
                        }
                        let what = resources
                            .first()
                            .or(urls.first())
                            .cloned()
                            .unwrap_or_default();
                        let group = rule.api_groups.join(",");
                        let names = if rule.resource_names.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", rule.resource_names.join(","))
                        };
                        unused.push(Grant {
                            subject: format!(
                                "{} {}",
                                bound.subject.kind(),
                                subject_name(&bound.subject)
                            ),
                            binding: binding_label(binding),
                            role: format!("{} {}", role.kind.as_str(), role.name),
                            permission: if urls.is_empty() {
                                format!(
                                    "{verb} {what}{}{names}",
                                    if group.is_empty() {
                                        String::new()
                                    } else {
                                        format!(".{group}")
                                    }
                                )
                            } else {
                                format!("{verb} {what}")
                            },
                        });
                    }
                }
            }
        }
    }
    unused.sort_by(|a, b| {
        (&a.subject, &a.binding, &a.permission).cmp(&(&b.subject, &b.binding, &b.permission))
    });
    match args.format {
        super::rbac::TextFormat::Text => {
            let mut current = "";
            for g in &unused {
                if g.subject != current {
                    println!("{}:", g.subject);
                    current = &g.subject;
                }
                println!("  {}  (via {} -> {})", g.permission, g.binding, g.role);
            }
            if unused.is_empty() {
                println!("every permission granted was used");
            }
        }
        super::rbac::TextFormat::Json => {
            let items: Vec<serde_json::Value> = unused
                .iter()
                .map(|g| serde_json::json!({"subject": g.subject, "permission": g.permission, "binding": g.binding, "role": g.role}))
                .collect();
            println!("{}", serde_json::Value::Array(items));
        }
    }
    Ok(if errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn subject_name(subject: &palisade_rbac::Subject) -> String {
    match subject {
        palisade_rbac::Subject::ServiceAccount { name, namespace } => format!("{namespace}/{name}"),
        other => other.name().to_owned(),
    }
}

fn binding_label(binding: &palisade_rbac::Binding) -> String {
    match &binding.namespace {
        Some(ns) => format!("{} {ns}/{}", binding.kind.as_str(), binding.name),
        None => format!("{} {}", binding.kind.as_str(), binding.name),
    }
}
