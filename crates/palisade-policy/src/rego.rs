//! A template's Rego, compiled once with `regorus` and evaluated per review under a time budget.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use regorus::utils::limits::{ExecutionTimerConfig, LimitError};
use serde_json::Value;

use crate::guard::KindGuard;

/// The Rego of one template target: its module, its `libs`, and the `violation` rule.
///
/// The engine is compiled once; evaluations borrow a prepared copy from `idle` (a copy is
/// made only when every other one is in use, so a review on one thread clones nothing after the
/// first), and each evaluation resets the copy's state before it runs.
#[derive(Debug)]
pub(crate) struct RegoProgram {
    engine: regorus::Engine,
    idle: Mutex<Vec<regorus::Engine>>,
    query: String,
    pub uses_inventory: bool,
    /// The kinds `violation` can report at all (`None`: any).
    pub guard: Option<KindGuard>,
}

impl Clone for RegoProgram {
    fn clone(&self) -> Self {
        RegoProgram {
            engine: self.engine.clone(),
            idle: Mutex::new(Vec::new()),
            query: self.query.clone(),
            uses_inventory: self.uses_inventory,
            guard: self.guard.clone(),
        }
    }
}

/// The most idle copies of one engine kept for reuse.
const MAX_IDLE: usize = 8;

/// One `violation[{"msg": ..., "details": ...}]` result.
#[derive(Debug, Clone)]
pub(crate) struct RawViolation {
    pub msg: String,
    pub details: Value,
}

/// Where a Rego error points: a line inside the Rego text (1-based) and its message.
#[derive(Debug, Clone)]
pub(crate) struct RegoError {
    /// Which source: 0 is the main module, 1.. the libs.
    pub source: usize,
    pub line: u32,
    pub message: String,
}

/// Pulls `--> path:line:col` and the final `error: message` out of a regorus error.
fn parse_error(text: &str) -> RegoError {
    let mut source = 0;
    let mut line = 0;
    for l in text.lines() {
        if let Some(loc) = l.trim_start().strip_prefix("--> ") {
            let mut parts = loc.rsplitn(3, ':');
            let _col = parts.next();
            line = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let path = parts.next().unwrap_or("");
            source = path
                .rsplit_once('#')
                .and_then(|(_, n)| n.parse().ok())
                .unwrap_or(0);
            break;
        }
    }
    let message = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
        .trim_start_matches("error: ")
        .to_owned();
    RegoError {
        source,
        line,
        message,
    }
}

/// Rewrites two Rego v0 forms that OPA accepts and `regorus` reads otherwise, keeping every
/// line where it is (so errors keep their line numbers):
/// - a rule with several bodies, `head { … } { … }`: each `} {` line becomes `} head {`;
/// - an expression that ends a line before one that starts with `(`: OPA ends the expression
///   at the newline, `regorus` reads a call; a `;` ends it explicitly.
pub(crate) fn normalize_v0(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut head: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        let top_level = !line.starts_with(char::is_whitespace);
        if top_level && trimmed.ends_with('{') && !trimmed.starts_with('}') {
            let h = trimmed.trim_end_matches('{').trim_end();
            head = (!h.is_empty() && !h.starts_with("package") && !h.starts_with("import"))
                .then(|| h.to_owned());
        }
        if top_level && trimmed == "} {" {
            if let Some(h) = &head {
                out.push(format!("}} {h} {{"));
                continue;
            }
        }
        if trimmed.starts_with('(') {
            if let Some(prev) = out.iter_mut().rev().find(|l| !l.trim().is_empty()) {
                let ends_term = prev
                    .trim_end()
                    .ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ']' || c == ')');
                if ends_term && !prev.trim_start().starts_with('#') {
                    prev.push(';');
                }
            }
        }
        out.push(line.to_owned());
    }
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

impl RegoProgram {
    /// Compiles the module (`sources[0]`) and its libs (`sources[1..]`); `v1` selects Rego v1
    /// syntax (Gatekeeper's templates are Rego v0 unless they say `version: v1`).
    pub fn compile(name: &str, sources: &[&str], v1: bool) -> Result<RegoProgram, RegoError> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(!v1);
        // OPA's default: a built-in that fails makes its expression undefined.
        engine.set_strict_builtin_errors(false);
        crate::deprecated::add_to(&mut engine).map_err(|message| RegoError {
            source: 0,
            line: 0,
            message,
        })?;
        let mut package = String::new();
        for (i, text) in sources.iter().enumerate() {
            let text = if v1 {
                (*text).to_owned()
            } else {
                normalize_v0(text)
            };
            let text = crate::negation::hoist_negated_operands(&format!("{name}#{i}"), &text, v1);
            let pkg = engine
                .add_policy(format!("{name}#{i}"), text)
                .map_err(|e| parse_error(&e.to_string()))?;
            if i == 0 {
                package = pkg;
            }
        }
        let query = format!("{package}.violation");
        engine
            .compile_with_entrypoint(&query.as_str().into())
            .map_err(|e| parse_error(&e.to_string()))?;
        let uses_inventory = sources.iter().any(|s| s.contains("data.inventory"));
        let guard = crate::guard::of_violation(engine.get_modules(), &package);
        Ok(RegoProgram {
            engine,
            idle: Mutex::new(Vec::new()),
            query,
            uses_inventory,
            guard,
        })
    }

    /// This program with `data` loaded (the inventory, converted once for every template).
    pub fn with_data(&self, data: &regorus::Value) -> Result<RegoProgram, String> {
        let mut engine = self.engine.clone();
        engine.add_data(data.clone()).map_err(|e| e.to_string())?;
        // Prepare the copy once here rather than at each evaluation.
        engine
            .compile_with_entrypoint(&self.query.as_str().into())
            .map_err(|e| e.to_string())?;
        Ok(RegoProgram {
            engine,
            idle: Mutex::new(Vec::new()),
            query: self.query.clone(),
            uses_inventory: self.uses_inventory,
            guard: self.guard.clone(),
        })
    }

    /// Evaluates `violation` on `input`; `Err((message, over_budget))` on failure.
    pub fn evaluate(
        &self,
        input: regorus::Value,
        budget: Duration,
    ) -> Result<Vec<RawViolation>, (String, bool)> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let mut engine = idle.unwrap_or_else(|| self.engine.clone());
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: budget,
            check_interval: NonZeroU32::new(16).unwrap_or(NonZeroU32::MIN),
        });
        engine.set_input(input);
        let result = engine.eval_rule(self.query.clone());
        // Only an engine whose evaluation finished is reused (one that stopped half-way, say in
        // a `with`, could keep some of its state); it drops the input and the output of `print`
        // now rather than keep them while idle.
        if result.is_ok() {
            engine.set_input(regorus::Value::Undefined);
            let _ = engine.take_prints();
            if let Ok(mut idle) = self.idle.lock() {
                if idle.len() < MAX_IDLE {
                    idle.push(engine);
                }
            }
        }
        let result = result.map_err(|e| {
            let over = e.chain().any(|c| c.downcast_ref::<LimitError>().is_some());
            (parse_error(&e.to_string()).message, over)
        })?;
        let json = serde_json::to_value(&result).map_err(|e| (e.to_string(), false))?;
        let mut out = Vec::new();
        if let Value::Array(items) = json {
            for item in items {
                let msg = match item.get("msg") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                let details = item.get("details").cloned().unwrap_or(Value::Null);
                out.push(RawViolation { msg, details });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_input(v: &Value) -> regorus::Value {
        regorus::Value::from(v.clone())
    }

    #[test]
    fn v0_forms_are_rewritten_in_place() {
        let multi = "package p\nviolation[{\"msg\": m}] {\n  m := \"a\"\n} {\n  m := \"b\"\n}\n";
        let got = normalize_v0(multi);
        assert_eq!(got.lines().count(), multi.lines().count());
        assert!(got.contains("} violation[{\"msg\": m}] {"), "{got}");
        let program = RegoProgram::compile("t", &[multi], false)
            .map_err(|e| e.message)
            .unwrap();
        let found = program
            .evaluate(json_input(&serde_json::json!({})), Duration::from_secs(1))
            .unwrap();
        assert_eq!(found.len(), 2);

        let call = "package q\nviolation[{\"msg\": \"x\"}] {\n  input.a\n  (input.b - 1) >= 0\n}\n";
        let program = RegoProgram::compile("t", &[call], false)
            .map_err(|e| e.message)
            .unwrap();
        let input = serde_json::json!({"a": true, "b": 3});
        assert_eq!(
            program
                .evaluate(json_input(&input), Duration::from_secs(1))
                .unwrap()
                .len(),
            1
        );
    }
}
