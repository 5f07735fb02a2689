//! Kubernetes resource quantities (`100m`, `512Mi`, `1.5`, `2e3`), read exactly enough to
//! compare a request with a limit.

use std::cmp::Ordering;

use serde_json::Value;

/// A non-negative quantity: `digits / 10^scale`.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    digits: i128,
    scale: u32,
}

impl Quantity {
    /// Reads a quantity as the API server does: a number with an optional binary (`Ki`…`Ei`),
    /// decimal (`n`, `u`, `m`, `k`, `M`…`E`) or exponent (`e3`) suffix. Numbers written without
    /// quotes in YAML arrive as JSON numbers. `None` when it is not a valid quantity.
    pub fn parse(value: &Value) -> Option<Quantity> {
        match value {
            Value::String(text) => Quantity::parse_str(text),
            Value::Number(n) => Quantity::parse_str(&n.to_string()),
            _ => None,
        }
    }

    fn parse_str(text: &str) -> Option<Quantity> {
        let text = text.strip_prefix('+').unwrap_or(text);
        let end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return None;
        }
        let mut digits: i128 = 0;
        for c in whole.chars().chain(fraction.chars()) {
            digits = digits
                .checked_mul(10)?
                .checked_add(i128::from(c.to_digit(10)?))?;
        }
        let mut scale = i64::try_from(fraction.len()).ok()?;
        let (binary, exponent): (u32, i64) = match suffix {
            "" => (0, 0),
            "Ki" => (10, 0),
            "Mi" => (20, 0),
            "Gi" => (30, 0),
            "Ti" => (40, 0),
            "Pi" => (50, 0),
            "Ei" => (60, 0),
            "n" => (0, -9),
            "u" => (0, -6),
            "m" => (0, -3),
            "k" => (0, 3),
            "M" => (0, 6),
            "G" => (0, 9),
            "T" => (0, 12),
            "P" => (0, 15),
            "E" => (0, 18),
            _ => {
                let rest = suffix.strip_prefix(['e', 'E'])?;
                let unsigned = rest.strip_prefix(['+', '-']).unwrap_or(rest);
                if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (0, rest.parse().ok()?)
            }
        };
        digits = digits.checked_mul(1i128.checked_shl(binary)?)?;
        scale -= exponent;
        while scale < 0 {
            digits = digits.checked_mul(10)?;
            scale += 1;
        }
        Some(Quantity {
            digits,
            scale: u32::try_from(scale).ok()?,
        })
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        let widen = |q: &Quantity, to: u32| {
            10i128
                .checked_pow(to - q.scale)
                .and_then(|f| q.digits.checked_mul(f))
        };
        let to = self.scale.max(other.scale);
        match (widen(self, to), widen(other, to)) {
            (Some(a), Some(b)) => a.cmp(&b),
            // Beyond i128: compare approximately, which is exact enough at such sizes.
            _ => {
                let approx = |q: &Quantity| q.digits as f64 / 10f64.powi(q.scale as i32);
                approx(self).total_cmp(&approx(other))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(v: Value) -> Quantity {
        Quantity::parse(&v).unwrap_or_else(|| panic!("{v}"))
    }

    #[test]
    fn units_compare_exactly() {
        assert_eq!(q(json!("100m")), q(json!(0.1)));
        assert_eq!(q(json!("1Gi")), q(json!(1073741824)));
        assert_eq!(q(json!("1k")), q(json!("1e3")));
        assert_eq!(q(json!("500m")), q(json!("0.5")));
        assert!(q(json!("800Mi")) > q(json!("512Mi")));
        assert!(q(json!("128Mi")) > q(json!("32Mi")));
        assert!(q(json!("1M")) < q(json!("1Mi")));
        assert!(q(json!("250u")) < q(json!("1m")));
        assert!(q(json!(".5")) < q(json!("1")));
    }

    #[test]
    fn invalid_quantities_are_refused() {
        for bad in [
            json!("abc"),
            json!("1.2.3"),
            json!("-1"),
            json!("1 Gi"),
            json!("1GB"),
            json!("."),
            json!("e3"),
            json!(true),
        ] {
            assert!(Quantity::parse(&bad).is_none(), "{bad}");
        }
    }
}
