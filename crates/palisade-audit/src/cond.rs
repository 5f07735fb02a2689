//! Falco's condition language: parsing to an AST, and evaluating a compiled AST on an event.
//!
//! Grammar (as libsinsp's filter parser): `or` binds loosest, then `and`, then `not`;
//! parentheses group; a check is a field (`ka.verb`, `jevt.value[/stage]`) followed by
//! `exists`, a comparison (`=`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `contains`, `icontains`,
//! `bcontains`, `startswith`, `bstartswith`, `endswith`, `glob`, `iglob`) and one value, or a
//! set operator (`in`, `intersects`, `pmatch`) and a parenthesised list. A bare identifier is a
//! macro; a list item that names a list is replaced by its items.

use std::borrow::Cow;
use std::collections::HashSet;

use smallvec::SmallVec;

use crate::event::Event;
use crate::fields::{self, Field, Values};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    PMatch,
    In,
    Intersects,
    Exists,
}

impl Op {
    fn from_word(w: &str) -> Option<Op> {
        Some(match w {
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "bcontains" => Op::BContains,
            "startswith" => Op::StartsWith,
            "bstartswith" => Op::BStartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "iglob" => Op::IGlob,
            "pmatch" => Op::PMatch,
            "in" => Op::In,
            "intersects" => Op::Intersects,
            "exists" => Op::Exists,
            _ => return None,
        })
    }

    fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::PMatch)
    }
}

/// A parsed condition, before macros and lists are resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    And(Vec<Ast>),
    Or(Vec<Ast>),
    Not(Box<Ast>),
    /// A macro reference and its byte offset in the condition.
    Macro(String, usize),
    Check {
        field: Field,
        op: Op,
        /// One value, or the items of a list (list names not yet expanded).
        values: Vec<String>,
    },
}

/// A syntax error, with its byte offset in the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl ParseError {
    /// The 1-based character column of the error in `text`.
    pub fn column(&self, text: &str) -> usize {
        text.get(..self.offset.min(text.len()))
            .map_or(self.offset, |t| t.chars().count())
            + 1
    }
}

/// Parses a whole condition.
pub fn parse(text: &str) -> Result<Ast, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    let ast = p.or_expr()?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err("unexpected text after the end of the condition"));
    }
    Ok(ast)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 200;

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            offset: self.i,
            message: message.into(),
        }
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    /// Whether a keyword starts here, followed by a separator.
    fn keyword(&mut self, word: &str) -> bool {
        self.ws();
        let end = self.i + word.len();
        if self.s.len() >= end && &self.s[self.i..end] == word.as_bytes() {
            let next = self.s.get(end).copied();
            if next.is_none_or(|c| c.is_ascii_whitespace() || c == b'(' || c == b')') {
                self.i = end;
                return true;
            }
        }
        false
    }

    fn or_expr(&mut self) -> Result<Ast, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("condition nested too deeply"));
        }
        let mut items = vec![self.and_expr()?];
        while self.keyword("or") {
            items.push(self.and_expr()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Ast::And(Vec::new()))
        } else {
            Ast::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Ast, ParseError> {
        let mut items = vec![self.not_expr()?];
        while self.keyword("and") {
            items.push(self.not_expr()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Ast::And(Vec::new()))
        } else {
            Ast::And(items)
        })
    }

    fn not_expr(&mut self) -> Result<Ast, ParseError> {
        if self.keyword("not") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.err("condition nested too deeply"));
            }
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(Ast::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Ast, ParseError> {
        self.ws();
        match self.s.get(self.i) {
            None => Err(self.err("unexpected end of the condition")),
            Some(b'(') => {
                self.i += 1;
                let inner = self.or_expr()?;
                self.ws();
                if self.s.get(self.i) != Some(&b')') {
                    return Err(self.err("expected ')'"));
                }
                self.i += 1;
                Ok(inner)
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => self.check(),
            Some(_) => Err(self.err("expected a field, a macro, 'not' or '('")),
        }
    }

    fn name(&mut self) -> &str {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || matches!(self.s[self.i], b'_' | b'.'))
        {
            self.i += 1;
        }
        &self.text[start..self.i]
    }

    fn check(&mut self) -> Result<Ast, ParseError> {
        let start = self.i;
        let name = self.name().to_owned();
        if !name.contains('.') {
            return Ok(Ast::Macro(name, start));
        }
        let arg = if self.s.get(self.i) == Some(&b'[') {
            let open = self.i;
            let Some(len) = self.s[open..].iter().position(|&c| c == b']') else {
                return Err(self.err("missing ']' after the field argument"));
            };
            let raw = &self.text[open + 1..open + len];
            self.i = open + len + 1;
            let raw = raw
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or(raw);
            Some(raw.to_owned())
        } else {
            None
        };
        let field = Field::new(&name, arg.as_deref()).map_err(|message| ParseError {
            offset: start,
            message,
        })?;
        self.ws();
        let op_at = self.i;
        let op = self.operator().ok_or_else(|| ParseError {
            offset: op_at,
            message: format!("expected an operator after '{}'", field.display()),
        })?;
        if op == Op::Exists {
            return Ok(Ast::Check {
                field,
                op,
                values: Vec::new(),
            });
        }
        self.ws();
        let values = if op.takes_list() {
            self.list()?
        } else {
            vec![self.value()?]
        };
        Ok(Ast::Check { field, op, values })
    }

    fn operator(&mut self) -> Option<Op> {
        let rest = &self.s[self.i..];
        let sym = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        for (text, op) in sym {
            if rest.starts_with(text.as_bytes()) {
                self.i += text.len();
                return Some(op);
            }
        }
        let save = self.i;
        let word = self.name().to_owned();
        match Op::from_word(&word) {
            Some(op)
                if self
                    .s
                    .get(self.i)
                    .is_none_or(|c| c.is_ascii_whitespace() || *c == b'(' || *c == b')') =>
            {
                Some(op)
            }
            _ => {
                self.i = save;
                None
            }
        }
    }

    fn list(&mut self) -> Result<Vec<String>, ParseError> {
        if self.s.get(self.i) != Some(&b'(') {
            return Err(self.err("expected a list in parentheses"));
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b')') {
            self.i += 1;
            return Ok(items);
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b')') => {
                    self.i += 1;
                    return Ok(items);
                }
                _ => return Err(self.err("expected ',' or ')' in the list")),
            }
        }
    }

    fn value(&mut self) -> Result<String, ParseError> {
        match self.s.get(self.i) {
            Some(&q) if q == b'"' || q == b'\'' => {
                let mut out = String::new();
                self.i += 1;
                let mut chars = self.text[self.i..].char_indices();
                while let Some((at, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some((_, e)) => out.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            }),
                            None => break,
                        },
                        c if c == q as char => {
                            self.i += at + 1;
                            return Ok(out);
                        }
                        c => out.push(c),
                    }
                }
                Err(self.err("unterminated quoted string"))
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && !self.s[self.i].is_ascii_whitespace()
                    && !matches!(self.s[self.i], b'(' | b')' | b',' | b'=' | b'"' | b'\'')
                {
                    self.i += 1;
                }
                if self.i == start {
                    return Err(self.err("expected a value"));
                }
                Ok(self.text[start..self.i].to_owned())
            }
        }
    }
}

/// A compiled condition: macros inlined, lists expanded, fields numbered for the per-event cache.
#[derive(Debug, Clone)]
pub enum Expr {
    True,
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Check(Box<Check>),
}

/// One compiled comparison.
#[derive(Debug, Clone)]
pub struct Check {
    pub field: Field,
    /// The field's slot in the per-event extraction cache.
    pub slot: usize,
    pub op: Op,
    pub values: Vec<String>,
    set: Option<HashSet<String>>,
    bytes: Vec<Vec<u8>>,
}

impl Check {
    pub fn new(field: Field, slot: usize, op: Op, values: Vec<String>) -> Check {
        let set = (matches!(op, Op::In | Op::Intersects) && values.len() > 8)
            .then(|| values.iter().cloned().collect());
        let bytes = if matches!(op, Op::BContains | Op::BStartsWith) {
            values.iter().map(|v| hex_or_raw(v)).collect()
        } else {
            Vec::new()
        };
        Check {
            field,
            slot,
            op,
            values,
            set,
            bytes,
        }
    }

    fn member(&self, v: &str) -> bool {
        match &self.set {
            Some(set) => set.contains(v),
            None => self.values.iter().any(|x| x == v),
        }
    }

    fn test_one(&self, v: &str) -> bool {
        let rhs = self.values.first().map_or("", String::as_str);
        match self.op {
            Op::Eq => v == rhs,
            Op::Ne => v != rhs,
            Op::Lt => v < rhs,
            Op::Le => v <= rhs,
            Op::Gt => v > rhs,
            Op::Ge => v >= rhs,
            Op::Contains => v.contains(rhs),
            Op::IContains => v.to_lowercase().contains(&rhs.to_lowercase()),
            Op::BContains => self
                .bytes
                .first()
                .is_some_and(|b| b.is_empty() || v.as_bytes().windows(b.len()).any(|w| w == b)),
            Op::StartsWith => v.starts_with(rhs),
            Op::BStartsWith => self
                .bytes
                .first()
                .is_some_and(|b| v.as_bytes().starts_with(b)),
            Op::EndsWith => v.ends_with(rhs),
            Op::Glob => glob(rhs.as_bytes(), v.as_bytes(), false),
            Op::IGlob => glob(rhs.as_bytes(), v.as_bytes(), true),
            Op::PMatch => self.values.iter().any(|p| path_prefix(p, v)),
            Op::In | Op::Intersects => self.member(v),
            Op::Exists => true,
        }
    }

    /// The comparison on extracted values (`None`: the field is not available, always false).
    pub fn test(&self, values: Option<&Values<'_>>) -> bool {
        let Some(values) = values else {
            return false;
        };
        if self.op == Op::Exists {
            return true;
        }
        if self.field.def.list && self.op == Op::In {
            // Every extracted value must be in the set.
            return values.iter().all(|v| self.member(v));
        }
        values.iter().any(|v| self.test_one(v))
    }
}

fn hex_or_raw(v: &str) -> Vec<u8> {
    let b = v.as_bytes();
    if b.len().is_multiple_of(2) && b.iter().all(u8::is_ascii_hexdigit) {
        b.chunks(2)
            .filter_map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
            .collect()
    } else {
        b.to_vec()
    }
}

/// `fnmatch` without `FNM_PATHNAME`: `*`, `?`, `[...]` (with `!`/`^` and ranges), `\` escapes.
pub fn glob(pat: &[u8], s: &[u8], fold: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if fold {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = class(pat, p, s[i], fold) {
                        if matched {
                            p = next;
                            i += 1;
                            continue;
                        }
                    } else if eq(b'[', s[i]) {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pat.len() => {
                    if eq(pat[p + 1], s[i]) {
                        p += 2;
                        i += 1;
                        continue;
                    }
                }
                c => {
                    if eq(c, s[i]) {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, si)) => {
                p = sp + 1;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// A bracket expression at `pat[p]`: whether `c` matches, and where the pattern goes on.
fn class(pat: &[u8], p: usize, c: u8, fold: bool) -> Option<(bool, usize)> {
    let mut j = p + 1;
    let negate = matches!(pat.get(j), Some(b'!' | b'^'));
    if negate {
        j += 1;
    }
    let c = if fold { c.to_ascii_lowercase() } else { c };
    let mut matched = false;
    let mut first = true;
    while j < pat.len() && (first || pat[j] != b']') {
        first = false;
        let lo = if fold {
            pat[j].to_ascii_lowercase()
        } else {
            pat[j]
        };
        if pat.get(j + 1) == Some(&b'-') && pat.get(j + 2).is_some_and(|&x| x != b']') {
            let hi = if fold {
                pat[j + 2].to_ascii_lowercase()
            } else {
                pat[j + 2]
            };
            matched |= lo <= c && c <= hi;
            j += 3;
        } else {
            matched |= lo == c;
            j += 1;
        }
    }
    (j < pat.len()).then_some((matched != negate, j + 1))
}

/// `pmatch`: whether `path` is `prefix` or below it, component by component.
fn path_prefix(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return path.starts_with('/');
    }
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Per-event state: the extraction cache, the values of each field read so far by its slot.
/// An event reads a few of the ruleset's fields: a short list searched in order costs less than
/// a table of every field made and dropped for each event.
pub struct Ctx<'e> {
    pub event: &'e Event,
    cache: SmallVec<[(usize, Option<Values<'e>>); 16]>,
}

impl<'e> Ctx<'e> {
    pub fn new(event: &'e Event) -> Ctx<'e> {
        Ctx {
            event,
            cache: SmallVec::new(),
        }
    }

    /// The values of the field in `slot`, extracted once per event.
    pub fn values(&mut self, field: &Field, slot: usize) -> Option<&Values<'e>> {
        let at = match self.cache.iter().position(|(s, _)| *s == slot) {
            Some(at) => at,
            None => {
                self.cache.push((slot, fields::extract(field, self.event)));
                self.cache.len() - 1
            }
        };
        self.cache[at].1.as_ref()
    }
}

impl Expr {
    /// Evaluates the condition on the event of `ctx`.
    pub fn eval(&self, ctx: &mut Ctx<'_>) -> bool {
        match self {
            Expr::True => true,
            Expr::And(items) => items.iter().all(|e| e.eval(ctx)),
            Expr::Or(items) => items.iter().any(|e| e.eval(ctx)),
            Expr::Not(inner) => !inner.eval(ctx),
            Expr::Check(c) => {
                let values = ctx.values(&c.field, c.slot);
                c.test(values)
            }
        }
    }
}

/// Renders extracted values as Falco prints them: `<NA>` when absent, `(a,b)` for lists.
pub fn render(field: &Field, values: Option<&Values<'_>>) -> String {
    match values {
        None => "<NA>".to_owned(),
        Some(v) if field.def.list => format!("({})", v.join(",")),
        Some(v) => v.first().map(|s| s.to_string()).unwrap_or_default(),
    }
}

/// The JSON of extracted values for `output_fields`: null, a string, or an array of strings.
pub fn to_json(field: &Field, values: Option<&Values<'_>>) -> serde_json::Value {
    use serde_json::Value;
    match values {
        None => Value::Null,
        Some(v) if field.def.list => {
            Value::Array(v.iter().map(|s| Value::String(s.to_string())).collect())
        }
        Some(v) => v
            .first()
            .map_or(Value::Null, |s| Value::String(Cow::to_string(s))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_errors() {
        let ast = parse("a or b and not c").unwrap();
        assert_eq!(
            ast,
            Ast::Or(vec![
                Ast::Macro("a".into(), 0),
                Ast::And(vec![
                    Ast::Macro("b".into(), 5),
                    Ast::Not(Box::new(Ast::Macro("c".into(), 15)))
                ])
            ])
        );
        let ast =
            parse("ka.verb in (create, 'up date',\"x\\\"y\") and jevt.value[/stage]=A").unwrap();
        let Ast::And(items) = ast else { panic!() };
        let Ast::Check { values, op, .. } = &items[0] else {
            panic!()
        };
        assert_eq!(*op, Op::In);
        assert_eq!(values, &["create", "up date", "x\"y"]);
        let err = parse("ka.verb = x and ka.nope exists").unwrap_err();
        assert_eq!(err.offset, 16);
        assert!(err.message.contains("unknown field 'ka.nope'"));
        assert!(parse("(ka.verb = x").is_err());
        assert!(parse("ka.verb").is_err());
        assert!(parse("ka.verb in x").is_err());
        assert!(parse("ka.verb = 'x").is_err());
        assert!(parse(&"(".repeat(1000)).is_err());
    }

    #[test]
    fn glob_and_pmatch() {
        assert!(glob(b"*.example.com", b"a.b.example.com", false));
        assert!(glob(b"a?c", b"abc", false));
        assert!(!glob(b"a?c", b"ac", false));
        assert!(glob(b"[a-c]x", b"bx", false));
        assert!(!glob(b"[!a-c]x", b"bx", false));
        assert!(glob(b"ABC*", b"abcd", true));
        assert!(path_prefix("/etc", "/etc/kubernetes"));
        assert!(path_prefix("/etc", "/etc"));
        assert!(!path_prefix("/etc", "/etcd"));
    }
}
