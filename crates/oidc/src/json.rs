//! Strict JSON objects: a reader that refuses a member name appearing twice in any object, at any depth.
//!
//! `serde_json` keeps the last of duplicate members; another reader (a proxy, the issuer's own library) may keep
//! the first, so a token with `{"sub":"alice","sub":"admin"}` could mean two things. Refusing it removes the
//! ambiguity. Names are compared after unescaping (`"exp"` and `"\u0065xp"` are the same member). Nesting is
//! bounded by `serde_json`'s recursion limit (128); sizes are bounded by the callers.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a document is not a strict JSON object.
#[derive(Debug)]
pub enum JsonError {
    /// A member name appears twice in one object (the name, unescaped).
    Duplicate(String),
    /// Not JSON, trailing data, or not an object at the top level (what the reader said).
    Syntax(String),
}

/// Reads `bytes` as one JSON object with no duplicate member names anywhere. Callers bound the size first.
///
/// # Errors
/// [`JsonError::Duplicate`] for a member name twice in one object; [`JsonError::Syntax`] for anything else.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    let duplicate = Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let read = Strict { duplicate: &duplicate }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match read {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(JsonError::Syntax("the top level is not an object".to_owned())),
        Err(e) => match duplicate.take() {
            Some(name) => Err(JsonError::Duplicate(name)),
            None => Err(JsonError::Syntax(e.to_string())),
        },
    }
}

/// Builds a [`Value`] like `serde_json` does, but records the first duplicate member name and fails.
#[derive(Clone, Copy)]
struct Strict<'a> {
    duplicate: &'a Cell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            if map.contains_key(&name) {
                self.duplicate.set(Some(name));
                return Err(de::Error::custom("duplicate member name"));
            }
            let value = access.next_value_seed(self)?;
            map.insert(name, value);
        }
        Ok(Value::Object(map))
    }
}
