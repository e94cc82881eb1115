//! csv_converter: write chosen fields as one CSV row into `output` (IntelMQ
//! `intelmq.bots.experts.csv_converter.expert`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use crate::pyfmt::py_str;
use anyhow::bail;

pub struct CsvConverter {
    fields: Vec<String>,
    delimiter: char,
    row: String,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let names = params::string_or(p, "fieldnames", "time.source,classification.type,source.ip")?;
    let delim = params::string_or(p, "delimiter", ",")?;
    let mut chars = delim.chars();
    let (Some(delimiter), None) = (chars.next(), chars.next()) else {
        bail!("parameter delimiter: must be a single character, got {delim:?}");
    };
    // Not stripped: IntelMQ splits on ',' only.
    let fields: Vec<String> = names.split(',').map(String::from).collect();
    // IntelMQ fails every event on a name that is not a field; fail once, at start.
    for f in &fields {
        let h = crate::harmonization::harmonization();
        if h.lookup(crate::harmonization::MsgType::Event, f).is_none() {
            bail!("parameter fieldnames: {f:?} is not a field of the data format");
        }
    }
    Ok(Box::new(CsvConverter {
        fields,
        delimiter,
        row: String::new(),
    }))
}

/// Append one cell as Python's `csv.writer` (QUOTE_MINIMAL) writes it.
fn push_cell(out: &mut String, cell: &str, delimiter: char, only_cell: bool) {
    let quote = cell.contains([delimiter, '"', '\r', '\n']) || (only_cell && cell.is_empty());
    if quote {
        out.push('"');
        for c in cell.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

impl Expert for CsvConverter {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        self.row.clear();
        let only = self.fields.len() == 1;
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                self.row.push(self.delimiter);
            }
            // set_default_value(''): a missing field is an empty cell.
            match ev.get(f) {
                None => push_cell(&mut self.row, "", self.delimiter, only),
                Some(serde_json::Value::String(s)) => {
                    push_cell(&mut self.row, s, self.delimiter, only)
                }
                Some(v) => push_cell(&mut self.row, &py_str(v), self.delimiter, only),
            }
        }
        // IntelMQ strips the line end and any trailing whitespace.
        let row = self.row.trim_end();
        ev.set("output", row)?;
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut s = String::new();
        push_cell(&mut s, "a;b", ';', false);
        push_cell(&mut s, "x\"y", ';', false);
        assert_eq!(s, "\"a;b\"\"x\"\"y\"");
        let mut s = String::new();
        push_cell(&mut s, "", ',', true);
        assert_eq!(s, "\"\"");
    }
}
