//! `misp_feed`: IntelMQ's MISP feed output (§4.13). A directory a MISP instance
//! can pull as a feed: one `<event uuid>.json` per MISP event (`{"Event": ..}` as
//! pymisp's `to_feed(with_meta=False)` writes it, one `intelmq_event` object per
//! IntelMQ event), `manifest.json`, `hashes.csv` and `.current` (the file of the
//! event being filled). A MISP event covers a window of `interval_event`; the
//! next event after the window starts a new one. Files are replaced atomically
//! at commit, and a batch is delivered once they are. `tagging` (JSON, as in
//! IntelMQ: `{"__all__": [{"name": "tlp:white"}], "<group>": [..]}`) tags the
//! events; `attribute_mapping` (JSON: `{"source.ip": {"comment": "feed.name"}}`)
//! chooses the fields and their attributes' arguments; `max_objects` (imq's)
//! starts a new event file when one is full.

use super::atomic;
use super::{Output, OutputOpts};
use crate::harmonization::{FieldType, MsgType};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use crate::pipeline::{eprintln_safe, sanitize_for_terminal};
use crate::pyfmt::{py_json_dumps, py_str};
use anyhow::{bail, Context};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, Timelike};
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `DEFAULT_KEY` of IntelMQ: the group of events without a grouping value.
const DEFAULT_KEY: &str = "default";

/// The MISP object template `intelmq_event` (misp-objects
/// `objects/intelmq_event/definition.json`, version 5): each object relation
/// and its MISP attribute type.
const TEMPLATE_NAME: &str = "intelmq_event";
const TEMPLATE_UUID: &str = "491ac7d2-25a1-4078-8246-b04a132d003d";
const TEMPLATE_VERSION: &str = "5";
const TEMPLATE: &[(&str, &str)] = &[
    ("classification.identifier", "text"),
    ("classification.taxonomy", "text"),
    ("classification.type", "text"),
    ("comment", "text"),
    ("destination.abuse_contact", "text"),
    ("destination.account", "text"),
    ("destination.allocated", "datetime"),
    ("destination.as_name", "text"),
    ("destination.asn", "AS"),
    ("destination.domain_suffix", "text"),
    ("destination.fqdn", "domain"),
    ("destination.geolocation.cc", "text"),
    ("destination.geolocation.city", "text"),
    ("destination.geolocation.country", "text"),
    ("destination.geolocation.latitude", "float"),
    ("destination.geolocation.longitude", "float"),
    ("destination.geolocation.region", "text"),
    ("destination.geolocation.state", "text"),
    ("destination.ip", "ip-dst"),
    ("destination.local_hostname", "hostname"),
    ("destination.local_ip", "ip-dst"),
    ("destination.network", "ip-dst"),
    ("destination.port", "port"),
    ("destination.registry", "text"),
    ("destination.reverse_dns", "text"),
    ("destination.tor_node", "boolean"),
    ("destination.url", "url"),
    ("destination.urlpath", "text"),
    ("event_description.target", "text"),
    ("event_description.text", "text"),
    ("event_description.url", "url"),
    ("event_hash", "text"),
    ("extra", "text"),
    ("feed.accuracy", "float"),
    ("feed.code", "text"),
    ("feed.documentation", "text"),
    ("feed.name", "text"),
    ("feed.provider", "text"),
    ("feed.url", "url"),
    ("malware.hash.md5", "md5"),
    ("malware.hash.sha1", "sha1"),
    ("malware.hash.sha256", "sha256"),
    ("malware.name", "text"),
    ("malware.version", "text"),
    ("misp.attribute_uuid", "text"),
    ("misp.event_uuid", "text"),
    ("output", "text"),
    ("protocol.application", "text"),
    ("protocol.transport", "text"),
    ("raw", "text"),
    ("rtir_id", "integer"),
    ("screenshot_url", "url"),
    ("source.abuse_contact", "text"),
    ("source.account", "text"),
    ("source.allocated", "datetime"),
    ("source.as_name", "text"),
    ("source.asn", "AS"),
    ("source.domain_suffix", "text"),
    ("source.fqdn", "domain"),
    ("source.geolocation.cc", "text"),
    ("source.geolocation.city", "text"),
    ("source.geolocation.country", "text"),
    ("source.geolocation.cymru_cc", "text"),
    ("source.geolocation.geoip_cc", "text"),
    ("source.geolocation.latitude", "float"),
    ("source.geolocation.longitude", "float"),
    ("source.geolocation.region", "text"),
    ("source.geolocation.state", "text"),
    ("source.ip", "ip-src"),
    ("source.local_hostname", "hostname"),
    ("source.local_ip", "ip-src"),
    ("source.network", "ip-src"),
    ("source.port", "port"),
    ("source.registry", "text"),
    ("source.reverse_dns", "text"),
    ("source.tor_node", "boolean"),
    ("source.url", "url"),
    ("source.urlpath", "text"),
    ("status", "text"),
    ("time.observation", "datetime"),
    ("time.source", "datetime"),
    ("tlp", "text"),
];

/// The template's relations with `disable_correlation: true`.
const NO_CORRELATION: &[&str] = &["time.observation", "time.source"];

/// MISP's attribute types (`describeTypes.json`, in data/misp_types.txt): each
/// type's default category and `to_ids`, and the categories allowing it (a bit
/// per category).
struct Types {
    categories: Vec<&'static str>,
    types: HashMap<&'static str, (&'static str, bool, u32)>,
}

fn types() -> &'static Types {
    static T: OnceLock<Types> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = Types {
            categories: Vec::new(),
            types: HashMap::new(),
        };
        for line in include_str!("../../data/misp_types.txt").lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut f = line.split('\t');
            let name = f.next().unwrap_or_default();
            if name == "CATEGORIES" {
                t.categories = f.collect();
                continue;
            }
            let (Some(cat), Some(ids), Some(allowed)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let bits = allowed
                .split(',')
                .filter_map(|i| i.parse::<u32>().ok())
                .fold(0u32, |b, i| b | (1 << i));
            t.types.insert(name, (cat, ids == "1", bits));
        }
        t
    })
}

/// The type's default category and `to_ids`; `None` for a type MISP lacks.
fn sane_default(ty: &str) -> Option<(&'static str, bool)> {
    types().types.get(ty).map(|&(c, ids, _)| (c, ids))
}

/// May the type be in the category? `None` for a category MISP lacks.
fn category_allows(category: &str, ty: &str) -> Option<bool> {
    let t = types();
    let i = t.categories.iter().position(|c| *c == category)?;
    Some(
        t.types
            .get(ty)
            .is_some_and(|&(_, _, bits)| bits & (1 << i) != 0),
    )
}

/// The relation's type, `None` when the template does not know it.
fn template_type(relation: &str) -> Option<&'static str> {
    TEMPLATE
        .binary_search_by(|(r, _)| r.cmp(&relation))
        .ok()
        .map(|i| TEMPLATE[i].1)
}

pub struct MispFeed {
    dir: PathBuf,
    orgc: Value,
    window: Duration,
    additional_info: Option<String>,
    grouping_key: Option<String>,
    /// Tags in their feed form, by group (`__all__` for every event).
    tagging: HashMap<String, Vec<Value>>,
    /// `attribute_mapping`: the fields made attributes instead of the
    /// template's mapping of every field.
    mapping: Option<Vec<Mapped>>,
    /// `flat_events`: the attributes in the event itself, no objects.
    flat: bool,
    /// Objects per event file: a fuller window starts a new file, which bounds
    /// what is held in memory (and rewritten at each commit).
    max_objects: usize,
    min_time: NaiveDateTime,
    max_time: NaiveDateTime,
    /// The events being filled, in creation order (the order of `.current`),
    /// and their index by group (there may be many groups).
    current: Vec<Event>,
    by_key: HashMap<String, usize>,
    /// Events closed (window over, or full) since the last commit, to be
    /// written once more at commit and then dropped.
    closed: Vec<Event>,
    /// Was `.current` changed since the last commit?
    current_changed: bool,
    /// Events taken since the last commit.
    pending: usize,
    /// Where the current events' lines start in `hashes.csv`, and its length,
    /// as imq last wrote it.
    hashes_kept: Option<(u64, u64)>,
    warned: HashSet<String>,
    rng: Random,
}

/// One MISP event: its head (the `Event` members before `Attribute` and
/// `Object`, in feed order), its attributes and objects as written, and the
/// MD5s of their attribute values.
struct Event {
    key: String,
    uuid: String,
    path: PathBuf,
    head: Map<String, Value>,
    attributes: Vec<String>,
    objects: Vec<String>,
    hashes: Vec<String>,
    dirty: bool,
}

/// One entry of `attribute_mapping`: the field, the type (flat events) or
/// object relation it is written as (default: the field's name), and the
/// attribute's other arguments (`comment`, `to_ids`, `category`, ...).
struct Mapped {
    field: String,
    name: Option<String>,
    args: Vec<(String, Arg)>,
}

/// An argument's value: an event field's value, or the text as given.
enum Arg {
    Field(String),
    Fixed(Value),
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let Some(dir) = params::string(p, "output_dir")?.or_else(|| o.target.clone()) else {
        bail!("misp_feed: the output directory is required (imq-output misp_feed DIR, or parameter output_dir)");
    };
    let dir = PathBuf::from(dir);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // pymisp refuses to write a feed without the organisation (a required field
    // of the feed's Orgc); say so at start, not at the first event.
    let org_name = params::required(p, "misp_org_name")?;
    let org_uuid = params::required(p, "misp_org_uuid")?;
    let interval = params::string_or(p, "interval_event", "1 hour")?;
    let window = crate::filter::value::parse_relative(&interval)
        .map_err(|e| anyhow::anyhow!("parameter interval_event: {e}"))?;
    if window <= Duration::zero() {
        bail!("parameter interval_event: must be longer than zero, got {interval:?}");
    }
    let additional_info = params::string(p, "additional_info")?;
    if let Some(t) = &additional_info {
        format_key(t, DEFAULT_KEY).context("parameter additional_info")?;
    }
    let grouping_key = params::string(p, "grouping_key")?.filter(|k| !k.is_empty());
    let tagging = read_tagging(p)?;
    let mapping = read_mapping(p)?;
    let flat = params::boolean(p, "flat_events", false)?;
    if flat && mapping.is_none() {
        bail!("misp_feed: flat_events needs attribute_mapping (the attributes' types)");
    }
    // A feed regenerated every N events: imq writes the feed at every commit
    // (batch), so the count has no use; Redis' cache is not needed either.
    let _ = params::integer(p, "bulk_save_count", 0)?;
    let max_objects = params::integer(p, "max_objects", 10000)?;
    if max_objects < 1 {
        bail!("parameter max_objects: must be at least 1, got {max_objects}");
    }
    let now = now();
    let mut feed = MispFeed {
        dir,
        orgc: json!({"name": org_name, "uuid": org_uuid}),
        window,
        additional_info,
        grouping_key,
        tagging,
        mapping,
        flat,
        max_objects: max_objects as usize,
        min_time: now,
        max_time: now + window,
        current: Vec::new(),
        by_key: HashMap::new(),
        closed: Vec::new(),
        current_changed: false,
        pending: 0,
        hashes_kept: None,
        warned: HashSet::new(),
        rng: Random::open()?,
    };
    feed.load_current(now);
    Ok(Box::new(feed))
}

/// A parameter holding JSON: given as JSON, or as text of JSON.
fn json_param(p: &Params, name: &str) -> anyhow::Result<Option<Value>> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .with_context(|| format!("parameter {name}: not JSON")),
        Some(v) => Ok(Some(v.clone())),
    }
}

/// `tagging`: `{"__all__" or group value: [{"name": .., ..}, ..]}`, each tag in
/// its feed form (`colour`, `local`, `name`, `relationship_type`, defaults as
/// pymisp's `MISPTag`; a tag with `exportable: false` is left out).
fn read_tagging(p: &Params) -> anyhow::Result<HashMap<String, Vec<Value>>> {
    let mut out = HashMap::new();
    let Some(v) = json_param(p, "tagging")? else {
        return Ok(out);
    };
    let Value::Object(m) = v else {
        bail!("parameter tagging: expected an object of lists of tags, got {v}");
    };
    for (key, list) in m {
        let Value::Array(list) = list else {
            bail!("parameter tagging: {key:?} is not a list of tags");
        };
        let mut tags = Vec::new();
        for t in list {
            if !t.is_object() {
                bail!("parameter tagging: {key:?} holds {t}, not a tag object");
            }
            if let Some(t) =
                tag_feed(&t).map_err(|e| anyhow::anyhow!("parameter tagging: {key:?}: {e}"))?
            {
                tags.push(t);
            }
        }
        out.insert(key, tags);
    }
    Ok(out)
}

/// `attribute_mapping`: `{field: {"type": .., "comment": .., ..}}`. An argument
/// naming an event field (or a JSONDict's sub-field) takes that field's value.
fn read_mapping(p: &Params) -> anyhow::Result<Option<Vec<Mapped>>> {
    let Some(v) = json_param(p, "attribute_mapping")? else {
        return Ok(None);
    };
    let Value::Object(m) = v else {
        bail!("parameter attribute_mapping: expected an object of fields, got {v}");
    };
    let h = crate::harmonization::harmonization();
    let is_field = |s: &str| {
        h.lookup(MsgType::Event, s).is_some()
            || h.lookup(MsgType::Event, s.split('.').next().unwrap_or_default())
                .is_some()
    };
    let mut out = Vec::new();
    for (field, def) in m {
        let Value::Object(def) = def else {
            bail!("parameter attribute_mapping: {field:?} is {def}, not an object of attribute parameters");
        };
        let mut name = None;
        let mut args = Vec::new();
        for (k, v) in def {
            match k.as_str() {
                "type" => match v {
                    Value::String(s) if !s.is_empty() => name = Some(s),
                    Value::String(_) | Value::Null | Value::Bool(false) => {}
                    v => {
                        bail!("parameter attribute_mapping: the type of {field:?} is {v}, not text")
                    }
                },
                "value" | "object_relation" => {
                    bail!(
                        "parameter attribute_mapping: {field:?} sets {k}, which is the field's own"
                    )
                }
                "data" => bail!(
                    "parameter attribute_mapping: {field:?}: data (attachments) is not supported"
                ),
                _ => {
                    let arg = match v {
                        Value::String(s) if is_field(&s) => Arg::Field(s),
                        v => Arg::Fixed(v),
                    };
                    args.push((k, arg));
                }
            }
        }
        out.push(Mapped { field, name, args });
    }
    Ok(Some(out))
}

/// pymisp's `_int_to_str`: integers in the feed are strings.
fn int_to_str(v: Value) -> Value {
    match v {
        Value::Number(n) if !n.is_f64() => Value::String(n.to_string()),
        v => v,
    }
}

/// `additional_info.format(key=key)`: `{key}` and the `{{`/`}}` escapes.
fn format_key(t: &str, key: &str) -> anyhow::Result<String> {
    let mut out = String::with_capacity(t.len() + key.len());
    let mut rest = t;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let r = &rest[i..];
        if let Some(r2) = r.strip_prefix("{{") {
            out.push('{');
            rest = r2;
        } else if let Some(r2) = r.strip_prefix("}}") {
            out.push('}');
            rest = r2;
        } else if let Some(r2) = r.strip_prefix("{key}") {
            out.push_str(key);
            rest = r2;
        } else {
            bail!("{t:?}: only {{key}} can be filled in (and {{{{ }}}} for braces)");
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// A warning on stderr (not about one message: the event is still delivered).
fn warn(s: &str) {
    eprintln_safe(&format!("imq-output: misp_feed: {s}"));
}

/// Now, local and naive, as IntelMQ's `datetime.datetime.now()`.
fn now() -> NaiveDateTime {
    chrono::Local::now().naive_local()
}

/// `datetime.isoformat()` of the window bounds, always with microseconds:
/// IntelMQ reads them back with `%Y-%m-%dT%H:%M:%S.%f`.
fn window_time(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// The window of an event's `info`: `IntelMQ event <min> - <max>`.
fn parse_info(info: &str) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let i = info.find("IntelMQ event ")?;
    let rest = &info[i + "IntelMQ event ".len()..];
    // Python's greedy `(.*) - (.*)`: the last " - " separates them.
    let (a, b) = rest.rsplit_once(" - ")?;
    let f = "%Y-%m-%dT%H:%M:%S%.f";
    Some((
        NaiveDateTime::parse_from_str(a.trim(), f).ok()?,
        NaiveDateTime::parse_from_str(b.trim(), f).ok()?,
    ))
}

impl MispFeed {
    /// IntelMQ's start: the events `.current` names are filled further while
    /// their window lasts.
    fn load_current(&mut self, now: NaiveDateTime) {
        let Ok(text) = fs::read_to_string(self.dir.join(".current")) else {
            return;
        };
        let files: Vec<(String, String)> = if self.grouping_key.is_none() {
            vec![(DEFAULT_KEY.to_string(), text)]
        } else {
            match serde_json::from_str::<Map<String, Value>>(&text) {
                Ok(m) => m
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
                    .collect(),
                Err(e) => {
                    warn(&format!(
                        "{}/.current is not JSON ({e}); starting new events",
                        self.dir.display()
                    ));
                    return;
                }
            }
        };
        let mut loaded = Vec::new();
        let (mut min, mut max) = (NaiveDateTime::MAX, NaiveDateTime::MIN);
        for (key, path) in files {
            let mut path = PathBuf::from(path.trim());
            // The path is as IntelMQ wrote it (relative to its working
            // directory); the file is in the output directory in any case.
            if !path.exists() {
                match path.file_name() {
                    Some(n) => path = self.dir.join(n),
                    None => continue,
                }
            }
            if !path.exists() {
                continue;
            }
            match load_event(&path, key) {
                Ok((ev, window)) => {
                    min = min.min(window.0);
                    max = max.max(window.1);
                    loaded.push(ev);
                }
                Err(e) => {
                    warn(&format!(
                        "loading the current event {} failed, starting new events: {e:#}",
                        path.display()
                    ));
                    return;
                }
            }
        }
        if loaded.is_empty() || max < now {
            return;
        }
        self.min_time = min;
        self.max_time = max;
        self.current = loaded;
        self.reindex();
    }

    /// The current event of a group, created when there is none (or the one
    /// there is full).
    fn event_for(&mut self, key: &str) -> anyhow::Result<usize> {
        if let Some(&i) = self.by_key.get(key) {
            let e = &self.current[i];
            if e.objects.len() + e.attributes.len() < self.max_objects {
                return Ok(i);
            }
            let full = self.current.remove(i);
            self.reindex();
            self.closed.push(full);
        }
        let uuid = self.rng.uuid4()?;
        let mut info = format!(
            "IntelMQ event {} - {}",
            window_time(&self.min_time),
            window_time(&self.max_time)
        );
        if let Some(t) = &self.additional_info {
            info = format!("{} {info}", format_key(t, key)?);
        }
        let mut tags = self.tagging.get("__all__").cloned().unwrap_or_default();
        tags.extend(self.tagging.get(key).cloned().unwrap_or_default());
        let ts = unix_now().to_string();
        let head = json!({
            "analysis": "2",
            "date": chrono::Local::now().date_naive().format("%Y-%m-%d").to_string(),
            "extends_uuid": "",
            "info": info,
            "protected": false,
            "publish_timestamp": ts,
            "published": true,
            "threat_level_id": "4",
            "timestamp": ts,
            "uuid": uuid,
            "Orgc": self.orgc,
            "Tag": tags,
        });
        let Value::Object(head) = head else {
            unreachable!("an object literal")
        };
        self.current.push(Event {
            key: key.to_string(),
            path: self.dir.join(format!("{uuid}.json")),
            uuid,
            head,
            attributes: Vec::new(),
            objects: Vec::new(),
            hashes: Vec::new(),
            dirty: true,
        });
        self.current_changed = true;
        self.by_key.insert(key.to_string(), self.current.len() - 1);
        Ok(self.current.len() - 1)
    }

    /// The group of an event: the grouping key's value, `default` without one.
    fn group_of(&self, ev: &Message) -> String {
        let Some(k) = &self.grouping_key else {
            return DEFAULT_KEY.to_string();
        };
        match message_get(ev, k) {
            Some(v) if crate::pyfmt::py_truthy(&v) => py_str(&v),
            _ => DEFAULT_KEY.to_string(),
        }
    }

    /// The `intelmq_event` object of an event (or, with `flat_events`, its
    /// attributes), and the MD5s of its values. An event a custom mapping
    /// cannot make is refused, as IntelMQ fails on it.
    fn entries(&mut self, ev: &Message, ts: &str) -> Result<(Vec<String>, Vec<String>), Fail> {
        let mut attrs = Vec::new();
        let mut hashes = Vec::new();
        if self.mapping.is_some() {
            self.mapped_attributes(ev, ts, &mut attrs, &mut hashes)?;
        } else {
            self.default_attributes(ev, ts, &mut attrs, &mut hashes)?;
        }
        if self.flat {
            let attrs = attrs.iter().map(|a| py_json_dumps(a, false)).collect();
            return Ok((attrs, hashes));
        }
        let obj = json!({
            "comment": "",
            "description": "IntelMQ Event",
            "meta-category": "network",
            "name": TEMPLATE_NAME,
            "template_uuid": TEMPLATE_UUID,
            "template_version": TEMPLATE_VERSION,
            "timestamp": ts,
            "uuid": self.rng.uuid4()?,
            "Attribute": attrs,
        });
        Ok((vec![py_json_dumps(&obj, false)], hashes))
    }

    /// IntelMQ's default mapping: every field (the `extra.*` ones as one JSON
    /// text, after all others) as the template's relation of its name.
    fn default_attributes(
        &mut self,
        ev: &Message,
        ts: &str,
        attrs: &mut Vec<Value>,
        hashes: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let mut extra: Vec<(&str, &Value)> = Vec::new();
        let mut fields: Vec<(&str, Value)> = Vec::new();
        for (k, v) in ev.iter() {
            match k.strip_prefix("extra.") {
                Some(sub) => extra.push((sub, v)),
                None => fields.push((k, v.clone())),
            }
        }
        if !extra.is_empty() {
            let mut s = String::from("{");
            for (i, (k, v)) in extra.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                super::export::dumps_with(&Value::String(k.to_string()), false, &mut s);
                s.push_str(": ");
                super::export::dumps_with(v, false, &mut s);
            }
            s.push('}');
            fields.push(("extra", Value::String(s)));
        }
        let none = Map::new();
        for (relation, value) in fields {
            let Some(ty) = template_type(relation) else {
                if relation != "__type" && self.warn_once(relation) {
                    warn(&format!("object relation {} does not exist in the MISP definition intelmq_event, ignoring it", sanitize_for_terminal(relation, 100)));
                }
                continue;
            };
            let Some(value) = object_value(value) else {
                continue;
            };
            let uuid = self.rng.uuid4()?;
            let t = (None, Some(NO_CORRELATION.contains(&relation)));
            match make_attribute(ty, Some(relation), value, &none, t, ts, uuid) {
                Ok((a, h)) => {
                    attrs.push(a);
                    hashes.extend(h);
                }
                Err(e) => {
                    if self.warn_once(&format!("{relation}\0value")) {
                        warn(&format!("{relation}: {e}; ignoring it"));
                    }
                }
            }
        }
        Ok(())
    }

    /// `attribute_mapping`: the fields it names, with its arguments.
    fn mapped_attributes(
        &mut self,
        ev: &Message,
        ts: &str,
        attrs: &mut Vec<Value>,
        hashes: &mut Vec<String>,
    ) -> Result<(), Fail> {
        let Some(mapping) = &self.mapping else {
            return Ok(());
        };
        for m in mapping {
            let Some(value) = message_get(ev, &m.field) else {
                continue;
            };
            let mut args = Map::new();
            for (k, a) in &m.args {
                let v = match a {
                    Arg::Field(f) => message_get(ev, f).unwrap_or(Value::Null),
                    Arg::Fixed(v) => v.clone(),
                };
                args.insert(k.clone(), v);
            }
            let name = m.name.as_deref().unwrap_or(&m.field);
            let reject = |e: String| Fail::Reject(format!("misp_feed: {}: {e}", m.field));
            if self.flat {
                // `MISPEvent.add_attribute(type, value)`: a list is one
                // attribute per item; the value is taken as it is.
                let values = match value {
                    Value::Array(a) => a,
                    v => vec![v],
                };
                for v in values {
                    if v.is_null() {
                        return Err(reject("the value of the attribute is required".into()));
                    }
                    let uuid = self.rng.uuid4()?;
                    let (a, h) = make_attribute(name, None, v, &args, (None, None), ts, uuid)
                        .map_err(reject)?;
                    attrs.push(a);
                    hashes.extend(h);
                }
                continue;
            }
            // `MISPObject.add_attribute(name, value=..)`: the name is the
            // template's relation.
            let Some(ty) = template_type(name) else {
                return Err(reject(format!(
                    "the object relation {name} is not in the MISP template intelmq_event"
                )));
            };
            let Some(value) = object_value(value) else {
                continue;
            };
            let uuid = self.rng.uuid4()?;
            let t = (None, Some(NO_CORRELATION.contains(&name)));
            let (a, h) =
                make_attribute(ty, Some(name), value, &args, t, ts, uuid).map_err(reject)?;
            attrs.push(a);
            hashes.extend(h);
        }
        Ok(())
    }

    /// Is this the first warning of its kind? (Bounded: keys come from input.)
    fn warn_once(&mut self, what: &str) -> bool {
        self.warned.len() < 1000 && self.warned.insert(what.to_string())
    }

    /// The index of the current events by group, after the list changed.
    fn reindex(&mut self) {
        self.by_key = self
            .current
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.clone(), i))
            .collect();
    }

    /// Close every current event (the window is over).
    fn roll_window(&mut self, now: NaiveDateTime) {
        self.min_time = now;
        self.max_time = now + self.window;
        if !self.current.is_empty() {
            self.closed.append(&mut self.current);
            self.by_key.clear();
            self.current_changed = true;
        }
    }

    fn write_current_file(&self) -> anyhow::Result<()> {
        let text = if self.grouping_key.is_none() {
            match self.current.first() {
                Some(e) => e.path.display().to_string(),
                None => return Ok(()),
            }
        } else {
            let m: Map<String, Value> = self
                .current
                .iter()
                .map(|e| (e.key.clone(), Value::String(e.path.display().to_string())))
                .collect();
            py_json_dumps(&Value::Object(m), false)
        };
        atomic::replace(&self.dir.join(".current"), |w| w.write_all(text.as_bytes()))
    }

    /// `manifest.json`: the existing one, with the written events' entries.
    fn write_manifest(&self, written: &[&Event]) -> anyhow::Result<()> {
        let path = self.dir.join("manifest.json");
        let mut manifest: Map<String, Value> = match fs::read(&path) {
            Ok(b) if !b.is_empty() => serde_json::from_slice(&b)
                .with_context(|| format!("{} is not a JSON object", path.display()))?,
            _ => Map::new(),
        };
        for e in written {
            manifest.insert(e.uuid.clone(), manifest_entry(&e.head));
        }
        let text = py_json_dumps(&Value::Object(manifest), false);
        atomic::replace(&path, |w| w.write_all(text.as_bytes()))
    }
}

/// `hashes.csv`: the lines of the events no longer in memory first, then those
/// of the events closed at this commit, then those of the current ones. Once
/// imq wrote the file it knows where the current events' lines start (`kept`:
/// that offset and the file's length), and the next commit copies the part
/// before unchanged; otherwise (the first commit of a run, a file changed by
/// someone else) the whole file is filtered.
fn write_hashes(
    dir: &Path,
    kept: Option<(u64, u64)>,
    closed: &[Event],
    current: &[Event],
) -> anyhow::Result<(u64, u64)> {
    let path = dir.join("hashes.csv");
    let mut tail = Vec::new();
    for e in closed {
        for h in &e.hashes {
            writeln!(tail, "{h},{}", e.uuid)?;
        }
    }
    let closed_len = tail.len() as u64;
    for e in current {
        for h in &e.hashes {
            writeln!(tail, "{h},{}", e.uuid)?;
        }
    }
    let len_now = fs::metadata(&path).map(|m| m.len()).ok();
    if let Some((prefix, _)) = kept.filter(|&(_, total)| len_now == Some(total)) {
        atomic::replace_keeping(&path, prefix, |w| w.write_all(&tail))?;
        return Ok((prefix + closed_len, prefix + tail.len() as u64));
    }
    let uuids: HashSet<&str> = closed
        .iter()
        .chain(current)
        .map(|e| e.uuid.as_str())
        .collect();
    let old = match File::open(&path) {
        Ok(f) => Some(BufReader::new(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut prefix = 0u64;
    atomic::replace(&path, |w| {
        if let Some(old) = old {
            for line in old.split(b'\n') {
                let line = line?;
                let uuid = line.rsplit(|&b| b == b',').next().unwrap_or_default();
                if line.is_empty() || std::str::from_utf8(uuid).is_ok_and(|u| uuids.contains(u)) {
                    continue;
                }
                w.write_all(&line)?;
                w.write_all(b"\n")?;
                prefix += line.len() as u64 + 1;
            }
        }
        w.write_all(&tail)
    })?;
    Ok((prefix + closed_len, prefix + tail.len() as u64))
}

/// A value as `MISPObject.add_attribute` takes it: text stripped of white
/// space and NULs; `None` (no attribute) when nothing is left.
fn object_value(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::String(s) => {
            let t = crate::harmonization::py_strip(&s).trim_matches('\0');
            if t.is_empty() {
                None
            } else if t.len() == s.len() {
                Some(Value::String(s))
            } else {
                Some(Value::String(t.to_string()))
            }
        }
        v => Some(v),
    }
}

/// Is a JSON value one of Python's false ones (`None`, `0`, `""`, `[]`, `{}`)?
fn falsy(v: &Value) -> bool {
    !crate::pyfmt::py_truthy(v)
}

/// pymisp's `MISPAttribute.from_dict` and `_to_feed`: the attribute of a type
/// (and object relation) with its arguments (`args`, JSON null for Python's
/// `None`) and the template's `(to_ids, disable_correlation)`, in the feed's
/// form (members sorted), and the MD5s of its value for `hashes.csv`.
fn make_attribute(
    ty: &str,
    relation: Option<&str>,
    value: Value,
    args: &Map<String, Value>,
    template: (Option<bool>, Option<bool>),
    ts: &str,
    uuid: String,
) -> Result<(Value, Vec<String>), String> {
    let arg = |k: &str| args.get(k).filter(|v| !v.is_null());
    let Some((default_category, default_to_ids)) = sane_default(ty) else {
        return Err(format!("{ty} is not a MISP attribute type"));
    };
    let value = match value {
        Value::String(s) if ty == "datetime" => Value::String(
            py_isoformat(&s, 'T').ok_or_else(|| format!("{s:?} is not a valid datetime"))?,
        ),
        v => int_to_str(v),
    };
    let category = match arg("category") {
        None => default_category.to_string(),
        Some(Value::String(c)) if !c.is_empty() => match category_allows(c, ty) {
            None => return Err(format!("{c:?} is not a MISP category")),
            Some(true) => c.clone(),
            // pymisp (not strict) drops a category the type is not allowed in.
            Some(false) => default_category.to_string(),
        },
        Some(c) => return Err(format!("{c} is not a MISP category")),
    };
    let to_ids = match arg("to_ids") {
        None => template.0.unwrap_or(default_to_ids),
        Some(v) => make_bool(v).ok_or_else(|| format!("unable to convert {v} to a boolean"))?,
    };
    let disable_correlation = match arg("disable_correlation") {
        None => Value::Bool(template.1.unwrap_or(false)),
        Some(v) => int_to_str(v.clone()),
    };
    if let Some(d) = arg("distribution") {
        match crate::harmonization::py_int(d) {
            Some(0..=3 | 5) => {}
            Some(4) if arg("sharing_group_id").is_some_and(|g| !falsy(g)) => {}
            Some(4) => return Err("distribution 4 (sharing group) needs a sharing_group_id".into()),
            _ => {
                return Err(format!(
                    "{d} is invalid, the distribution has to be in 0, 1, 2, 3, 4, 5"
                ))
            }
        }
    }
    let timestamp = match arg("timestamp").filter(|t| !falsy(t)) {
        None => ts.to_string(),
        Some(t) => crate::harmonization::py_int(t)
            .ok_or_else(|| format!("timestamp {t} is not an integer"))?
            .to_string(),
    };
    let mut m: BTreeMap<&str, Value> = BTreeMap::new();
    m.insert("category", Value::String(category));
    m.insert(
        "comment",
        arg("comment").map_or(json!(""), |c| int_to_str(c.clone())),
    );
    if let Some(d) = arg("deleted") {
        m.insert("deleted", int_to_str(d.clone()));
    }
    m.insert("disable_correlation", disable_correlation);
    for k in ["first_seen", "last_seen"] {
        // pymisp skips a value it cannot read as a time (with a warning).
        if let Some(t) = arg(k).and_then(seen_time) {
            m.insert(k, Value::String(t));
        }
    }
    if let Some(r) = relation {
        m.insert("object_relation", Value::String(r.to_string()));
    }
    m.insert("timestamp", Value::String(timestamp));
    m.insert("to_ids", Value::Bool(to_ids));
    m.insert("type", Value::String(ty.to_string()));
    m.insert(
        "uuid",
        arg("uuid").map_or(Value::String(uuid), |u| int_to_str(u.clone())),
    );
    let hashes = hash_values(ty, &value);
    m.insert("value", value);
    let mut out: Map<String, Value> = m.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    if let Some(tags) = arg("Tag").filter(|t| !falsy(t)) {
        let Value::Array(tags) = tags else {
            return Err(format!("Tag {tags} is not a list of tags"));
        };
        let tags: Result<Vec<Option<Value>>, String> = tags.iter().map(tag_feed).collect();
        let tags: Vec<Value> = tags?.into_iter().flatten().collect();
        if !tags.is_empty() {
            out.insert("Tag".into(), Value::Array(tags));
        }
    }
    Ok((Value::Object(out), hashes))
}

/// pymisp's `make_bool`.
fn make_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if !n.is_f64() => Some(n.as_f64() != Some(0.0)),
        v if falsy(v) => Some(false),
        Value::String(s) => Some(s != "0"),
        _ => None,
    }
}

/// A `first_seen`/`last_seen` argument in `isoformat()`: a time, or a Unix
/// timestamp (in local time with its offset, as pymisp's `_make_datetime`).
fn seen_time(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => py_isoformat(s, 'T'),
        Value::Number(n) => {
            let f = n.as_f64()?;
            let t = DateTime::from_timestamp(f.floor() as i64, (f.fract() * 1e6) as u32 * 1000)?;
            let local = t.with_timezone(&chrono::Local);
            py_isoformat(&local.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string(), 'T')
        }
        _ => None,
    }
}

/// A tag in its feed form (`MISPTag._to_feed`), `None` when not exportable.
fn tag_feed(t: &Value) -> Result<Option<Value>, String> {
    let t = match t {
        Value::String(name) => {
            let mut m = Map::new();
            m.insert("name".into(), Value::String(name.clone()));
            m
        }
        Value::Object(m) if m.contains_key("name") => m.clone(),
        Value::Object(_) => return Err("a tag has no name".into()),
        other => return Err(format!("{other} is not a tag")),
    };
    if t.get("exportable") == Some(&Value::Bool(false)) {
        return Ok(None);
    }
    let field = |k: &str, default: Value| int_to_str(t.get(k).cloned().unwrap_or(default));
    Ok(Some(json!({
        "colour": field("colour", json!("#ffffff")),
        "local": field("local", json!(false)),
        "name": field("name", Value::Null),
        "relationship_type": field("relationship_type", json!("")),
    })))
}

/// A field's value as IntelMQ's `message.get(key)` gives it: a JSONDict field
/// (`extra`) as the JSON text of its items.
fn message_get(ev: &Message, key: &str) -> Option<Value> {
    let h = crate::harmonization::harmonization();
    match h.lookup(MsgType::Event, key) {
        Some((spec, false)) if spec.ty == FieldType::JsonDict => {
            ev.jsondict_str(key).map(Value::String)
        }
        _ => ev.get(key).cloned(),
    }
}

/// pymisp's `hash_values('md5')`: a composite type (`ip-dst|port`) hashes
/// each part.
fn hash_values(ty: &str, v: &Value) -> Vec<String> {
    match v {
        Value::String(s) if ty.contains('|') || ty == "malware-sample" => {
            s.split('|').map(md5_hex).collect()
        }
        v => vec![md5_hex(&hash_text(ty, v))],
    }
}

/// The text pymisp hashes for `hashes.csv`: `str(value)` of the value loaded
/// back from the feed (a datetime printed with a space).
fn hash_text(ty: &str, v: &Value) -> String {
    match v {
        Value::String(s) if ty == "datetime" => py_isoformat(s, ' ').unwrap_or_else(|| s.clone()),
        v => py_str(v),
    }
}

/// Python's `datetime.fromisoformat(s).isoformat(sep)`, for the forms IntelMQ
/// writes and the common others (`Z`, a space, no seconds, a date alone).
fn py_isoformat(s: &str, sep: char) -> Option<String> {
    let s = s.trim();
    let z;
    let s = match s.strip_suffix(['Z', 'z']) {
        Some(r) => {
            z = format!("{r}+00:00");
            z.as_str()
        }
        None => s,
    };
    let with_offset = [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%d %H:%M%:z",
    ];
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];
    let (t, off): (NaiveDateTime, Option<FixedOffset>) = if let Some(d) = with_offset
        .iter()
        .find_map(|f| DateTime::parse_from_str(s, f).ok())
    {
        (d.naive_local(), Some(*d.offset()))
    } else if let Some(t) = naive
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    {
        (t, None)
    } else {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        (d.and_hms_opt(0, 0, 0)?, None)
    };
    let mut out = t.format("%Y-%m-%d").to_string();
    out.push(sep);
    let _ = write!(out, "{}", t.format("%H:%M:%S"));
    let micros = t.nanosecond() / 1000 % 1_000_000;
    if micros != 0 {
        let _ = write!(out, ".{micros:06}");
    }
    if let Some(off) = off {
        let secs = off.local_minus_utc();
        let (sign, a) = if secs < 0 { ('-', -secs) } else { ('+', secs) };
        let _ = write!(out, "{sign}{:02}:{:02}", a / 3600, a / 60 % 60);
        if a % 60 != 0 {
            let _ = write!(out, ":{:02}", a % 60);
        }
    }
    Some(out)
}

fn md5_hex(s: &str) -> String {
    let d = Md5::digest(s.as_bytes());
    let mut out = String::with_capacity(32);
    for b in d.iter() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An event's entry of `manifest.json` (pymisp's `MISPEvent.manifest`).
fn manifest_entry(head: &Map<String, Value>) -> Value {
    let int = |k: &str| match head.get(k) {
        Some(Value::String(s)) => s
            .parse::<i64>()
            .map_or(Value::String(s.clone()), Value::from),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    json!({
        "Orgc": head.get("Orgc").cloned().unwrap_or(Value::Null),
        "Tag": head.get("Tag").cloned().unwrap_or_else(|| json!([])),
        "info": head.get("info").cloned().unwrap_or(Value::Null),
        "date": head.get("date").cloned().unwrap_or(Value::Null),
        "analysis": int("analysis"),
        "threat_level_id": int("threat_level_id"),
        "timestamp": int("timestamp"),
    })
}

/// An event file written earlier (by imq or IntelMQ), and its window.
fn load_event(path: &Path, key: String) -> anyhow::Result<(Event, (NaiveDateTime, NaiveDateTime))> {
    let bytes = fs::read(path)?;
    let mut root: Map<String, Value> = serde_json::from_slice(&bytes)?;
    let Some(Value::Object(mut head)) = root.remove("Event") else {
        bail!("no Event in it");
    };
    let info = head.get("info").and_then(Value::as_str).unwrap_or_default();
    let window = parse_info(info).with_context(|| format!("no IntelMQ window in info {info:?}"))?;
    let uuid = head
        .get("uuid")
        .and_then(Value::as_str)
        .context("no uuid")?
        .to_string();
    let objects = match head.remove("Object") {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let attributes = match head.remove("Attribute") {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let mut hashes = Vec::new();
    let mut hash_all = |attrs: &[Value]| {
        for a in attrs {
            let ty = a.get("type").and_then(Value::as_str).unwrap_or_default();
            if let Some(v) = a.get("value") {
                hashes.extend(hash_values(ty, v));
            }
        }
    };
    hash_all(&attributes);
    for o in &objects {
        hash_all(
            o.get("Attribute")
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice),
        );
    }
    let dump = |v: &Vec<Value>| v.iter().map(|o| py_json_dumps(o, false)).collect();
    let (attributes, objects) = (dump(&attributes), dump(&objects));
    Ok((
        Event {
            key,
            uuid,
            path: path.to_path_buf(),
            head,
            attributes,
            objects,
            hashes,
            dirty: false,
        },
        window,
    ))
}

/// `{"Event": {...}}` as `json.dump` writes it: the head, then `Attribute`
/// and `Object` when there are any.
fn write_event(w: &mut dyn Write, e: &Event) -> std::io::Result<()> {
    let head = py_json_dumps(&Value::Object(e.head.clone()), false);
    w.write_all(b"{\"Event\": ")?;
    // The head without its closing brace, then the lists.
    w.write_all(&head.as_bytes()[..head.len() - 1])?;
    let mut first = e.head.is_empty();
    for (name, list) in [("Attribute", &e.attributes), ("Object", &e.objects)] {
        if list.is_empty() {
            continue;
        }
        if !first {
            w.write_all(b", ")?;
        }
        first = false;
        write!(w, "\"{name}\": [")?;
        for (i, o) in list.iter().enumerate() {
            if i > 0 {
                w.write_all(b", ")?;
            }
            w.write_all(o.as_bytes())?;
        }
        w.write_all(b"]")?;
    }
    w.write_all(b"}}")
}

/// UUIDs version 4 from the system's random source (read in blocks).
struct Random {
    src: File,
    buf: Vec<u8>,
    pos: usize,
}

impl Random {
    fn open() -> anyhow::Result<Random> {
        Ok(Random {
            src: File::open("/dev/urandom").context("opening /dev/urandom for UUIDs")?,
            buf: vec![0; 4096],
            pos: 4096,
        })
    }

    fn uuid4(&mut self) -> anyhow::Result<String> {
        if self.pos + 16 > self.buf.len() {
            self.src
                .read_exact(&mut self.buf)
                .context("reading /dev/urandom")?;
            self.pos = 0;
        }
        let mut b = [0u8; 16];
        b.copy_from_slice(&self.buf[self.pos..self.pos + 16]);
        self.pos += 16;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let mut s = String::with_capacity(36);
        for (i, x) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            let _ = write!(s, "{x:02x}");
        }
        Ok(s)
    }
}

impl Output for MispFeed {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let now = now();
        if now > self.max_time {
            self.roll_window(now);
        }
        let key = self.group_of(ev);
        let ts = unix_now().to_string();
        let (entries, hashes) = self.entries(ev, &ts)?;
        let i = self.event_for(&key)?;
        let e = &mut self.current[i];
        if self.flat {
            e.attributes.extend(entries);
        } else {
            e.objects.extend(entries);
        }
        e.hashes.extend(hashes);
        e.dirty = true;
        self.pending += 1;
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        let ts = unix_now().to_string();
        let mut written: Vec<&Event> = Vec::new();
        for e in self.closed.iter_mut().chain(self.current.iter_mut()) {
            if !e.dirty {
                continue;
            }
            // The event changed: a newer timestamp makes MISP pull it again
            // (pymisp keeps the first one, and MISP would not see the
            // objects added later).
            e.head.insert("timestamp".into(), Value::String(ts.clone()));
        }
        for e in self.closed.iter().chain(self.current.iter()) {
            if !e.dirty {
                continue;
            }
            atomic::replace(&e.path, |w| write_event(w, e))
                .with_context(|| format!("misp_feed: writing the event {}", e.uuid))?;
            written.push(e);
        }
        if !written.is_empty() {
            self.write_manifest(&written)?;
        }
        if !written.is_empty() || !self.closed.is_empty() {
            let kept = write_hashes(&self.dir, self.hashes_kept, &self.closed, &self.current)?;
            self.hashes_kept = Some(kept);
        }
        if self.current_changed {
            self.write_current_file()?;
        }
        self.closed.clear();
        for e in &mut self.current {
            e.dirty = false;
        }
        self.current_changed = false;
        self.pending = 0;
        Ok(Vec::new())
    }

    fn batch_full(&self) -> bool {
        self.pending >= 5000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_sorted_for_the_search() {
        assert!(TEMPLATE.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(template_type("source.ip"), Some("ip-src"));
        assert_eq!(template_type("extra.x"), None);
    }

    #[test]
    fn isoformat_like_python() {
        let f = |s| py_isoformat(s, 'T');
        assert_eq!(
            f("2024-03-06T23:59:59.5+00:00").as_deref(),
            Some("2024-03-06T23:59:59.500000+00:00")
        );
        assert_eq!(
            f("2024-03-05T10:11:12Z").as_deref(),
            Some("2024-03-05T10:11:12+00:00")
        );
        assert_eq!(
            f("2024-03-05 10:11:12-05:30").as_deref(),
            Some("2024-03-05T10:11:12-05:30")
        );
        assert_eq!(f("2024-03-05").as_deref(), Some("2024-03-05T00:00:00"));
        assert_eq!(f("yesterday"), None);
        assert_eq!(
            hash_text("datetime", &json!("2024-03-05T10:11:12+00:00")),
            "2024-03-05 10:11:12+00:00"
        );
        assert_eq!(hash_text("float", &json!(100.0)), "100.0");
        assert_eq!(hash_text("boolean", &json!(true)), "True");
    }

    #[test]
    fn info_window_and_key_format() {
        let (a, b) = parse_info(
            "x - y IntelMQ event 2026-12-03T15:46:35.741834 - 2026-12-03T16:46:35.741834",
        )
        .unwrap();
        assert_eq!(window_time(&a), "2026-12-03T15:46:35.741834");
        assert_eq!(window_time(&b), "2026-12-03T16:46:35.741834");
        assert_eq!(format_key("{{x}} {key}:", "k").unwrap(), "{x} k:");
        assert!(format_key("{other}", "k").is_err());
    }

    #[test]
    fn uuid4_form() {
        let mut r = Random::open().unwrap();
        let u = r.uuid4().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]));
        assert_ne!(u, r.uuid4().unwrap());
    }
}
