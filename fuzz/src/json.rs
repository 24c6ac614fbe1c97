//! Comparing JSON values after a round trip through a config type.
//!
//! serde_json reads floats to within one unit in the last place unless its `float_roundtrip`
//! feature is on (hubwire does not turn it on), so a float may drift by that much between two
//! reads of the same text. Everything else must come back exactly.

use serde_json::Value;

/// Panics, naming the path, where `a` and `b` differ by more than float drift.
pub fn assert_same_json(a: &Value, b: &Value) {
    compare(a, b, &mut String::from("$"));
}

fn compare(a: &Value, b: &Value, path: &mut String) {
    match (a, b) {
        (Value::Array(xs), Value::Array(ys)) => {
            assert_eq!(xs.len(), ys.len(), "{path}: lengths differ");
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                compare(x, y, path);
                path.truncate(len);
            }
        }
        (Value::Object(xs), Value::Object(ys)) => {
            assert_eq!(xs.len(), ys.len(), "{path}: key counts differ");
            for (key, x) in xs {
                let y = ys
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key}: missing"));
                let len = path.len();
                path.push('.');
                path.push_str(key);
                compare(x, y, path);
                path.truncate(len);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(x == y || ulps_apart(x, y) <= 2, "{path}: {x} became {y}");
        }
        _ => assert_eq!(a, b, "{path}: values differ"),
    }
}

/// How many representable floats lie between `x` and `y` (both finite: JSON has no others).
fn ulps_apart(x: f64, y: f64) -> u64 {
    // Mapping the bits onto one ordered line makes neighbours differ by one.
    let line = |f: f64| {
        let bits = f.to_bits() as i64;
        if bits < 0 {
            i64::MIN - bits
        } else {
            bits
        }
    };
    line(x).abs_diff(line(y))
}
