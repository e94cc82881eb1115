//! CSV: one row per event, the columns given by `--fields`.

use super::{Output, OutputOpts};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_str;
use crate::transport::line::open_writer;
use serde_json::Value;
use std::io::{self, Write};

pub const DEFAULT_FIELDS: &[&str] = &[
    "time.source",
    "classification.taxonomy",
    "classification.type",
    "source.ip",
    "source.port",
    "source.fqdn",
    "source.url",
    "source.asn",
    "source.geolocation.cc",
    "malware.name",
    "feed.name",
];

pub struct Csv {
    w: csv::Writer<Box<dyn Write>>,
    fields: Vec<String>,
    header_pending: bool,
    row: String,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let target = o.target.as_deref().unwrap_or("-");
    // The header is written once per file: a file that has lines already
    // (an earlier run appended to it) gets none.
    let has_lines = target != "-" && std::fs::metadata(target).is_ok_and(|m| m.len() > 0);
    let w = open_writer(target, o.line_buffered)?;
    let fields = match crate::params::list(&o.params, "fields")? {
        Some(f) if o.fields.is_empty() => f,
        _ if o.fields.is_empty() => DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect(),
        _ => o.fields.clone(),
    };
    // A column whose name is no field would stay empty in every row.
    crate::names::check_fields("--fields", &fields)?;
    let delimiter = match crate::params::string(&o.params, "delimiter")?.as_deref() {
        None => b',',
        Some(d) if d.len() == 1 => d.as_bytes()[0],
        Some(d) => anyhow::bail!("parameter delimiter: one ASCII character, got {d:?}"),
    };
    Ok(Box::new(Csv {
        w: csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(w),
        fields,
        header_pending: !o.no_header && !has_lines,
        row: String::new(),
    }))
}

/// csv::Error wraps io errors; unwrap them so a closed pipe is seen as such.
fn csv_err(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl Output for Csv {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        if self.header_pending {
            self.w.write_record(&self.fields).map_err(csv_err)?;
            self.header_pending = false;
        }
        // Strings as they are (no copy); other values as Python's str().
        for f in &self.fields {
            match ev.position(f) {
                None => self.w.write_field("").map_err(csv_err)?,
                Some(i) => match ev.str_at(i) {
                    Some(s) => self.w.write_field(s).map_err(csv_err)?,
                    None => {
                        self.row.clear();
                        self.row
                            .push_str(&py_str(ev.value_at(i).unwrap_or(&Value::Null)));
                        self.w.write_field(&self.row).map_err(csv_err)?
                    }
                },
            }
        }
        self.w
            .write_record(std::iter::empty::<&[u8]>())
            .map_err(csv_err)?;
        Ok(())
    }
    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        self.w.flush()?;
        Ok(Vec::new())
    }
}
