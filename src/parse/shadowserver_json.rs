//! Shadowserver reports in JSON, as the Reports API gives them (IntelMQ
//! `intelmq.bots.parsers.shadowserver.parser_json`, listed in IntelMQ 3.5.0's
//! feeds but no longer shipped; this follows its last version on top of the
//! same schema and mapping as the CSV parser).
//!
//! Input: a JSON list of records, or one record per line (JSON lines); CSV
//! (what IntelMQ 3.5.0's Reports API collector actually delivers) is read as
//! the CSV parser reads it. The
//! report type is chosen as for the CSV parser (`feedname`, else
//! `extra.file_name`, ending in `.json` or `.csv`). Each record's keys are its
//! columns; a JSON number or boolean is handed to a conversion function as its
//! Python `str`, a null counts as a missing value. `raw` is the record
//! re-serialised (IntelMQ's `recover_line_json`). Parameters as the CSV parser.

use super::shadowserver::Select;
use super::shadowserver_map::{map_row, Ctx, Row};
use super::stream_json::ArrayItems;
use super::{Params, Parser, Records};
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use serde_json::{Map, Value};
use std::io::BufRead;

pub struct ShadowserverJson {
    select: Select,
    overwrite: Option<bool>,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(ShadowserverJson {
        select: Select::new(p, "csv|json")?,
        overwrite: super::shadowserver::overwrite_param(p),
    }))
}

struct JsonRow<'a> {
    keys: Vec<String>,
    obj: &'a Map<String, Value>,
}

impl Row for JsonRow<'_> {
    fn columns(&self) -> &[String] {
        &self.keys
    }
    fn has(&self, col: &str) -> bool {
        self.obj.contains_key(col)
    }
    fn value(&self, col: &str) -> Option<Value> {
        self.obj.get(col).filter(|v| !v.is_null()).cloned()
    }
}

fn record(ctx: &Ctx, item: &[u8], out: &mut Records) -> Result<(), Fail> {
    let v: Value = match serde_json::from_slice(item) {
        Ok(v) => v,
        Err(e) => return out.record_one(item, Err(Fail::Reject(format!("not JSON: {e}")))),
    };
    let raw = py_json_dumps(&v, false);
    let Value::Object(obj) = &v else {
        return out.record_one(
            raw.as_bytes(),
            Err(Fail::Reject("record is not a JSON object".into())),
        );
    };
    let row = JsonRow {
        keys: obj.keys().cloned().collect(),
        obj,
    };
    let result = map_row(ctx, &row, &raw, out.new_event()).map_err(Fail::Reject);
    out.record_one(raw.as_bytes(), result)
}

/// The first byte that is not whitespace (or a byte order mark), not consumed.
fn peek_start(input: &mut dyn BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        if buf.starts_with(b"\xef\xbb\xbf") {
            input.consume(3);
            continue;
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                input.consume(i);
                return Ok(Some(b));
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

impl ShadowserverJson {
    fn run(&mut self, input: &mut dyn BufRead, out: &mut Records) -> Result<(), Fail> {
        let (rt, feed_name) = self.select.pick(out.report())?;
        let ctx = Ctx {
            report: rt,
            feed_name: &feed_name,
            overwrite: self.overwrite,
        };
        match peek_start(input)? {
            None => Ok(()),
            Some(b'[') => {
                let mut items = ArrayItems::new(input).limit(out.max_record());
                loop {
                    let item = match items.next_item() {
                        Ok(Some(i)) => i.to_vec(),
                        Ok(None) => return Ok(()),
                        Err(e) => return Err(Fail::Reject(e.to_string())),
                    };
                    record(&ctx, &item, out)?;
                }
            }
            Some(b'{') => {
                let mut line = Vec::new();
                loop {
                    let total = crate::transport::line::read_until_limited(
                        input,
                        b'\n',
                        &mut line,
                        out.max_record(),
                    )?;
                    if total == 0 {
                        return Ok(());
                    }
                    if total > line.len() {
                        out.record_too_long(&line, total)?;
                        continue;
                    }
                    let t = line.trim_ascii();
                    if !t.is_empty() {
                        record(&ctx, t, out)?;
                    }
                }
            }
            // IntelMQ 3.5.0's Reports API collector downloads CSV (and names the
            // files `.csv`), while its feed list still names this parser.
            Some(_) => super::shadowserver::stream_csv(ctx, input, out),
        }
    }
}

impl Parser for ShadowserverJson {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let mut input: &[u8] = data;
        self.run(&mut input, out)
    }

    fn parse_stream(
        &mut self,
        input: &mut dyn BufRead,
        out: &mut Records,
    ) -> Option<Result<(), Fail>> {
        Some(self.run(input, out))
    }
}
