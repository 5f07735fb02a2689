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
    /// A ValidatingAdmissionPolicy's `auditAnnotations`: each key and its `valueExpression`.
    pub audit_annotations: Vec<(String, Expression)>,
}

/// The result of one evaluation of a program on an object it applies to.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Evaluation {
    /// The messages of the failed validations.
    pub messages: Vec<String>,
    /// Each audit annotation key with its value (those whose value is null or empty are left
    /// out).
    pub annotations: Vec<(String, String)>,
}

/// The longest audit annotation value; a longer one is cut to it, as the API server does.
pub const MAX_ANNOTATION_VALUE_BYTES: usize = 10 * 1024;

/// Whether `key` is a Kubernetes qualified name without prefix, as an audit annotation key must
/// be: at most 63 characters, alphanumerics at both ends, `-`, `_` and `.` inside.
fn is_annotation_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `value` cut to at most `max` bytes, at a character boundary.
fn truncate(mut value: String, max: usize) -> String {
    if value.len() > max {
        let mut end = max;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
    }
    value
}

/// The names bound for an evaluation, already converted to CEL values (which share their
/// contents, so one conversion of the object serves every program that reviews it).
#[derive(Clone)]
pub(crate) struct Bindings {
    pub object: Value,
    pub old_object: Value,
    pub request: Value,
    pub params: Value,
    pub namespace_object: Value,
    /// Variables given before the source's own (Gatekeeper's `params` and `anyObject`).
    pub predefined: Vec<(String, Value)>,
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
                }))
                .chain(self.audit_annotations.iter().map(|(_, e)| e));
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
        for (i, v) in list("auditAnnotations").iter().enumerate() {
            let key = str_field(v, "key").unwrap_or_default();
            let at = format!("/auditAnnotations/{i}/key");
            if !is_annotation_key(&key) {
                return Err((
                    at,
                    format!("audit annotation key {key:?} is not a qualified name of at most 63 characters"),
                ));
            }
            if program.audit_annotations.iter().any(|(k, _)| *k == key) {
                return Err((at, format!("audit annotation key {key:?} is repeated")));
            }
            let value = expr("auditAnnotations", i, v, "valueExpression")?;
            program.audit_annotations.push((key, value));
        }
        Ok(program)
    }

    /// Evaluates the program: `Ok(None)` when a match condition excludes the object, else the
    /// messages of the failed validations and the audit annotations.
    pub fn evaluate(&self, b: &Bindings) -> Result<Option<Evaluation>, String> {
        let mut context = Context::with_env(env());
        context.add_variable_from_value("object", b.object.clone());
        context.add_variable_from_value("oldObject", b.old_object.clone());
        context.add_variable_from_value("request", b.request.clone());
        context.add_variable_from_value("params", b.params.clone());
        context.add_variable_from_value("namespaceObject", b.namespace_object.clone());
        let mut variables: Vec<(String, Value)> = b.predefined.clone();
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
        let mut annotations = Vec::new();
        for (key, e) in &self.audit_annotations {
            match e.program.execute(&context) {
                Ok(Value::String(s)) if !s.is_empty() => annotations.push((
                    key.clone(),
                    truncate(s.to_string(), MAX_ANNOTATION_VALUE_BYTES),
                )),
                Ok(Value::String(_) | Value::Null) => {}
                Ok(other) => {
                    return Err(format!(
                        "audit annotation {key}: {other:?} is neither a string nor null"
                    ))
                }
                Err(err) => return Err(format!("audit annotation {key}: {err}")),
            }
        }
        Ok(Some(Evaluation {
            messages,
            annotations,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bindings(object: Json) -> Bindings {
        Bindings {
            object: to_cel(&object),
            old_object: Value::Null,
            request: to_cel(&json!({"operation": "CREATE"})),
            params: to_cel(&json!({})),
            namespace_object: Value::Null,
            predefined: vec![("params".into(), to_cel(&json!({"max": 2})))],
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
        let messages = |b: &Bindings| p.evaluate(b).unwrap().map(|e| e.messages);
        assert_eq!(messages(&bindings(pod(&["reg/a"]))), Some(vec![]));
        assert_eq!(
            messages(&bindings(pod(&["reg/a", "x/b", "reg/c"]))),
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
        b.request = to_cel(&json!({"operation": "UPDATE"}));
        assert_eq!(p.evaluate(&b).unwrap(), None);
    }

    #[test]
    fn audit_annotations_are_evaluated_and_null_or_empty_ones_left_out() {
        let p = CelProgram::compile(&json!({
            "validations": [{"expression": "object.spec.replicas <= 5"}],
            "auditAnnotations": [
                {"key": "high-replica-count",
                 "valueExpression": "object.spec.replicas > 3 ? 'Deployment spec.replicas set to ' + string(object.spec.replicas) : null"},
                {"key": "empty", "valueExpression": "''"},
                {"key": "long", "valueExpression": "object.long"}
            ]
        }))
        .map_err(|e| e.1)
        .unwrap();
        let found = p
            .evaluate(&bindings(
                json!({"spec": {"replicas": 7}, "long": "é".repeat(6000)}),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(found.messages.len(), 1);
        let keys: Vec<&str> = found.annotations.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["high-replica-count", "long"]);
        assert_eq!(found.annotations[0].1, "Deployment spec.replicas set to 7");
        // Cut to 10 KiB at a character boundary ('é' is two bytes).
        assert_eq!(found.annotations[1].1.len(), MAX_ANNOTATION_VALUE_BYTES);
        let few = p
            .evaluate(&bindings(json!({"spec": {"replicas": 2}, "long": null})))
            .unwrap()
            .unwrap();
        assert_eq!(few.messages, Vec::<String>::new());
        // Every value is null or empty: no annotation at all.
        assert_eq!(few.annotations, Vec::<(String, String)>::new());

        let not_a_string = CelProgram::compile(&json!({
            "auditAnnotations": [{"key": "n", "valueExpression": "1"}]
        }))
        .map_err(|e| e.1)
        .unwrap();
        assert!(not_a_string
            .evaluate(&bindings(json!({})))
            .unwrap_err()
            .contains("neither a string nor null"));
        for bad in ["", "-a", "a/b", &"k".repeat(64)] {
            let e = CelProgram::compile(&json!({
                "auditAnnotations": [{"key": bad, "valueExpression": "null"}]
            }))
            .unwrap_err();
            assert_eq!(e.0, "/auditAnnotations/0/key");
        }
        let repeated = CelProgram::compile(&json!({"auditAnnotations": [
            {"key": "a", "valueExpression": "null"}, {"key": "a", "valueExpression": "null"}]}));
        assert!(repeated.unwrap_err().1.contains("repeated"));
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
