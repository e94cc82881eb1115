//! IntelMQ's filter expert (`intelmq.bots.experts.filter.expert`): keep or
//! drop by one field (`filter_key`, `filter_value`, `filter_regex`,
//! `filter_action`) and by the age of `time.source` (`not_before`,
//! `not_after`, absolute or relative), with the named paths `filter_match`,
//! `filter_no_match` and `action_other`.

use super::value::{mentions_timespan, parse_relative, py_eq, read_time, When};
use crate::enrich::Params;
use crate::message::Message;
use crate::pyfmt::py_str;
use anyhow::{anyhow, bail};
use chrono::NaiveDateTime;
use regex::Regex;
use serde_json::Value;

/// Paths the filter expert sends to besides `_default`. IntelMQ sends to them
/// only when they are configured (`path_permissive`).
pub const OPTIONAL_PATHS: [&str; 3] = ["action_other", "filter_match", "filter_no_match"];

#[derive(Debug)]
pub struct FilterExpert {
    key_filter: Option<KeyFilter>,
    not_before: Option<When>,
    not_after: Option<When>,
}

#[derive(Debug)]
struct KeyFilter {
    key: String,
    value: Value,
    regex: Option<Regex>,
    keep: bool,
}

/// Python truthiness of a parameter.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// The filter expert's `parse_timeattr`: relative when the text names a time
/// span, else an absolute time (a naive one is UTC).
fn time_attr(name: &str, v: &Value) -> anyhow::Result<When> {
    let s = v.as_str().map(str::to_string).unwrap_or_else(|| py_str(v));
    if mentions_timespan(&s) {
        let d = parse_relative(&s).map_err(|e| anyhow!("{name}: {e}"))?;
        return Ok(When::FromNow(-d));
    }
    if let Some(t) = read_time(&s) {
        return Ok(When::At(t));
    }
    let midnight = NaiveDateTime::default();
    crate::timeparse::parse_fuzzy(&s, midnight)
        .map(|p| When::At(p.to_utc()))
        .map_err(|e| anyhow!("{name}: cannot read {s:?} as a time: {e}"))
}

/// What the expert does with one event.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Dropped by the time filter (sent nowhere).
    Drop,
    /// Sent to these paths, in order.
    Send(&'static [&'static str]),
}

impl FilterExpert {
    pub fn from_params(p: &Params) -> anyhow::Result<FilterExpert> {
        let not_after = match p.get("not_after") {
            Some(v) if truthy(Some(v)) => Some(time_attr("not_after", v)?),
            _ => None,
        };
        let not_before = match p.get("not_before") {
            Some(v) if truthy(Some(v)) => Some(time_attr("not_before", v)?),
            _ => None,
        };
        let present = |k: &str| p.get(k).filter(|v| !v.is_null());
        let key_filter = match (
            present("filter_key"),
            present("filter_value"),
            present("filter_action").and_then(Value::as_str),
        ) {
            (Some(key), Some(value), Some(action @ ("keep" | "drop"))) => {
                let regex = if truthy(p.get("filter_regex")) {
                    let pat = value
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| py_str(value));
                    Some(
                        Regex::new(&pat)
                            .map_err(|e| anyhow!("filter_value: invalid regex: {e}"))?,
                    )
                } else {
                    None
                };
                Some(KeyFilter {
                    key: key
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| py_str(key)),
                    value: value.clone(),
                    regex,
                    keep: action == "keep",
                })
            }
            _ => None,
        };
        if key_filter.is_none() && not_after.is_none() && not_before.is_none() {
            bail!("No relevant filter configuration found.");
        }
        Ok(FilterExpert {
            key_filter,
            not_before,
            not_after,
        })
    }

    pub fn decide(&self, ev: &Message) -> Decision {
        if self.not_after.is_some() || self.not_before.is_some() {
            // IntelMQ reads time.source and takes its wall time as UTC.
            if let Some(t) = ev.get("time.source").and_then(|v| read_time(&py_str(v))) {
                let t = t.naive_utc().and_utc();
                if self.not_after.as_ref().is_some_and(|w| t > w.resolve()) {
                    return Decision::Drop;
                }
                if self.not_before.as_ref().is_some_and(|w| t < w.resolve()) {
                    return Decision::Drop;
                }
            }
        }
        let Some(f) = &self.key_filter else {
            return Decision::Send(&["_default"]);
        };
        let matched = match ev.get(&f.key) {
            None => false,
            Some(v) => match &f.regex {
                Some(re) => match v {
                    Value::String(s) => re.is_match(s),
                    _ => re.is_match(&py_str(v)),
                },
                None => py_eq(v, &f.value),
            },
        };
        Decision::Send(match (f.keep, matched) {
            (false, true) => &["action_other", "filter_match"],
            (false, false) => &["filter_no_match", "_default"],
            (true, true) => &["filter_match", "_default"],
            (true, false) => &["action_other", "filter_no_match"],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harmonization::MsgType;
    use serde_json::json;

    fn expert(p: Value) -> anyhow::Result<FilterExpert> {
        FilterExpert::from_params(&p.as_object().unwrap().clone().into())
    }

    fn ev(s: &str) -> Message {
        Message::from_json(s.as_bytes(), MsgType::Event).unwrap()
    }

    #[test]
    fn key_value_actions() {
        let e =
            expert(json!({"filter_key": "extra.a", "filter_value": "x", "filter_action": "keep"}))
                .unwrap();
        assert_eq!(
            e.decide(&ev(r#"{"extra.a":"x"}"#)),
            Decision::Send(&["filter_match", "_default"])
        );
        assert_eq!(
            e.decide(&ev(r#"{"extra.a":"y"}"#)),
            Decision::Send(&["action_other", "filter_no_match"])
        );
        let e =
            expert(json!({"filter_key": "extra.a", "filter_value": true, "filter_action": "drop"}))
                .unwrap();
        assert_eq!(
            e.decide(&ev(r#"{"extra.a":1}"#)),
            Decision::Send(&["action_other", "filter_match"])
        );
        assert_eq!(
            e.decide(&ev(r#"{}"#)),
            Decision::Send(&["filter_no_match", "_default"])
        );
    }

    #[test]
    fn regex_and_times() {
        let e = expert(json!({"filter_key": "feed.name", "filter_value": "^fe", "filter_regex": "yes", "filter_action": "keep"})).unwrap();
        assert_eq!(
            e.decide(&ev(r#"{"feed.name":"feed"}"#)),
            Decision::Send(&["filter_match", "_default"])
        );
        let e = expert(json!({"not_after": "2014-01-01T00:00:00+00:00"})).unwrap();
        assert_eq!(
            e.decide(&ev(r#"{"time.source":"2015-01-01T00:00:00+00:00"}"#)),
            Decision::Drop
        );
        assert_eq!(
            e.decide(&ev(r#"{"time.source":"2013-01-01T00:00:00+00:00"}"#)),
            Decision::Send(&["_default"])
        );
        let e = expert(json!({"not_before": "30 years"})).unwrap();
        assert_eq!(
            e.decide(&ev(r#"{"time.source":"1980-01-01T00:00:00+00:00"}"#)),
            Decision::Drop
        );
        assert!(expert(json!({"not_after": "10 hourz x"})).is_err());
        assert!(expert(json!({"filter_key": "a"})).is_err());
        assert!(expert(
            json!({"filter_key": "a", "filter_value": "", "filter_action": "drop", "not_after": ""})
        )
        .is_ok());
    }
}
