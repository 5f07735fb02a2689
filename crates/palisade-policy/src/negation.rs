//! OPA evaluates the arguments of a negated expression outside the negation; `regorus`
//! evaluates them inside. This module rewrites a module's text so that `regorus` does as OPA.
//!
//! OPA's compiler (`ast/compile.go`) runs two stages on every body, comprehension bodies,
//! `else` bodies and `every` bodies included, before evaluation:
//! - `RewriteExprTerms` (`expandExpr`) moves every call nested in an expression's operands
//!   into an expression of its own before it: `not f(g(x))` is `__local0__ = g(x); not
//!   f(__local0__)`;
//! - `RewriteDynamicTerms` (`rewriteDynamics`) does the same with the references among the
//!   operands of a call (operators such as `==` and `in` are calls) and within the arrays,
//!   objects and sets among them: `not f(input.x)` is `__local0__ = input.x; not
//!   f(__local0__)`. For an expression that is a single term, and for either side of `=`, only
//!   the references in a reference's brackets move (`not input.a[input.b]`), and the elements
//!   of a literal array, object or set; a reference on its own (`not input.x`) stays.
//!
//! The moved expressions are not negated, so when such an operand is undefined the whole body
//! fails in OPA, where `regorus` would make the call undefined and the negation true.
//!
//! Here the same operands are moved in the text: `__palisade_neg_N__ := <operand>; ` is
//! inserted before the `not` on the same line and the operand replaced by the variable, so
//! every line keeps its number. A bare name counts as a reference when OPA resolves it to one:
//! `input`, `data`, a rule of the module or an import, unless the rule binds that name itself.
//! Comprehensions among the operands stay in place (OPA moves them too, but a comprehension is
//! never undefined). Literals with `with` modifiers are left as they are.

use std::collections::BTreeSet;

use regorus::unstable::{AssignOp, Expr, Literal, LiteralStmt, Parser, Query, Ref, Rule, RuleHead};
use regorus::Source;

/// One change to the text: the bytes `start..end` become `text`.
#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// `text` with the operands of its negated expressions moved out of the negation, as OPA's
/// compiler does; the text as it is when it does not parse (`regorus` reports the error).
pub(crate) fn hoist_negated_operands(name: &str, text: &str, v1: bool) -> String {
    let Ok(source) = Source::from_contents(name.to_owned(), text.to_owned()) else {
        return text.to_owned();
    };
    let Ok(mut parser) = Parser::new(&source) else {
        return text.to_owned();
    };
    if v1 && parser.enable_rego_v1().is_err() {
        return text.to_owned();
    }
    let Ok(module) = parser.parse() else {
        return text.to_owned();
    };

    let mut globals: BTreeSet<String> = ["input", "data"].map(str::to_owned).into();
    for import in &module.imports {
        match &import.r#as {
            Some(alias) => {
                globals.insert(alias.text().to_owned());
            }
            None => {
                if let Some(last) = last_name(&import.refr) {
                    globals.insert(last);
                }
            }
        }
    }
    for rule in &module.policy {
        let refr = match rule.as_ref() {
            Rule::Spec { head, .. } => match head {
                RuleHead::Compr { refr, .. }
                | RuleHead::Set { refr, .. }
                | RuleHead::Func { refr, .. } => refr,
            },
            Rule::Default { refr, .. } => refr,
        };
        if let Some(root) = root_name(refr) {
            globals.insert(root);
        }
    }

    let mut rewriter = Rewriter {
        text,
        globals,
        locals: BTreeSet::new(),
        edits: Vec::new(),
        next: 0,
    };
    for rule in &module.policy {
        let Rule::Spec { head, bodies, .. } = rule.as_ref() else {
            continue;
        };
        rewriter.locals = BTreeSet::new();
        if let RuleHead::Func { args, .. } = head {
            for arg in args {
                collect_vars(arg, &mut rewriter.locals);
            }
        }
        for body in bodies {
            collect_bound(&body.query, &mut rewriter.locals);
        }
        match head {
            RuleHead::Compr { assign, .. } | RuleHead::Func { assign, .. } => {
                if let Some(assign) = assign {
                    rewriter.walk_expr(&assign.value);
                }
            }
            RuleHead::Set { key, .. } => {
                if let Some(key) = key {
                    rewriter.walk_expr(key);
                }
            }
        }
        for body in bodies {
            if let Some(assign) = &body.assign {
                rewriter.walk_expr(&assign.value);
            }
            rewriter.walk_query(&body.query, true);
        }
    }
    rewriter.apply()
}

/// The name a reference starts with (`a` of `a.b[c]`).
fn root_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Var { span, .. } => Some(span.text().to_owned()),
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => root_name(refr),
        _ => None,
    }
}

/// The name an import binds (`c` of `data.a.b.c`).
fn last_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Var { span, .. } => Some(span.text().to_owned()),
        Expr::RefDot { field, .. } => Some(field.0.text().to_owned()),
        Expr::RefBrack { index, .. } => match index.as_ref() {
            Expr::String { value, .. } => value.as_string().ok().map(|s| s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Every variable named in `expr` (function arguments, the left of `:=`).
fn collect_vars(expr: &Expr, out: &mut BTreeSet<String>) {
    match expr {
        Expr::Var { span, .. } => {
            out.insert(span.text().to_owned());
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for item in items {
                collect_vars(item, out);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, k, v) in fields {
                collect_vars(k, out);
                collect_vars(v, out);
            }
        }
        _ => {}
    }
}

/// The names a body binds with `:=`, `some` and `every`, in nested bodies too.
fn collect_bound(query: &Query, out: &mut BTreeSet<String>) {
    for stmt in &query.stmts {
        match &stmt.literal {
            Literal::SomeVars { vars, .. } => {
                out.extend(vars.iter().map(|v| v.text().to_owned()));
            }
            Literal::SomeIn { key, value, .. } => {
                if let Some(key) = key {
                    collect_vars(key, out);
                }
                collect_vars(value, out);
            }
            Literal::Every {
                key, value, query, ..
            } => {
                out.extend(key.iter().map(|k| k.text().to_owned()));
                out.insert(value.text().to_owned());
                collect_bound(query, out);
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                collect_bound_in_expr(expr, out);
            }
        }
    }
}

fn collect_bound_in_expr(expr: &Expr, out: &mut BTreeSet<String>) {
    match expr {
        Expr::AssignExpr {
            op: AssignOp::ColEq,
            lhs,
            rhs,
            ..
        } => {
            collect_vars(lhs, out);
            collect_bound_in_expr(rhs, out);
        }
        Expr::ArrayCompr { query, .. }
        | Expr::SetCompr { query, .. }
        | Expr::ObjectCompr { query, .. } => collect_bound(query, out),
        _ => {}
    }
}

struct Rewriter<'a> {
    text: &'a str,
    /// Names OPA resolves to references: `input`, `data`, rules, imports.
    globals: BTreeSet<String>,
    /// Names the current rule binds itself.
    locals: BTreeSet<String>,
    edits: Vec<Edit>,
    next: usize,
}

/// How OPA treats an operand.
#[derive(Clone, Copy, PartialEq)]
enum Position {
    /// An operand of a call: a reference moves out (`rewriteDynamicsOne`).
    Operand,
    /// A whole expression, or a side of `=`: only what is inside a reference moves
    /// (`rewriteDynamicsInTerm`).
    Term,
}

impl Rewriter<'_> {
    /// `rule_body`: whether the query is a rule's body, which Rego v1 writes without braces
    /// when it has one literal (`p if not f(x)`).
    fn walk_query(&mut self, query: &Query, rule_body: bool) {
        for stmt in &query.stmts {
            let needs_braces = rule_body && query.stmts.len() == 1 && self.after_if(stmt);
            self.walk_stmt(stmt, needs_braces);
        }
    }

    /// Whether the keyword `if` comes right before the statement.
    fn after_if(&self, stmt: &LiteralStmt) -> bool {
        let before = self.text.get(..stmt.span.start as usize).unwrap_or("");
        let before = before.trim_end();
        before.ends_with("if")
            && !before[..before.len() - 2]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
    }

    fn walk_stmt(&mut self, stmt: &LiteralStmt, needs_braces: bool) {
        match &stmt.literal {
            Literal::NotExpr { expr, .. } if stmt.with_mods.is_empty() => {
                let mut moved = Vec::new();
                self.negated(expr, &mut moved);
                if !moved.is_empty() {
                    self.move_out(stmt, &moved, needs_braces);
                }
            }
            Literal::NotExpr { expr, .. } | Literal::Expr { expr, .. } => self.walk_expr(expr),
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => self.walk_in(key.as_ref(), value, collection),
            Literal::Every { domain, query, .. } => {
                self.walk_expr(domain);
                self.walk_query(query, false);
            }
            Literal::SomeVars { .. } => {}
        }
    }

    /// Looks for comprehensions, whose bodies are rewritten too.
    fn walk_expr(&mut self, expr: &Expr) {
        match expr {
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                self.walk_expr(term);
                self.walk_query(query, false);
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => {
                self.walk_expr(key);
                self.walk_expr(value);
                self.walk_query(query, false);
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                for item in items {
                    self.walk_expr(item);
                }
            }
            Expr::Object { fields, .. } => {
                for (_, k, v) in fields {
                    self.walk_expr(k);
                    self.walk_expr(v);
                }
            }
            Expr::Call { fcn, params, .. } => {
                self.walk_expr(fcn);
                for p in params {
                    self.walk_expr(p);
                }
            }
            Expr::UnaryExpr { expr, .. } => self.walk_expr(expr),
            Expr::RefDot { refr, .. } => self.walk_expr(refr),
            Expr::RefBrack { refr, index, .. } => {
                self.walk_expr(refr);
                self.walk_expr(index);
            }
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.walk_expr(lhs);
                self.walk_expr(rhs);
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => self.walk_in(key.as_ref(), value, collection),
            _ => {}
        }
    }

    /// The parts of `key, value in collection`, as a literal (`some`) or an expression.
    fn walk_in(&mut self, key: Option<&Ref<Expr>>, value: &Expr, collection: &Expr) {
        if let Some(key) = key {
            self.walk_expr(key);
        }
        self.walk_expr(value);
        self.walk_expr(collection);
    }

    /// The operands of the negated expression `expr` that OPA evaluates before the negation.
    fn negated<'e>(&mut self, expr: &'e Expr, moved: &mut Vec<&'e Expr>) {
        match expr {
            // Calls, operators included: every operand.
            Expr::Call { params, .. } => {
                for p in params {
                    self.operand(p, Position::Operand, moved);
                }
            }
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. } => {
                self.operand(lhs, Position::Operand, moved);
                self.operand(rhs, Position::Operand, moved);
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(key) = key {
                    self.operand(key, Position::Operand, moved);
                }
                self.operand(value, Position::Operand, moved);
                self.operand(collection, Position::Operand, moved);
            }
            Expr::UnaryExpr { expr, .. } => self.operand(expr, Position::Operand, moved),
            // Unification: each side as a term.
            Expr::AssignExpr {
                op: AssignOp::Eq,
                lhs,
                rhs,
                ..
            } => {
                self.operand(lhs, Position::Term, moved);
                self.operand(rhs, Position::Term, moved);
            }
            other => self.operand(other, Position::Term, moved),
        }
    }

    fn operand<'e>(&mut self, expr: &'e Expr, at: Position, moved: &mut Vec<&'e Expr>) {
        match expr {
            // A nested call or operator always moves (`expandExpr`).
            Expr::Call { .. }
            | Expr::BinExpr { .. }
            | Expr::BoolExpr { .. }
            | Expr::ArithExpr { .. }
            | Expr::UnaryExpr { .. }
            | Expr::Membership { .. } => moved.push(expr),
            Expr::RefDot { .. } | Expr::RefBrack { .. } => match at {
                Position::Operand => moved.push(expr),
                Position::Term => self.ref_indexes(expr, moved),
            },
            Expr::Var { span, .. } => {
                let name = span.text();
                let global = self.globals.contains(name) && !self.locals.contains(name);
                if global && at == Position::Operand {
                    moved.push(expr);
                }
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                for item in items {
                    self.operand(item, Position::Operand, moved);
                }
            }
            Expr::Object { fields, .. } => {
                for (_, k, v) in fields {
                    self.operand(k, Position::Operand, moved);
                    self.operand(v, Position::Operand, moved);
                }
            }
            Expr::ArrayCompr { .. } | Expr::SetCompr { .. } | Expr::ObjectCompr { .. } => {
                self.walk_expr(expr);
            }
            _ => {}
        }
    }

    /// The operands inside a reference's brackets (`input.a[input.b]`).
    fn ref_indexes<'e>(&mut self, expr: &'e Expr, moved: &mut Vec<&'e Expr>) {
        match expr {
            Expr::RefDot { refr, .. } => self.ref_indexes(refr, moved),
            Expr::RefBrack { refr, index, .. } => {
                self.ref_indexes(refr, moved);
                self.operand(index, Position::Operand, moved);
            }
            // The subject of a reference: a call or a literal collection moves, a name stays.
            Expr::Var { .. } => {}
            other => self.operand(other, Position::Operand, moved),
        }
    }

    /// Binds each moved operand to a variable before the `not`, and uses the variable instead.
    fn move_out(&mut self, stmt: &LiteralStmt, moved: &[&Expr], needs_braces: bool) {
        let mut prefix = String::new();
        let mut edits = Vec::new();
        for expr in moved {
            let span = expr.span();
            let operand = span.text();
            // The binding goes on the `not`'s line: an operand over several lines could only
            // keep the line numbers by losing its line breaks, which a raw string may hold.
            if operand.contains('\n') {
                return;
            }
            let var = format!("__palisade_neg_{}__", self.next);
            self.next += 1;
            prefix.push_str(&format!("{var} := {operand}; "));
            edits.push(Edit {
                start: span.start as usize,
                end: span.end as usize,
                text: var,
            });
        }
        let start = stmt.span.start as usize;
        if needs_braces {
            prefix.insert_str(0, "{ ");
            edits.push(Edit {
                start: stmt.span.end as usize,
                end: stmt.span.end as usize,
                text: " }".to_owned(),
            });
        }
        edits.push(Edit {
            start,
            end: start,
            text: prefix,
        });
        self.edits.extend(edits);
    }

    fn apply(mut self) -> String {
        // Later edits first, so that earlier offsets stay valid; at one offset the insertion
        // that was planned first ends up first.
        self.edits
            .sort_by(|a, b| b.start.cmp(&a.start).then(b.end.cmp(&a.end)));
        let mut out = self.text.to_owned();
        let mut limit = usize::MAX;
        for edit in self.edits {
            if edit.end > limit
                || edit.end > out.len()
                || !out.is_char_boundary(edit.start)
                || !out.is_char_boundary(edit.end)
            {
                continue;
            }
            out.replace_range(edit.start..edit.end, &edit.text);
            limit = edit.start;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regorus::Value;

    /// `x` of package `t` after the rewrite, on `input`.
    fn eval(module: &str, input: &str, v1: bool) -> Value {
        let text = hoist_negated_operands("t.rego", module, v1);
        assert_eq!(text.lines().count(), module.lines().count(), "{text}");
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(!v1);
        engine.set_strict_builtin_errors(false);
        engine
            .add_policy("t.rego".into(), text.clone())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        engine.set_input(Value::from_json_str(input).unwrap_or(Value::Undefined));
        engine
            .eval_rule("data.t.x".into())
            .unwrap_or(Value::Undefined)
    }

    fn v0(body: &str, input: &str) -> Value {
        eval(&format!("package t\n{body}\n"), input, false)
    }

    #[test]
    fn an_undefined_operand_of_a_negated_call_fails_the_body() {
        let module = "x { not startswith(input.name, \"a\") }";
        assert_eq!(v0(module, "{}"), Value::Undefined);
        assert_eq!(v0(module, r#"{"name": "b"}"#), Value::Bool(true));
        assert_eq!(v0(module, r#"{"name": "abc"}"#), Value::Undefined);
        // A user function, an argument among others.
        let f = "f(a, b) { a == b }\nx { not f(1, input.n) }";
        assert_eq!(v0(f, "{}"), Value::Undefined);
        assert_eq!(v0(f, r#"{"n": 2}"#), Value::Bool(true));
        assert_eq!(v0(f, r#"{"n": 1}"#), Value::Undefined);
    }

    #[test]
    fn nested_calls_operators_and_collections_move_too() {
        let nested = "x { not startswith(lower(input.name), \"a\") }";
        assert_eq!(v0(nested, "{}"), Value::Undefined);
        assert_eq!(v0(nested, r#"{"name": "B"}"#), Value::Bool(true));
        // Operators are calls in OPA.
        assert_eq!(v0("x { not input.n == 1 }", "{}"), Value::Undefined);
        assert_eq!(
            v0("x { not input.n == 1 }", r#"{"n": 2}"#),
            Value::Bool(true)
        );
        assert_eq!(v0("x { not input.n + 1 > 5 }", "{}"), Value::Undefined);
        let member = "import future.keywords.in\nx { not \"a\" in input.list }";
        assert_eq!(v0(member, "{}"), Value::Undefined);
        assert_eq!(v0(member, r#"{"list": ["b"]}"#), Value::Bool(true));
        // Inside an array operand.
        assert_eq!(
            v0("x { not count([input.a, 1]) == 3 }", "{}"),
            Value::Undefined
        );
        assert_eq!(
            v0("x { not count([input.a, 1]) == 3 }", r#"{"a": 0}"#),
            Value::Bool(true)
        );
    }

    #[test]
    fn a_reference_on_its_own_stays_under_the_negation() {
        // `not input.a` is true when input.a is undefined, in OPA as here.
        assert_eq!(v0("x { not input.a }", "{}"), Value::Bool(true));
        assert_eq!(v0("x { not input.a.b }", "{}"), Value::Bool(true));
        // What its brackets hold moves.
        assert_eq!(v0("x { not input.a[input.k] }", "{}"), Value::Undefined);
        assert_eq!(
            v0("x { not input.a[input.k] }", r#"{"k": "z", "a": {}}"#),
            Value::Bool(true)
        );
        // Each side of `=` is a term.
        assert_eq!(v0("x { not input.a = 1 }", "{}"), Value::Bool(true));
    }

    #[test]
    fn names_of_rules_and_imports_are_references_local_names_are_not() {
        let rule = "r = 1 { false }\nx { not is_number(r) }";
        assert_eq!(v0(rule, "{}"), Value::Undefined);
        let defined = "r = \"s\" { true }\nx { not is_number(r) }";
        assert_eq!(v0(defined, "{}"), Value::Bool(true));
        let imported = "import input.spec as s\nx { not is_object(s) }";
        assert_eq!(v0(imported, "{}"), Value::Undefined);
        assert_eq!(v0(imported, r#"{"spec": 1}"#), Value::Bool(true));
        // A function's argument named like a rule is the argument.
        let shadow = "r = 1 { false }\nf(r) { not is_number(r) }\nx { f(\"s\") }";
        assert_eq!(v0(shadow, "{}"), Value::Bool(true));
        let text = hoist_negated_operands("t", &format!("package t\n{shadow}\n"), false);
        assert!(!text.contains("__palisade_neg_"), "{text}");
    }

    #[test]
    fn comprehension_every_and_else_bodies_are_rewritten() {
        let items = r#"{"items": [{"name": "b"}, {}, {"name": "a"}]}"#;
        let compr = "x = n { n := count([1 | some i; item := input.items[i]; not startswith(item.name, \"a\")]) }";
        assert_eq!(v0(compr, items), Value::from(1u64));
        let every = "import future.keywords.every\nx { every item in input.items { not startswith(item.name, \"z\") } }";
        assert_eq!(v0(every, items), Value::Undefined);
        assert_eq!(
            v0(every, r#"{"items": [{"name": "b"}]}"#),
            Value::Bool(true)
        );
        let other =
            "x = 1 { false } else = 2 { not startswith(input.name, \"a\") } else = 3 { true }";
        assert_eq!(v0(other, "{}"), Value::from(3u64));
        assert_eq!(v0(other, r#"{"name": "b"}"#), Value::from(2u64));
    }

    #[test]
    fn rego_v1_bodies_without_braces_get_them() {
        let module = "package t\nx if not startswith(input.name, \"a\")\n";
        assert_eq!(eval(module, "{}", true), Value::Undefined);
        assert_eq!(eval(module, r#"{"name": "b"}"#, true), Value::Bool(true));
        let braced = "package t\nx if {\n\tnot startswith(input.name, \"a\")\n}\n";
        assert_eq!(eval(braced, "{}", true), Value::Undefined);
    }

    #[test]
    fn what_is_left_as_it_is() {
        let same = |module: &str| {
            let text = format!("package t\n{module}\n");
            assert_eq!(hoist_negated_operands("t", &text, false), text);
        };
        // `with` modifiers; operands over several lines; local names and constants; text
        // that does not parse.
        same("x { not startswith(input.name, \"a\") with input as {} }");
        same("x { not startswith(input[\n\"name\"], \"a\") }");
        same("x { y := \"b\"; not startswith(y, \"a\") }");
        same("x { not startswith(\"b\", \"a\") }");
        same("x { not startswith(input.name, }");
        // An error after a rewritten line keeps its line number.
        let text = hoist_negated_operands(
            "t",
            "package t\nx {\n  not startswith(input.name, \"a\")\n  nosuchfunction(1)\n}\n",
            false,
        );
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.set_input(Value::from_json_str(r#"{"name": "b"}"#).unwrap_or(Value::Undefined));
        let err = engine
            .add_policy("t.rego".into(), text)
            .and_then(|_| engine.eval_rule("data.t.x".into()))
            .map(|v| format!("no error: {v:?}"))
            .unwrap_or_else(|e| e.to_string());
        assert!(err.contains("t.rego:4:"), "{err}");
    }
}
