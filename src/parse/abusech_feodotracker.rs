//! abuse.ch Feodo Tracker: a JSON list of botnet C2 servers
//! (IntelMQ `intelmq.bots.parsers.abusech.parser_feodotracker`).

use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pyfmt::py_json_dumps;
use crate::stream::Fail;
use crate::timeparse;
use serde_json::Value;

pub struct Feodo;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Feodo))
}

/// `add(..., raise_failure=False)`: a value that does not fit is left out.
fn soft(ev: &mut Message, key: &str, v: Option<&Value>) {
    if let Some(v) = v {
        let _ = ev.add(key, v.clone());
    }
}

impl Parser for Feodo {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let list: Vec<Value> = serde_json::from_slice(data)
            .map_err(|e| Fail::Reject(format!("feed is not a JSON list: {e}")))?;
        for item in list {
            let result = event(&item, out);
            out.record_one(dump_raw(&item, &result).as_bytes(), result)?;
        }
        Ok(())
    }

    /// The list read element by element: constant memory for any feed size.
    fn parse_stream(
        &mut self,
        input: &mut dyn std::io::BufRead,
        out: &mut Records,
    ) -> Option<Result<(), Fail>> {
        let mut items = super::stream_json::ArrayItems::new(input);
        let mut run = || -> Result<(), Fail> {
            while let Some(bytes) = items.next_item()? {
                match serde_json::from_slice::<Value>(bytes) {
                    Ok(item) => {
                        let result = event(&item, out);
                        out.record_one(dump_raw(&item, &result).as_bytes(), result)?;
                    }
                    Err(e) => out.record(bytes, Err(Fail::Reject(format!("not JSON: {e}"))))?,
                }
            }
            Ok(())
        };
        Some(run())
    }
}

/// `time.source` from a parsed time: `to_iso` is IntelMQ's form already, so
/// sanitizing it again would change nothing (and cost a parse).
fn add_time(ev: &mut Message, t: &timeparse::Parsed) {
    let iso = Value::String(timeparse::to_iso(&t.to_utc()));
    let opt = crate::message::Add {
        sanitize: false,
        overwrite: None,
    };
    let _ = ev.add_with("time.source", iso, opt);
}

/// What goes to the dump for a record (built only when it failed).
fn dump_raw<T>(item: &Value, result: &Result<T, Fail>) -> String {
    match result {
        Ok(_) => String::new(),
        Err(_) => py_json_dumps(&Value::Array(vec![item.clone()]), false),
    }
}

fn event(line: &Value, out: &Records) -> Result<Message, Fail> {
    let mut ev = out.new_event();
    let get = |k: &str| line.get(k).filter(|v| !v.is_null());
    let nonempty = |k: &str| get(k).filter(|v| v.as_str() != Some(""));
    if let Some(first) = nonempty("first_seen").and_then(Value::as_str) {
        if let Ok(t) = timeparse::strptime(first, "%Y-%m-%d %H:%M:%S") {
            add_time(&mut ev, &t);
        }
    } else if let Some(last) = nonempty("last_online").and_then(Value::as_str) {
        if let Ok(t) = timeparse::strptime(last, "%Y-%m-%d") {
            add_time(&mut ev, &t);
        }
    }
    ev.add("classification.type", "c2-server")?;
    ev.add(
        "source.ip",
        get("ip_address").cloned().unwrap_or(Value::Null),
    )?;
    ev.add("source.port", get("port").cloned().unwrap_or(Value::Null))?;
    soft(&mut ev, "source.asn", get("as_number"));
    soft(&mut ev, "source.as_name", get("as_name"));
    soft(&mut ev, "source.geolocation.cc", get("country"));
    soft(&mut ev, "source.reverse_dns", get("hostname"));
    soft(&mut ev, "malware.name", get("malware"));
    soft(&mut ev, "extra.last_online", get("last_online"));
    soft(&mut ev, "status", get("status"));
    // `json.dumps([line])`, without cloning the record into a list.
    let item = py_json_dumps(line, false);
    let mut raw = String::with_capacity(item.len() + 2);
    raw.push('[');
    raw.push_str(&item);
    raw.push(']');
    ev.add("raw", raw)?;
    Ok(ev)
}
