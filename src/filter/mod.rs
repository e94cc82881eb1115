//! `imq-filter`: keep, drop and route events.
//!
//! This module holds IntelMQ's filter expert semantics (`filter_key`,
//! `filter_value`, `filter_regex`, `filter_action`).

use crate::message::Message;
use crate::stream::{Emit, Fail, Stage};
use regex::Regex;
use serde_json::Value;

/// IntelMQ's filter expert, reduced to key/value/regex matching.
pub struct KeyFilter {
    pub key: String,
    pub value: Option<Value>,
    pub regex: Option<Regex>,
    /// Keep matching events (true) or drop them (false).
    pub keep: bool,
}

impl KeyFilter {
    fn matches(&self, ev: &Message) -> bool {
        let Some(v) = ev.get(&self.key) else {
            return false;
        };
        if let Some(r) = &self.regex {
            let text = crate::pyfmt::py_str(v);
            return r.is_match(&text);
        }
        match &self.value {
            Some(want) => crate::pyfmt::py_str(want) == crate::pyfmt::py_str(v),
            None => true,
        }
    }
}

impl Stage for KeyFilter {
    fn default_type(&self) -> crate::harmonization::MsgType {
        crate::harmonization::MsgType::Event
    }

    fn process(&mut self, msg: Message, out: &mut Emit) -> Result<(), Fail> {
        if self.matches(&msg) == self.keep {
            // Kept and unmodified: the original bytes go out as they came.
            out.send_original("_default")?;
        } else {
            out.filtered();
        }
        Ok(())
    }
}
