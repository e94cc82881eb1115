//! Turning one Shadowserver record into an event by the schema: IntelMQ's
//! conversion functions (`shadowserver/_config.py`) and the field mapping of its
//! `parse_line`, shared by the CSV and the JSON parser.
//!
//! The order of the steps, what fails a line and what lands in `extra` follow
//! IntelMQ exactly: required fields (a bad value fails the line), optional fields
//! (a value the field rejects is kept in `extra` under its column name), the
//! report type's constant fields, `raw`, then every column not used in `extra`.

use super::shadowserver_schema::{Mapping, ReportType, Target};
use crate::harmonization::{self, FieldType};
use crate::message::{Add, FieldError, Message};
use regex::Regex;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::OnceLock;

/// IntelMQ's conversion functions, by their schema names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    AddUtcToTimestamp,
    ConvertBool,
    ValidateToNone,
    ConvertInt,
    ConvertFloat,
    ConvertHttpHostAndUrl,
    InvalidateZero,
    ValidateIp,
    ValidateNetwork,
    ValidateFqdn,
    ConvertDate,
    ConvertDateUtc,
    ForceBase64,
    ScanExchangeTaxonomy,
    ScanExchangeType,
    ScanExchangeIdentifier,
    CategoryOrDetail,
    ExtractCveFromTag,
}

/// Every function with its schema name.
pub const FUNCS: &[(&str, Func)] = &[
    ("add_UTC_to_timestamp", Func::AddUtcToTimestamp),
    ("convert_bool", Func::ConvertBool),
    ("validate_to_none", Func::ValidateToNone),
    ("convert_int", Func::ConvertInt),
    ("convert_float", Func::ConvertFloat),
    ("convert_http_host_and_url", Func::ConvertHttpHostAndUrl),
    ("invalidate_zero", Func::InvalidateZero),
    ("validate_ip", Func::ValidateIp),
    ("validate_network", Func::ValidateNetwork),
    ("validate_fqdn", Func::ValidateFqdn),
    ("convert_date", Func::ConvertDate),
    ("convert_date_utc", Func::ConvertDateUtc),
    ("force_base64", Func::ForceBase64),
    ("scan_exchange_taxonomy", Func::ScanExchangeTaxonomy),
    ("scan_exchange_type", Func::ScanExchangeType),
    ("scan_exchange_identifier", Func::ScanExchangeIdentifier),
    ("category_or_detail", Func::CategoryOrDetail),
    ("extract_cve_from_tag", Func::ExtractCveFromTag),
];

/// A record as the mapping sees it: IntelMQ's row dictionary.
pub trait Row {
    /// The column names in order, repeated names included (`csv_fieldnames`, or
    /// the keys of a JSON record).
    fn columns(&self) -> &[String];
    /// Is the column in the data at all (`key in row`)?
    fn has(&self, col: &str) -> bool;
    /// The column's value; `None` when the record lacks it (a short CSV row, a
    /// JSON null).
    fn value(&self, col: &str) -> Option<Value>;
}

/// The text a conversion function works on (CSV values are text already; JSON
/// numbers and booleans become their Python `str`).
pub fn text_of(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(crate::pyfmt::py_str(other)),
    }
}

fn row_text(row: &dyn Row, col: &str) -> Option<String> {
    row.value(col).map(|v| text_of(&v).into_owned())
}

impl Func {
    pub fn from_name(name: &str) -> Option<Func> {
        FUNCS.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    pub fn name(self) -> &'static str {
        FUNCS
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }

    fn wants_row(self) -> bool {
        matches!(self, Func::ConvertHttpHostAndUrl | Func::CategoryOrDetail)
    }

    /// Call the function as IntelMQ does: with the whole row when the mapping
    /// says so. `Ok(None)`: no value (the field is left out). `Err`: the
    /// function raised (the line fails), also when called with the wrong number
    /// of arguments, as in Python.
    pub fn call(self, value: &str, row: Option<&dyn Row>) -> Result<Option<Value>, String> {
        let name = self.name();
        if self.wants_row() != row.is_some() {
            return Err(if row.is_some() {
                format!("TypeError: {name}() takes 1 positional argument but 2 were given")
            } else {
                format!("TypeError: {name}() missing 1 required positional argument: 'row'")
            });
        }
        let s = |x: String| Ok(Some(Value::String(x)));
        match self {
            Func::AddUtcToTimestamp => s(format!("{value} UTC")),
            Func::ConvertBool => Ok(convert_bool(value).map(Value::Bool)),
            Func::ValidateToNone => match value {
                "" | "0" | "unknown" => Ok(None),
                v => s(v.into()),
            },
            Func::ConvertInt => {
                if value.is_empty() {
                    return Ok(None);
                }
                py_int(value).map(|i| Some(Value::from(i)))
            }
            Func::ConvertFloat => {
                if value.is_empty() {
                    return Ok(None);
                }
                let f = harmonization::py_float(&Value::String(value.into())).ok_or_else(|| {
                    format!("ValueError: could not convert string to float: {value:?}")
                })?;
                Ok(serde_json::Number::from_f64(f).map(Value::Number))
            }
            Func::InvalidateZero => {
                if value.is_empty() {
                    return Ok(None);
                }
                let i = py_int(value)?;
                Ok((i != 0).then(|| Value::from(i)))
            }
            Func::ConvertHttpHostAndUrl => {
                let row = row.expect("checked above");
                Ok(Some(Value::String(http_host_and_url(value, row))))
            }
            Func::ValidateIp => {
                let ok = value != "0.0.0.0"
                    && !value.contains('/')
                    && harmonization::is_valid_sanitized(
                        FieldType::IpAddress,
                        &Value::String(value.into()),
                    );
                Ok(ok.then(|| Value::String(value.into())))
            }
            Func::ValidateNetwork => {
                let ok = value.contains('/')
                    && harmonization::is_valid_sanitized(
                        FieldType::IpNetwork,
                        &Value::String(value.into()),
                    );
                Ok(ok.then(|| Value::String(value.into())))
            }
            Func::ValidateFqdn => {
                let ok = !value.is_empty()
                    && harmonization::is_valid_sanitized(
                        FieldType::Fqdn,
                        &Value::String(value.into()),
                    );
                Ok(ok.then(|| Value::String(value.into())))
            }
            Func::ConvertDate => Ok(crate::timeparse::sanitize(value).map(Value::String)),
            Func::ConvertDateUtc => {
                Ok(crate::timeparse::sanitize(&format!("{value}+00:00")).map(Value::String))
            }
            Func::ForceBase64 => force_base64(value).map(|o| o.map(Value::String)),
            Func::ScanExchangeTaxonomy => s(if value.contains("webshell") {
                "intrusions".into()
            } else {
                "vulnerable".into()
            }),
            Func::ScanExchangeType => s(if value.contains("webshell") {
                "system-compromise".into()
            } else {
                "vulnerable-system".into()
            }),
            Func::ScanExchangeIdentifier => s(if value.contains("webshell") {
                "exchange-server-webshell".into()
            } else {
                "vulnerable-exchange-server".into()
            }),
            Func::CategoryOrDetail => {
                let row = row.expect("checked above");
                // `row.get('category', '')`: a missing value (None) is not "".
                let category = if row.has("category") {
                    row.value("category")
                } else {
                    Some(Value::String(String::new()))
                };
                if category.as_ref().and_then(Value::as_str) != Some("") {
                    return Ok(category);
                }
                if row.has("detail") {
                    Ok(row.value("detail"))
                } else {
                    s(String::new())
                }
            }
            Func::ExtractCveFromTag => Ok(extract_cve(value).map(Value::String)),
        }
    }
}

/// Python's `int(str)`.
fn py_int(value: &str) -> Result<i64, String> {
    harmonization::py_int(&Value::String(value.into()))
        .ok_or_else(|| format!("ValueError: invalid literal for int() with base 10: {value:?}"))
}

pub fn convert_bool(value: &str) -> Option<bool> {
    match value.to_lowercase().as_str() {
        "y" | "yes" | "true" | "enabled" | "1" => Some(true),
        "n" | "no" | "false" | "disabled" | "0" => Some(false),
        _ => None,
    }
}

/// `convert_http_host_and_url`: the URL from the host column and the path of
/// the request, for reports that split them.
fn http_host_and_url(value: &str, row: &dyn Row) -> String {
    // Python: the first of these columns that is present and truthy.
    let mut hostname: Option<String> = None;
    for col in ["cc_dns", "http_host", "hostname", "ip"] {
        if hostname.as_deref().is_some_and(|h| !h.is_empty()) {
            break;
        }
        if row.has(col) {
            hostname = row_text(row, col);
        }
    }
    let path = if row.has("url") {
        row_text(row, "url")
    } else if row.has("http_url") {
        row_text(row, "http_url")
    } else {
        Some(String::new())
    };
    match (hostname, path) {
        (Some(host), Some(path)) if !host.is_empty() && !path.is_empty() => {
            static RES: OnceLock<(Regex, Regex)> = OnceLock::new();
            let (lead, trail) = RES.get_or_init(|| {
                (
                    Regex::new(r"^[^/]*").expect("valid"),
                    // Python's `\s.*$`: `.` stops at newlines, `$` also matches
                    // before a final newline (which a later match then removes).
                    Regex::new(r"\s[^\n]*\n?\z").expect("valid"),
                )
            });
            let path = lead.replace(&path, "");
            let path = trail.replace_all(&path, "");
            let app = match row_text(row, "application").as_deref() {
                Some(a @ ("http" | "https")) if row.has("application") => a.to_string(),
                _ => "http".to_string(),
            };
            format!("{app}://{host}{path}")
        }
        _ => value.to_string(),
    }
}

/// `force_base64`: base64 text as it is, anything else encoded. Python 3.11's
/// `b64decode(validate=True)` decides what counts as base64.
fn force_base64(value: &str) -> Result<Option<String>, String> {
    use base64::Engine;
    if value.is_empty() {
        return Ok(None);
    }
    if !value.is_ascii() {
        return Err("ValueError: string argument should contain only ASCII characters".into());
    }
    if strict_base64(value.as_bytes()) {
        Ok(Some(value.to_string()))
    } else {
        Ok(Some(
            base64::engine::general_purpose::STANDARD.encode(value.as_bytes()),
        ))
    }
}

/// CPython 3.11 `binascii.a2b_base64(strict_mode=True)` accepts `s`.
fn strict_base64(s: &[u8]) -> bool {
    let mut quad = 0u8;
    let mut pads = 0u8;
    let mut padding = false;
    for (i, &c) in s.iter().enumerate() {
        if c == b'=' {
            padding = true;
            if i == 0 {
                return false;
            }
            if quad >= 2 {
                pads += 1;
                if quad + pads >= 4 {
                    // The quantum is complete: nothing may follow.
                    return i + 1 == s.len();
                }
            }
            continue;
        }
        if !(c.is_ascii_alphanumeric() || c == b'+' || c == b'/') || padding {
            return false;
        }
        pads = 0;
        quad = (quad + 1) & 3;
    }
    quad == 0
}

/// `extract_cve_from_tag`: the `cve-N-N` items of a `;`-separated tag, sorted
/// and unique, joined by `;`.
pub fn extract_cve(tag: &str) -> Option<String> {
    let mut cves: Vec<&str> = tag
        .split(';')
        .filter(|t| {
            // `re.match('^cve-[0-9]+-[0-9]+$')`: `$` allows a final newline.
            let t = t.strip_suffix('\n').unwrap_or(t);
            let Some(rest) = t.strip_prefix("cve-") else {
                return false;
            };
            let Some((a, b)) = rest.split_once('-') else {
                return false;
            };
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        })
        .collect();
    if cves.is_empty() {
        return None;
    }
    cves.sort_unstable();
    cves.dedup();
    Some(cves.join(";"))
}

/// How the parser was set up for the record.
pub struct Ctx<'a> {
    pub report: &'a ReportType,
    /// The feed name to set (the schema's, or the `feedname` parameter).
    pub feed_name: &'a str,
    /// IntelMQ's `overwrite` parameter: replace the report's `feed.name`.
    pub overwrite: Option<bool>,
}

fn field_err(e: FieldError) -> String {
    e.to_string()
}

fn remove_first(fields: &mut Vec<String>, col: &str) {
    if let Some(i) = fields.iter().position(|f| f == col) {
        fields.remove(i);
    }
}

fn convert(
    m: &Mapping,
    raw: &Value,
    row: &dyn Row,
    required: bool,
) -> Result<Option<Value>, String> {
    match &m.func {
        None => Ok(Some(raw.clone())),
        Some(Err(name)) if required => Err(format!("KeyError: {name:?} is no conversion function")),
        Some(Err(_)) => Ok(Some(raw.clone())),
        Some(Ok(f)) => f
            .call(&text_of(raw), m.with_row.then_some(row))
            .map_err(|e| {
                format!(
                    "Could not convert column {:?} value {raw} via {}: {e}",
                    m.column,
                    f.name()
                )
            }),
    }
}

/// IntelMQ's `parse_line`: the event for one record. `raw` is the record as
/// `recover_line` gives it. `Err`: the line fails (goes to the dump).
pub fn map_row(ctx: &Ctx, row: &dyn Row, raw: &str, mut ev: Message) -> Result<Message, String> {
    let rt = ctx.report;
    let mut fields: Vec<String> = row.columns().to_vec();
    ev.add_with(
        "feed.name",
        Value::String(ctx.feed_name.to_string()),
        Add {
            sanitize: true,
            overwrite: ctx.overwrite,
        },
    )
    .map_err(field_err)?;
    if let Some(url) = &rt.url {
        ev.add_with(
            "feed.documentation",
            url.clone(),
            Add {
                sanitize: true,
                overwrite: Some(false),
            },
        )
        .map_err(field_err)?;
    }
    let mut extra = Map::new();

    for m in &rt.required {
        if !fields.contains(&m.column) {
            if !row.has(&m.column) {
                return Err(format!(
                    "Required column {:?} not found in feed {:?}. Possible change in data format or misconfiguration.",
                    m.column, ctx.feed_name
                ));
            }
            fields.push(m.column.clone());
        }
        let Some(raw_value) = row.value(&m.column) else {
            continue;
        };
        let Some(value) = convert(m, &raw_value, row, true)? else {
            continue;
        };
        let key = match &m.target {
            Target::Field(k) => k.clone(),
            Target::ExtraColumn => "extra.".to_string(),
            Target::Extra(k) => format!("extra.{k}"),
            Target::Ignore => String::new(),
        };
        match ev.add(&key, value) {
            Ok(_) | Err(FieldError::InvalidKey { .. }) => {}
            Err(e) => return Err(field_err(e)),
        }
        remove_first(&mut fields, &m.column);
    }

    for m in &rt.optional {
        if !fields.contains(&m.column) {
            if !row.has(&m.column) {
                continue;
            }
            fields.push(m.column.clone());
        }
        let value = match row.value(&m.column) {
            Some(raw_value) => convert(m, &raw_value, row, false)?,
            None => None,
        };
        let Some(value) = value else {
            remove_first(&mut fields, &m.column);
            continue;
        };
        match &m.target {
            Target::ExtraColumn => {
                extra.insert(m.column.clone(), value);
            }
            Target::Extra(k) => {
                extra.insert(k.clone(), value);
            }
            Target::Ignore => {}
            Target::Field(k) => match ev.add(k, value.clone()) {
                Ok(_) => {}
                // The column's own value goes to extra below.
                Err(FieldError::InvalidValue { .. }) => continue,
                Err(FieldError::InvalidKey { .. }) => {
                    extra.insert(k.clone(), value);
                }
                Err(e) => return Err(field_err(e)),
            },
        }
        remove_first(&mut fields, &m.column);
    }

    // `event.update(constant_fields)`: as given when valid, else sanitized.
    for (k, v) in &rt.constant {
        let as_is = Add {
            sanitize: false,
            overwrite: Some(true),
        };
        if !matches!(ev.add_with(k, v.clone(), as_is), Ok(true)) {
            ev.add_with(
                k,
                v.clone(),
                Add {
                    sanitize: true,
                    overwrite: Some(true),
                },
            )
            .map_err(field_err)?;
        }
    }

    ev.add("raw", raw).map_err(field_err)?;

    for f in &fields {
        let v = row.value(f).unwrap_or(Value::Null);
        if v.as_str() != Some("") {
            extra.insert(f.clone(), v);
        }
    }
    if !extra.is_empty() {
        ev.add("extra", Value::Object(extra)).map_err(field_err)?;
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R(Vec<String>, Vec<Option<Value>>);
    impl Row for R {
        fn columns(&self) -> &[String] {
            &self.0
        }
        fn has(&self, col: &str) -> bool {
            self.0.iter().any(|c| c == col)
        }
        fn value(&self, col: &str) -> Option<Value> {
            let i = self.0.iter().rposition(|c| c == col)?;
            self.1.get(i).cloned().flatten()
        }
    }
    fn row(pairs: &[(&str, &str)]) -> R {
        R(
            pairs.iter().map(|(k, _)| k.to_string()).collect(),
            pairs.iter().map(|(_, v)| Some(Value::from(*v))).collect(),
        )
    }
    fn call(f: &str, v: &str) -> Result<Option<Value>, String> {
        Func::from_name(f).unwrap().call(v, None)
    }

    #[test]
    fn every_function_has_a_name() {
        assert_eq!(FUNCS.len(), 18);
        for (n, f) in FUNCS {
            assert_eq!(f.name(), *n);
        }
    }

    #[test]
    fn simple_functions() {
        assert_eq!(
            call("add_UTC_to_timestamp", "2020-01-01 00:00:00").unwrap(),
            Some("2020-01-01 00:00:00 UTC".into())
        );
        assert_eq!(call("convert_bool", "Yes").unwrap(), Some(true.into()));
        assert_eq!(
            call("convert_bool", "DISABLED").unwrap(),
            Some(false.into())
        );
        assert_eq!(call("convert_bool", "maybe").unwrap(), None);
        for v in ["", "0", "unknown"] {
            assert_eq!(call("validate_to_none", v).unwrap(), None);
        }
        assert_eq!(
            call("validate_to_none", "Unknown").unwrap(),
            Some("Unknown".into())
        );
        assert_eq!(call("convert_int", " 42 ").unwrap(), Some(42.into()));
        assert_eq!(call("convert_int", "").unwrap(), None);
        assert!(call("convert_int", "4.2").is_err());
        assert_eq!(call("convert_float", "1e3").unwrap(), Some(1000.0.into()));
        assert!(call("convert_float", "x").is_err());
        assert_eq!(call("invalidate_zero", "0").unwrap(), None);
        assert_eq!(call("invalidate_zero", "00").unwrap(), None);
        assert_eq!(call("invalidate_zero", "7").unwrap(), Some(7.into()));
        assert!(call("invalidate_zero", "x").is_err());
        assert_eq!(call("validate_ip", "0.0.0.0").unwrap(), None);
        assert_eq!(call("validate_ip", "10.0.0.0/8").unwrap(), None);
        assert_eq!(call("validate_ip", "nope").unwrap(), None);
        assert_eq!(
            call("validate_ip", "2001:db8::1").unwrap(),
            Some("2001:db8::1".into())
        );
        assert_eq!(
            call("validate_network", "10.0.0.0/8").unwrap(),
            Some("10.0.0.0/8".into())
        );
        assert_eq!(call("validate_network", "10.0.0.1").unwrap(), None);
        assert_eq!(
            call("validate_fqdn", "example.com").unwrap(),
            Some("example.com".into())
        );
        assert_eq!(call("validate_fqdn", "").unwrap(), None);
        // IntelMQ's FQDN check is lenient: only IP addresses and the like fail.
        assert_eq!(call("validate_fqdn", "1.2.3.4").unwrap(), None);
        assert_eq!(
            call("convert_date", "2021-03-04 05:06:07").unwrap(),
            Some("2021-03-04T05:06:07+00:00".into())
        );
        assert_eq!(call("convert_date", "garbage").unwrap(), None);
        assert_eq!(
            call("convert_date_utc", "2021-03-04 05:06:07").unwrap(),
            Some("2021-03-04T05:06:07+00:00".into())
        );
        assert_eq!(
            call("scan_exchange_taxonomy", "x;webshell").unwrap(),
            Some("intrusions".into())
        );
        assert_eq!(
            call("scan_exchange_taxonomy", "x").unwrap(),
            Some("vulnerable".into())
        );
        assert_eq!(
            call("scan_exchange_type", "webshell").unwrap(),
            Some("system-compromise".into())
        );
        assert_eq!(
            call("scan_exchange_type", "").unwrap(),
            Some("vulnerable-system".into())
        );
        assert_eq!(
            call("scan_exchange_identifier", "webshell").unwrap(),
            Some("exchange-server-webshell".into())
        );
        assert_eq!(
            call("scan_exchange_identifier", "cve").unwrap(),
            Some("vulnerable-exchange-server".into())
        );
        assert_eq!(
            call(
                "extract_cve_from_tag",
                "cve-2021-26855;x;cve-2020-1;cve-2021-26855;CVE-1-2"
            )
            .unwrap(),
            Some("cve-2020-1;cve-2021-26855".into())
        );
        assert_eq!(call("extract_cve_from_tag", "exchange").unwrap(), None);
    }

    #[test]
    fn force_base64_like_python_311() {
        for ok in ["QUJD", "QUI=", "ab==", "abcd=", "abcd===="] {
            assert_eq!(call("force_base64", ok).unwrap(), Some(ok.into()), "{ok}");
        }
        for bad in ["ab", "=", "abc==", "ab=c", "abcde", "a b="] {
            assert_ne!(
                call("force_base64", bad).unwrap(),
                Some(bad.into()),
                "{bad}"
            );
        }
        assert_eq!(
            call("force_base64", "hello world").unwrap(),
            Some("aGVsbG8gd29ybGQ=".into())
        );
        assert_eq!(call("force_base64", "").unwrap(), None);
        assert!(call("force_base64", "ä").is_err());
    }

    #[test]
    fn functions_with_the_row() {
        let f = Func::ConvertHttpHostAndUrl;
        let r = row(&[
            ("http_host", "example.com"),
            ("url", "GET /a/b?c HTTP/1.1"),
            ("application", "https"),
        ]);
        assert_eq!(
            f.call("x", Some(&r)).unwrap(),
            Some("https://example.com/a/b?c".into())
        );
        let r = row(&[("cc_dns", ""), ("ip", "10.0.0.1"), ("http_url", "/p")]);
        assert_eq!(
            f.call("x", Some(&r)).unwrap(),
            Some("http://10.0.0.1/p".into())
        );
        let r = row(&[("ip", "10.0.0.1")]);
        assert_eq!(f.call("x", Some(&r)).unwrap(), Some("x".into()));
        assert!(f.call("x", None).is_err());
        assert!(Func::ConvertInt.call("1", Some(&r)).is_err());
        let c = Func::CategoryOrDetail;
        let r = row(&[("category", ""), ("detail", "d")]);
        assert_eq!(c.call("", Some(&r)).unwrap(), Some("d".into()));
        let r = row(&[("category", "c"), ("detail", "d")]);
        assert_eq!(c.call("", Some(&r)).unwrap(), Some("c".into()));
        let r = row(&[("x", "")]);
        assert_eq!(c.call("", Some(&r)).unwrap(), Some("".into()));
    }
}
