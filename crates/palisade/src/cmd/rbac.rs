//! `palisade rbac`: RBAC questions answered from manifests or a cluster dump, as the API
//! server's RBAC authorizer would (who-can, can-i, graph, escalation paths).

use std::collections::BTreeSet;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use palisade_core::{LoadError, Object};
use palisade_rbac::{
    paths, paths_to, render_rules, Attributes, EscalationPath, Grant, ObjectName, Options, Policy,
    Resources, Subject, SubjectGrant, UserInfo,
};
use serde_json::{json, Value};

use crate::input::{load_all, InputArgs};

#[derive(Debug, Subcommand)]
pub enum RbacCommand {
    /// Every subject allowed to make a request, with the binding and role that allow it.
    WhoCan(WhoCanArgs),
    /// Whether a user may make a request: prints yes or no and exits 0 or 1, like
    /// `kubectl auth can-i`; --list prints the user's rules.
    CanI(CanIArgs),
    /// Subjects, bindings, roles and their permissions, as Graphviz DOT or JSON.
    Graph(GraphArgs),
    /// Escalation paths: chains of permissions that lead a subject to cluster-admin (or to
    /// the identity given with --to).
    Paths(PathsArgs),
    /// The smallest Roles and bindings that allow exactly the requests a subject made, learned
    /// from an audit log (`--from-audit LOG --user SUBJECT`).
    Suggest(super::rbac_audit::SuggestArgs),
    /// Per subject, the permissions the manifests grant that no request of an audit log used.
    Unused(super::rbac_audit::UnusedArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Json,
}

/// How the policy is built.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Add the default ClusterRoles and bindings of a cluster (`system:*`, `view`, `edit`,
    /// `admin`, `cluster-admin`), so answers hold on a real cluster.
    #[arg(long)]
    pub with_defaults: bool,
}

impl PolicyArgs {
    fn options(&self) -> Options {
        Options {
            with_defaults: self.with_defaults,
            ..Options::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct WhoCanArgs {
    /// The verb: get, list, create, update, patch, delete, watch, impersonate, bind…
    #[arg(value_name = "VERB")]
    pub verb: String,
    /// `RESOURCE[.GROUP][/SUBRESOURCE]` as kubectl takes it (plural, singular, short name or
    /// kind, CRDs of the input included), or a non-resource URL starting with `/`. For one
    /// object, add --name.
    #[arg(value_name = "RESOURCE")]
    pub resource: String,
    /// Only grants that apply in this namespace. Without it, RoleBindings of every namespace
    /// count, each in its own namespace.
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// The name of the object (matters for rules with resourceNames).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The API group, instead of the one of the built-in resource.
    #[arg(long, value_name = "GROUP")]
    pub api_group: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: TextFormat,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Debug, Args)]
pub struct CanIArgs {
    /// The verb (not with --list).
    #[arg(value_name = "VERB")]
    pub verb: Option<String>,
    /// `RESOURCE[.GROUP][/SUBRESOURCE]` as kubectl takes it, or a non-resource URL (not with
    /// --list).
    #[arg(value_name = "RESOURCE")]
    pub resource: Option<String>,
    /// The user to check: a name, or `system:serviceaccount:NS:NAME` (which implies the
    /// service-account groups).
    #[arg(long = "as", value_name = "USER")]
    pub as_user: String,
    /// A group of the user; repeatable. Every user but `system:anonymous` is also in
    /// `system:authenticated`.
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// The namespace of the request. Without it the request is cluster-wide: only
    /// ClusterRoleBindings count.
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// The name of the object.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The API group, instead of the one of the built-in resource.
    #[arg(long, value_name = "GROUP")]
    pub api_group: Option<String>,
    /// Print every rule the user has in the namespace, as `kubectl auth can-i --list`.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: TextFormat,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "dot")]
    pub format: GraphFormat,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Debug, Args)]
pub struct PathsArgs {
    /// Start from this subject only: `User:NAME`, `Group:NAME`, `ServiceAccount:NS:NAME`,
    /// `system:serviceaccount:NS:NAME` or a user name. Default: every subject of a binding.
    #[arg(long, value_name = "SUBJECT", value_parser = parse_subject)]
    pub from: Option<Subject>,
    /// End at this identity (or cluster-admin) instead of cluster-admin only.
    #[arg(long, value_name = "SUBJECT", value_parser = parse_subject)]
    pub to: Option<Subject>,
    /// Longest path searched, in steps.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_steps: usize,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: TextFormat,
    #[command(flatten)]
    pub input: InputArgs,
}

fn parse_subject(text: &str) -> Result<Subject, String> {
    Subject::parse(text).ok_or_else(|| {
        format!(
            "expected User:NAME, Group:NAME, ServiceAccount:NS:NAME or \
             system:serviceaccount:NS:NAME, got {text:?}"
        )
    })
}

pub fn run(command: RbacCommand) -> anyhow::Result<ExitCode> {
    match command {
        RbacCommand::WhoCan(args) => who_can(args),
        RbacCommand::CanI(args) => can_i(args),
        RbacCommand::Graph(args) => graph(args),
        RbacCommand::Paths(args) => paths_cmd(args),
        RbacCommand::Suggest(args) => super::rbac_audit::suggest(args),
        RbacCommand::Unused(args) => super::rbac_audit::unused(args),
    }
}

/// The loaded objects and the policy built from them; load errors and policy diagnostics are
/// reported on standard error.
struct Loaded {
    objects: Vec<Object>,
    errors: Vec<LoadError>,
    policy: Policy,
}

impl Loaded {
    fn new(input: &InputArgs, policy: &PolicyArgs) -> Loaded {
        let loaded = load_all(input);
        for e in &loaded.errors {
            eprintln!(
                "error: {}:{}:{}: {}",
                e.file, e.pos.line, e.pos.col, e.message
            );
        }
        let built = Policy::from_slice(&loaded.objects, &policy.options());
        let this = Loaded {
            objects: loaded.objects,
            errors: loaded.errors,
            policy: built,
        };
        for d in &this.policy.diagnostics {
            eprintln!(
                "warning: {}: {}",
                this.place(d.object, &d.pointer),
                d.message
            );
        }
        this
    }

    /// `file:line:col` of a pointer in an input object, or `(default policy)`.
    fn place(&self, object: Option<usize>, pointer: &str) -> String {
        match object.and_then(|i| self.objects.get(i)) {
            Some(o) => {
                let pos = o.locate(pointer);
                format!("{}:{}:{}", o.source.path, pos.line, pos.col)
            }
            None => "(default policy)".to_owned(),
        }
    }

    fn place_json(&self, object: Option<usize>, pointer: &str) -> Value {
        match object.and_then(|i| self.objects.get(i)) {
            Some(o) => {
                let pos = o.locate(pointer);
                json!({"file": o.source.path, "line": pos.line, "column": pos.col,
                       "pointer": pointer})
            }
            None => json!({"defaultPolicy": true, "pointer": pointer}),
        }
    }

    /// Exit code 2 when some input could not be read; otherwise `status`.
    fn exit(&self, status: ExitCode) -> ExitCode {
        if self.errors.is_empty() {
            status
        } else {
            ExitCode::from(2)
        }
    }

    fn grant_json(&self, grant: &Grant) -> Value {
        json!({
            "binding": name_json(&grant.binding),
            "bindingAt": self.place_json(grant.binding.object, &grant.subject_pointer),
            "role": name_json(&grant.role),
            "rule": {
                "role": name_json(&grant.rule.role),
                "at": self.place_json(grant.rule.location.object, &grant.rule.location.pointer),
                "text": palisade_rbac::describe_rule(&self.policy.rules[grant.rule.id].rule),
            },
        })
    }
}

fn name_json(name: &ObjectName) -> Value {
    let mut v = json!({"kind": name.kind, "name": name.name});
    if let Some(ns) = &name.namespace {
        v["namespace"] = json!(ns);
    }
    v
}

fn subject_json(subject: &Subject) -> Value {
    serde_json::to_value(subject).unwrap_or(Value::Null)
}

/// Aligned columns, two spaces apart.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The request for `VERB RESOURCE`, with resource names as kubectl takes them (singular,
/// plural, short names, kinds, the CRDs of the input); an unknown verb or resource, or a
/// `RESOURCE/NAME` that is not a subresource, is an error.
fn request(
    loaded: &Loaded,
    verb: &str,
    resource: &str,
    api_group: Option<&str>,
    name: Option<&str>,
) -> anyhow::Result<Attributes> {
    let attrs = Resources::new(&loaded.objects).resolve(verb, resource, api_group)?;
    Ok(match name {
        Some(name) => attrs.named(name),
        None => attrs,
    })
}

fn who_can(args: WhoCanArgs) -> anyhow::Result<ExitCode> {
    let loaded = Loaded::new(&args.input, &args.policy);
    let attrs = request(
        &loaded,
        &args.verb,
        &args.resource,
        args.api_group.as_deref(),
        args.name.as_deref(),
    )?;
    let (attrs, found) = match &args.namespace {
        _ if attrs.is_cluster_scoped() => {
            let found = loaded.policy.who_can(&attrs);
            (attrs, found)
        }
        Some(ns) => {
            let attrs = attrs.in_namespace(ns);
            let found = loaded.policy.who_can(&attrs);
            (attrs, found)
        }
        None => {
            let found = loaded.policy.who_can_anywhere(&attrs);
            (attrs, found)
        }
    };
    match args.format {
        TextFormat::Json => {
            let subjects: Vec<Value> = found
                .iter()
                .map(|sg| {
                    json!({
                        "subject": subject_json(&sg.subject),
                        "grants": sg.grants.iter().map(|g| loaded.grant_json(g)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let out = json!({"request": request_json(&attrs), "subjects": subjects});
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        TextFormat::Text => print!("{}", who_can_text(&loaded, &attrs, &found)),
    }
    Ok(loaded.exit(ExitCode::SUCCESS))
}

fn request_json(attrs: &Attributes) -> Value {
    if attrs.resource_request {
        let mut v = json!({
            "verb": attrs.verb,
            "group": attrs.api_group,
            "resource": attrs.resource,
        });
        for (key, value) in [
            ("subresource", &attrs.subresource),
            ("name", &attrs.name),
            ("namespace", &attrs.namespace),
        ] {
            if !value.is_empty() {
                v[key] = json!(value);
            }
        }
        v
    } else {
        json!({"verb": attrs.verb, "path": attrs.path})
    }
}

/// One row per subject, binding and role (several rules of one role make one row).
fn who_can_text(loaded: &Loaded, attrs: &Attributes, found: &[SubjectGrant]) -> String {
    if found.is_empty() {
        return format!("no subject can {attrs}\n");
    }
    let mut rows = vec![vec![
        "SUBJECT".to_owned(),
        "BINDING".to_owned(),
        "ROLE".to_owned(),
        "WHERE".to_owned(),
    ]];
    for sg in found {
        let mut seen = BTreeSet::new();
        for g in &sg.grants {
            if !seen.insert((g.binding.clone(), g.role.clone())) {
                continue;
            }
            rows.push(vec![
                sg.subject.to_string(),
                g.binding.to_string(),
                g.role.to_string(),
                loaded.place(g.binding.object, &g.subject_pointer),
            ]);
        }
    }
    table(&rows)
}

fn can_i(mut args: CanIArgs) -> anyhow::Result<ExitCode> {
    if args.list {
        // Without a request, the positional words are paths.
        let words = [args.verb.take(), args.resource.take()];
        let mut paths: Vec<String> = words.into_iter().flatten().collect();
        paths.append(&mut args.input.paths);
        args.input.paths = paths;
    }
    let user = UserInfo::impersonate(&args.as_user, &args.as_group);
    let namespace = args.namespace.clone().unwrap_or_default();
    if args.list {
        let loaded = Loaded::new(&args.input, &args.policy);
        let (resource, non_resource) = loaded.policy.rules_for(&user, &namespace);
        match args.format {
            TextFormat::Text => print!("{}", render_rules(&resource, &non_resource)),
            TextFormat::Json => {
                let out = json!({
                    "user": user,
                    "namespace": namespace,
                    "resourceRules": resource,
                    "nonResourceRules": non_resource,
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            }
        }
        return Ok(loaded.exit(ExitCode::SUCCESS));
    }
    let (Some(verb), Some(resource)) = (args.verb.as_deref(), args.resource.as_deref()) else {
        eprintln!("error: can-i needs VERB and RESOURCE (or --list)");
        return Ok(ExitCode::from(2));
    };
    let loaded = Loaded::new(&args.input, &args.policy);
    let attrs = request(
        &loaded,
        verb,
        resource,
        args.api_group.as_deref(),
        args.name.as_deref(),
    )?
    .in_namespace(&namespace);
    let decision = loaded.policy.authorize(&user, &attrs);
    match args.format {
        TextFormat::Text => println!("{}", if decision.allowed { "yes" } else { "no" }),
        TextFormat::Json => {
            let out = json!({
                "allowed": decision.allowed,
                "user": user,
                "request": request_json(&attrs),
                "grants": decision.grants.iter().map(|g| loaded.grant_json(g)).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    Ok(loaded.exit(if decision.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }))
}

fn graph(args: GraphArgs) -> anyhow::Result<ExitCode> {
    let loaded = Loaded::new(&args.input, &args.policy);
    let graph = loaded.policy.graph();
    match args.format {
        GraphFormat::Dot => print!("{}", graph.to_dot()),
        GraphFormat::Json => println!("{}", serde_json::to_string_pretty(&graph)?),
    }
    Ok(loaded.exit(ExitCode::SUCCESS))
}

fn paths_cmd(args: PathsArgs) -> anyhow::Result<ExitCode> {
    let loaded = Loaded::new(&args.input, &args.policy);
    let found = match &args.to {
        Some(target) => paths_to(&loaded.policy, args.from.as_ref(), target, args.max_steps),
        None => paths(&loaded.policy, args.from.as_ref(), args.max_steps),
    };
    match args.format {
        TextFormat::Json => {
            let list: Vec<Value> = found.iter().map(|p| path_json(&loaded, p)).collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        TextFormat::Text => {
            if found.is_empty() {
                println!("no escalation path within {} steps", args.max_steps);
            }
            for path in &found {
                print!("{}", path_text(&loaded, path));
            }
        }
    }
    Ok(loaded.exit(ExitCode::SUCCESS))
}

fn path_json(loaded: &Loaded, path: &EscalationPath) -> Value {
    json!({
        "from": subject_json(&path.from),
        "target": path.target,
        "steps": path.steps.iter().map(|s| json!({
            "from": s.from,
            "action": s.action,
            "grant": loaded.grant_json(&s.grant),
            "to": s.to,
        })).collect::<Vec<_>>(),
    })
}

fn path_text(loaded: &Loaded, path: &EscalationPath) -> String {
    let mut out = format!(
        "{} -> {} ({} step{})\n",
        path.from,
        path.target,
        path.steps.len(),
        if path.steps.len() == 1 { "" } else { "s" }
    );
    for (i, step) in path.steps.iter().enumerate() {
        let g = &step.grant;
        out.push_str(&format!(
            "  {}. {}: {}\n     via {} -> {} at {}\n     => {}\n",
            i + 1,
            step.from,
            step.action,
            g.binding,
            g.role,
            loaded.place(g.rule.location.object, &g.rule.location.pointer),
            step.to
        ));
    }
    out
}
