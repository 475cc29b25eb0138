//! JSON Canonicalization Scheme (RFC 8785): object keys sorted by UTF-16 code units, no whitespace, strings
//! with the minimal JSON escaping, numbers in ECMAScript `Number.prototype.toString` form. Used to hash
//! assertions exactly as the reference SDKs do.

use serde_json::Value;

use crate::error::{Error, Result};

/// The canonical form of a JSON value.
///
/// # Errors
/// [`Error::Manifest`] for a number JSON cannot represent (never from parsed input).
pub fn canonicalize(value: &Value) -> Result<String> {
    let mut out = String::new();
    write(value, &mut out)?;
    Ok(out)
}

fn write(value: &Value, out: &mut String) -> Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                let f = n.as_f64().ok_or_else(|| Error::Manifest("a number is not representable".into()))?;
                out.push_str(&es6_number(f)?);
            }
        }
        Value::String(s) => write_string(s, out)?,
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out)?;
                out.push(':');
                if let Some(v) = map.get(k) {
                    write(v, out)?;
                }
            }
            out.push('}');
        }
    }
    Ok(())
}

/// serde_json's string escaping is RFC 8785's: `\b \t \n \f \r \" \\`, other controls as lower-case `\u00xx`,
/// everything else literal.
fn write_string(s: &str, out: &mut String) -> Result<()> {
    out.push_str(&serde_json::to_string(s).map_err(|_| Error::Crypto("string serialisation"))?);
    Ok(())
}

/// ECMAScript's shortest round-trip number form (ECMA-262 7.1.12.1).
fn es6_number(v: f64) -> Result<String> {
    if !v.is_finite() {
        return Err(Error::Manifest("JSON cannot carry a non-finite number".into()));
    }
    if v == 0.0 {
        return Ok("0".into());
    }
    // `{:e}` gives the shortest round-trip digits: "d.ddde±x".
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').ok_or(Error::Crypto("number formatting"))?;
    let exp: i32 = exp.parse().map_err(|_| Error::Crypto("number formatting"))?;
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    let n = exp + 1;
    let mut s = String::new();
    if v < 0.0 {
        s.push('-');
    }
    if k <= n && n <= 21 {
        s.push_str(&digits);
        s.push_str(&"0".repeat((n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (a, b) = digits.split_at(n as usize);
        s.push_str(a);
        s.push('.');
        s.push_str(b);
    } else if -6 < n && n <= 0 {
        s.push_str("0.");
        s.push_str(&"0".repeat((-n) as usize));
        s.push_str(&digits);
    } else {
        let (a, b) = digits.split_at(1);
        s.push_str(a);
        if !b.is_empty() {
            s.push('.');
            s.push_str(b);
        }
        s.push('e');
        s.push(if n > 0 { '+' } else { '-' });
        s.push_str(&(n - 1).abs().to_string());
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8785_examples() {
        let v: Value = serde_json::from_str(
            r#"{"numbers":[333333333.3333333,1E30,4.50,2e-3,0.000000000000000000000000001],
                "string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#,
        )
        .unwrap();
        assert_eq!(
            canonicalize(&v).unwrap(),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn sorts_by_utf16_code_units() {
        let v: Value =
            serde_json::from_str(r#"{"\u20ac":1,"\r":2,"1":3,"\ud83d\ude00":4,"\u0080":5,"\u00f6":6}"#)
                .unwrap();
        assert_eq!(canonicalize(&v).unwrap(), "{\"\\r\":2,\"1\":3,\"\u{80}\":5,\"ö\":6,\"€\":1,\"😀\":4}");
    }

    #[test]
    fn es6_numbers() {
        for (v, s) in [
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (-1.5, "-1.5"),
            (123.0, "123"),
            (5e-324, "5e-324"),
        ] {
            assert_eq!(es6_number(v).unwrap(), s);
        }
    }
}
