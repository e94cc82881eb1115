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
///
/// It remembers which names the component asked for (given or not), so that a
/// parameter nobody reads — a typo such as `--datbase` or `-p overwrit=true` — is
/// found at start-up ([`Params::unread`]) and the names asked for serve as "did
/// you mean" suggestions.
#[derive(Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Params {
    map: Map<String, Value>,
    #[serde(skip)]
    asked: std::sync::Mutex<Vec<String>>,
}

impl Clone for Params {
    fn clone(&self) -> Params {
        Params {
            map: self.map.clone(),
            asked: std::sync::Mutex::new(self.asked_names()),
        }
    }
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.map.fmt(f)
    }
}

impl PartialEq for Params {
    fn eq(&self, o: &Params) -> bool {
        self.map == o.map
    }
}

impl std::ops::Deref for Params {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Map<String, Value> {
        &self.map
    }
}

impl std::ops::DerefMut for Params {
    fn deref_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.map
    }
}

impl From<Map<String, Value>> for Params {
    fn from(map: Map<String, Value>) -> Params {
        Params {
            map,
            asked: Default::default(),
        }
    }
}

impl FromIterator<(String, Value)> for Params {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(it: I) -> Params {
        Params::from(it.into_iter().collect::<Map<String, Value>>())
    }
}

impl IntoIterator for Params {
    type Item = (String, Value);
    type IntoIter = serde_json::map::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter()
    }
}

impl<'a> IntoIterator for &'a Params {
    type Item = (&'a String, &'a Value);
    type IntoIter = serde_json::map::Iter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

/// Parameters every IntelMQ bot has (runtime.yaml), read by IntelMQ's `Bot`
/// class rather than by the bot: never "unknown".
const BOT_PARAMETERS: &[&str] = &[
    "accuracy",
    "bot_id",
    "description",
    "destination_pipeline_broker",
    "destination_pipeline_db",
    "destination_pipeline_host",
    "destination_pipeline_password",
    "destination_pipeline_port",
    "destination_queues",
    "enabled",
    "error_dump_message",
    "error_log_exception",
    "error_log_message",
    "error_max_retries",
    "error_procedure",
    "error_retry_delay",
    "group",
    "http_proxy",
    "http_timeout_max_tries",
    "http_timeout_sec",
    "http_user_agent",
    "http_verify_cert",
    "https_proxy",
    "instances_threads",
    "load_balance",
    "log_processed_messages_count",
    "log_processed_messages_seconds",
    "logging_handler",
    "logging_level",
    "logging_path",
    "logging_syslog",
    "module",
    "name",
    "process_manager",
    "rate_limit",
    "run_mode",
    "source_pipeline_broker",
    "source_pipeline_db",
    "source_pipeline_host",
    "source_pipeline_password",
    "source_pipeline_port",
    "source_queue",
    "ssl_ca_certificate",
    "statistics_database",
    "statistics_host",
    "statistics_password",
    "statistics_port",
];

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    fn note(&self, key: &str) {
        if let Ok(mut a) = self.asked.lock() {
            if !a.iter().any(|k| k == key) {
                a.push(key.to_string());
            }
        }
    }

    /// The value of a parameter (the name is remembered as one the component
    /// knows).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.note(key);
        self.map.get(key)
    }

    /// The value of a parameter, without remembering the name (for checks).
    pub fn map_get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// Is the parameter given? (The name is remembered, as by [`Params::get`].)
    pub fn contains_key(&self, key: &str) -> bool {
        self.note(key);
        self.map.contains_key(key)
    }

    /// The names asked for so far.
    pub fn asked_names(&self) -> Vec<String> {
        self.asked.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// The parameters given that the component never asked for (after it was
    /// built), each with the names it knows that come close. IntelMQ's generic
    /// bot parameters are not counted.
    pub fn unknown(&self) -> Vec<(String, Vec<String>)> {
        let asked = self.asked_names();
        self.map
            .keys()
            .filter(|k| !asked.iter().any(|a| a == *k) && !BOT_PARAMETERS.contains(&k.as_str()))
            .map(|k| {
                let close = crate::names::similar(k, asked.iter().map(String::as_str));
                (k.clone(), close.into_iter().map(String::from).collect())
            })
            .collect()
    }

    /// [`Params::unknown`] as text: `"datbase"; did you mean "database"?`.
    pub fn unread(&self) -> Vec<String> {
        self.unknown()
            .into_iter()
            .map(|(k, close)| {
                let close: Vec<String> = close.iter().map(|c| format!("{c:?}")).collect();
                if close.is_empty() {
                    format!("{k:?}")
                } else {
                    format!("{k:?} (did you mean {}?)", close.join(" or "))
                }
            })
            .collect()
    }

    /// Fail when one of `given` (names from the command line) is a parameter
    /// the component does not know; `style` writes a name as the user gave it
    /// (`--name` for an expert's options, `name` for `-p`).
    pub fn check_given(
        &self,
        what: &str,
        given: &[String],
        style: fn(&str) -> String,
    ) -> Result<()> {
        let bad: Vec<String> = self
            .unknown()
            .into_iter()
            .filter(|(k, _)| given.iter().any(|g| g == k))
            .map(|(k, close)| {
                let close: Vec<String> = close.iter().map(|c| style(c)).collect();
                if close.is_empty() {
                    style(&k)
                } else {
                    format!("{} (did you mean {}?)", style(&k), close.join(" or "))
                }
            })
            .collect();
        if !bad.is_empty() {
            bail!("{what}: unknown {}", bad.join(", "));
        }
        Ok(())
    }

    /// Fail when a parameter was given that the component does not know.
    pub fn check_unread(&self, what: &str) -> Result<()> {
        let bad = self.unread();
        if !bad.is_empty() {
            bail!("{what}: unknown parameter {}", bad.join(", "));
        }
        Ok(())
    }
}

/// Default timeout of one network call, in seconds.
pub const DEFAULT_TIMEOUT: f64 = 5.0;

/// Read a parameters file (`--params`): a JSON object.
pub fn read_file(path: &str) -> Result<Params> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    from_text(&text).map_err(|e| anyhow::anyhow!("{path}: {e:#}"))
}

/// Parameters as `--params` takes them: a JSON object, or YAML as IntelMQ's
/// runtime.yaml writes it: the `parameters:` mapping itself, or one bot's whole
/// entry (`module:`, `parameters:`, ...), whose `parameters` are taken.
fn from_text(text: &str) -> Result<Params> {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(json) if text.trim_start().starts_with('{') => bail!("{json}"),
        Err(_) => serde_norway::from_str(text).map_err(|e| anyhow::anyhow!("YAML: {e}"))?,
    };
    let Value::Object(mut m) = v else {
        bail!("parameters must be a JSON object or a YAML mapping");
    };
    // A bot's entry (with its module), or just its `parameters:` mapping.
    if m.contains_key("module")
        || (m.len() == 1 && m.get("parameters").is_some_and(Value::is_object))
    {
        if let Some(Value::Object(p)) = m.remove("parameters") {
            return Ok(p.into());
        }
        return Ok(Params::new());
    }
    // A whole runtime.yaml: bot ids mapping to entries.
    if !m.is_empty()
        && m.values()
            .all(|b| b.as_object().is_some_and(|o| o.contains_key("module")))
    {
        let ids: Vec<&str> = m.keys().map(String::as_str).take(5).collect();
        bail!(
            "this is a whole runtime.yaml ({}...): give one bot's entry or its parameters \
             (imq-supervise import carries a whole runtime.yaml over)",
            ids.join(", ")
        );
    }
    Ok(m.into())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_from_json_or_runtime_yaml() {
        let p = from_text(r#"{"a": 1, "b": "x"}"#).unwrap();
        assert_eq!(p.get("a"), Some(&Value::from(1)));
        let p = from_text("a: 1\nb: x\nlist: [1, 2]\nflag: true\n").unwrap();
        assert_eq!(p.get("b"), Some(&Value::from("x")));
        assert_eq!(p.get("flag"), Some(&Value::from(true)));
        assert_eq!(p.get("list"), Some(&serde_json::json!([1, 2])));
        // One bot's entry of runtime.yaml: its parameters.
        let p = from_text(
            "bot_id: taxonomy-expert\nmodule: intelmq.bots.experts.taxonomy.expert\n\
             parameters:\n  destination_queues:\n    _default: [file-output-queue]\n  overwrite: true\n",
        )
        .unwrap();
        assert_eq!(p.get("overwrite"), Some(&Value::from(true)));
        assert!(p.get("module").is_none());
        let e = from_text(
            "a-bot:\n  module: intelmq.bots.experts.taxonomy.expert\nb-bot:\n  module: x\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("whole runtime.yaml"), "{e}");
        assert!(from_text("{\"a\": ").is_err());
        assert!(from_text("- 1\n- 2\n").is_err());
    }
}
