//! The one parameter reader of every tool: IntelMQ bot parameters the way its bots
//! see them. Values come from a parameters file (`--params`, runtime.yaml's
//! `parameters:` block), from `-p KEY=VALUE`, or from `--option VALUE` on the
//! command line, where a value that parses as JSON is JSON and anything else is
//! text. Parsers, experts, collectors and outputs all read them through here, so a
//! parameter means the same in every tool.

use crate::message::{Add, FieldError, Message};
use crate::pipeline::Fail;
use anyhow::{bail, Result};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::time::Duration;

/// A bot's parameters: a JSON object, as in IntelMQ's runtime configuration.
pub type Params = Map<String, Value>;

/// Default timeout of one network call, in seconds.
pub const DEFAULT_TIMEOUT: f64 = 5.0;

/// Read a parameters file (`--params`): a JSON object.
pub fn read_file(path: &str) -> Result<Params> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    match serde_json::from_str::<Value>(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))? {
        Value::Object(m) => Ok(m),
        _ => bail!("{path}: parameters must be a JSON object"),
    }
}

/// `KEY=VALUE` parameters (`-p`); the value is JSON when it parses, else a string.
pub fn parse_kv(s: &str) -> Result<(String, Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
    Ok((k.to_string(), v))
}

/// A text parameter, borrowed where it can be; numbers and booleans are taken as
/// their text (booleans as Python prints them), lists and objects as absent.
pub fn text<'a>(p: &'a Params, key: &str) -> Option<Cow<'a, str>> {
    match p.get(key)? {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "True" } else { "False" })),
        _ => None,
    }
}

/// A text parameter; numbers and booleans are accepted as their text, a list or
/// an object is an error.
pub fn string(p: &Params, name: &str) -> Result<Option<String>> {
    match p.get(name) {
        Some(other @ (Value::Array(_) | Value::Object(_))) => {
            bail!("parameter {name}: expected text, got {other}")
        }
        _ => Ok(text(p, name).map(Cow::into_owned)),
    }
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

/// A boolean parameter: JSON booleans and numbers, and the words IntelMQ's
/// configuration tools write ("true"/"false", "yes"/"no", "on"/"off", "1"/"0");
/// anything else is an error rather than a guess.
pub fn boolean(p: &Params, name: &str, default: bool) -> Result<bool> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) => Ok(n.as_f64() != Some(0.0)),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(true),
            "false" | "no" | "0" | "off" | "" => Ok(false),
            _ => bail!("parameter {name}: expected a boolean, got {s:?}"),
        },
        Some(v) => bail!("parameter {name}: expected a boolean, got {v}"),
    }
}

/// A numeric parameter.
pub fn number(p: &Params, name: &str, default: f64) -> Result<f64> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => Ok(n.as_f64().unwrap_or(default)),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("parameter {name}: expected a number, got {s:?}")),
        Some(v) => bail!("parameter {name}: expected a number, got {v}"),
    }
}

/// The `timeout` parameter in seconds (IntelMQ's HTTP bots call it
/// `http_timeout_sec`, accepted too).
pub fn timeout(p: &Params) -> Result<Duration> {
    let t = if p.contains_key("timeout") {
        number(p, "timeout", DEFAULT_TIMEOUT)?
    } else {
        number(p, "http_timeout_sec", DEFAULT_TIMEOUT)?
    };
    if !(t > 0.0 && t.is_finite()) {
        bail!("parameter timeout: must be a positive number of seconds, got {t}");
    }
    Ok(Duration::from_secs_f64(t))
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
/// stripped, empty ones dropped), as many IntelMQ bots accept both; a single
/// number is a list of one.
pub fn list(p: &Params, name: &str) -> Result<Option<Vec<String>>> {
    Ok(match p.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.trim().to_string()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect(),
        ),
        Some(Value::String(s)) => Some(
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
        ),
        Some(Value::Number(n)) => Some(vec![n.to_string()]),
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

/// `Add` with IntelMQ's `overwrite=` argument.
pub fn add_opt(overwrite: bool) -> Add {
    Add {
        sanitize: true,
        overwrite: Some(overwrite),
    }
}
