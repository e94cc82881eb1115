//! CSV: one row per event, the columns given by `--fields`.

use super::{Output, OutputOpts};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_str;
use crate::transport::line::open_writer;
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
    row: Vec<String>,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let w = open_writer(o.target.as_deref().unwrap_or("-"), o.line_buffered)?;
    let fields = if o.fields.is_empty() {
        DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect()
    } else {
        o.fields.clone()
    };
    Ok(Box::new(Csv {
        w: csv::WriterBuilder::new().from_writer(w),
        fields,
        header_pending: !o.no_header,
        row: Vec::new(),
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
        self.row.clear();
        for f in &self.fields {
            self.row.push(ev.get(f).map(py_str).unwrap_or_default());
        }
        self.w.write_record(&self.row).map_err(csv_err)?;
        Ok(())
    }
    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        self.w.flush()?;
        Ok(Vec::new())
    }
}
