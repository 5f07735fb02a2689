//! CEL through the `cel` crate: Gatekeeper's `K8sNativeValidation` engine (and the shape of a
//! ValidatingAdmissionPolicy): `matchConditions`, `variables` in order, `validations` with
//! `message` or `messageExpression`.
//!
//! CEL has no loops, so an evaluation is bounded by its input and by how deeply its
//! comprehensions (`all`, `exists`, `map`, `filter`) nest: each expression is refused at load
//! when it is longer than [`MAX_EXPRESSION_CHARS`] or nests comprehensions deeper than
//! [`MAX_COMPREHENSION_DEPTH`], which keeps its cost polynomial in the (already bounded)
//! object size. A program whose comprehensions nest [`WATCHED_DEPTH`] deep or more could still
//! run long on a large object, so it runs on a watchdog thread under the evaluation's time
//! budget (see `PolicySet::review`).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use cel::common::ast::{Expr, IdedExpr};
use cel::objects::{Key, Map};
use cel::{Context, Env, Program, Value};
use serde_json::Value as Json;

/// The longest expression accepted (the API server's limit on one expression's text).
pub const MAX_EXPRESSION_CHARS: usize = 5_000;
/// The deepest nesting of comprehensions accepted.
pub const MAX_COMPREHENSION_DEPTH: usize = 8;
/// The nesting from which a program runs under a time budget.
pub const WATCHED_DEPTH: usize = 3;

fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        // The Kubernetes CEL environment includes the strings and lists extensions.
        let _ = env.add_extension(cel::extensions::strings);
        let _ = env.add_extension(cel::extensions::lists);
        Arc::new(env)
    })
    .clone()
}

fn depth(e: &IdedExpr) -> usize {
    match &e.expr {
        Expr::Comprehension(c) => {
            1 + [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ]
            .into_iter()
            .map(depth)
            .max()
            .unwrap_or(0)
        }
        Expr::Call(call) => call
            .target
            .iter()
            .map(|t| depth(t))
            .chain(call.args.iter().map(depth))
            .max()
            .unwrap_or(0),
        Expr::List(l) => l.elements.iter().map(depth).max().unwrap_or(0),
        Expr::Map(m) => m
            .entries
            .iter()
            .map(|entry| match &entry.expr {
                cel::common::ast::EntryExpr::MapEntry(me) => depth(&me.key).max(depth(&me.value)),
                cel::common::ast::EntryExpr::StructField(sf) => depth(&sf.value),
            })
            .max()
            .unwrap_or(0),
        Expr::Select(s) => depth(&s.operand),
        Expr::Struct(s) => s
            .entries
            .iter()
            .map(|entry| match &entry.expr {
                cel::common::ast::EntryExpr::MapEntry(me) => depth(&me.key).max(depth(&me.value)),
                cel::common::ast::EntryExpr::StructField(sf) => depth(&sf.value),
            })
            .max()
            .unwrap_or(0),
        _ => 0,
    }
}

/// One compiled expression and its text.
#[derive(Debug)]
pub(crate) struct Expression {
    pub text: String,
    program: Program,
    depth: usize,
}

/// Compiles one expression, or says why it is refused.
pub(crate) fn compile(text: &str) -> Result<Expression, String> {
    if text.chars().count() > MAX_EXPRESSION_CHARS {
        return Err(format!(
            "the expression is longer than {MAX_EXPRESSION_CHARS} characters"
        ));
    }
    let program = env().compile(text).map_err(|e| e.to_string())?;
    let d = depth(program.expression());
    if d > MAX_COMPREHENSION_DEPTH {
        return Err(format!(
            "comprehensions nest {d} deep, more than the {MAX_COMPREHENSION_DEPTH} allowed"
        ));
    }
    Ok(Expression {
        text: text.to_owned(),
        program,
        depth: d,
    })
}

/// JSON as CEL sees it: integers are `int`, other numbers `double`.
pub(crate) fn to_cel(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => match n.as_u64() {
                Some(u) => Value::UInt(u),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
        },
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(items) => Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Json::Object(map) => Value::Map(Map {
            map: Arc::new(
                map.iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                    .collect::<HashMap<_, _>>(),
            ),
        }),
    }
}

fn map_of(entries: &[(String, Value)]) -> Value {
    Value::Map(Map {
        map: Arc::new(
            entries
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), v.clone()))
                .collect(),
        ),
    })
}

/// One validation: a boolean expression and the message of its failure.
#[derive(Debug)]
pub(crate) struct Validation {
    pub expression: Expression,
    pub message: Option<String>,
    pub message_expression: Option<Expression>,
}

/// A compiled K8sNativeValidation source (or the CEL of a ValidatingAdmissionPolicy).
#[derive(Debug, Default)]
pub(crate) struct CelProgram {
    pub match_conditions: Vec<(String, Expression)>,
    pub variables: Vec<(String, Expression)>,
    pub validations: Vec<Validation>,
}

/// The names bound for an evaluation.
pub(crate) struct Bindings {
    pub object: Json,
    pub old_object: Json,
    pub request: Json,
    pub params: Json,
    pub namespace_object: Json,
    /// Variables given before the source's own (Gatekeeper's `params` and `anyObject`).
    pub predefined: Vec<(String, Json)>,
}

/// A failed compile: the JSON pointer (relative to the source) and the reason.
pub(crate) type CompileError = (String, String);

fn str_field(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_owned)
}

impl CelProgram {
    /// Whether the program must run under a time budget.
    pub fn needs_watchdog(&self) -> bool {
        let exprs =
            self.match_conditions
                .iter()
                .chain(&self.variables)
                .map(|(_, e)| e)
                .chain(self.validations.iter().flat_map(|v| {
                    std::iter::once(&v.expression).chain(v.message_expression.as_ref())
                }));
        exprs.map(|e| e.depth).max().unwrap_or(0) >= WATCHED_DEPTH
    }

    /// Compiles a source with `matchConditions`, `variables` and `validations`.
    pub fn compile(source: &Json) -> Result<CelProgram, CompileError> {
        let mut program = CelProgram::default();
        let list = |key: &str| {
            source
                .get(key)
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let expr = |key: &str, i: usize, v: &Json, field: &str| {
            let text = v
                .get(field)
                .and_then(Json::as_str)
                .ok_or_else(|| (format!("/{key}/{i}"), format!("{key}[{i}] has no {field}")))?;
            compile(text).map_err(|e| (format!("/{key}/{i}/{field}"), e))
        };
        for (i, v) in list("matchConditions").iter().enumerate() {
            let name = str_field(v, "name").unwrap_or_else(|| format!("matchConditions[{i}]"));
            program
                .match_conditions
                .push((name, expr("matchConditions", i, v, "expression")?));
        }
        for (i, v) in list("variables").iter().enumerate() {
            let name = str_field(v, "name").ok_or_else(|| {
                (
                    format!("/variables/{i}"),
                    "a variable has no name".to_owned(),
                )
            })?;
            program
                .variables
                .push((name, expr("variables", i, v, "expression")?));
        }
        for (i, v) in list("validations").iter().enumerate() {
            let message_expression = match v.get("messageExpression").and_then(Json::as_str) {
                Some(_) => Some(expr("validations", i, v, "messageExpression")?),
                None => None,
            };
            program.validations.push(Validation {
                expression: expr("validations", i, v, "expression")?,
                message: str_field(v, "message"),
                message_expression,
            });
        }
        Ok(program)
    }

    /// Evaluates the program: `Ok(None)` when a match condition excludes the object, else the
    /// messages of the failed validations.
    pub fn evaluate(&self, b: &Bindings) -> Result<Option<Vec<String>>, String> {
        let mut context = Context::with_env(env());
        context.add_variable_from_value("object", to_cel(&b.object));
        context.add_variable_from_value("oldObject", to_cel(&b.old_object));
        context.add_variable_from_value("request", to_cel(&b.request));
        context.add_variable_from_value("params", to_cel(&b.params));
        context.add_variable_from_value("namespaceObject", to_cel(&b.namespace_object));
        let mut variables: Vec<(String, Value)> = b
            .predefined
            .iter()
            .map(|(k, v)| (k.clone(), to_cel(v)))
            .collect();
        context.add_variable_from_value("variables", map_of(&variables));
        for (name, e) in &self.match_conditions {
            match e.program.execute(&context) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => return Ok(None),
                Ok(other) => {
                    return Err(format!("match condition {name}: {other:?} is not a bool"))
                }
                Err(err) => return Err(format!("match condition {name}: {err}")),
            }
        }
        for (name, e) in &self.variables {
            // A variable that fails is left out; a validation that reads it then fails.
            if let Ok(value) = e.program.execute(&context) {
                variables.push((name.clone(), value));
                context.add_variable_from_value("variables", map_of(&variables));
            }
        }
        let mut messages = Vec::new();
        for v in &self.validations {
            match v.expression.program.execute(&context) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => {
                    let from_expression = v.message_expression.as_ref().and_then(|m| {
                        match m.program.execute(&context) {
                            Ok(Value::String(s)) if !s.trim().is_empty() => Some(s.to_string()),
                            _ => None,
                        }
                    });
                    messages.push(
                        from_expression
                            .or_else(|| v.message.clone())
                            .unwrap_or_else(|| {
                                format!("failed expression: {}", v.expression.text.trim())
                            }),
                    );
                }
                Ok(other) => {
                    return Err(format!(
                        "{}: {other:?} is not a bool",
                        v.expression.text.trim()
                    ))
                }
                Err(err) => return Err(format!("{}: {err}", v.expression.text.trim())),
            }
        }
        Ok(Some(messages))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bindings(object: Json) -> Bindings {
        Bindings {
            object,
            old_object: Json::Null,
            request: json!({"operation": "CREATE"}),
            params: json!({}),
            namespace_object: Json::Null,
            predefined: vec![("params".into(), json!({"max": 2}))],
        }
    }

    #[test]
    fn validations_see_variables_and_report_their_messages() {
        let p = CelProgram::compile(&json!({
            "variables": [{"name": "containers", "expression": "object.spec.containers"}],
            "validations": [
                {"expression": "size(variables.containers) <= variables.params.max",
                 "messageExpression": "'too many: ' + string(size(variables.containers))"},
                {"expression": "variables.containers.all(c, c.image.startsWith('reg/'))",
                 "message": "untrusted image"},
                {"expression": "variables.containers.exists(c, c.name.lowerAscii() == 'app')"}
            ]
        }))
        .unwrap();
        let pod = |images: &[&str]| {
            let cs: Vec<Json> = images
                .iter()
                .map(|i| json!({"name": "App", "image": i}))
                .collect();
            json!({"spec": {"containers": cs}})
        };
        assert_eq!(
            p.evaluate(&bindings(pod(&["reg/a"]))).unwrap(),
            Some(vec![])
        );
        assert_eq!(
            p.evaluate(&bindings(pod(&["reg/a", "x/b", "reg/c"])))
                .unwrap(),
            Some(vec!["too many: 3".to_owned(), "untrusted image".to_owned()])
        );
    }

    #[test]
    fn match_conditions_exclude_and_errors_are_reported() {
        let p = CelProgram::compile(&json!({
            "matchConditions": [{"name": "not-update", "expression": "request.operation != 'UPDATE'"}],
            "validations": [{"expression": "object.missing == 1"}]
        }))
        .unwrap();
        let mut b = bindings(json!({}));
        assert!(p.evaluate(&b).is_err());
        b.request = json!({"operation": "UPDATE"});
        assert_eq!(p.evaluate(&b).unwrap(), None);
    }

    #[test]
    fn deep_or_long_expressions_are_refused() {
        let nested = |n: usize| {
            let mut e = "true".to_owned();
            for i in 0..n {
                e = format!("[1].all(v{i}, {e})");
            }
            e
        };
        assert!(compile(&nested(MAX_COMPREHENSION_DEPTH + 1)).is_err());
        assert!(compile(&nested(MAX_COMPREHENSION_DEPTH)).is_ok());
        assert!(compile(&"1 + ".repeat(2000)).is_err());
        assert!(compile("object.spec.(").is_err());
    }
}
