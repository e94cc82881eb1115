//! Small helpers shared by the line- and list-oriented feed parsers.
//!
//! Feeds write their timestamps in a handful of fixed formats; IntelMQ hands them
//! to dateutil. [`feed_time`] turns the formats these feeds use into IntelMQ's ISO
//! form directly, so a parser does not depend on a general fuzzy parser for them;
//! anything else falls back to the harmonization's own DateTime sanitation.

use crate::message::Message;
use crate::pipeline::Fail;
use crate::timeparse;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// IntelMQ `add(..., raise_failure=False)`: a value that does not fit is left out.
pub fn soft(ev: &mut Message, key: &str, v: impl Into<Value>) -> bool {
    ev.add(key, v).unwrap_or(false)
}

/// A record-level failure with a message.
pub fn reject(msg: impl std::fmt::Display) -> Fail {
    Fail::Reject(msg.to_string())
}

/// Offsets of the time zone names these feeds use (dateutil knows UTC/GMT/Z;
/// the dyn parser adds PST/PDT).
fn tz_offset(name: &str) -> Option<i32> {
    match name {
        "UTC" | "GMT" | "Z" | "UT" => Some(0),
        "PST" => Some(-8 * 3600),
        "PDT" => Some(-7 * 3600),
        "CET" => Some(3600),
        "CEST" => Some(2 * 3600),
        _ => None,
    }
}

const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%a %b %d %H:%M:%S %Y",
    "%a %b %e %H:%M:%S %Y",
    "%a, %d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y/%m/%d %H:%M:%S",
];

/// Parse a timestamp in one of the fixed formats feeds use, giving an aware time
/// (naive ones are UTC, as IntelMQ's DateTime sanitation treats them).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    // A zone name, either at the end or before the year (`date` output).
    let words: Vec<&str> = s.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        let name = w.trim_end_matches(',');
        if let Some(off) = tz_offset(name) {
            let rest: Vec<&str> = words
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, w)| *w)
                .collect();
            let naive = parse_naive(&rest.join(" "))?;
            let tz = FixedOffset::east_opt(off)?;
            return tz
                .from_local_datetime(&naive)
                .single()
                .map(|d| d.with_timezone(&Utc));
        }
    }
    // `+0`, `+00`, `+0000` offsets written without a colon after a naive time.
    if let Some((head, off)) = s.rsplit_once('+') {
        if !off.is_empty() && off.len() <= 4 && off.bytes().all(|b| b.is_ascii_digit()) {
            let v: i32 = off.parse().ok()?;
            let secs = if off.len() <= 2 {
                v * 3600
            } else {
                (v / 100) * 3600 + (v % 100) * 60
            };
            let naive = parse_naive(head.trim())?;
            let tz = FixedOffset::east_opt(secs)?;
            return tz
                .from_local_datetime(&naive)
                .single()
                .map(|d| d.with_timezone(&Utc));
        }
    }
    parse_naive(s).map(|n| n.and_utc())
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    for f in NAIVE_FORMATS {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(n);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
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

/// dateutil's `isoformat()` of a parsed time: naive stays naive, aware keeps its
/// offset. IntelMQ then sanitizes it; we give the UTC form right away.
pub fn iso_or_text(s: &str) -> String {
    match parse_time(s) {
        Some(t) => timeparse::to_iso(&t),
        None => s.to_string(),
    }
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
        // (only the dyn parser gives dateutil the US zones, see `iso_or_text`).
        assert_eq!(
            t("Tue Mar 15 00:47:49 PDT 2016"),
            "2016-03-15T00:47:49+00:00"
        );
        assert_eq!(
            iso_or_text("Tue Mar 15 00:47:49 PDT 2016"),
            "2016-03-15T07:47:49+00:00"
        );
        assert_eq!(
            t("Mon, 17 Aug 2015 14:36:19 +0000"),
            "2015-08-17T14:36:19+00:00"
        );
        assert_eq!(t("2018-01-20 12:00:01+0"), "2018-01-20T12:00:01+00:00");
        assert_eq!(t("2016-11-14 00:00 UTC"), "2016-11-14T00:00:00+00:00");
        assert_eq!(from_epoch(0).unwrap(), "1970-01-01T00:00:00+00:00");
    }
}
