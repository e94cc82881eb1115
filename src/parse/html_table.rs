//! HTML table feeds: one event per table row, columns named by parameters
//! (IntelMQ `intelmq.bots.parsers.html_table.parser`).
//!
//! Parameters (IntelMQ's names): `columns` (list or comma-separated; `a|b`
//! alternatives, `__IGNORE__`), `ignore_values`, `attribute_name` +
//! `attribute_value` (which table), `table_index`, `skip_table_head` (true),
//! `split_column` + `split_separator` + `split_index`, `default_url_protocol`,
//! `time_format`, `type` (`c2-server`). `raw` is the row's HTML as
//! BeautifulSoup prints it (see [`super::htmldom`]).

use super::htmldom::Dom;
use super::{feedio, Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::timeparse;
use serde_json::Value;

pub struct HtmlTable {
    columns: Vec<String>,
    ignore_values: Vec<String>,
    attr: Option<(String, String)>,
    table_index: usize,
    skip_row: usize,
    split_column: String,
    split_separator: Option<String>,
    split_index: i64,
    default_url_protocol: String,
    time_format: String,
    ty: Option<String>,
}

fn str_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        Some(Value::String(s)) => Some(s.split(',').map(|c| c.trim().to_string()).collect()),
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect(),
        ),
        _ => None,
    }
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    let columns =
        str_list(p.get("columns")).unwrap_or_else(|| vec!["".into(), "source.fqdn".into()]);
    let ignore_values =
        str_list(p.get("ignore_values")).unwrap_or_else(|| vec![String::new(); columns.len()]);
    if columns.len() != ignore_values.len() {
        anyhow::bail!("Length of parameters 'columns' and 'ignore_values' is not equal.");
    }
    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let num = |k: &str| match p.get(k) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    let attr_name = s("attribute_name");
    Ok(Box::new(HtmlTable {
        columns,
        ignore_values,
        attr: (!attr_name.is_empty()).then(|| (attr_name, s("attribute_value"))),
        table_index: num("table_index").max(0) as usize,
        skip_row: p
            .get("skip_table_head")
            .and_then(Value::as_bool)
            .unwrap_or(true) as usize,
        split_column: s("split_column"),
        split_separator: p
            .get("split_separator")
            .and_then(Value::as_str)
            .map(String::from),
        split_index: num("split_index"),
        default_url_protocol: p
            .get("default_url_protocol")
            .and_then(Value::as_str)
            .unwrap_or("http://")
            .to_string(),
        time_format: match p.get("time_format").and_then(Value::as_str) {
            None | Some("") => "fuzzy".into(),
            Some(f) => f.into(),
        },
        ty: match p.get("type") {
            None => Some("c2-server".into()),
            Some(Value::String(t)) => Some(t.clone()),
            _ => None,
        },
    }))
}

/// Python's `str.split(sep)[index]` (`sep` None: runs of whitespace).
fn py_split_index(s: &str, sep: Option<&str>, index: i64) -> Option<String> {
    let parts: Vec<&str> = match sep {
        Some(sep) if !sep.is_empty() => s.split(sep).collect(),
        _ => s.split_whitespace().collect(),
    };
    let i = if index < 0 {
        parts.len() as i64 + index
    } else {
        index
    };
    parts.get(usize::try_from(i).ok()?).map(|p| p.to_string())
}

impl HtmlTable {
    /// One row's event; `Ok(None)` when nothing of the row could be added.
    fn event(&self, cells: &[String], out: &Records) -> Result<Option<Message>, Fail> {
        let mut ev = out.new_event();
        let mut added = false;
        for ((group, data), ignore) in self.columns.iter().zip(cells).zip(&self.ignore_values) {
            let mut data = crate::harmonization::py_strip(data).to_string();
            if data == *ignore {
                continue;
            }
            let keys: Vec<&str> = group.split('|').collect();
            let mut done = false;
            for key in &keys {
                if data.is_empty() || *key == "__IGNORE__" || key.is_empty() {
                    done = true;
                    break;
                }
                if !self.split_column.is_empty() && *key == self.split_column {
                    data = py_split_index(&data, self.split_separator.as_deref(), self.split_index)
                        .ok_or_else(|| Fail::Reject("split_index out of range".into()))?
                        .trim()
                        .to_string();
                }
                let mut v = data.clone();
                if *key == "time.source" || *key == "time.destination" {
                    v = timeparse::convert(&data, Some(&self.time_format))
                        .map_err(|e| Fail::Reject(format!("{key}: {e}")))?;
                    data = v.clone();
                } else if key.ends_with(".url") && !data.contains("://") {
                    v = format!("{}{data}", self.default_url_protocol);
                    data = v.clone();
                }
                // `if event.add(..., raise_failure=False)`: an ignored value is
                // no success either.
                match ev.add(key, v) {
                    Ok(true) => {
                        added = true;
                        done = true;
                        break;
                    }
                    Ok(false) | Err(crate::message::FieldError::InvalidValue { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if !done {
                return Err(Fail::Reject(format!(
                    "Could not add value {data:?} to {keys:?}, all invalid."
                )));
            }
        }
        if !added {
            return Ok(None);
        }
        if let Some(t) = &self.ty {
            if !ev.contains("classification.type") {
                ev.add("classification.type", t.as_str())?;
            }
        }
        Ok(Some(ev))
    }

    fn table_matches(&self, dom: &Dom, t: usize) -> bool {
        let Some((name, want)) = &self.attr else {
            return true;
        };
        match dom.attr(t, name) {
            // `class` is multi-valued for BeautifulSoup: any of its words matches.
            Some(v) => v == want || (name == "class" && v.split_whitespace().any(|c| c == want)),
            None => false,
        }
    }
}

impl Parser for HtmlTable {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let dom = Dom::parse(&text).map_err(Fail::Reject)?;
        let mut tables = Vec::new();
        dom.find_all(0, "table", &mut tables);
        tables.retain(|&t| self.table_matches(&dom, t));
        let Some(&table) = tables.get(self.table_index) else {
            return Err(Fail::Reject(format!(
                "no table number {} in the feed ({} found)",
                self.table_index,
                tables.len()
            )));
        };
        let mut rows = Vec::new();
        dom.find_all(table, "tr", &mut rows);
        for &row in rows.iter().skip(self.skip_row) {
            let mut tds = Vec::new();
            dom.find_all(row, "td", &mut tds);
            let cells: Vec<String> = tds
                .iter()
                .map(|&td| {
                    let mut s = String::new();
                    dom.text(td, &mut s);
                    s
                })
                .collect();
            let mut raw = String::new();
            dom.serialize(row, &mut raw);
            let result = match self.event(&cells, out) {
                Ok(None) => continue,
                Ok(Some(mut ev)) => ev
                    .add("raw", raw.as_str())
                    .map(|_| vec![ev])
                    .map_err(Fail::from),
                Err(e) => Err(e),
            };
            out.record(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}
