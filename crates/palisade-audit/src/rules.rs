//! Falco rules files for the `k8s_audit` source: loading (`list`, `macro`, `rule` with
//! `append`/`override`, `enabled`, `exceptions`, `priority`, `required_*` accepted), compiling
//! once to an AST over field IDs, and evaluating events into alerts in Falco's format.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use palisade_core::{decode_first_document, Limits};
use serde_json::{Map, Value};

use crate::cond::{self, Ast, Check, Ctx, Expr, Op};
use crate::event::Event;
use crate::fields::{self, Field};
use crate::time::{format_clock_nanos, format_rfc3339_nanos};

/// Falco's priorities, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}

impl Priority {
    /// Parses a priority as Falco does (any case; `info` is `informational`).
    pub fn parse(text: &str) -> Option<Priority> {
        Some(match text.to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" | "warn" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// The name in Falco's alerts (`Warning`).
    pub fn name(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }

    /// Whether this priority is at least as severe as `other`.
    pub fn at_least(self, other: Priority) -> bool {
        self <= other
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error in a rules file: file, line, and what is wrong (for a condition: the rule or macro
/// and the column in the condition).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct RulesError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

#[derive(Debug, Clone)]
struct Origin {
    file: String,
    line: u32,
}

impl Origin {
    fn error(&self, message: String) -> RulesError {
        RulesError {
            file: self.file.clone(),
            line: self.line,
            message,
        }
    }
}

#[derive(Debug, Clone)]
struct ListDef {
    items: Vec<String>,
}

#[derive(Debug, Clone)]
struct MacroDef {
    condition: String,
    origin: Origin,
}

#[derive(Debug, Clone)]
struct ExceptionDef {
    name: String,
    /// `None`: a single field (not a list of fields).
    fields: Vec<String>,
    single: bool,
    comps: Vec<String>,
    values: Vec<Value>,
}

#[derive(Debug, Clone)]
struct RuleDef {
    name: String,
    desc: String,
    condition: String,
    output: String,
    priority: Priority,
    source: String,
    tags: Vec<String>,
    enabled: bool,
    skip_if_unknown_filter: bool,
    exceptions: Vec<ExceptionDef>,
    origin: Origin,
}

/// The definitions of every loaded file, in order, before compiling.
#[derive(Debug, Default)]
pub struct RulesLoader {
    lists: HashMap<String, ListDef>,
    macros: HashMap<String, MacroDef>,
    rules: Vec<RuleDef>,
    limits: Limits,
    /// Things Falco accepts with a warning.
    pub warnings: Vec<String>,
}

/// How many alerts one event may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Matching {
    /// Falco's default (`rule_matching: first`): the first matching rule, in load order.
    #[default]
    First,
    /// Every matching rule.
    All,
}

impl RulesLoader {
    pub fn new() -> Self {
        RulesLoader::default()
    }

    /// Loads a rules file from disk; `display` names it in errors.
    pub fn load_path(&mut self, path: &Path, display: &str) -> Result<(), RulesError> {
        let text = std::fs::read_to_string(path).map_err(|e| RulesError {
            file: display.to_owned(),
            line: 1,
            message: format!("cannot read rules file: {e}"),
        })?;
        self.load_str(&text, display)
    }

    /// Loads rules-file text (YAML, through palisade-core's loader).
    pub fn load_str(&mut self, text: &str, display: &str) -> Result<(), RulesError> {
        let value = decode_first_document(text, &self.limits).map_err(|e| RulesError {
            file: display.to_owned(),
            line: e.pos.line,
            message: e.message,
        })?;
        let items = match value {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(RulesError {
                    file: display.to_owned(),
                    line: 1,
                    message: "a rules file is a YAML list of items".to_owned(),
                })
            }
        };
        let lines = ItemLines::new(text);
        for (index, item) in items.into_iter().enumerate() {
            let origin = Origin {
                file: display.to_owned(),
                line: lines.line_of(index, &item),
            };
            if item.is_null() {
                // An empty item (a stray `-`) is skipped, as Falco's loader does.
                continue;
            }
            let Value::Object(map) = item else {
                return Err(origin.error("each item of a rules file is a mapping".to_owned()));
            };
            self.item(map, &origin)?;
        }
        Ok(())
    }

    fn item(&mut self, map: Map<String, Value>, origin: &Origin) -> Result<(), RulesError> {
        if map.contains_key("required_engine_version") {
            return match &map["required_engine_version"] {
                Value::Number(_) | Value::String(_) => Ok(()),
                _ => Err(origin.error("required_engine_version must be a version".to_owned())),
            };
        }
        if let Some(plugins) = map.get("required_plugin_versions") {
            let ok = plugins.as_array().is_some_and(|a| {
                a.iter()
                    .all(|p| p.get("name").is_some_and(Value::is_string))
            });
            return if ok {
                Ok(())
            } else {
                Err(origin
                    .error("required_plugin_versions must be a list of {name, version}".to_owned()))
            };
        }
        if let Some(name) = map.get("list") {
            return self.list(name, &map, origin);
        }
        if let Some(name) = map.get("macro") {
            return self.macro_item(name, &map, origin);
        }
        if let Some(name) = map.get("rule") {
            return self.rule(name, &map, origin);
        }
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        Err(origin.error(format!(
            "unknown item (keys: {}); expected list, macro, rule, required_engine_version or required_plugin_versions",
            keys.join(", ")
        )))
    }

    fn list(
        &mut self,
        name: &Value,
        map: &Map<String, Value>,
        origin: &Origin,
    ) -> Result<(), RulesError> {
        let name =
            str_of(name).ok_or_else(|| origin.error("list name must be a string".to_owned()))?;
        let items = map
            .get("items")
            .map(|v| {
                strings(v).ok_or_else(|| {
                    origin.error(format!("list '{name}': items must be a list of strings"))
                })
            })
            .transpose()?;
        let mode = override_mode(map, "items", origin, &format!("list '{name}'"))?;
        match mode {
            Mode::Define => {
                let items =
                    items.ok_or_else(|| origin.error(format!("list '{name}' has no items")))?;
                self.lists.insert(name, ListDef { items });
            }
            Mode::Append | Mode::Replace => {
                let items =
                    items.ok_or_else(|| origin.error(format!("list '{name}' has no items")))?;
                let Some(list) = self.lists.get_mut(&name) else {
                    // The 0.5.0-era overlays append to lists that later rules files renamed:
                    // such an append defines the list, with a warning.
                    self.warnings.push(format!(
                        "{}:{}: list '{name}' appended before it is defined; defined here",
                        origin.file, origin.line
                    ));
                    self.lists.insert(name, ListDef { items });
                    return Ok(());
                };
                if mode == Mode::Append {
                    list.items.extend(items);
                } else {
                    list.items = items;
                }
            }
        }
        Ok(())
    }

    fn macro_item(
        &mut self,
        name: &Value,
        map: &Map<String, Value>,
        origin: &Origin,
    ) -> Result<(), RulesError> {
        let name =
            str_of(name).ok_or_else(|| origin.error("macro name must be a string".to_owned()))?;
        let condition = map
            .get("condition")
            .map(|v| {
                str_of(v).ok_or_else(|| {
                    origin.error(format!("macro '{name}': condition must be a string"))
                })
            })
            .transpose()?
            .ok_or_else(|| origin.error(format!("macro '{name}' has no condition")))?;
        match override_mode(map, "condition", origin, &format!("macro '{name}'"))? {
            Mode::Define | Mode::Replace => {
                if !matches!(override_mode(map, "condition", origin, "")?, Mode::Define)
                    && !self.macros.contains_key(&name)
                {
                    return Err(
                        origin.error(format!("macro '{name}' overridden before it is defined"))
                    );
                }
                self.macros.insert(
                    name,
                    MacroDef {
                        condition,
                        origin: origin.clone(),
                    },
                );
            }
            Mode::Append => {
                let Some(m) = self.macros.get_mut(&name) else {
                    return Err(
                        origin.error(format!("macro '{name}' appended before it is defined"))
                    );
                };
                m.condition = format!("{} {}", m.condition, condition);
            }
        }
        Ok(())
    }

    fn rule(
        &mut self,
        name: &Value,
        map: &Map<String, Value>,
        origin: &Origin,
    ) -> Result<(), RulesError> {
        let name =
            str_of(name).ok_or_else(|| origin.error("rule name must be a string".to_owned()))?;
        let what = format!("rule '{name}'");
        let text = |key: &str| -> Result<Option<String>, RulesError> {
            map.get(key)
                .map(|v| {
                    str_of(v).ok_or_else(|| origin.error(format!("{what}: {key} must be a string")))
                })
                .transpose()
        };
        let enabled = match map.get("enabled") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(origin.error(format!("{what}: enabled must be true or false"))),
        };
        let priority = text("priority")?
            .map(|p| {
                Priority::parse(&p)
                    .ok_or_else(|| origin.error(format!("{what}: unknown priority '{p}'")))
            })
            .transpose()?;
        let tags = map
            .get("tags")
            .map(|v| {
                strings(v)
                    .ok_or_else(|| origin.error(format!("{what}: tags must be a list of strings")))
            })
            .transpose()?;
        let exceptions = map
            .get("exceptions")
            .map(|v| exceptions(v, origin, &what))
            .transpose()?;
        let condition = text("condition")?;
        let output = text("output")?;
        let append = map.get("append").and_then(Value::as_bool).unwrap_or(false);
        let overrides = map.get("override").and_then(Value::as_object);
        let existing = self.rules.iter().position(|r| r.name == name);

        if append || overrides.is_some() {
            let Some(at) = existing else {
                return Err(origin.error(format!(
                    "{what} appended or overridden before it is defined"
                )));
            };
            let rule = &mut self.rules[at];
            let mode_of = |key: &str| -> Result<Mode, RulesError> {
                if append {
                    return Ok(Mode::Append);
                }
                match overrides.and_then(|o| o.get(key)).and_then(Value::as_str) {
                    Some("append") => Ok(Mode::Append),
                    Some("replace") => Ok(Mode::Replace),
                    None => Ok(Mode::Define),
                    Some(other) => {
                        Err(origin.error(format!("{what}: unknown override '{other}' for {key}")))
                    }
                }
            };
            if let Some(c) = condition {
                match mode_of("condition")? {
                    Mode::Append => rule.condition = format!("{} {}", rule.condition, c),
                    _ => rule.condition = c,
                }
            }
            if let Some(o) = output {
                match mode_of("output")? {
                    Mode::Append => rule.output = format!("{} {}", rule.output, o),
                    _ => rule.output = o,
                }
            }
            if let Some(d) = text("desc")? {
                match mode_of("desc")? {
                    Mode::Append => rule.desc = format!("{} {}", rule.desc, d),
                    _ => rule.desc = d,
                }
            }
            if let Some(p) = priority {
                rule.priority = p;
            }
            if let Some(e) = enabled {
                rule.enabled = e;
            }
            if let Some(t) = tags {
                match mode_of("tags")? {
                    Mode::Append => rule.tags.extend(t),
                    _ => rule.tags = t,
                }
            }
            if let Some(ex) = exceptions {
                if mode_of("exceptions")? == Mode::Replace {
                    rule.exceptions = ex;
                } else {
                    for e in ex {
                        match rule.exceptions.iter_mut().find(|x| x.name == e.name) {
                            Some(x) => x.values.extend(e.values),
                            None => rule.exceptions.push(e),
                        }
                    }
                }
            }
            return Ok(());
        }

        if condition.is_none() {
            // `- rule: X` with only `enabled:` switches an existing rule on or off.
            if let (Some(at), Some(e)) = (existing, enabled) {
                self.rules[at].enabled = e;
                return Ok(());
            }
        }
        let missing = |key: &str| origin.error(format!("{what} has no {key}"));
        let def = RuleDef {
            name: name.clone(),
            desc: text("desc")?.unwrap_or_default(),
            condition: condition.ok_or_else(|| missing("condition"))?,
            output: output.ok_or_else(|| missing("output"))?,
            priority: priority.ok_or_else(|| missing("priority"))?,
            source: text("source")?.unwrap_or_else(|| "syscall".to_owned()),
            tags: tags.unwrap_or_default(),
            enabled: enabled.unwrap_or(true),
            skip_if_unknown_filter: map
                .get("skip-if-unknown-filter")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            exceptions: exceptions.unwrap_or_default(),
            origin: origin.clone(),
        };
        match existing {
            Some(at) => self.rules[at] = def,
            None => self.rules.push(def),
        }
        Ok(())
    }

    /// Compiles every enabled `k8s_audit` rule: macros inlined, lists expanded, fields resolved.
    pub fn compile(&self) -> Result<Ruleset, RulesError> {
        let mut c = Compiler {
            loader: self,
            slots: Vec::new(),
            expanding: Vec::new(),
        };
        let mut rules = Vec::new();
        for def in &self.rules {
            if def.source != "k8s_audit" || !def.enabled {
                continue;
            }
            let what = format!("rule '{}'", def.name);
            let mut condition = match c.condition(&def.condition, &what, &def.origin) {
                Ok(e) => e,
                Err(e) if def.skip_if_unknown_filter && e.message.contains("unknown field") => {
                    continue
                }
                Err(e) => return Err(e),
            };
            if !def.exceptions.is_empty() {
                let ex = c.exceptions(def)?;
                condition = Expr::And(vec![condition, Expr::Not(Box::new(ex))]);
            }
            let output = c.output(&def.output, &what, &def.origin)?;
            rules.push(CompiledRule {
                name: Arc::from(def.name.as_str()),
                priority: def.priority,
                tags: Arc::from(def.tags.clone()),
                condition,
                output,
            });
        }
        let prefilter = Prefilter::new(&rules, &c.slots);
        Ok(Ruleset {
            rules,
            matching: Matching::First,
            hostname: hostname(),
            prefilter,
        })
    }
}

/// Which rules can match an event of a given verb and target resource: most Falco rules begin
/// with macros such as `kcreate` (`ka.verb=create`) and `pod` (`ka.target.resource=pods`), so for
/// a given event most rules never run.
#[derive(Debug, Clone, Default)]
struct Prefilter {
    /// The fields the rules are indexed by (`ka.verb`, `ka.target.resource`) and their slots,
    /// when some rule constrains them.
    keys: Vec<(Field, usize)>,
    /// Per indexed field, the number of each value some rule requires (a value no rule names
    /// is number 0).
    values: Vec<HashMap<String, usize>>,
    /// The rules (by index, in order) that can match each combination of value numbers (the
    /// first field's number varying slowest).
    table: Vec<Vec<u32>>,
    /// The rules, when no field is indexed.
    all: Vec<u32>,
}

impl Prefilter {
    fn new(rules: &[CompiledRule], slots: &[Field]) -> Prefilter {
        let mut prefilter = Prefilter {
            all: (0..rules.len() as u32).collect(),
            ..Prefilter::default()
        };
        // Per rule, what it requires of each indexed field (`None`: any value).
        let mut required_sets: Vec<Vec<Option<HashSet<String>>>> = Vec::new();
        for name in ["ka.verb", "ka.target.resource"] {
            let Some(slot) = slots
                .iter()
                .position(|f| f.def.name == name && f.arg == crate::fields::Arg::None)
            else {
                continue;
            };
            let sets: Vec<Option<HashSet<String>>> =
                rules.iter().map(|r| required(&r.condition, slot)).collect();
            let mut numbers: HashMap<String, usize> = HashMap::new();
            let mut names: Vec<&String> = sets.iter().flatten().flatten().collect();
            names.sort();
            names.dedup();
            for (n, v) in names.into_iter().enumerate() {
                numbers.insert(v.clone(), n + 1);
            }
            prefilter.keys.push((slots[slot].clone(), slot));
            prefilter.values.push(numbers);
            required_sets.push(sets);
        }
        if prefilter.keys.is_empty() {
            return prefilter;
        }
        // Every combination of value numbers, the first field's varying slowest.
        let sizes: Vec<usize> = prefilter.values.iter().map(|m| m.len() + 1).collect();
        let combinations: usize = sizes.iter().product();
        let mut names: Vec<Vec<Option<&String>>> = Vec::new();
        for numbers in &prefilter.values {
            let mut by_number = vec![None; numbers.len() + 1];
            for (v, &n) in numbers {
                by_number[n] = Some(v);
            }
            names.push(by_number);
        }
        for combination in 0..combinations {
            let mut rest = combination;
            let mut digits = vec![0; sizes.len()];
            for (k, size) in sizes.iter().enumerate().rev() {
                digits[k] = rest % size;
                rest /= size;
            }
            let matching = (0..rules.len())
                .filter(|&i| {
                    required_sets
                        .iter()
                        .zip(&digits)
                        .zip(&names)
                        .all(|((sets, &d), names)| match (&sets[i], names[d]) {
                            (None, _) => true,
                            (Some(set), Some(v)) => set.contains(v),
                            (Some(_), None) => false,
                        })
                })
                .map(|i| i as u32)
                .collect();
            prefilter.table.push(matching);
        }
        prefilter
    }

    /// The rules that can match the event of `ctx`, in order.
    fn candidates<'p>(&'p self, ctx: &mut Ctx<'_>) -> &'p [u32] {
        if self.keys.is_empty() {
            return &self.all;
        }
        let mut combination = 0;
        for ((field, slot), numbers) in self.keys.iter().zip(&self.values) {
            let number = match ctx.values(field, *slot).and_then(|v| v.first()) {
                Some(value) => numbers.get(value.as_ref()).copied().unwrap_or(0),
                None => 0,
            };
            combination = combination * (numbers.len() + 1) + number;
        }
        self.table.get(combination).map_or(&self.all, Vec::as_slice)
    }
}

/// The values a condition requires of the scalar field in `slot` (`None`: any value, or the
/// condition does not say). A rule can only match an event whose value is in the set: a check
/// on an absent field is false.
fn required(expr: &Expr, slot: usize) -> Option<HashSet<String>> {
    match expr {
        Expr::Check(c) if c.slot == slot && !c.field.def.list => match c.op {
            cond::Op::Eq => Some(c.values.iter().take(1).cloned().collect()),
            cond::Op::In | cond::Op::Intersects => Some(c.values.iter().cloned().collect()),
            _ => None,
        },
        Expr::And(items) => items
            .iter()
            .filter_map(|e| required(e, slot))
            .reduce(|a, b| a.intersection(&b).cloned().collect()),
        Expr::Or(items) => {
            let mut all = HashSet::new();
            for e in items {
                all.extend(required(e, slot)?);
            }
            Some(all)
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Define,
    Append,
    Replace,
}

fn override_mode(
    map: &Map<String, Value>,
    key: &str,
    origin: &Origin,
    what: &str,
) -> Result<Mode, RulesError> {
    if map.get("append").and_then(Value::as_bool) == Some(true) {
        return Ok(Mode::Append);
    }
    match map.get("override") {
        None => Ok(Mode::Define),
        Some(Value::Object(o)) => match o.get(key).and_then(Value::as_str) {
            Some("append") => Ok(Mode::Append),
            Some("replace") => Ok(Mode::Replace),
            _ => Err(origin.error(format!(
                "{what}: override must say append or replace for {key}"
            ))),
        },
        Some(_) => Err(origin.error(format!("{what}: override must be a mapping"))),
    }
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items.iter().map(str_of).collect(),
        _ => None,
    }
}

fn exceptions(v: &Value, origin: &Origin, what: &str) -> Result<Vec<ExceptionDef>, RulesError> {
    let items = v
        .as_array()
        .ok_or_else(|| origin.error(format!("{what}: exceptions must be a list")))?;
    items
        .iter()
        .map(|e| {
            let name = e
                .get("name")
                .and_then(str_of)
                .ok_or_else(|| origin.error(format!("{what}: an exception has no name")))?;
            let (fields, single) = match e.get("fields") {
                Some(Value::String(f)) => (vec![f.clone()], true),
                Some(Value::Array(_)) => (
                    strings(&e["fields"]).ok_or_else(|| {
                        origin.error(format!(
                            "{what}: exception '{name}': fields must be strings"
                        ))
                    })?,
                    false,
                ),
                None => (Vec::new(), false),
                Some(_) => {
                    return Err(origin.error(format!("{what}: exception '{name}': bad fields")))
                }
            };
            let comps = match e.get("comps") {
                None => Vec::new(),
                Some(Value::String(c)) => vec![c.clone()],
                Some(v) => strings(v).ok_or_else(|| {
                    origin.error(format!("{what}: exception '{name}': bad comps"))
                })?,
            };
            let values = match e.get("values") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(v)) => v.clone(),
                Some(_) => {
                    return Err(
                        origin.error(format!("{what}: exception '{name}': values must be a list"))
                    )
                }
            };
            Ok(ExceptionDef {
                name,
                fields,
                single,
                comps,
                values,
            })
        })
        .collect()
}

/// Where each top-level item starts: the `- ` lines at the indentation of the first one.
struct ItemLines {
    starts: Vec<u32>,
}

impl ItemLines {
    fn new(text: &str) -> Self {
        let mut indent: Option<usize> = None;
        let mut starts = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let body = line.trim_start();
            if !(body.starts_with("- ") || body == "-") {
                continue;
            }
            let here = line.len() - body.len();
            if indent.is_none_or(|i| here == i) {
                indent = Some(here);
                starts.push(n as u32 + 1);
            }
        }
        ItemLines { starts }
    }

    fn line_of(&self, index: usize, _item: &Value) -> u32 {
        self.starts.get(index).copied().unwrap_or(1)
    }
}

/// How deep macros may refer to macros (a cycle is refused before that).
const MAX_MACRO_DEPTH: usize = 32;

struct Compiler<'l> {
    loader: &'l RulesLoader,
    slots: Vec<Field>,
    expanding: Vec<String>,
}

impl Compiler<'_> {
    fn slot(&mut self, field: &Field) -> usize {
        match self.slots.iter().position(|f| f == field) {
            Some(i) => i,
            None => {
                self.slots.push(field.clone());
                self.slots.len() - 1
            }
        }
    }

    fn condition(&mut self, text: &str, what: &str, origin: &Origin) -> Result<Expr, RulesError> {
        let ast = cond::parse(text).map_err(|e| {
            origin.error(format!(
                "{what}: condition column {}: {} (condition: {})",
                e.column(text),
                e.message,
                text.trim()
            ))
        })?;
        self.resolve(&ast, text, what, origin)
    }

    fn resolve(
        &mut self,
        ast: &Ast,
        text: &str,
        what: &str,
        origin: &Origin,
    ) -> Result<Expr, RulesError> {
        Ok(match ast {
            Ast::And(items) => Expr::And(
                items
                    .iter()
                    .map(|a| self.resolve(a, text, what, origin))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Or(items) => Expr::Or(
                items
                    .iter()
                    .map(|a| self.resolve(a, text, what, origin))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Not(inner) => Expr::Not(Box::new(self.resolve(inner, text, what, origin)?)),
            Ast::Macro(name, offset) => {
                let column = cond::ParseError {
                    offset: *offset,
                    message: String::new(),
                }
                .column(text);
                let Some(m) = self.loader.macros.get(name) else {
                    return Err(origin.error(format!(
                        "{what}: condition column {column}: undefined macro '{name}'"
                    )));
                };
                if self.expanding.len() >= MAX_MACRO_DEPTH {
                    return Err(origin.error(format!(
                        "{what}: condition column {column}: macros nested more than {MAX_MACRO_DEPTH} deep at '{name}'"
                    )));
                }
                if self.expanding.contains(name) {
                    return Err(origin.error(format!(
                        "{what}: condition column {column}: macro '{name}' refers to itself"
                    )));
                }
                self.expanding.push(name.clone());
                let m_origin = m.origin.clone();
                let result = self.condition(&m.condition, &format!("macro '{name}'"), &m_origin);
                self.expanding.pop();
                result?
            }
            Ast::Check { field, op, values } => {
                let values = if matches!(op, Op::In | Op::Intersects | Op::PMatch) {
                    let mut out = Vec::new();
                    for v in values {
                        self.expand(v, &mut out, 0);
                    }
                    out
                } else {
                    values.clone()
                };
                let slot = self.slot(field);
                Expr::Check(Box::new(Check::new(field.clone(), slot, *op, values)))
            }
        })
    }

    /// A list item: the items of the list it names (recursively), or itself.
    fn expand(&self, item: &str, out: &mut Vec<String>, depth: usize) {
        match self.loader.lists.get(item) {
            Some(list) if depth < 32 => {
                for i in &list.items {
                    self.expand(i, out, depth + 1);
                }
            }
            _ => out.push(item.to_owned()),
        }
    }

    fn exceptions(&mut self, def: &RuleDef) -> Result<Expr, RulesError> {
        let what = format!("rule '{}'", def.name);
        let mut any = Vec::new();
        for ex in &def.exceptions {
            let fields: Vec<Field> = ex
                .fields
                .iter()
                .map(|f| {
                    parse_field(f).map_err(|m| {
                        def.origin
                            .error(format!("{what}: exception '{}': {m}", ex.name))
                    })
                })
                .collect::<Result<_, _>>()?;
            let comp_of = |i: usize| -> Result<Op, RulesError> {
                let c = ex.comps.get(i).map(String::as_str).unwrap_or(if ex.single {
                    "in"
                } else {
                    "="
                });
                comp_op(c).ok_or_else(|| {
                    def.origin.error(format!(
                        "{what}: exception '{}': unknown comparison '{c}'",
                        ex.name
                    ))
                })
            };
            if ex.single {
                let Some(field) = fields.first() else {
                    continue;
                };
                let op = comp_of(0)?;
                let mut values = Vec::new();
                for v in &ex.values {
                    if let Some(s) = str_of(v) {
                        self.expand(&s, &mut values, 0);
                    }
                }
                if values.is_empty() {
                    continue;
                }
                let slot = self.slot(field);
                let values = if op.is_set() {
                    values
                } else {
                    values.into_iter().take(1).collect()
                };
                any.push(Expr::Check(Box::new(Check::new(
                    field.clone(),
                    slot,
                    op,
                    values,
                ))));
                continue;
            }
            for tuple in &ex.values {
                let Some(items) = tuple.as_array() else {
                    return Err(def.origin.error(format!(
                        "{what}: exception '{}': each value must be a list",
                        ex.name
                    )));
                };
                if items.len() != fields.len() {
                    return Err(def.origin.error(format!(
                        "{what}: exception '{}': {} values for {} fields",
                        ex.name,
                        items.len(),
                        fields.len()
                    )));
                }
                let mut all = Vec::new();
                for (i, (field, v)) in fields.iter().zip(items).enumerate() {
                    let op = comp_of(i)?;
                    let values = match v {
                        Value::Array(list) => {
                            let mut out = Vec::new();
                            for s in list.iter().filter_map(str_of) {
                                self.expand(&s, &mut out, 0);
                            }
                            out
                        }
                        other => {
                            let s = str_of(other).unwrap_or_default();
                            let mut out = Vec::new();
                            if op.is_set() {
                                self.expand(&s, &mut out, 0);
                            } else {
                                out.push(s);
                            }
                            out
                        }
                    };
                    let slot = self.slot(field);
                    all.push(Expr::Check(Box::new(Check::new(
                        field.clone(),
                        slot,
                        op,
                        values,
                    ))));
                }
                any.push(Expr::And(all));
            }
        }
        Ok(if any.is_empty() {
            Expr::Not(Box::new(Expr::True))
        } else {
            Expr::Or(any)
        })
    }

    fn output(
        &mut self,
        text: &str,
        what: &str,
        origin: &Origin,
    ) -> Result<Vec<Segment>, RulesError> {
        let text = text.trim();
        let mut out = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('%') {
            lit.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let Some(def) = fields::longest_prefix(after) else {
                if after.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    let name: String = after
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
                        .collect();
                    if name.contains('.') {
                        return Err(
                            origin.error(format!("{what}: output: unknown field '%{name}'"))
                        );
                    }
                }
                lit.push('%');
                rest = after;
                continue;
            };
            let mut consumed = def.name.len();
            let mut arg = None;
            if after[consumed..].starts_with('[') {
                if let Some(close) = after[consumed..].find(']') {
                    arg = Some(after[consumed + 1..consumed + close].to_owned());
                    consumed += close + 1;
                }
            }
            let field = Field::new(def.name, arg.as_deref())
                .map_err(|m| origin.error(format!("{what}: output: {m}")))?;
            if !lit.is_empty() {
                out.push(Segment::Text(std::mem::take(&mut lit)));
            }
            let slot = self.slot(&field);
            out.push(Segment::Field(field, slot));
            rest = &after[consumed..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            out.push(Segment::Text(lit));
        }
        Ok(out)
    }
}

impl Op {
    fn is_set(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::PMatch)
    }
}

fn comp_op(c: &str) -> Option<Op> {
    let ast = cond::parse(&format!("ka.verb {c} (x)"))
        .ok()
        .or_else(|| cond::parse(&format!("ka.verb {c} x")).ok())?;
    match ast {
        Ast::Check { op, .. } => Some(op),
        _ => None,
    }
}

fn parse_field(text: &str) -> Result<Field, String> {
    let (name, arg) = match text.split_once('[') {
        Some((n, a)) => (n, Some(a.strip_suffix(']').ok_or("missing ']'")?)),
        None => (text, None),
    };
    Field::new(name.trim(), arg)
}

/// A piece of a rule's output.
#[derive(Debug, Clone)]
pub enum Segment {
    Text(String),
    Field(Field, usize),
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub name: Arc<str>,
    pub priority: Priority,
    pub tags: Arc<[String]>,
    pub condition: Expr,
    pub output: Vec<Segment>,
}

/// The compiled rules of every loaded file, ready to evaluate events.
#[derive(Debug, Clone)]
pub struct Ruleset {
    rules: Vec<CompiledRule>,
    pub matching: Matching,
    hostname: Arc<str>,
    prefilter: Prefilter,
}

/// An alert's `output_fields`: each field's name and value, in the order first given, each
/// name once (the JSON object Falco writes, as an insertion-ordered map keeps it). Names are
/// mostly fixed strings, so an alert allocates none for them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputFields(Vec<(Cow<'static, str>, Value)>);

impl OutputFields {
    /// The fields of `pairs`; a name given twice keeps its first place and takes the last value.
    pub fn new(pairs: Vec<(Cow<'static, str>, Value)>) -> OutputFields {
        let mut fields: Vec<(Cow<'static, str>, Value)> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            match fields.iter_mut().find(|(k, _)| *k == name) {
                Some(field) => field.1 = value,
                None => fields.push((name, value)),
            }
        }
        OutputFields(fields)
    }

    /// The value of field `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// Names and values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }

    /// The fields as a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect()
    }

    /// Appends the fields as a JSON object, as `serde_json` writes the map of them.
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = serde_json::to_writer(&mut *out, k);
            out.push(b':');
            let _ = serde_json::to_writer(&mut *out, v);
        }
        out.push(b'}');
    }
}

/// An alert, in Falco's format.
#[derive(Debug, Clone)]
pub struct Alert {
    pub rule: Arc<str>,
    pub priority: Priority,
    pub time_ns: i64,
    /// The rule's output with its fields substituted (without Falco's time and priority prefix).
    pub message: String,
    pub output_fields: OutputFields,
    pub tags: Arc<[String]>,
    pub hostname: Arc<str>,
    pub file: Arc<str>,
    pub line: u64,
}

impl Alert {
    /// Falco's `output`: `HH:MM:SS.nnnnnnnnn: Priority message`.
    pub fn output(&self) -> String {
        format!(
            "{}: {} {}",
            format_clock_nanos(self.time_ns),
            self.priority,
            self.message
        )
    }

    /// The alert as Falco writes it with `json_output: true`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("hostname".into(), Value::String(self.hostname.to_string()));
        m.insert("output".into(), Value::String(self.output()));
        m.insert(
            "output_fields".into(),
            Value::Object(self.output_fields.to_map()),
        );
        m.insert(
            "priority".into(),
            Value::String(self.priority.name().to_owned()),
        );
        m.insert("rule".into(), Value::String(self.rule.to_string()));
        m.insert("source".into(), Value::String("k8s_audit".to_owned()));
        m.insert(
            "tags".into(),
            Value::Array(self.tags.iter().map(|t| Value::String(t.clone())).collect()),
        );
        m.insert(
            "time".into(),
            Value::String(format_rfc3339_nanos(self.time_ns)),
        );
        Value::Object(m)
    }

    /// Appends the alert as one line of Falco's JSON to `out` (the newline included): the text
    /// of [`Alert::to_json`], written straight into the buffer without building a `Value`.
    pub fn write_json_line(&self, out: &mut Vec<u8>) {
        use serde::Serializer as _;
        // Writing JSON into a Vec cannot fail (and these values hold nothing but strings).
        let string = |out: &mut Vec<u8>, s: &dyn fmt::Display| {
            let _ = serde_json::Serializer::new(&mut *out).collect_str(s);
        };
        out.extend_from_slice(b"{\"hostname\":");
        string(out, &self.hostname);
        out.extend_from_slice(b",\"output\":");
        string(
            out,
            &format_args!(
                "{}: {} {}",
                format_clock_nanos(self.time_ns),
                self.priority,
                self.message
            ),
        );
        out.extend_from_slice(b",\"output_fields\":");
        self.output_fields.write_json(out);
        out.extend_from_slice(b",\"priority\":");
        string(out, &self.priority.name());
        out.extend_from_slice(b",\"rule\":");
        string(out, &self.rule);
        out.extend_from_slice(b",\"source\":\"k8s_audit\",\"tags\":");
        let _ = serde_json::to_writer(&mut *out, &*self.tags);
        out.extend_from_slice(b",\"time\":");
        string(out, &format_rfc3339_nanos(self.time_ns));
        out.extend_from_slice(b"}\n");
    }
}

impl Ruleset {
    /// An empty ruleset (no Falco rules loaded).
    pub fn empty() -> Ruleset {
        Ruleset {
            rules: Vec::new(),
            matching: Matching::First,
            hostname: hostname(),
            prefilter: Prefilter::default(),
        }
    }

    /// The compiled rules, in load order.
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Evaluates one event, calling `sink` for each alert.
    pub fn evaluate(&self, event: &Event, sink: &mut dyn FnMut(Alert)) {
        if self.rules.is_empty() {
            return;
        }
        let mut ctx = Ctx::new(event);
        let candidates = self.prefilter.candidates(&mut ctx);
        for rule in candidates.iter().map(|&i| &self.rules[i as usize]) {
            if !rule.condition.eval(&mut ctx) {
                continue;
            }
            let mut message = String::new();
            let mut output_fields = Vec::new();
            for seg in &rule.output {
                match seg {
                    Segment::Text(t) => message.push_str(t),
                    Segment::Field(f, slot) => {
                        let values = ctx.values(f, *slot);
                        message.push_str(&cond::render(f, values));
                        output_fields.push((Cow::Owned(f.display()), cond::to_json(f, values)));
                    }
                }
            }
            let output_fields = OutputFields::new(output_fields);
            sink(Alert {
                rule: rule.name.clone(),
                priority: rule.priority,
                time_ns: event.time_ns,
                message,
                output_fields,
                tags: rule.tags.clone(),
                hostname: self.hostname.clone(),
                file: event.file.clone(),
                line: event.line,
            });
            if self.matching == Matching::First {
                return;
            }
        }
    }
}

/// The host name alerts carry (`hostname` of Falco's JSON).
pub fn hostname() -> Arc<str> {
    let name = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_default();
    Arc::from(name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: Value) -> Event {
        Event::for_test(v)
    }

    fn alerts(rules: &str, ev: &Event) -> Vec<(String, String)> {
        let mut l = RulesLoader::new();
        l.load_str(rules, "r.yaml").unwrap();
        let rs = l.compile().unwrap();
        let mut out = Vec::new();
        rs.evaluate(ev, &mut |a| {
            out.push((a.rule.to_string(), a.message.clone()))
        });
        out
    }

    const BASE: &str = r#"
- list: bad_users
  items: [mallory, eve]
- list: more
  items: [bad_users, trudy]
- macro: kcreate
  condition: ka.verb=create
- rule: Bad user
  desc: d
  condition: kcreate and ka.user.name in (more)
  output: user=%ka.user.name images=%ka.req.pod.containers.image ns=%ka.target.namespace
  priority: WARNING
  source: k8s_audit
  tags: [k8s]
"#;

    /// The candidates by verb and resource never leave out a rule that matches: every rule
    /// evaluated on its own gives the same alerts, for verbs and resources named by rules, not
    /// named, absent, and not strings.
    #[test]
    fn candidates_by_verb_and_resource_leave_out_no_matching_rule() {
        let mut rules = String::new();
        let conditions = [
            "ka.verb=create",
            "ka.verb in (get, list) and ka.target.resource=pods",
            "(ka.verb=create or ka.verb=update) and (ka.target.resource=roles or ka.target.resource in (clusterroles))",
            "not ka.verb=create and ka.target.resource=secrets",
            "ka.target.resource!=pods",
            "ka.verb=delete and not ka.target.resource=pods",
            "ka.user.name=alice",
            "ka.verb startswith cre",
            "ka.verb=create and ka.verb=update",
            "ka.target.resource exists and ka.verb in (create, patch)",
            "ka.verb intersects (watch)",
        ];
        for (i, c) in conditions.iter().enumerate() {
            rules.push_str(&format!(
                "- rule: r{i}\n  desc: d\n  condition: {c}\n  output: o\n  priority: INFO\n  source: k8s_audit\n"
            ));
        }
        let mut loader = RulesLoader::new();
        loader.load_str(&rules, "r.yaml").unwrap();
        let mut ruleset = loader.compile().unwrap();
        ruleset.matching = Matching::All;
        let verbs = [
            json!("create"),
            json!("get"),
            json!("update"),
            json!("patch"),
            json!("watch"),
            json!("delete"),
            json!("bind"),
            json!(5),
            Value::Null,
        ];
        let resources = [
            json!("pods"),
            json!("roles"),
            json!("clusterroles"),
            json!("secrets"),
            json!("events"),
            json!(["pods"]),
            Value::Null,
        ];
        let mut checked = 0;
        for verb in &verbs {
            for resource in &resources {
                for user in ["alice", "bob"] {
                    let mut v = json!({"auditID": "a", "stage": "ResponseComplete", "user": {"username": user}});
                    if !verb.is_null() {
                        v["verb"] = verb.clone();
                    }
                    if !resource.is_null() {
                        v["objectRef"] = json!({"resource": resource});
                    }
                    let ev = event(v);
                    let mut got = Vec::new();
                    ruleset.evaluate(&ev, &mut |a| got.push(a.rule.to_string()));
                    let want: Vec<String> = ruleset
                        .rules()
                        .iter()
                        .filter(|r| r.condition.eval(&mut Ctx::new(&ev)))
                        .map(|r| r.name.to_string())
                        .collect();
                    assert_eq!(got, want, "verb {verb} resource {resource} user {user}");
                    checked += usize::from(!want.is_empty());
                }
            }
        }
        assert!(checked > 40, "{checked}");
    }

    #[test]
    fn lists_macros_and_outputs() {
        let ev = event(
            json!({"auditID": "1", "verb": "create", "user": {"username": "trudy"},
            "requestObject": {"spec": {"containers": [{"image": "a"}, {"image": "b"}]}}}),
        );
        assert_eq!(
            alerts(BASE, &ev),
            [(
                "Bad user".to_owned(),
                "user=trudy images=(a,b) ns=<NA>".to_owned()
            )]
        );
        let appended = format!("{BASE}\n- list: more\n  items: [bob]\n  append: true\n- rule: Bad user\n  condition: and not ka.user.name=trudy\n  append: true\n");
        assert!(alerts(&appended, &ev).is_empty());
        let disabled = format!("{BASE}\n- rule: Bad user\n  enabled: false\n");
        assert!(alerts(&disabled, &ev).is_empty());
        let excepted = format!(
            "{BASE}\n- rule: Bad user\n  exceptions:\n    - name: trusted\n      fields: [ka.user.name, ka.verb]\n      values: [[trudy, create]]\n  override:\n    exceptions: append\n"
        );
        assert!(alerts(&excepted, &ev).is_empty());
    }

    /// Falco's loader: a rule defined again without `append` or `override` replaces the first
    /// definition, and a name in a value list that names no list is the literal string.
    #[test]
    fn redefined_rules_replace_and_unknown_list_names_are_literals() {
        let ev = event(json!({"auditID": "1", "verb": "create", "user": {"username": "trudy"}}));
        let redefined = format!(
            "{BASE}\n- rule: Bad user\n  desc: d\n  condition: not ka.user.name in (renamed_users)\n  output: replaced\n  priority: WARNING\n  source: k8s_audit\n"
        );
        assert_eq!(
            alerts(&redefined, &ev),
            [("Bad user".to_owned(), "replaced".to_owned())],
            "trudy is not the literal 'renamed_users', and the first definition is gone"
        );
        let named =
            event(json!({"auditID": "1", "verb": "create", "user": {"username": "renamed_users"}}));
        assert!(alerts(&redefined, &named).is_empty());
        let appended =
            format!("{redefined}\n- list: bad_users\n  items: [trudy]\n  append: true\n");
        assert_eq!(
            alerts(&appended, &ev).len(),
            1,
            "appending to another list does not define the name the rule uses"
        );
    }

    #[test]
    fn load_errors_name_the_rule_and_the_column() {
        let mut l = RulesLoader::new();
        l.load_str(
            "- rule: R\n  desc: d\n  condition: ka.verb=x and ka.bogus=1\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
            "r.yaml",
        )
        .unwrap();
        let err = l.compile().unwrap_err().to_string();
        assert!(
            err.starts_with("r.yaml:1: rule 'R': condition column 15: unknown field 'ka.bogus'"),
            "{err}"
        );
        let mut l = RulesLoader::new();
        l.load_str(
            "- macro: m\n  condition: ka.verb=x\n- rule: R\n  desc: d\n  condition: m and (nope\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
            "r.yaml",
        )
        .unwrap();
        let err = l.compile().unwrap_err().to_string();
        assert!(
            err.starts_with("r.yaml:3: rule 'R': condition column 12: expected ')'"),
            "{err}"
        );
        let mut l = RulesLoader::new();
        let err = l
            .load_str("- rule: R\n  priority: LOUD\n", "r.yaml")
            .unwrap_err();
        assert!(err.to_string().contains("unknown priority 'LOUD'"), "{err}");
        let err = l.load_str("- rule: [\n", "r.yaml").unwrap_err();
        assert_eq!(err.file, "r.yaml");
        let mut l = RulesLoader::new();
        l.load_str(
            "- rule: R\n  desc: d\n  condition: ka.verb=x\n  output: '%ka.nope here'\n  priority: INFO\n  source: k8s_audit\n",
            "r.yaml",
        )
        .unwrap();
        assert!(l
            .compile()
            .unwrap_err()
            .message
            .contains("unknown field '%ka.nope'"));
    }

    #[test]
    fn macro_cycles_and_depth_are_load_errors() {
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!(
                "- macro: m{i}\n  condition: m{} or ka.verb=x\n",
                i + 1
            ));
        }
        text.push_str("- macro: m40\n  condition: ka.verb=y\n- rule: R\n  desc: d\n  condition: m0\n  output: o\n  priority: INFO\n  source: k8s_audit\n");
        let mut l = RulesLoader::new();
        l.load_str(&text, "r.yaml").unwrap();
        assert!(l
            .compile()
            .unwrap_err()
            .message
            .contains("nested more than 32 deep"));
        let mut l = RulesLoader::new();
        l.load_str("- macro: a\n  condition: b\n- macro: b\n  condition: a\n- rule: R\n  desc: d\n  condition: a\n  output: o\n  priority: INFO\n  source: k8s_audit\n", "r.yaml").unwrap();
        assert!(l
            .compile()
            .unwrap_err()
            .message
            .contains("refers to itself"));
    }

    #[test]
    fn absent_values_and_list_semantics() {
        let ev = event(json!({"auditID": "1", "verb": "get",
            "requestObject": {"spec": {"containers": [{"image": "nginx:1"}, {"image": "apache"}]}}}));
        let rule = |cond: &str| {
            format!("- rule: R\n  desc: d\n  condition: {cond}\n  output: o\n  priority: INFO\n  source: k8s_audit\n")
        };
        let fires = |cond: &str| !alerts(&rule(cond), &ev).is_empty();
        assert!(
            !fires("ka.target.namespace != kube-system"),
            "absent compares false"
        );
        assert!(fires("not ka.target.namespace = kube-system"));
        assert!(fires(
            "ka.req.pod.containers.image.repository in (nginx, apache)"
        ));
        assert!(
            !fires("ka.req.pod.containers.image.repository in (nginx)"),
            "in: every value"
        );
        assert!(fires(
            "ka.req.pod.containers.image.repository intersects (nginx)"
        ));
        assert!(fires("ka.req.pod.containers.image[1] = apache"));
        assert!(!fires(
            "ka.req.pod.initContainers.image intersects (apache)"
        ));
        assert!(fires("ka.verb glob 'g*'"));
        assert!(fires("ka.verb icontains GE"));
        assert!(fires(
            "jevt.value[/requestObject/spec/containers/0/image] startswith nginx"
        ));
        assert!(fires(
            "ka.verb < z and ka.verb >= get and ka.verb <= get and ka.verb > a"
        ));
        assert!(fires(
            "(ka.verb=get or ka.verb=list) and not (ka.verb exists and ka.verb=list)"
        ));
    }

    #[test]
    fn json_line_is_the_json_value_as_text() {
        let rules = r#"
- rule: Any create
  desc: d
  condition: ka.verb=create
  output: user=%ka.user.name images=%ka.req.pod.containers.image
  priority: WARNING
  source: k8s_audit
  tags: [k8s, "a\"b"]
"#;
        let mut l = RulesLoader::new();
        l.load_str(rules, "r.yaml").unwrap();
        let rs = l.compile().unwrap();
        let ev = event(json!({"auditID": "1", "verb": "create",
            "user": {"username": "tr\"udy\n\u{1}é\u{2028}"},
            "requestObject": {"spec": {"containers": [{"image": "a\\b\t"}, {"image": "</script>"}]}}}));
        let mut seen = 0;
        rs.evaluate(&ev, &mut |mut alert| {
            alert.time_ns = 1_540_561_114_902_914_000;
            alert.hostname = Arc::from("host \"a\"");
            let mut line = Vec::new();
            alert.write_json_line(&mut line);
            let text = String::from_utf8(line).unwrap();
            assert_eq!(text, format!("{}\n", alert.to_json()));
            assert!(text.contains(r#"user=tr\"udy\n\u0001é"#), "{text}");
            assert!(
                text.contains(r#""time":"2018-10-26T13:38:34.902914000Z"}"#),
                "{text}"
            );
            seen += 1;
        });
        assert_eq!(seen, 1);
    }
}
