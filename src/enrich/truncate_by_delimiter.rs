//! truncate_by_delimiter: while a field is longer than `max_length` and contains
//! the delimiter, cut its first part up to the delimiter (IntelMQ
//! `intelmq.bots.experts.truncate_by_delimiter.expert`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::bail;
use serde_json::Value;

pub struct Truncate {
    delimiter: String,
    max_length: usize,
    field: String,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let delimiter = params::string_or(p, "delimiter", ".")?;
    if delimiter.is_empty() {
        // Python would loop forever on an empty delimiter.
        bail!("parameter delimiter must not be empty");
    }
    Ok(Box::new(Truncate {
        delimiter,
        max_length: params::integer(p, "max_length", 200)?.max(0) as usize,
        field: params::string_or(p, "field", "source.fqdn")?,
    }))
}

/// The cut value, or `None` when nothing changes.
fn truncate<'a>(mut s: &'a str, delim: &str, max: usize) -> Option<&'a str> {
    let orig = s.len();
    while s.chars().count() > max {
        match s.split_once(delim) {
            Some((_, rest)) => s = rest,
            None => break,
        }
    }
    (s.len() != orig).then_some(s)
}

impl Expert for Truncate {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let Some(v) = ev.get(&self.field) else {
            return Ok(Verdict::Keep);
        };
        let Value::String(s) = v else {
            return Err(Fail::Reject(format!("{}: value is not text", self.field)));
        };
        if let Some(cut) = truncate(s, &self.delimiter, self.max_length) {
            let cut = cut.to_string();
            ev.change(&self.field, cut)?;
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intelmq_test_facts() {
        let long = "bing.com.google.com.digikala.com.myket.com.divar.ir.varzesh3.pw.aparat.com.torojoonemadaretkarkonkhasteshodamdigeenqadtestzadam.filterchipedaramodarovordibekeshbiroon.dollarshode20000tomanbaskondigeh.salavatemohammadibefres.soltane-tel-injas-heh.digital";
        assert_eq!(
            truncate(long, ".", 200),
            Some("pw.aparat.com.torojoonemadaretkarkonkhasteshodamdigeenqadtestzadam.filterchipedaramodarovordibekeshbiroon.dollarshode20000tomanbaskondigeh.salavatemohammadibefres.soltane-tel-injas-heh.digital")
        );
        assert_eq!(truncate("a.b", ".", 200), None);
        assert_eq!(truncate("abcdef", ".", 2), None);
    }
}
