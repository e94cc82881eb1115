//! Reading expert parameters the way IntelMQ's bots see them: values come from a
//! JSON object (runtime.yaml `parameters`) or from `--option VALUE` on the command
//! line, where a value that parses as JSON is JSON and anything else is text.

use super::Params;
use crate::message::{Add, FieldError, Message};
use crate::stream::Fail;
use anyhow::{bail, Result};
use serde_json::Value;

/// A text parameter; numbers and booleans are accepted as their text.
pub fn string(p: &Params, name: &str) -> Result<Option<String>> {
    Ok(match p.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(if *b { "True" } else { "False" }.into()),
        Some(other) => bail!("parameter {name}: expected text, got {other}"),
    })
}

/// A text parameter with a default.
pub fn string_or(p: &Params, name: &str, default: &str) -> Result<String> {
    Ok(string(p, name)?.unwrap_or_else(|| default.to_string()))
}

/// A parameter that must be given.
pub fn required(p: &Params, name: &str) -> Result<String> {
    match string(p, name)? {
        Some(s) => Ok(s),
        None => bail!("parameter {name} is required"),
    }
}

/// A boolean parameter with Python's truthiness for the odd types IntelMQ
/// configurations contain ("true", 1, ...).
pub fn boolean(p: &Params, name: &str, default: bool) -> bool {
    match p.get(name) {
        None | Some(Value::Null) => default,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "" | "false" | "no" | "0" | "off"
        ),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// An integer parameter.
pub fn integer(p: &Params, name: &str, default: i64) -> Result<i64> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match crate::harmonization::py_int(v) {
            Some(n) => Ok(n),
            None => bail!("parameter {name}: expected an integer, got {v}"),
        },
    }
}

/// A list parameter given as a JSON list or as comma-separated text (items
/// stripped), as many IntelMQ bots accept both.
pub fn list(p: &Params, name: &str) -> Result<Option<Vec<String>>> {
    Ok(match p.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        ),
        Some(Value::String(s)) => Some(s.split(',').map(|x| x.trim().to_string()).collect()),
        Some(other) => bail!("parameter {name}: expected a list, got {other}"),
    })
}

/// IntelMQ's `add(key, value, overwrite=..., raise_failure=False)`: an invalid value
/// is skipped (`Ok(false)`) instead of failing the event.
pub fn add_soft(
    ev: &mut Message,
    key: &str,
    value: Value,
    overwrite: Option<bool>,
) -> Result<bool, Fail> {
    match ev.add_with(
        key,
        value,
        Add {
            sanitize: true,
            overwrite,
        },
    ) {
        Ok(b) => Ok(b),
        Err(FieldError::InvalidValue { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// IntelMQ's `add(key, value, overwrite=...)`.
pub fn add(
    ev: &mut Message,
    key: &str,
    value: Value,
    overwrite: Option<bool>,
) -> Result<bool, Fail> {
    Ok(ev.add_with(
        key,
        value,
        Add {
            sanitize: true,
            overwrite,
        },
    )?)
}
