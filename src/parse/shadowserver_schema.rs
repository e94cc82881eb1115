//! The Shadowserver report schema (`intelmq.json`, published by Shadowserver):
//! which columns of which report become which IntelMQ fields.
//!
//! IntelMQ downloads the schema into its state directory (optionally at every
//! start, `auto_update`). We never fetch anything while parsing: the schema is
//! installed once with `imq-parse --shadowserver-schema-update [URL]` (download,
//! checked) or `--shadowserver-schema-import FILE`, into
//! `$IMQ_STATE_DIR`, else `$XDG_STATE_HOME/imq`, else `~/.local/state/imq`, as
//! `shadowserver-schema.json` (IntelMQ's file name). The `schema_file` parameter
//! points elsewhere; `test_mode: true` uses the test schema IntelMQ bundles (as
//! IntelMQ does), which we compile in from the conformance corpus copy.

use super::shadowserver_map::Func;
use super::Params;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where IntelMQ 3.5.0 downloads the schema from.
pub const DEFAULT_URL: &str = "https://interchange.shadowserver.org/intelmq/v1/schema";

/// IntelMQ's own file name for the installed schema.
pub const FILE_NAME: &str = "shadowserver-schema.json";

/// The command that installs the schema, named in error messages.
pub const UPDATE_COMMAND: &str = "imq-parse --shadowserver-schema-update";

/// IntelMQ's bundled `schema.json.test` (used with `test_mode: true`).
const TEST_SCHEMA: &str =
    include_str!("../../tests/data/corpus/parser/shadowserver/test_default/files/schema.json.test");

/// Where a column's value goes (the first item of a mapping).
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// An IntelMQ field (may be invalid: IntelMQ then puts the value in extra).
    Field(String),
    /// `"extra."`: `extra.<column name>`.
    ExtraColumn,
    /// `"extra.NAME"`: `extra.NAME`.
    Extra(String),
    /// `false`: the column is dropped.
    Ignore,
}

/// One `[intelmqkey, column, function?, with_row?]` item of a report type.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub target: Target,
    pub column: String,
    /// The conversion function by name; `Err(name)` for a name IntelMQ does not
    /// know (a required field then fails the line, an optional one is taken as is).
    pub func: Option<Result<Func, String>>,
    /// The function also gets the whole row (fourth item true).
    pub with_row: bool,
}

/// One report type of the schema.
#[derive(Debug, Clone)]
pub struct ReportType {
    pub feed_name: String,
    pub file_name: String,
    /// Shadowserver's documentation page (becomes `feed.documentation`).
    pub url: Option<Value>,
    pub required: Vec<Mapping>,
    pub optional: Vec<Mapping>,
    pub constant: Map<String, Value>,
}

/// A loaded schema.
#[derive(Debug, Default)]
pub struct Schema {
    pub reports: Vec<ReportType>,
    by_feed: HashMap<String, usize>,
    by_file: HashMap<String, usize>,
    /// `_meta.date_created`: the schema's version.
    pub date_created: Option<String>,
}

fn mapping(item: &Value, report: &str) -> Result<Mapping> {
    let a = item.as_array().filter(|a| a.len() >= 2).ok_or_else(|| {
        anyhow!("report {report:?}: field mapping {item} is not a list of 2 to 4 items")
    })?;
    let target = match &a[0] {
        Value::Bool(false) | Value::Null => Target::Ignore,
        Value::String(s) if s == "extra." => Target::ExtraColumn,
        Value::String(s) if s.starts_with("extra.") => {
            Target::Extra(s["extra.".len()..].to_string())
        }
        Value::String(s) => Target::Field(s.clone()),
        other => bail!("report {report:?}: bad IntelMQ key {other}"),
    };
    let column = match &a[1] {
        Value::String(s) => s.clone(),
        other => bail!("report {report:?}: bad column name {other}"),
    };
    let func = match a.get(2) {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(Func::from_name(name).ok_or_else(|| name.clone())),
        Some(other) => bail!("report {report:?}: bad conversion function {other}"),
    };
    let with_row = a.get(3).is_some_and(truthy);
    Ok(Mapping {
        target,
        column,
        func,
        with_row,
    })
}

pub use crate::pyfmt::py_truthy as truthy;

impl Schema {
    /// Read a schema in Shadowserver's format.
    pub fn parse(text: &str) -> Result<Schema> {
        let root: Value = serde_json::from_str(text).context("the schema is not JSON")?;
        let Value::Object(root) = root else {
            bail!("the schema is not a JSON object");
        };
        let mut s = Schema::default();
        for (key, v) in &root {
            if key == "_meta" {
                s.date_created = v
                    .get("date_created")
                    .and_then(Value::as_str)
                    .map(String::from);
                continue;
            }
            let Value::Object(r) = v else {
                bail!("report {key:?} is not an object");
            };
            let name = |k: &str| -> Result<String> {
                r.get(k)
                    .and_then(Value::as_str)
                    .map(String::from)
                    .ok_or_else(|| anyhow!("report {key:?} has no {k}"))
            };
            let list = |k: &str| -> Result<Vec<Mapping>> {
                match r.get(k) {
                    None | Some(Value::Null) => Ok(Vec::new()),
                    Some(Value::Array(a)) => a.iter().map(|i| mapping(i, key)).collect(),
                    Some(_) => bail!("report {key:?}: {k} is not a list"),
                }
            };
            let constant = match r.get("constant_fields") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => m.clone(),
                Some(_) => bail!("report {key:?}: constant_fields is not an object"),
            };
            let rt = ReportType {
                feed_name: name("feed_name")?,
                file_name: name("file_name")?,
                url: r.get("url").cloned(),
                required: list("required_fields")?,
                optional: list("optional_fields")?,
                constant,
            };
            // As in IntelMQ, a later report type of the same name replaces the earlier.
            let i = s.reports.len();
            s.by_feed.insert(rt.feed_name.clone(), i);
            s.by_file.insert(rt.file_name.clone(), i);
            s.reports.push(rt);
        }
        Ok(s)
    }

    pub fn by_feed_name(&self, name: &str) -> Option<&ReportType> {
        self.by_feed.get(name).map(|&i| &self.reports[i])
    }

    pub fn by_file_name(&self, name: &str) -> Option<&ReportType> {
        self.by_file.get(name).map(|&i| &self.reports[i])
    }

    /// The schema IntelMQ uses with `test_mode: true`.
    pub fn test_schema() -> Schema {
        Schema::parse(TEST_SCHEMA).expect("the bundled test schema is valid")
    }

    /// Conversion function names the schema uses that IntelMQ 3.5.0 (and so imq)
    /// does not have: a required field using one fails every line.
    pub fn unknown_functions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .reports
            .iter()
            .flat_map(|r| r.required.iter().chain(&r.optional))
            .filter_map(|m| match &m.func {
                Some(Err(name)) => Some(name.clone()),
                _ => None,
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The checks a schema must pass before it is installed: what IntelMQ's
    /// update checks (`_meta.date_created`) and that it maps at least one report.
    pub fn check_installable(text: &str) -> Result<Schema> {
        let s = Schema::parse(text)?;
        if s.date_created.is_none() {
            bail!("the schema has no _meta.date_created");
        }
        if s.reports.is_empty() {
            bail!("the schema describes no report");
        }
        Ok(s)
    }
}

/// imq's state directory: `$IMQ_STATE_DIR`, else `$XDG_STATE_HOME/imq`, else
/// `~/.local/state/imq`.
pub fn state_dir() -> Result<PathBuf> {
    let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = non_empty("IMQ_STATE_DIR") {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = non_empty("XDG_STATE_HOME") {
        return Ok(PathBuf::from(d).join("imq"));
    }
    let home = non_empty("HOME")
        .context("no HOME to find the state directory; set IMQ_STATE_DIR or give schema_file")?;
    Ok(PathBuf::from(home).join(".local/state/imq"))
}

/// The schema file the parameters name (`schema_file`), else the installed one.
pub fn schema_path(p: &Params) -> Result<PathBuf> {
    match p.get("schema_file") {
        Some(Value::String(s)) if !s.is_empty() => Ok(PathBuf::from(s)),
        _ => Ok(state_dir()?.join(FILE_NAME)),
    }
}

/// The schema is not installed (a set-up step, not a broken configuration).
#[derive(Debug)]
pub struct SchemaMissing(pub PathBuf);

impl std::fmt::Display for SchemaMissing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the Shadowserver schema file does not exist: {}; install it with `{UPDATE_COMMAND}` \
             (or `imq-parse --shadowserver-schema-import FILE`), or give the schema_file parameter",
            self.0.display()
        )
    }
}

impl std::error::Error for SchemaMissing {}

/// The schema the parser uses with these parameters.
pub fn load(p: &Params) -> Result<Schema> {
    if p.get("test_mode").is_some_and(truthy) {
        return Ok(Schema::test_schema());
    }
    if p.get("auto_update").is_some_and(truthy) {
        crate::pipeline::eprintln_safe(&format!(
            "imq-parse: note: auto_update is not done while parsing; run {UPDATE_COMMAND} (e.g. daily)"
        ));
    }
    let path = schema_path(p)?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SchemaMissing(path).into())
        }
        Err(e) => return Err(anyhow!("{}: {e}", path.display())),
    };
    Schema::parse(&text)
        .with_context(|| format!("{}: not a valid Shadowserver schema", path.display()))
}

/// The outcome of installing a schema.
#[derive(Debug, PartialEq)]
pub enum Installed {
    /// A new or different schema was written (the old one kept as `.bak`).
    New { version: String, reports: usize },
    /// The installed schema has the same version already.
    Unchanged { version: String },
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(data);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Check `data` against an expected checksum (a `sha256sum` line or bare hex).
pub fn verify_sha256(data: &[u8], expected: &str) -> Result<()> {
    let want = expected
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if want.len() != 64 || !want.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{expected:?} is not a SHA-256 checksum");
    }
    let got = sha256_hex(data);
    if got != want {
        bail!("SHA-256 mismatch: expected {want}, got {got}");
    }
    Ok(())
}

/// Check and install a schema at `dest` (atomically; a different existing schema
/// is kept as `dest.bak`, as IntelMQ does).
pub fn install(data: &[u8], dest: &Path) -> Result<Installed> {
    let text = std::str::from_utf8(data).context("the schema is not UTF-8")?;
    let schema = Schema::check_installable(text)?;
    let unknown = schema.unknown_functions();
    if !unknown.is_empty() {
        crate::pipeline::eprintln_safe(&format!(
            "imq-parse: warning: the schema uses conversion functions imq does not know: {}",
            unknown.join(", ")
        ));
    }
    let version = schema.date_created.clone().unwrap_or_default();
    if let Ok(old) = std::fs::read_to_string(dest) {
        if let Ok(old) = Schema::parse(&old) {
            if old.date_created.as_deref() == Some(version.as_str()) {
                return Ok(Installed::Unchanged { version });
            }
        }
    }
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, data).with_context(|| format!("writing {}", tmp.display()))?;
    if dest.exists() {
        let mut bak = dest.as_os_str().to_owned();
        bak.push(".bak");
        if let Err(e) = std::fs::rename(dest, &bak) {
            let _ = std::fs::remove_file(&tmp);
            return Err(anyhow!("keeping the old schema as {bak:?}: {e}"));
        }
    }
    std::fs::rename(&tmp, dest).with_context(|| format!("installing {}", dest.display()))?;
    Ok(Installed::New {
        version,
        reports: schema.reports.len(),
    })
}

/// `--shadowserver-schema-import FILE`.
pub fn import(file: &str, sha256: Option<&str>, dest: &Path) -> Result<Installed> {
    let mut data = Vec::new();
    if file == "-" {
        std::io::stdin().read_to_end(&mut data)?;
    } else {
        data = std::fs::read(file).with_context(|| format!("reading {file}"))?;
    }
    if let Some(h) = sha256 {
        verify_sha256(&data, h)?;
    }
    install(&data, dest)
}

/// `--shadowserver-schema-update [URL]`: download, verify against `sha256` or a
/// `URL.sha256` file when the server has one, check, install.
pub fn update(url: &str, sha256: Option<&str>, dest: &Path) -> Result<Installed> {
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .user_agent(concat!("imq/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let resp = client
        .get(url)
        .send()
        .with_context(|| format!("downloading {url}"))?;
    if !resp.status().is_success() {
        bail!("downloading {url}: HTTP {}", resp.status());
    }
    let data = resp.bytes().with_context(|| format!("downloading {url}"))?;
    match sha256 {
        Some(h) => verify_sha256(&data, h)?,
        None => {
            let sum_url = format!("{url}.sha256");
            // Shadowserver publishes no checksum today; one is used when present.
            if let Ok(r) = client.get(&sum_url).send() {
                if r.status().is_success() {
                    let sum = r.text().with_context(|| format!("downloading {sum_url}"))?;
                    verify_sha256(&data, &sum)
                        .with_context(|| format!("checking against {sum_url}"))?;
                }
            }
        }
    }
    install(&data, dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_test_schema() {
        let s = Schema::test_schema();
        let smb = s.by_file_name("test_smb").unwrap();
        assert_eq!(smb.feed_name, "Test-Accessible-SMB");
        assert!(s.by_feed_name("Test-Accessible-SMB").is_some());
        assert!(smb
            .optional
            .iter()
            .any(|m| m.target == Target::ExtraColumn && m.column == "smb_implant"));
    }

    #[test]
    fn mappings() {
        let m = mapping(&serde_json::json!([false, "x"]), "r").unwrap();
        assert_eq!(m.target, Target::Ignore);
        let m = mapping(&serde_json::json!(["extra.a", "x", "nope", true]), "r").unwrap();
        assert_eq!(m.target, Target::Extra("a".into()));
        assert_eq!(m.func, Some(Err("nope".into())));
        assert!(m.with_row);
        assert!(mapping(&serde_json::json!(["a"]), "r").is_err());
    }

    #[test]
    fn checksums() {
        let h = sha256_hex(b"abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        verify_sha256(b"abc", &format!("{} intelmq.json\n", h.to_uppercase())).unwrap();
        assert!(verify_sha256(b"abd", &h).is_err());
        assert!(verify_sha256(b"abc", "xyz").is_err());
    }

    #[test]
    fn installable() {
        assert!(Schema::check_installable("{}").is_err());
        assert!(Schema::check_installable("[1]").is_err());
        let no_meta = r#"{"a": {"feed_name": "A", "file_name": "a"}}"#;
        assert!(Schema::check_installable(no_meta).is_err());
        let s = Schema::check_installable(
            r#"{"_meta": {"date_created": "x"}, "a": {"feed_name": "A", "file_name": "a",
                "required_fields": [["source.ip", "ip", "new_func"], ["source.port", "port", "convert_int"]]}}"#,
        )
        .unwrap();
        assert_eq!(s.unknown_functions(), ["new_func"]);
        assert!(Schema::test_schema().unknown_functions().is_empty());
    }
}
