//! OPA's deprecated built-ins, which Gatekeeper still accepts in Rego v0 templates and `regorus`
//! does not provide: `any`, `all`, `re_match`, `set_diff` and the `cast_*` family, with OPA's
//! semantics (`topdown/` of OPA v0). An argument of the wrong type makes the call undefined, as
//! a failing built-in does in OPA's default (non-strict) mode.

use std::collections::BTreeSet;

use regorus::Value;

type Builtin = fn(&[Value]) -> Value;

/// Each built-in: its name, its number of arguments, its body.
const DEPRECATED: &[(&str, u8, Builtin)] = &[
    ("any", 1, any),
    ("all", 1, all),
    ("re_match", 2, re_match),
    ("set_diff", 2, set_diff),
    ("cast_array", 1, cast_array),
    ("cast_set", 1, cast_set),
    ("cast_string", 1, |a| {
        same_kind(a, |v| matches!(v, Value::String(_)))
    }),
    ("cast_boolean", 1, |a| {
        same_kind(a, |v| matches!(v, Value::Bool(_)))
    }),
    ("cast_null", 1, |a| {
        same_kind(a, |v| matches!(v, Value::Null))
    }),
    ("cast_object", 1, |a| {
        same_kind(a, |v| matches!(v, Value::Object(_)))
    }),
];

/// Built-ins that `regorus` has but that behave otherwise in OPA: `sprintf` with Go's `fmt`
/// rules (`crate::gofmt`), so that a missing or extra value or a verb of the wrong type gives
/// Go's `%!v(MISSING)` forms in the message instead of an error that loses the violation.
/// (`regorus` looks extensions up before its built-ins.)
const REPLACED: &[(&str, u8, Fallible)] = &[("sprintf", 2, crate::gofmt::extension)];

/// A built-in that can fail with an evaluation error (at the call's file:line).
type Fallible = fn(&[Value]) -> Result<Value, String>;

/// The error of a [`Fallible`] built-in.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BuiltinError(String);

/// Adds the deprecated built-ins and the replaced ones to an engine, before its policies are
/// added.
pub(crate) fn add_to(engine: &mut regorus::Engine) -> Result<(), String> {
    for (name, nargs, body) in DEPRECATED {
        let body = *body;
        engine
            .add_extension(
                (*name).to_owned(),
                *nargs,
                Box::new(move |args: Vec<Value>| Ok(body(&args))),
            )
            .map_err(|e| e.to_string())?;
    }
    for (name, nargs, body) in REPLACED {
        let body = *body;
        engine
            .add_extension(
                (*name).to_owned(),
                *nargs,
                Box::new(move |args: Vec<Value>| body(&args).map_err(|e| BuiltinError(e).into())),
            )
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The elements of an array or a set (`None` for any other value).
fn elements(v: &Value) -> Option<Vec<&Value>> {
    match v {
        Value::Array(a) => Some(a.iter().collect()),
        Value::Set(s) => Some(s.iter().collect()),
        _ => None,
    }
}

/// `any(collection)`: whether an element of the array or set is `true`.
fn any(args: &[Value]) -> Value {
    match args.first().and_then(elements) {
        Some(items) => Value::Bool(items.iter().any(|v| **v == Value::Bool(true))),
        None => Value::Undefined,
    }
}

/// `all(collection)`: whether every element of the array or set is `true` (so an empty one is).
fn all(args: &[Value]) -> Value {
    match args.first().and_then(elements) {
        Some(items) => Value::Bool(items.iter().all(|v| **v == Value::Bool(true))),
        None => Value::Undefined,
    }
}

/// `re_match(pattern, value)`: `regex.match`.
fn re_match(args: &[Value]) -> Value {
    let (Some(Value::String(pattern)), Some(Value::String(value))) = (args.first(), args.get(1))
    else {
        return Value::Undefined;
    };
    match regex::Regex::new(pattern) {
        Ok(re) => Value::Bool(re.is_match(value)),
        Err(_) => Value::Undefined,
    }
}

/// `set_diff(a, b)`: the elements of set `a` that are not in set `b`.
fn set_diff(args: &[Value]) -> Value {
    let (Some(Value::Set(a)), Some(Value::Set(b))) = (args.first(), args.get(1)) else {
        return Value::Undefined;
    };
    let diff: BTreeSet<Value> = a.iter().filter(|v| !b.contains(v)).cloned().collect();
    Value::from(diff)
}

/// `cast_array(x)`: an array as it is, a set as the array of its (sorted) elements.
fn cast_array(args: &[Value]) -> Value {
    match args.first() {
        Some(v @ Value::Array(_)) => v.clone(),
        Some(Value::Set(s)) => Value::from(s.iter().cloned().collect::<Vec<Value>>()),
        _ => Value::Undefined,
    }
}

/// `cast_set(x)`: a set as it is, an array as the set of its elements.
fn cast_set(args: &[Value]) -> Value {
    match args.first() {
        Some(v @ Value::Set(_)) => v.clone(),
        Some(Value::Array(a)) => Value::from(a.iter().cloned().collect::<BTreeSet<Value>>()),
        _ => Value::Undefined,
    }
}

/// The other casts: the value itself when it already has the type, else undefined.
fn same_kind(args: &[Value], is: fn(&Value) -> bool) -> Value {
    match args.first() {
        Some(v) if is(v) => v.clone(),
        _ => Value::Undefined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates `x` in a Rego v0 module that uses the built-ins.
    fn eval(expr: &str) -> Value {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.set_strict_builtin_errors(false);
        add_to(&mut engine).unwrap();
        engine
            .add_policy(
                "t.rego".into(),
                format!("package t\nx = v {{ v := {expr} }}\n"),
            )
            .unwrap();
        engine.eval_rule("data.t.x".into()).unwrap()
    }

    #[test]
    fn any_and_all_follow_opa() {
        assert_eq!(eval("any([false, true])"), Value::Bool(true));
        assert_eq!(eval("any([false, 1])"), Value::Bool(false));
        assert_eq!(eval("any(set())"), Value::Bool(false));
        assert_eq!(eval("any({true})"), Value::Bool(true));
        assert_eq!(eval("all([true, true])"), Value::Bool(true));
        assert_eq!(eval("all([true, \"true\"])"), Value::Bool(false));
        assert_eq!(eval("all([])"), Value::Bool(true));
        // Not a collection: undefined, as a failing built-in is in OPA.
        assert_eq!(eval("any(\"true\")"), Value::Undefined);
        assert_eq!(eval("all({\"a\": true})"), Value::Undefined);
    }

    #[test]
    fn the_other_deprecated_built_ins() {
        assert_eq!(
            eval("re_match(\"^nginx:\", \"nginx:1.27\")"),
            Value::Bool(true)
        );
        assert_eq!(eval("re_match(\"^a$\", \"b\")"), Value::Bool(false));
        assert_eq!(eval("re_match(\"(\", \"b\")"), Value::Undefined);
        assert_eq!(eval("set_diff({1, 2, 3}, {2})"), eval("{1, 3}"));
        assert_eq!(eval("cast_array({\"b\", \"a\"})"), eval("[\"a\", \"b\"]"));
        assert_eq!(eval("cast_set([2, 1, 2])"), eval("{1, 2}"));
        assert_eq!(eval("cast_string(\"s\")"), Value::from("s"));
        assert_eq!(eval("cast_string(1)"), Value::Undefined);
        assert_eq!(eval("cast_boolean(false)"), Value::Bool(false));
        assert_eq!(eval("cast_null(null)"), Value::Null);
        assert_eq!(eval("cast_object([])"), Value::Undefined);
    }
}
