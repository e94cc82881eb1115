//! Small helpers shared by the line- and list-oriented feed parsers.
//!
//! Feed timestamps go through the dateutil port ([`crate::timeparse`]) as in
//! IntelMQ: [`feed_time`] as the harmonization's DateTime sanitation (fuzzy),
//! [`dateutil_iso`] as the parsers' own `dateutil.parser.parse` calls (not fuzzy).

use crate::message::Message;
use crate::pipeline::Fail;
use crate::timeparse;
use chrono::DateTime;
use serde_json::Value;

/// IntelMQ `add(..., raise_failure=False)`: a value that does not fit is left out.
pub fn soft(ev: &mut Message, key: &str, v: impl Into<Value>) -> bool {
    ev.add(key, v).unwrap_or(false)
}

/// A record-level failure with a message.
pub fn reject(msg: impl std::fmt::Display) -> Fail {
    Fail::Reject(msg.to_string())
}

/// A feed timestamp as IntelMQ's DateTime sanitation makes it (dateutil's fuzzy
/// parse, then UTC), or the text itself when that fails, for `add` to reject.
pub fn feed_time(s: &str) -> Value {
    Value::String(timeparse::sanitize(s).unwrap_or_else(|| s.to_string()))
}

/// `DateTime.from_timestamp(int)`: seconds since the epoch, UTC.
pub fn from_epoch(secs: i64) -> Option<String> {
    DateTime::from_timestamp(secs, 0).map(|t| timeparse::to_iso(&t))
}

/// `dateutil.parser.parse(s, tzinfos=tzinfos).isoformat()`, as the parsers of
/// list feeds read their "last updated" headers: not fuzzy, zone names from
/// `tzinfos` only (offsets in seconds). IntelMQ then sanitizes the ISO text;
/// the UTC form is given right away. An unreadable time fails the report, as
/// dateutil's ParserError does.
pub fn dateutil_iso(s: &str, tzinfos: &[(&str, i32)]) -> Result<String, Fail> {
    timeparse::parse_strict(s, tzinfos)
        .map(|p| timeparse::to_iso(&p.to_utc()))
        .map_err(reject)
}

/// A `csv.DictReader` row: the header's names with the row's values (`None`
/// for missing ones), extra values under no name (IntelMQ then fails).
pub struct DictRow<'a> {
    pub names: &'a [String],
    pub values: &'a [String],
}

impl DictRow<'_> {
    /// `row[key]`: `Err` when the header has no such column (Python KeyError),
    /// `Ok(None)` for a short row (DictReader's restval None).
    pub fn get(&self, key: &str) -> Result<Option<&str>, Fail> {
        let i = self
            .names
            .iter()
            .position(|n| n == key)
            .ok_or_else(|| reject(format!("KeyError: {key:?}")))?;
        Ok(self.values.get(i).map(String::as_str))
    }

    /// `row.get(key)`: None when absent.
    pub fn opt(&self, key: &str) -> Option<&str> {
        self.get(key).ok().flatten()
    }

    /// More values than names (DictReader puts them under the key None).
    pub fn has_rest(&self) -> bool {
        self.values.len() > self.names.len()
    }
}

/// `ParserBot.recover_line_csv_dict(row)`: the header and the row written with
/// Python's csv writer and the saved line ending, stripped.
pub fn recover_csv_dict(
    names: &[String],
    values: &[String],
    opts: &super::feedio::CsvOpts,
    ending: &str,
) -> String {
    let full: Vec<String> = (0..names.len())
        .map(|i| values.get(i).cloned().unwrap_or_default())
        .collect();
    let header = super::feedio::recover_line_csv(&[], names, opts, ending);
    let row = super::feedio::recover_line_csv(&[], &full, opts, ending);
    crate::harmonization::py_strip(&(header + &row)).to_string()
}

/// `ParserBot.parse_csv_dict`: the header row and the data rows (empty rows are
/// skipped, as `csv.DictReader` does), plus the report's line ending.
pub struct CsvDict {
    pub names: Vec<String>,
    pub rows: Vec<super::feedio::CsvRow>,
    pub ending: &'static str,
    /// The header line as read (IntelMQ's `_handle.first_line`, stripped).
    pub first_line: String,
}

impl CsvDict {
    /// Each data row as a `DictRow`, with its `raw` (`recover_line_csv_dict`).
    pub fn records<'a>(
        &'a self,
        opts: &'a super::feedio::CsvOpts,
    ) -> impl Iterator<Item = (DictRow<'a>, String)> + 'a {
        self.rows.iter().map(move |row| {
            let raw = recover_csv_dict(&self.names, &row.fields, opts, self.ending);
            let dict = DictRow {
                names: &self.names,
                values: &row.fields,
            };
            (dict, raw)
        })
    }
}

pub fn csv_dict(data: &[u8], opts: &super::feedio::CsvOpts) -> CsvDict {
    let text = super::feedio::decode(data);
    let ending = super::feedio::line_ending(crate::harmonization::py_strip(&text));
    let mut rows = super::feedio::csv_rows(data, opts).into_iter();
    let (names, first_line) = match rows.next() {
        Some(h) => (h.fields, h.line),
        None => (Vec::new(), String::new()),
    };
    CsvDict {
        names,
        rows: rows.filter(|r| !r.fields.is_empty()).collect(),
        ending,
        first_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = |s| feed_time(s).as_str().unwrap().to_string();
        assert_eq!(t("2016-11-14 08:30 UTC"), "2016-11-14T08:30:00+00:00");
        // A zone name dateutil does not know is ignored, as in IntelMQ's sanitation
        // (only the dyn parser gives dateutil the US zones, see `dateutil_iso`).
        assert_eq!(
            t("Tue Mar 15 00:47:49 PDT 2016"),
            "2016-03-15T00:47:49+00:00"
        );
        let pst = [("PST", -8 * 3600), ("PDT", -7 * 3600)];
        let iso = |s, tz: &[(&str, i32)]| dateutil_iso(s, tz).map_err(|e| format!("{e:?}"));
        assert_eq!(
            iso("Tue Mar 15 00:47:49 PDT 2016", &pst).unwrap(),
            "2016-03-15T07:47:49+00:00"
        );
        assert_eq!(
            iso("Tue Mar 15 00:47:49 PDT 2016", &[]).unwrap(),
            "2016-03-15T00:47:49+00:00"
        );
        assert_eq!(
            iso(" Mon, 17 Aug 2015 14:36:19 +0200", &[]).unwrap(),
            "2015-08-17T12:36:19+00:00"
        );
        // Not fuzzy: words that are no part of a date fail, as in dateutil.
        assert!(iso("updated Mon, 17 Aug 2015 14:36:19", &[]).is_err());
        assert!(iso("2015-08-17 junk", &[]).is_err());
        assert!(iso("", &[]).is_err());
        assert_eq!(
            t("Mon, 17 Aug 2015 14:36:19 +0000"),
            "2015-08-17T14:36:19+00:00"
        );
        assert_eq!(t("2018-01-20 12:00:01+0"), "2018-01-20T12:00:01+00:00");
        assert_eq!(t("2016-11-14 00:00 UTC"), "2016-11-14T00:00:00+00:00");
        assert_eq!(from_epoch(0).unwrap(), "1970-01-01T00:00:00+00:00");
    }
}
