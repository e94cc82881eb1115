//! Timestamp parsing with IntelMQ's semantics (placeholder: replaced by the full
//! dateutil/strptime port).
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

pub enum Parsed {
    Naive(NaiveDateTime),
    Aware(DateTime<FixedOffset>),
}
impl Parsed {
    pub fn to_utc(&self) -> DateTime<Utc> {
        match self {
            Parsed::Naive(n) => n.and_utc(),
            Parsed::Aware(a) => a.with_timezone(&Utc),
        }
    }
}
pub fn to_iso(dt: &DateTime<Utc>) -> String {
    if dt.timestamp_subsec_micros() == 0 {
        dt.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}
pub fn is_intelmq_iso(s: &str) -> bool {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f+00:00").is_ok()
}
pub fn parse_fuzzy(s: &str, _default: NaiveDateTime) -> Result<Parsed, String> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(Parsed::Aware(d));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(Parsed::Naive(n));
        }
    }
    Err(format!("unknown string format: {s}"))
}
pub fn sanitize(s: &str) -> Option<String> {
    if is_intelmq_iso(s) {
        return Some(s.to_string());
    }
    let today = Utc::now().date_naive().and_hms_opt(0, 0, 0)?;
    parse_fuzzy(s, today).ok().map(|p| to_iso(&p.to_utc()))
}
pub fn convert(value: &str, format: Option<&str>) -> Result<String, String> {
    match format {
        None | Some("fuzzy") => sanitize(value).ok_or_else(|| "unparseable".into()),
        Some(f) => Err(format!("unsupported format {f}")),
    }
}
pub fn strptime(s: &str, fmt: &str) -> Result<Parsed, String> {
    if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
        return Ok(Parsed::Naive(n));
    }
    chrono::NaiveDate::parse_from_str(s, fmt)
        .map(|d| Parsed::Naive(d.and_hms_opt(0, 0, 0).expect("midnight")))
        .map_err(|e| e.to_string())
}
