//! OPA's `sprintf(format, values)`: Go's `fmt.Sprintf` applied to the Rego values as OPA hands
//! them over (`topdown/strings.go`), so that a message reads as Gatekeeper prints it.
//!
//! OPA converts each value before it calls `fmt.Sprintf`:
//! - a string is a Go `string`;
//! - an integer is an `int64`, or a `*big.Int` beyond that range; any other number a `float64`.
//!   `regorus` does not keep a number's text, so an integral float (`3.0`) is an integer here, as
//!   it is once Gatekeeper's objects have gone through Go's JSON encoding;
//! - anything else (booleans, null, arrays, objects, sets) is the `string` of OPA's own printing
//!   of the value: `true`, `null`, `["a", 1]`, `{"k": "v"}` (sorted keys), `{1, 2}`, `set()`.
//!
//! Then Go's rules apply: verbs `%v %s %d %q %x %X %o %O %b %c %U %e %E %f %F %g %G %t %T %%`,
//! flags `+ - # 0 space`, width and precision (also `*` and explicit `[n]` argument indexes),
//! and Go's error forms in the text rather than a failure: `%!v(MISSING)`,
//! `%!d(string=abc)`, `%!(EXTRA int64=1)`, `%!(NOVERB)`, `%!(BADWIDTH)`, `%!(BADPREC)`,
//! `%!v(BADINDEX)`. The `0` flag pads no string, as Go's `fmt` documentation says of it (older
//! Go releases padded strings with zeros too).

use std::fmt::Write as _;

use regorus::Value;

/// Go's limit on a width or precision written in the format (`tooLarge`).
const MAX_NUM: usize = 1_000_000;

/// The longest text `sprintf` makes (bytes), and so the widest width or precision: Go has no
/// such limit, but a policy's message has no use for more, and a format such as `%999999d`
/// repeated would otherwise take memory without bound.
pub(crate) const MAX_OUTPUT: usize = 1 << 20;

/// `sprintf` as a `regorus` extension: undefined unless the format is a string and the values
/// an array, as the built-in's types demand; an error when the text would exceed
/// [`MAX_OUTPUT`].
pub(crate) fn extension(args: &[Value]) -> Result<Value, String> {
    match (args.first(), args.get(1)) {
        (Some(Value::String(format)), Some(Value::Array(values))) => {
            let values: Vec<Arg> = values.iter().map(Arg::of).collect();
            match sprintf(format, &values) {
                Some(text) => Ok(Value::from(text)),
                None => Err(format!(
                    "sprintf: the text would be longer than {MAX_OUTPUT} bytes"
                )),
            }
        }
        _ => Ok(Value::Undefined),
    }
}

/// One argument as Go's `fmt` sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// `int64`.
    Int(i64),
    /// `*big.Int`: a sign and the value (an integer beyond `int64`).
    Big(bool, BigDigits),
    /// `float64`.
    Float(f64),
    /// `string`.
    Str(String),
}

/// The digits of a big integer's magnitude in the bases `fmt` prints.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BigDigits {
    dec: String,
    bin: String,
    oct: String,
    hex: String,
}

impl Arg {
    /// The Go value OPA passes for a Rego value.
    pub(crate) fn of(value: &Value) -> Arg {
        match value {
            Value::String(s) => Arg::Str(s.to_string()),
            Value::Number(n) if n.is_integer() => match n.as_i64() {
                Some(i) => Arg::Int(i),
                None => {
                    let strip = |s: String| s.trim_start_matches('-').to_owned();
                    let dec = n.format_decimal();
                    Arg::Big(
                        dec.starts_with('-'),
                        BigDigits {
                            dec: strip(dec),
                            bin: strip(n.format_bin()),
                            oct: strip(n.format_octal()),
                            hex: strip(n.format_hex()),
                        },
                    )
                }
            },
            Value::Number(n) => Arg::Float(n.as_f64().unwrap_or(f64::NAN)),
            other => Arg::Str(opa_string(other)),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Arg::Int(_) => "int64",
            Arg::Big(..) => "*big.Int",
            Arg::Float(_) => "float64",
            Arg::Str(_) => "string",
        }
    }
}

/// OPA's printing of a value (`ast.Value.String()`).
pub(crate) fn opa_string(value: &Value) -> String {
    let mut out = String::new();
    write_opa(&mut out, value);
    out
}

fn write_opa(out: &mut String, value: &Value) {
    let list = |out: &mut String, items: &mut dyn Iterator<Item = &Value>| {
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_opa(out, item);
        }
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_integer() => out.push_str(&n.format_decimal()),
        Value::Number(n) => out.push_str(&json_float(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => out.push_str(&quote(s, '"', false)),
        Value::Array(a) => {
            out.push('[');
            list(out, &mut a.iter());
            out.push(']');
        }
        Value::Set(s) if s.is_empty() => out.push_str("set()"),
        Value::Set(s) => {
            out.push('{');
            list(out, &mut s.iter());
            out.push('}');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.iter_sorted().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_opa(out, k);
                out.push_str(": ");
                write_opa(out, v);
            }
            out.push('}');
        }
        Value::Undefined => out.push_str("undefined"),
    }
}

/// A float as Go's `encoding/json` writes it (the text OPA keeps for a number from JSON).
fn json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format_float(f, 'e', -1);
        // Go cleans up `e-07` to `e-7`.
        match e.split_once("e-0") {
            Some((m, x)) if x.len() == 1 => format!("{m}e-{x}"),
            _ => e,
        }
    } else {
        format_float(f, 'f', -1)
    }
}

/// `fmt.Sprintf(format, args...)`; `None` when the text would be longer than [`MAX_OUTPUT`].
pub(crate) fn sprintf(format: &str, args: &[Arg]) -> Option<String> {
    let mut p = Printer::default();
    p.do_printf(format, args);
    (!p.overflow && p.out.len() <= MAX_OUTPUT).then_some(p.out)
}

#[derive(Debug, Default, Clone, Copy)]
struct Flags {
    wid: usize,
    wid_present: bool,
    prec: usize,
    prec_present: bool,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
}

#[derive(Debug, Default)]
struct Printer {
    out: String,
    f: Flags,
    reordered: bool,
    good_arg_num: bool,
    /// The text would exceed [`MAX_OUTPUT`]: printing stopped.
    overflow: bool,
}

/// Go's `parsenum`: a decimal number at `start`, if any; `None` with `end` when it is too large.
fn parse_num(s: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let mut num = 0usize;
    let mut is_num = false;
    let mut i = start;
    while i < end && s[i].is_ascii_digit() {
        if num > MAX_NUM {
            return (0, false, end);
        }
        num = num * 10 + usize::from(s[i] - b'0');
        is_num = true;
        i += 1;
    }
    (num, is_num, i)
}

/// Go's `parseArgNumber` on `s` (which starts with `[`): the 0-based index, the bytes read, ok.
fn parse_arg_number(s: &[u8]) -> (usize, usize, bool) {
    if s.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..s.len() {
        if s[i] == b']' {
            let (width, ok, newi) = parse_num(s, 1, i);
            if !ok || newi != i || width == 0 {
                // `[0]` is out of range, like any index that does not name an argument.
                return (usize::MAX, i + 1, ok && newi == i);
            }
            return (width - 1, i + 1, true);
        }
    }
    (0, 1, false)
}

impl Printer {
    fn arg_number(
        &mut self,
        arg_num: usize,
        format: &[u8],
        i: usize,
        num_args: usize,
    ) -> (usize, usize, bool) {
        if format.len() <= i || format[i] != b'[' {
            return (arg_num, i, false);
        }
        self.reordered = true;
        let (index, wid, ok) = parse_arg_number(&format[i..]);
        if ok && index < num_args {
            return (index, i + wid, true);
        }
        self.good_arg_num = false;
        (arg_num, i + wid, ok)
    }

    /// Go's `intFromArg`: the width or precision taken from an argument.
    fn int_from_arg(args: &[Arg], arg_num: usize) -> (isize, bool, usize) {
        match args.get(arg_num) {
            None => (0, false, arg_num),
            Some(Arg::Int(n)) if n.unsigned_abs() <= MAX_NUM as u64 => {
                (isize::try_from(*n).unwrap_or(0), true, arg_num + 1)
            }
            Some(_) => (0, false, arg_num + 1),
        }
    }

    fn do_printf(&mut self, format: &str, args: &[Arg]) {
        let fb = format.as_bytes();
        let end = fb.len();
        let mut arg_num = 0usize;
        let mut after_index;
        self.reordered = false;
        let mut i = 0;
        'format: while i < end {
            self.good_arg_num = true;
            let last = i;
            while i < end && fb[i] != b'%' {
                i += 1;
            }
            if i > last {
                self.out.push_str(&format[last..i]);
            }
            if i >= end {
                break;
            }
            i += 1; // the '%'
            self.f = Flags::default();
            while i < end {
                match fb[i] {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = !self.f.minus,
                    b'+' => self.f.plus = true,
                    b'-' => {
                        self.f.minus = true;
                        self.f.zero = false;
                    }
                    b' ' => self.f.space = true,
                    _ => break,
                }
                i += 1;
            }

            (arg_num, i, after_index) = self.arg_number(arg_num, fb, i, args.len());

            // Width.
            if i < end && fb[i] == b'*' {
                i += 1;
                let (wid, ok, next) = Self::int_from_arg(args, arg_num);
                arg_num = next;
                self.f.wid_present = ok;
                if !ok {
                    self.out.push_str("%!(BADWIDTH)");
                }
                if wid < 0 {
                    self.f.minus = true;
                    self.f.zero = false;
                }
                self.f.wid = wid.unsigned_abs();
                after_index = false;
            } else {
                let (wid, present, next) = parse_num(fb, i, end);
                (self.f.wid, self.f.wid_present, i) = (wid, present, next);
                if after_index && present {
                    self.good_arg_num = false;
                }
            }

            // Precision.
            if i + 1 < end && fb[i] == b'.' {
                i += 1;
                if after_index {
                    self.good_arg_num = false;
                }
                (arg_num, i, after_index) = self.arg_number(arg_num, fb, i, args.len());
                if i < end && fb[i] == b'*' {
                    i += 1;
                    let (prec, ok, next) = Self::int_from_arg(args, arg_num);
                    arg_num = next;
                    self.f.prec_present = ok && prec >= 0;
                    self.f.prec = if prec < 0 { 0 } else { prec.unsigned_abs() };
                    if !self.f.prec_present {
                        self.out.push_str("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (prec, _, next) = parse_num(fb, i, end);
                    (self.f.prec, self.f.prec_present, i) = (prec, true, next);
                }
            }

            if !after_index {
                (arg_num, i, _) = self.arg_number(arg_num, fb, i, args.len());
            }

            if self.f.wid > MAX_OUTPUT || self.f.prec > MAX_OUTPUT {
                self.overflow = true;
                return;
            }
            if i >= end {
                self.out.push_str("%!(NOVERB)");
                break;
            }
            let Some(verb) = format[i..].chars().next() else {
                break 'format;
            };
            i += verb.len_utf8();

            if verb == '%' {
                // Takes no argument and ignores width and precision.
                self.out.push('%');
            } else if !self.good_arg_num {
                let _ = write!(self.out, "%!{verb}(BADINDEX)");
            } else if arg_num >= args.len() {
                let _ = write!(self.out, "%!{verb}(MISSING)");
            } else {
                if verb == 'v' {
                    self.f.sharp_v = self.f.sharp;
                    self.f.sharp = false;
                    self.f.plus_v = self.f.plus;
                    self.f.plus = false;
                }
                self.print_arg(&args[arg_num], verb);
                arg_num += 1;
            }
            if self.out.len() > MAX_OUTPUT {
                self.overflow = true;
                return;
            }
        }

        // Extra arguments, unless they were taken out of order.
        if !self.reordered && arg_num < args.len() {
            self.f = Flags::default();
            self.out.push_str("%!(EXTRA ");
            for (k, arg) in args[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.out.push_str(", ");
                }
                self.out.push_str(arg.type_name());
                self.out.push('=');
                self.print_arg(arg, 'v');
            }
            self.out.push(')');
        }
    }

    fn print_arg(&mut self, arg: &Arg, verb: char) {
        match verb {
            'T' => {
                // The type's name, printed as a string is.
                let zero = std::mem::replace(&mut self.f.zero, false);
                self.fmt_s(arg.type_name());
                self.f.zero = zero;
                return;
            }
            'p' => {
                self.bad_verb(arg, verb);
                return;
            }
            _ => {}
        }
        match arg {
            Arg::Str(s) => {
                // Go ignores the 0 flag for strings.
                let zero = std::mem::replace(&mut self.f.zero, false);
                match verb {
                    'v' if self.f.sharp_v => self.fmt_q(s),
                    'v' | 's' => self.fmt_s(s),
                    'x' => self.fmt_sx(s, false),
                    'X' => self.fmt_sx(s, true),
                    'q' => self.fmt_q(s),
                    _ => self.bad_verb(arg, verb),
                }
                self.f.zero = zero;
            }
            Arg::Int(i) => {
                let neg = *i < 0;
                let u = i.unsigned_abs();
                match verb {
                    'v' | 'd' => self.fmt_integer(neg, &u.to_string(), 10, verb),
                    'b' => self.fmt_integer(neg, &format!("{u:b}"), 2, verb),
                    'o' | 'O' => self.fmt_integer(neg, &format!("{u:o}"), 8, verb),
                    'x' => self.fmt_integer(neg, &format!("{u:x}"), 16, verb),
                    'X' => self.fmt_integer(neg, &format!("{u:X}"), 16, verb),
                    // The argument's bits as Go's uint64 conversion gives them.
                    'c' => self.fmt_c(u64::from_ne_bytes(i.to_ne_bytes())),
                    'q' => self.fmt_qc(u64::from_ne_bytes(i.to_ne_bytes())),
                    'U' => self.fmt_unicode(u64::from_ne_bytes(i.to_ne_bytes())),
                    _ => self.bad_verb(arg, verb),
                }
            }
            Arg::Float(v) => match verb {
                'v' => self.fmt_float(*v, 'g', -1),
                'b' | 'g' | 'G' | 'x' | 'X' => self.fmt_float(*v, verb, -1),
                'f' | 'F' => self.fmt_float(*v, 'f', 6),
                'e' | 'E' => self.fmt_float(*v, verb, 6),
                _ => self.bad_verb(arg, verb),
            },
            Arg::Big(neg, digits) => self.fmt_big(*neg, digits, verb),
        }
    }

    /// `%!verb(type=value)`, the value printed with `%v` and the same flags.
    fn bad_verb(&mut self, arg: &Arg, verb: char) {
        let _ = write!(self.out, "%!{verb}({}=", arg.type_name());
        self.print_arg(arg, 'v');
        self.out.push(')');
    }

    fn write_padding(&mut self, n: usize) {
        let byte = if self.f.zero && !self.f.minus {
            '0'
        } else {
            ' '
        };
        self.out.extend(std::iter::repeat_n(byte, n));
    }

    /// Pads `s` to the width (counted in characters), on the left unless `-`.
    fn pad_str(&mut self, s: &str) {
        if !self.f.wid_present || self.f.wid == 0 {
            self.out.push_str(s);
            return;
        }
        let width = self.f.wid.saturating_sub(s.chars().count());
        if self.f.minus {
            self.out.push_str(s);
            self.write_padding(width);
        } else {
            self.write_padding(width);
            self.out.push_str(s);
        }
    }

    fn truncate<'a>(&self, s: &'a str) -> &'a str {
        if self.f.prec_present {
            if let Some((at, _)) = s.char_indices().nth(self.f.prec) {
                return &s[..at];
            }
        }
        s
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad_str(s);
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        if self.f.sharp && can_backquote(s) {
            self.pad_str(&format!("`{s}`"));
        } else {
            let quoted = quote(s, '"', self.f.plus);
            self.pad_str(&quoted);
        }
    }

    /// `%x` of a string: the hex of its bytes (`% x` spaces them, `#` adds `0x`).
    fn fmt_sx(&mut self, s: &str, upper: bool) {
        let bytes = s.as_bytes();
        let length = if self.f.prec_present {
            bytes.len().min(self.f.prec)
        } else {
            bytes.len()
        };
        let mut width = 2 * length;
        if width == 0 {
            if self.f.wid_present {
                self.write_padding(self.f.wid);
            }
            return;
        }
        if self.f.space {
            if self.f.sharp {
                width *= 2;
            }
            width += length - 1;
        } else if self.f.sharp {
            width += 2;
        }
        if self.f.wid_present && self.f.wid > width && !self.f.minus {
            self.write_padding(self.f.wid - width);
        }
        let prefix = if upper { "0X" } else { "0x" };
        if self.f.sharp {
            self.out.push_str(prefix);
        }
        for (k, b) in bytes[..length].iter().enumerate() {
            if self.f.space && k > 0 {
                self.out.push(' ');
                if self.f.sharp {
                    self.out.push_str(prefix);
                }
            }
            if upper {
                let _ = write!(self.out, "{b:02X}");
            } else {
                let _ = write!(self.out, "{b:02x}");
            }
        }
        if self.f.wid_present && self.f.wid > width && self.f.minus {
            self.write_padding(self.f.wid - width);
        }
    }

    /// Go's `fmtInteger`, given the digits of the magnitude in `base`.
    fn fmt_integer(&mut self, negative: bool, digits: &str, base: u32, verb: char) {
        let mut prec = 0usize;
        if self.f.prec_present {
            prec = self.f.prec;
            // Precision 0 and value 0 print nothing but the padding.
            if prec == 0 && digits == "0" {
                let zero = std::mem::replace(&mut self.f.zero, false);
                self.write_padding(self.f.wid);
                self.f.zero = zero;
                return;
            }
        } else if self.f.zero && !self.f.minus && self.f.wid_present {
            prec = self.f.wid;
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let mut s = String::new();
        if self.f.sharp {
            match base {
                2 => s.push_str("0b"),
                16 => s.push_str(if verb == 'X' { "0X" } else { "0x" }),
                _ => {}
            }
        }
        if verb == 'O' {
            s.push_str("0o");
        }
        let zeros = prec.saturating_sub(digits.len());
        let octal_zero = self.f.sharp && base == 8 && zeros == 0 && !digits.starts_with('0');
        if octal_zero {
            s.push('0');
        }
        s.extend(std::iter::repeat_n('0', zeros));
        s.push_str(digits);
        let sign = if negative {
            "-"
        } else if self.f.plus {
            "+"
        } else if self.f.space {
            " "
        } else {
            ""
        };
        s.insert_str(0, sign);
        let zero = std::mem::replace(&mut self.f.zero, false);
        self.pad_str(&s);
        self.f.zero = zero;
    }

    /// `%c`: the character with that code (U+FFFD when there is none).
    fn fmt_c(&mut self, code: u64) {
        let c = u32::try_from(code)
            .ok()
            .and_then(char::from_u32)
            .unwrap_or('\u{FFFD}');
        self.pad_str(c.encode_utf8(&mut [0; 4]));
    }

    /// `%q` of an integer: the quoted character.
    fn fmt_qc(&mut self, code: u64) {
        let c = u32::try_from(code)
            .ok()
            .and_then(char::from_u32)
            .unwrap_or('\u{FFFD}');
        let mut quoted = String::from('\'');
        escape_char(&mut quoted, c, '\'', self.f.plus);
        quoted.push('\'');
        self.pad_str(&quoted);
    }

    /// `%U`: `U+0041`, and with `#` the character too (`U+0041 'A'`).
    fn fmt_unicode(&mut self, code: u64) {
        let prec = if self.f.prec_present && self.f.prec > 4 {
            self.f.prec
        } else {
            4
        };
        let hex = format!("{code:X}");
        let mut s = String::from("U+");
        s.extend(std::iter::repeat_n('0', prec.saturating_sub(hex.len())));
        s.push_str(&hex);
        if self.f.sharp {
            if let Some(c) = u32::try_from(code).ok().and_then(char::from_u32) {
                if is_print(c) {
                    let _ = write!(s, " '{c}'");
                }
            }
        }
        let zero = std::mem::replace(&mut self.f.zero, false);
        self.pad_str(&s);
        self.f.zero = zero;
    }

    /// Go's `fmtFloat`: `verb` is one of `b e E f g G x X`; `prec` -1 is the shortest.
    fn fmt_float(&mut self, v: f64, verb: char, default_prec: i64) {
        let prec = if self.f.prec_present {
            i64::try_from(self.f.prec).unwrap_or(i64::MAX)
        } else {
            default_prec
        };
        let formatted = format_float(v, verb, prec);
        // num[0] is the sign, always present.
        let mut num: Vec<char> = Vec::with_capacity(formatted.len() + 1);
        if !formatted.starts_with(['-', '+']) {
            num.push('+');
        }
        num.extend(formatted.chars());
        if self.f.space && num[0] == '+' && !self.f.plus {
            num[0] = ' ';
        }
        if num.get(1).is_some_and(|c| *c == 'I' || *c == 'N') {
            // Infinities and NaN are not padded with zeros.
            let zero = std::mem::replace(&mut self.f.zero, false);
            if num[1] == 'N' && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad_str(&num.iter().collect::<String>());
            self.f.zero = zero;
            return;
        }
        if self.f.sharp && verb != 'b' {
            let mut digits: i64 = match verb {
                'g' | 'G' | 'x' => {
                    if prec == -1 {
                        6
                    } else {
                        prec
                    }
                }
                _ => 0,
            };
            let mut tail: Vec<char> = Vec::new();
            let mut has_point = false;
            let mut saw_nonzero = false;
            let mut k = 1;
            while k < num.len() {
                match num[k] {
                    '.' => has_point = true,
                    'p' | 'P' => {
                        tail = num.split_off(k);
                        break;
                    }
                    'e' | 'E' if verb != 'x' && verb != 'X' => {
                        tail = num.split_off(k);
                        break;
                    }
                    c => {
                        if c != '0' {
                            saw_nonzero = true;
                        }
                        if saw_nonzero {
                            digits -= 1;
                        }
                    }
                }
                k += 1;
            }
            if !has_point {
                if num.len() == 2 && num[1] == '0' {
                    digits -= 1;
                }
                num.push('.');
            }
            while digits > 0 {
                num.push('0');
                digits -= 1;
            }
            num.extend(tail);
        }
        if self.f.plus || num[0] != '+' {
            if self.f.zero && !self.f.minus && self.f.wid_present && self.f.wid > num.len() {
                self.out.push(num[0]);
                self.write_padding(self.f.wid - num.len());
                self.out.extend(&num[1..]);
                return;
            }
            self.pad_str(&num.iter().collect::<String>());
            return;
        }
        self.pad_str(&num[1..].iter().collect::<String>());
    }

    /// `*big.Int`'s own `Format`.
    fn fmt_big(&mut self, negative: bool, digits: &BigDigits, verb: char) {
        let digits = match verb {
            'b' => digits.bin.clone(),
            'o' | 'O' => digits.oct.clone(),
            'd' | 's' | 'v' => digits.dec.clone(),
            'x' => digits.hex.to_ascii_lowercase(),
            'X' => digits.hex.to_ascii_uppercase(),
            _ => {
                let sign = if negative { "-" } else { "" };
                let _ = write!(self.out, "%!{verb}(big.Int={sign}{})", digits.dec);
                return;
            }
        };
        let sign = if negative {
            "-"
        } else if self.f.plus || self.f.plus_v {
            "+"
        } else if self.f.space {
            " "
        } else {
            ""
        };
        let mut prefix = "";
        if self.f.sharp || self.f.sharp_v {
            prefix = match verb {
                'b' => "0b",
                'o' => "0",
                'x' => "0x",
                'X' => "0X",
                _ => "",
            };
        }
        if verb == 'O' {
            prefix = "0o";
        }
        let mut zeros = 0;
        if self.f.prec_present && digits.len() < self.f.prec {
            zeros = self.f.prec - digits.len();
        }
        let length = sign.len() + prefix.len() + zeros + digits.len();
        let (mut left, mut right) = (0, 0);
        if self.f.wid_present && length < self.f.wid {
            let d = self.f.wid - length;
            if self.f.minus {
                right = d;
            } else if self.f.zero && !self.f.prec_present {
                zeros = d;
            } else {
                left = d;
            }
        }
        self.out.extend(std::iter::repeat_n(' ', left));
        self.out.push_str(sign);
        self.out.push_str(prefix);
        self.out.extend(std::iter::repeat_n('0', zeros));
        self.out.push_str(&digits);
        self.out.extend(std::iter::repeat_n(' ', right));
    }
}

/// Go's `strconv.FormatFloat(v, verb, prec, 64)` for `verb` in `b e E f g G x X`.
fn format_float(v: f64, verb: char, prec: i64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let neg = v.is_sign_negative();
    let a = v.abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let shortest = prec < 0;
    let prec_us = usize::try_from(prec).unwrap_or(0);
    match verb {
        'b' => {
            let (mant, exp) = binary_parts(a);
            let exp = exp - 52;
            let _ = write!(out, "{mant}p{}{exp}", if exp >= 0 { "+" } else { "" });
        }
        'x' | 'X' => fmt_x(&mut out, a, prec, verb),
        'f' if shortest => {
            let _ = write!(out, "{a}");
        }
        'f' => {
            let _ = write!(out, "{a:.prec_us$}");
        }
        'e' | 'E' => {
            let (digits, dp) = if shortest {
                decimal_digits(a, None)
            } else {
                decimal_digits(a, Some(prec_us + 1))
            };
            let prec = if shortest {
                digits.len().saturating_sub(1)
            } else {
                prec_us
            };
            fmt_e(&mut out, &digits, dp, prec, verb);
        }
        _ => {
            // 'g' | 'G'
            let exp_char = if verb == 'G' { 'E' } else { 'e' };
            let (digits, dp) = if shortest {
                decimal_digits(a, None)
            } else {
                decimal_digits(a, Some(prec_us.max(1)))
            };
            let nd = digits.len() as i64;
            let mut p = if shortest {
                nd
            } else {
                i64::try_from(prec_us.max(1)).unwrap_or(i64::MAX)
            };
            let mut eprec = p;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                let p = usize::try_from(p - 1).unwrap_or(0);
                fmt_e(&mut out, &digits, dp, p, exp_char);
            } else {
                if p > dp {
                    p = nd;
                }
                let p = usize::try_from((p - dp).max(0)).unwrap_or(0);
                fmt_f(&mut out, &digits, dp, p);
            }
        }
    }
    out
}

/// The significant decimal digits of `a` (no trailing zeros; none for zero) and the position
/// of the decimal point (`a = 0.d1d2… × 10^dp`): the shortest that reads back as `a`, or
/// rounded to `sig` significant digits.
fn decimal_digits(a: f64, sig: Option<usize>) -> (Vec<u8>, i64) {
    if a == 0.0 {
        return (Vec::new(), 0);
    }
    let text = match sig {
        None => format!("{a:e}"),
        Some(n) => format!("{a:.prec$e}", prec = n.saturating_sub(1)),
    };
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, exp.parse::<i64>().unwrap_or(0) + 1)
}

/// `d.ddddde±dd` with `prec` digits after the point.
fn fmt_e(out: &mut String, digits: &[u8], dp: i64, prec: usize, exp_char: char) {
    out.push(digits.first().map_or('0', |d| char::from(*d)));
    if prec > 0 {
        out.push('.');
        let m = digits.len().min(prec + 1);
        for d in digits.iter().take(m).skip(1) {
            out.push(char::from(*d));
        }
        out.extend(std::iter::repeat_n(
            '0',
            (prec + 1).saturating_sub(m.max(1)),
        ));
    }
    out.push(exp_char);
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    let _ = write!(out, "{exp}");
}

/// `ddd.ddd` with `prec` digits after the point.
fn fmt_f(out: &mut String, digits: &[u8], dp: i64, prec: usize) {
    if dp > 0 {
        let dp = usize::try_from(dp).unwrap_or(0);
        let m = digits.len().min(dp);
        out.extend(digits[..m].iter().map(|d| char::from(*d)));
        out.extend(std::iter::repeat_n('0', dp - m));
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for k in 0..prec {
            let j = dp + i64::try_from(k).unwrap_or(i64::MAX);
            let c = usize::try_from(j)
                .ok()
                .and_then(|j| digits.get(j))
                .map_or('0', |d| char::from(*d));
            out.push(c);
        }
    }
}

/// A finite non-negative float as `mant × 2^(exp - 52)`, `mant` with its implicit bit.
fn binary_parts(a: f64) -> (u64, i64) {
    let bits = a.to_bits();
    let mut exp = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let mut mant = bits & ((1 << 52) - 1);
    if exp == 0 {
        exp += 1;
    } else {
        mant |= 1 << 52;
    }
    (mant, exp - 1023)
}

/// `%x` of a float: `0x1.8p+01`; `prec` hex digits after the point (-1: as many as needed).
fn fmt_x(out: &mut String, a: f64, prec: i64, verb: char) {
    let (mut mant, mut exp) = binary_parts(a);
    if mant == 0 {
        exp = 0;
    }
    // The leading 1, if any, at bit 60.
    mant <<= 60 - 52;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = u32::try_from(prec * 4).unwrap_or(0);
        let extra = (mant << shift) & ((1 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let upper = verb == 'X';
    let hex = |d: u64| {
        let c = char::from_digit(u32::try_from(d & 15).unwrap_or(0), 16).unwrap_or('0');
        if upper {
            c.to_ascii_uppercase()
        } else {
            c
        }
    };
    out.push('0');
    out.push(verb);
    out.push(if mant >> 60 & 1 == 1 { '1' } else { '0' });
    mant <<= 4;
    if prec < 0 && mant != 0 {
        out.push('.');
        while mant != 0 {
            out.push(hex(mant >> 60));
            mant <<= 4;
        }
    } else if prec > 0 {
        out.push('.');
        for _ in 0..prec {
            out.push(hex(mant >> 60));
            mant <<= 4;
        }
    }
    out.push(if upper { 'P' } else { 'p' });
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    let _ = write!(out, "{exp}");
}

/// Go's `strconv.Quote` (`ascii`: `QuoteToASCII`) with `q` as the quote character.
pub(crate) fn quote(s: &str, q: char, ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        escape_char(&mut out, c, q, ascii);
    }
    out.push(q);
    out
}

fn escape_char(out: &mut String, c: char, q: char, ascii: bool) {
    if c == q || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if if ascii {
        c.is_ascii() && is_print(c)
    } else {
        is_print(c)
    } {
        out.push(c);
        return;
    }
    let _ = match c {
        '\u{7}' => write!(out, "\\a"),
        '\u{8}' => write!(out, "\\b"),
        '\u{c}' => write!(out, "\\f"),
        '\n' => write!(out, "\\n"),
        '\r' => write!(out, "\\r"),
        '\t' => write!(out, "\\t"),
        '\u{b}' => write!(out, "\\v"),
        c if c < ' ' || c == '\u{7f}' => write!(out, "\\x{:02x}", u32::from(c)),
        c if u32::from(c) < 0x10000 => write!(out, "\\u{:04x}", u32::from(c)),
        c => write!(out, "\\U{:08x}", u32::from(c)),
    };
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
/// Without Unicode's category tables this rejects controls, spaces other than U+0020, the
/// format characters, private use and non-characters; unassigned code points count as
/// printable.
fn is_print(c: char) -> bool {
    let u = u32::from(c);
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xFDD0..=0xFDEF)
        && u & 0xFFFE != 0xFFFE
}

/// Go's `strconv.CanBackquote`.
fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !(c < ' ' || c == '\u{7f}')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(n: i64) -> Arg {
        Arg::Int(n)
    }
    fn f(x: f64) -> Arg {
        Arg::Float(x)
    }
    fn s(text: &str) -> Arg {
        Arg::Str(text.to_owned())
    }

    fn sprintf(format: &str, args: &[Arg]) -> String {
        super::sprintf(format, args).unwrap_or_else(|| panic!("{format}: over the limit"))
    }

    /// Each line: the format, its arguments, and what Go's `fmt.Sprintf` prints (compared with
    /// Go's own output; `%05s` as Go's documentation of the `0` flag says, without zeros).
    #[test]
    fn verbs_flags_width_and_precision_print_as_in_go() {
        let cases: &[(&str, Vec<Arg>, &str)] = &[
            ("%v|%d|%s", vec![i(42), i(-7), s("x")], "42|-7|x"),
            (
                "%5d|%-5d|%05d|%+d|% d",
                vec![i(42), i(42), i(-42), i(42), i(42)],
                "   42|42   |-0042|+42| 42",
            ),
            (
                "%.3d|%8.3d|%.0d|%5.0d|",
                vec![i(7), i(-7), i(0), i(0)],
                "007|    -007||     |",
            ),
            (
                "%b|%o|%O|%x|%X|%#x|%#o|%#b",
                vec![i(5), i(8), i(8), i(255), i(255), i(255), i(8), i(5)],
                "101|10|0o10|ff|FF|0xff|010|0b101",
            ),
            ("%#08x|%08b", vec![i(255), i(-5)], "0x000000ff|-0000101"),
            (
                "%c|%q|%U|%#U",
                vec![i(65), i(0x1F600), i(0x41), i(0x263A)],
                "A|'😀'|U+0041|U+263A '☺'",
            ),
            (
                "%x|% X|%#x|%.2x",
                vec![s("hi"), s("hi"), s("hi"), s("hello")],
                "6869|68 69|0x6869|6865",
            ),
            (
                "%q|%+q|%#q|%.3s|%-6s|%6s|",
                vec![
                    s("a\"b\n"),
                    s("héllo"),
                    s("a`b"),
                    s("héllo"),
                    s("ab"),
                    s("ab"),
                ],
                "\"a\\\"b\\n\"|\"h\\u00e9llo\"|\"a`b\"|hél|ab    |    ab|",
            ),
            ("%05s|%-05d|", vec![s("ab"), i(3)], "   ab|3    |"),
            (
                "%v|%v|%v|%v|%v",
                vec![f(3.5), f(1e6), f(123456789.0), f(0.0001), f(1e-5)],
                "3.5|1e+06|1.23456789e+08|0.0001|1e-05",
            ),
            (
                "%f|%.2f|%8.3f|%-8.1f|%08.2f|%+.1f",
                vec![f(3.25159), f(2.675), f(-1.5), f(2.25), f(-3.5), f(2.0)],
                "3.251590|2.67|  -1.500|2.2     |-0003.50|+2.0",
            ),
            (
                "%e|%.2E|%g|%.3g|%G|%#g",
                vec![
                    f(1234.5678),
                    f(0.000123),
                    f(1e21),
                    f(1234.5678),
                    f(1e-7),
                    f(1.0),
                ],
                "1.234568e+03|1.23E-04|1e+21|1.23e+03|1E-07|1.00000",
            ),
            (
                "%b|%x|%.1X",
                vec![f(1.0), f(1.5), f(-3.0)],
                "4503599627370496p-52|0x1.8p+00|-0X1.8P+01",
            ),
            (
                "%t|%T|%T|%T|%5.2T|",
                vec![s("true"), i(1), f(1.5), s(""), i(1)],
                "%!t(string=true)|int64|float64|string|   in|",
            ),
            ("%%|%5%|%c", vec![i(-1)], "%|%|\u{FFFD}"),
        ];
        for (format, args, want) in cases {
            assert_eq!(sprintf(format, args), *want, "{format}");
        }
    }

    #[test]
    fn go_error_forms_replace_a_failure() {
        let cases: &[(&str, Vec<Arg>, &str)] = &[
            ("%v and %v", vec![s("a")], "a and %!v(MISSING)"),
            ("%d", vec![], "%!d(MISSING)"),
            ("x", vec![i(1), s("b")], "x%!(EXTRA int64=1, string=b)"),
            (
                "%d|%s|%x|%e",
                vec![s("abc"), i(5), f(1.5), s("s")],
                "%!d(string=abc)|%!s(int64=5)|0x1.8p+00|%!e(string=s)",
            ),
            ("%5d", vec![s("ab")], "%!d(string=   ab)"),
            ("%z", vec![f(2.5)], "%!z(float64=2.5)"),
            ("%", vec![], "%!(NOVERB)"),
            ("%-", vec![i(1)], "%!(NOVERB)%!(EXTRA int64=1)"),
            ("%[2]v %[1]v", vec![s("a"), s("b")], "b a"),
            ("%[3]v|%[0]v", vec![s("a")], "%!v(BADINDEX)|%!v(BADINDEX)"),
            ("%[1]v", vec![s("a"), s("b")], "a"),
            (
                "%*d|%-*d|%.*f",
                vec![i(4), i(7), i(3), i(7), i(1), f(2.25)],
                "   7|7  |2.2",
            ),
            ("%*d", vec![s("x"), i(7)], "%!(BADWIDTH)7"),
            ("%.*d", vec![i(-1), i(7)], "%!(BADPREC)7"),
            ("%99999999d", vec![i(1)], "%!(NOVERB)%!(EXTRA int64=1)"),
            ("%p", vec![i(1)], "%!p(int64=1)"),
        ];
        for (format, args, want) in cases {
            assert_eq!(sprintf(format, args), *want, "{format}");
        }
    }

    /// Rego values become what OPA hands to Go: strings, `int64`, `*big.Int`, `float64`, and
    /// OPA's printing of anything else.
    #[test]
    fn rego_values_become_opa_s_go_values() {
        let v = |json: &str| Arg::of(&Value::from_json_str(json).unwrap_or(Value::Undefined));
        assert_eq!(v("3"), i(3));
        assert_eq!(v("3.0"), i(3));
        assert_eq!(v("2.5"), f(2.5));
        assert_eq!(v("\"x\""), s("x"));
        assert_eq!(v("true"), s("true"));
        assert_eq!(v("null"), s("null"));
        assert_eq!(
            v(r#"["a", 1, 2.5, null, false]"#),
            s(r#"["a", 1, 2.5, null, false]"#)
        );
        assert_eq!(
            v(r#"{"b": {"c": []}, "a": "x\ty"}"#),
            s(r#"{"a": "x\ty", "b": {"c": []}}"#)
        );
        assert_eq!(Arg::of(&Value::from(Vec::<Value>::new())), s("[]"));
        let set = |items: Vec<Value>| {
            Arg::of(&Value::from(
                items.into_iter().collect::<std::collections::BTreeSet<_>>(),
            ))
        };
        assert_eq!(set(vec![]), s("set()"));
        assert_eq!(
            set(vec![Value::from("b"), Value::from("a")]),
            s(r#"{"a", "b"}"#)
        );
        assert_eq!(v("1e-7"), f(1e-7));
        assert_eq!(
            opa_string(&Value::from_json_str("[1e-7, 0.5]").unwrap_or(Value::Undefined)),
            "[1e-7, 0.5]"
        );
        // Beyond int64: *big.Int, formatted by its own Format.
        let big = Arg::of(&Value::from(i128::from(i64::MAX) + 1));
        assert_eq!(sprintf("%v|%x|%+d|%30d|%f", &[big.clone(), big.clone(), big.clone(), big.clone(), big]),
            "9223372036854775808|8000000000000000|+9223372036854775808|           9223372036854775808|%!f(big.Int=9223372036854775808)");
        let neg = Arg::of(&Value::from(-i128::from(i64::MAX) - 2));
        assert_eq!(
            sprintf("%d|%#X|%(EXTRA)", &[neg.clone(), neg.clone()]),
            "-9223372036854775809|-0X8000000000000001|%!((MISSING)EXTRA)"
        );
    }

    #[test]
    fn the_text_is_bounded() {
        // Go would print ten million spaces, eight times over.
        assert_eq!(super::sprintf(&"%9999999d".repeat(8), &vec![i(1); 8]), None);
        assert_eq!(super::sprintf("%.2000000f", &[f(1.0)]), None);
        assert_eq!(
            super::sprintf("%*d", &[i(999_999), i(1)]).map(|t| t.len()),
            Some(999_999)
        );
        assert_eq!(
            super::sprintf(&"%999999d".repeat(2), &[i(1), i(2)]),
            None,
            "two verbs within the width limit, over the text limit together"
        );
        assert!(extension(&[
            Value::from("%9999999d"),
            Value::from(vec![Value::from(1u64)])
        ])
        .is_err());
    }

    /// The extension: OPA's result where `regorus`'s own `sprintf` fails, the same text where it
    /// succeeds.
    #[test]
    fn sprintf_in_rego_follows_opa() {
        let eval = |expr: &str| {
            let mut engine = regorus::Engine::new();
            engine.set_rego_v0(true);
            engine.set_strict_builtin_errors(false);
            crate::deprecated::add_to(&mut engine).unwrap();
            engine
                .add_policy(
                    "t.rego".into(),
                    format!("package t\nx = v {{ v := {expr} }}\n"),
                )
                .unwrap();
            engine.eval_rule("data.t.x".into()).unwrap()
        };
        assert_eq!(
            eval(r#"sprintf("%v of %v: %v", ["a", input.missing_is_undefined])"#),
            Value::Undefined
        );
        assert_eq!(
            eval(r#"sprintf("%v <%v> %v", ["HPA", {"max": 6, "min": 3}])"#),
            Value::from(r#"HPA <{"max": 6, "min": 3}> %!v(MISSING)"#)
        );
        assert_eq!(
            eval(r#"sprintf("%v %v %v %s", [1, 2.5, {"a", "b"}, ["x"]])"#),
            Value::from(r#"1 2.5 {"a", "b"} ["x"]"#)
        );
        assert_eq!(
            eval(r#"sprintf("%d", ["5"])"#),
            Value::from("%!d(string=5)")
        );
        assert_eq!(eval(r#"sprintf(1, [])"#), Value::Undefined);
        // Over the limit: an evaluation error at the call, not a silent undefined.
        let mut engine = regorus::Engine::new();
        crate::deprecated::add_to(&mut engine).unwrap();
        engine
            .add_policy(
                "t.rego".into(),
                "package t\nx := sprintf(\"%999999d%999999d\", [1, 2])\n".into(),
            )
            .unwrap();
        let err = engine.eval_rule("data.t.x".into()).unwrap_err().to_string();
        assert!(
            err.contains("t.rego:2") && err.contains("longer than"),
            "{err}"
        );
        assert_eq!(eval(r#"sprintf("%v", "notarray")"#), Value::Undefined);
    }
}
