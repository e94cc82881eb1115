//! Messages: IntelMQ's `Event` and `Report`, and their wire format.
//!
//! # Wire format
//!
//! One JSON object per line (NDJSON, UTF-8), exactly as IntelMQ puts messages on its
//! Redis queues and into its dump files:
//!
//! ```json
//! {"feed.name":"Feodo Tracker","source.ip":"192.0.2.1","classification.type":"c2-server","extra.first_seen":"2024-01-01","raw":"eyJp...","__type":"Event"}
//! ```
//!
//! * Keys are the flat, dotted field names of the data format (see
//!   [`crate::harmonization`]); there is no nesting by dots. `extra` is the one
//!   open-ended field: `extra.<name>` keys may hold any JSON value. On input an
//!   `"extra"` key holding an object (or a JSON string of one) is flattened into
//!   `extra.*` keys, as IntelMQ does.
//! * `"__type"` is `"Event"` or `"Report"`. It is optional on input (each tool knows
//!   what it expects: reports for `imq-parse`, events for the others) and always
//!   written on output, last, as IntelMQ writes it.
//! * Values have the JSON type of their field's type: strings (IPs, FQDNs, URLs,
//!   timestamps as `2024-01-01T00:00:00+00:00` in UTC, classification values),
//!   integers (ASN, ports), floats (coordinates, accuracy), booleans. `raw` is the
//!   base64 of the original bytes. `output` holds a JSON document as a string.
//! * Reading a line applies IntelMQ's rules: a value that is valid as given is kept;
//!   otherwise it is sanitized (e.g. `"AS64496"` -> `64496`, `"hxxp://x"` ->
//!   `"http://x"`, `"192.0.2.1/32"` -> `"192.0.2.1"`); values `null`, `""`, `"-"`
//!   and `"N/A"` are dropped; an unknown key or a value that stays invalid rejects
//!   the line (it goes to the dump, see [`crate::dump`]).
//! * Output is compact JSON with non-ASCII characters written as UTF-8; fields keep
//!   the order in which they were added.

use crate::harmonization::{
    self, harmonization, is_ignored, is_valid, jsondict_items, sanitize, sanitize_keeps, FieldType,
    MsgType,
};
use crate::jsonscan::{self, same_bytes, Pair};
use crate::pyfmt::{py_repr, py_str};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;
use std::sync::Arc;

/// Why a field could not be set.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldError {
    /// The key is not part of the data format (or not of this message class).
    InvalidKey { key: String, reason: &'static str },
    /// The key is set already and overwriting was not asked for.
    KeyExists { key: String },
    /// The value is not valid for the field, even after sanitation.
    InvalidValue {
        key: String,
        value: String,
        reason: Option<String>,
    },
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // IntelMQ's texts, keys in Python repr quoting.
            FieldError::InvalidKey { key, reason } => {
                write!(f, "invalid key {} {reason}", py_repr_str(key))
            }
            FieldError::KeyExists { key } => write!(f, "key {} already exists", py_repr_str(key)),
            FieldError::InvalidValue { key, value, reason } => {
                write!(f, "invalid value {value} for key {}", py_repr_str(key))?;
                if let Some(r) = reason {
                    write!(f, ": {r}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for FieldError {}

fn py_repr_str(s: &str) -> String {
    py_repr(&Value::String(s.to_string()))
}

/// How [`Message::add_with`] treats sanitation and an existing value, as IntelMQ's
/// `Message.add(sanitize=, overwrite=)`.
#[derive(Debug, Clone, Copy)]
pub struct Add {
    /// Run the type's sanitation before validating (IntelMQ's default: true).
    pub sanitize: bool,
    /// `None`: an existing key is an error; `Some(true)`: replace it;
    /// `Some(false)`: keep the old value silently.
    pub overwrite: Option<bool>,
}

impl Default for Add {
    fn default() -> Self {
        Add {
            sanitize: true,
            overwrite: None,
        }
    }
}

/// An IntelMQ message: an ordered set of harmonized fields.
///
/// A message read from the wire keeps its line: a value that was valid as it came
/// stays a span of that line, and is decoded into a [`Value`] only when a stage
/// asks for it, and written back byte for byte. Most fields pass through most
/// stages untouched, so this saves the decoding and re-encoding that dominate an
/// NDJSON pipeline.
#[derive(Clone)]
pub struct Message {
    ty: MsgType,
    line: Option<Arc<Vec<u8>>>,
    fields: Vec<Field>,
    /// How many leading fields are still, byte for byte, the start of `line`
    /// (`{` up to the comma after the last of them): written as one copy.
    verbatim: u32,
    /// Positions by key, built when a message grows past [`INDEX_MIN`] fields
    /// (thousands of `extra.*` keys would make each insert a linear search);
    /// small messages, nearly all, never build it.
    index: OnceCell<Box<KeyIndex>>,
    /// IntelMQ's `__`-keys other than `__type` (`"__path"` from an unrouted
    /// sieve path): wire metadata, not fields. Kept as their JSON text, written
    /// back before `__type`, never validated, never exported by outputs.
    meta: Vec<(Box<str>, Box<str>)>,
}

/// Is `k` a wire metadata key (`__` and a plain name, not `__type`)?
fn is_meta(k: &str) -> bool {
    k.len() > 2
        && k.starts_with("__")
        && k != "__type"
        && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Fields from which [`Message::position`] uses a [`KeyIndex`]: below, a
/// linear search over short keys costs less than hashing.
const INDEX_MIN: usize = 64;

/// A hash index of a message's field positions by key.
#[derive(Clone)]
struct KeyIndex {
    hasher: std::hash::RandomState,
    table: hashbrown::HashTable<u32>,
}

impl KeyIndex {
    fn build(fields: &[Field]) -> KeyIndex {
        let mut ix = KeyIndex {
            hasher: std::hash::RandomState::new(),
            table: hashbrown::HashTable::with_capacity(fields.len() * 2),
        };
        for (i, f) in fields.iter().enumerate() {
            ix.insert(fields, &f.key, i);
        }
        ix
    }

    fn hash(&self, key: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key.as_bytes())
    }

    fn find(&self, fields: &[Field], key: &str) -> Option<usize> {
        let k = key.as_bytes();
        self.table
            .find(self.hash(key), |&i| fields[i as usize].key.as_bytes() == k)
            .map(|&i| i as usize)
    }

    /// Record that the field at `i` (of `fields`) has `key` (a new key).
    fn insert(&mut self, fields: &[Field], key: &str, i: usize) {
        let hasher = &self.hasher;
        let rehash = |&j: &u32| {
            use std::hash::BuildHasher;
            hasher.hash_one(fields[j as usize].key.as_bytes())
        };
        let h = self.hash(key);
        self.table.insert_unique(h, i as u32, rehash);
    }
}

#[derive(Clone)]
struct Field {
    key: Cow<'static, str>,
    /// The value's JSON text in `line`, while the value is the one read.
    raw: Option<(u32, u32)>,
    /// The decoded value (always set when `raw` is `None`).
    val: OnceCell<Value>,
}

impl Field {
    fn new(key: Cow<'static, str>, v: Value) -> Field {
        Field {
            key,
            raw: None,
            val: OnceCell::from(v),
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("type", &self.ty)
            .field("fields", &self.iter().collect::<Vec<_>>())
            .finish()
    }
}

/// What the previous line of a stream had at one key position (see `keep_raw`).
#[derive(Default, Clone)]
struct Hint {
    /// The field found there.
    spec: Option<&'static harmonization::FieldSpec>,
    /// The JSON text of the last value found valid for that field: feeds repeat
    /// values (feed.*, classification, raw of a report), and validity depends on
    /// the field and the text only.
    valid: Vec<u8>,
    /// Lines in a row whose value at this position differed from `valid`. A field
    /// that changes on every line (addresses, timestamps) is not worth comparing
    /// and copying: from [`HINT_MISSES`] on, the cache is skipped, and tried again
    /// when the counter wraps around.
    misses: u8,
    /// The `extra.*`-style sub-item key found here, and its JSONDict field: not
    /// in the field index, so remembered to skip the lookup.
    sub_key: String,
    sub_spec: Option<&'static harmonization::FieldSpec>,
}

/// Misses after which a position stops using its cache for a while.
const HINT_MISSES: u8 = 8;

/// Which known fields a line has set so far (the table has fewer than 128), to
/// keep the last of duplicate keys as Python's json.loads does. Two words: a
/// 128-bit shift costs several instructions per field.
#[derive(Default)]
struct Seen([u64; 2]);

impl Seen {
    /// A known field set by the slow path (sanitized): a repeat of its key later in
    /// the line must replace it.
    fn mark(&mut self, h: &harmonization::Harmonization, ty: MsgType, key: &str) {
        if let Some((spec, false)) = h.lookup(ty, key) {
            self.test_and_set(spec.idx as usize);
        }
    }

    /// Was field `i` set before? Marks it set.
    #[inline]
    fn test_and_set(&mut self, i: usize) -> bool {
        let (w, bit) = (i >> 6, 1u64 << (i & 63));
        let was = self.0[w] & bit != 0;
        self.0[w] |= bit;
        was
    }
}

/// Longest value text remembered as valid.
const HINT_MAX: usize = 512;

thread_local! {
    static KEY_HINTS: std::cell::RefCell<Vec<Hint>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The scanner's output buffer, kept between lines (always empty here).
    static PAIRS: std::cell::RefCell<Vec<Pair<'static>>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Field vectors and line buffers of dropped messages: a stage drops one
    /// message and reads the next, and allocating both anew per line costs more
    /// than reading most of its fields.
    static POOL: std::cell::RefCell<Pool> = const { std::cell::RefCell::new(Pool { fields: Vec::new(), lines: Vec::new() }) };
}

struct Pool {
    fields: Vec<Vec<Field>>,
    lines: Vec<Arc<Vec<u8>>>,
}

/// A shared copy of a line, in a recycled buffer when one is free.
fn share_line(line: &[u8]) -> Arc<Vec<u8>> {
    let recycled = POOL
        .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.lines.pop()))
        .ok()
        .flatten();
    match recycled {
        Some(mut a) => {
            let v = Arc::get_mut(&mut a).expect("pooled buffers are unshared");
            v.clear();
            v.extend_from_slice(line);
            a
        }
        None => Arc::new(line.to_vec()),
    }
}

/// Initial room for fields: a typical event has about 20.
const FIELDS_CAP: usize = 24;
/// Buffers of each kind kept in [`POOL`].
const POOL_MAX: usize = 8;
/// Largest line buffer kept for reuse.
const LINE_POOL_MAX: usize = 64 << 10;

impl Drop for Message {
    fn drop(&mut self) {
        let fields = (self.fields.capacity() >= FIELDS_CAP).then(|| {
            let mut f = std::mem::take(&mut self.fields);
            f.clear();
            f
        });
        // Only a line no clone of this message still holds, and not a huge one
        // (a report carrying a whole feed).
        let line = self
            .line
            .take()
            .filter(|l| Arc::strong_count(l) == 1 && l.capacity() <= LINE_POOL_MAX);
        if fields.is_none() && line.is_none() {
            return;
        }
        // During thread teardown the pool may be gone: the buffers are then freed.
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                if let Some(f) = fields.filter(|_| p.fields.len() < POOL_MAX) {
                    p.fields.push(f);
                }
                if let Some(l) = line.filter(|_| p.lines.len() < POOL_MAX) {
                    p.lines.push(l);
                }
            }
        });
    }
}

/// Equal like IntelMQ's messages (dicts): same class, same fields and values, in
/// any order.
impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.ty == other.ty
            && self.fields.len() == other.fields.len()
            && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

/// Fields an event inherits from the report it was parsed from.
pub const REPORT_INHERITED: [&str; 8] = [
    "feed.accuracy",
    "feed.code",
    "feed.documentation",
    "feed.name",
    "feed.provider",
    "feed.url",
    "rtir_id",
    "time.observation",
];

impl Message {
    pub fn new(ty: MsgType) -> Message {
        let fields = POOL
            .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.fields.pop()))
            .ok()
            .flatten()
            .unwrap_or_else(|| Vec::with_capacity(FIELDS_CAP));
        Message {
            ty,
            line: None,
            fields,
            verbatim: 0,
            index: OnceCell::new(),
            meta: Vec::new(),
        }
    }

    /// A wire metadata value (`"__path"`) as its JSON text.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }

    /// Drop a wire metadata key.
    pub fn remove_meta(&mut self, key: &str) {
        self.meta.retain(|(k, _)| &**k != key);
    }

    /// Keep a metadata key read from the wire (the last of duplicates wins, as
    /// for fields); the value must be JSON.
    fn add_meta(&mut self, key: &str, text: &str) -> Result<(), InputError> {
        serde_json::from_str::<de::IgnoredAny>(text)
            .map_err(|e| InputError::Json(format!("{key}: {e}")))?;
        self.remove_meta(key);
        self.meta.push((key.into(), text.into()));
        Ok(())
    }

    pub fn event() -> Message {
        Message::new(MsgType::Event)
    }

    pub fn report() -> Message {
        Message::new(MsgType::Report)
    }

    /// A new event carrying the report's feed fields, `rtir_id` and
    /// `time.observation` (IntelMQ's `Event(report)`).
    pub fn event_from_report(report: &Message) -> Message {
        let mut ev = Message::event();
        for k in REPORT_INHERITED {
            if let Some(v) = report.get(k) {
                ev.place(None, Field::new(Cow::Borrowed(k), v.clone()));
            }
        }
        ev
    }

    pub fn msg_type(&self) -> MsgType {
        self.ty
    }

    /// Change the class (IntelMQ's `Report(event)` keeps only report fields).
    pub fn set_type(&mut self, ty: MsgType) {
        self.ty = ty;
        if ty == MsgType::Report {
            let h = harmonization();
            self.verbatim = 0;
            self.index.take();
            self.fields.retain(|f| h.lookup(ty, &f.key).is_some());
        }
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Where a field is in the message, for callers that look the same key
    /// up many times (valid until the message changes); see [`Message::value_at`].
    pub fn position(&self, key: &str) -> Option<usize> {
        if self.fields.len() >= INDEX_MIN {
            return self
                .index
                .get_or_init(|| Box::new(KeyIndex::build(&self.fields)))
                .find(&self.fields, key);
        }
        let key = key.as_bytes();
        self.fields
            .iter()
            .position(|f| same_bytes(f.key.as_bytes(), key))
    }

    /// The value at a position found with [`Message::position`].
    #[inline]
    pub fn value_at(&self, i: usize) -> Option<&Value> {
        self.fields.get(i).map(|f| self.value(f))
    }

    /// The decoded value of a field, decoding it from the line on first use.
    fn value<'a>(&'a self, f: &'a Field) -> &'a Value {
        f.val.get_or_init(|| {
            let text = f
                .raw
                .zip(self.line.as_ref())
                .and_then(|((a, b), line)| line.get(a as usize..b as usize))
                .unwrap_or_default();
            decode_span(text)
        })
    }

    /// The value of a field.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| self.value(&self.fields[i]))
    }

    /// The value of a field when it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        let f = &self.fields[self.position(key)?];
        if f.val.get().is_none() {
            if let Some(s) = self.plain_str(f) {
                return Some(s);
            }
        }
        self.value(f).as_str()
    }

    /// A string value read from the line and not decoded yet, when it has no
    /// escapes: the text between its quotes, without decoding (or allocating).
    fn plain_str<'a>(&'a self, f: &Field) -> Option<&'a str> {
        let (a, b) = f.raw?;
        plain_text(&self.line.as_ref()?[a as usize..b as usize])
    }

    /// The key of the field at a position (see [`Message::position`]).
    pub fn key_at(&self, i: usize) -> Option<&str> {
        self.fields.get(i).map(|f| f.key.as_ref())
    }

    /// The string value at a position, without decoding a plain string read
    /// from the line (outputs writing many fields per event).
    pub fn str_at(&self, i: usize) -> Option<&str> {
        let f = self.fields.get(i)?;
        if f.val.get().is_none() {
            if let Some(s) = self.plain_str(f) {
                return Some(s);
            }
        }
        self.value(f).as_str()
    }

    /// Is the field set? `"extra"` asks for any `extra.*` field, as in IntelMQ.
    pub fn contains(&self, key: &str) -> bool {
        if key == "extra" {
            return self.fields.iter().any(|f| f.key.starts_with("extra."));
        }
        self.position(key).is_some()
    }

    /// Fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|f| (f.key.as_ref(), self.value(f)))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.key.as_ref())
    }

    /// Remove a field; `"extra"` removes every `extra.*` field.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        if key == "extra" {
            let before = self.fields.len();
            self.verbatim = 0;
            self.index.take();
            self.fields.retain(|f| !f.key.starts_with("extra."));
            return (before != self.fields.len()).then_some(Value::Null);
        }
        let i = self.position(key)?;
        self.cut_verbatim(i);
        // Later positions move down: the index is rebuilt when next needed.
        self.index.take();
        let f = self.fields.remove(i);
        let v = self.value(&f).clone();
        Some(v)
    }

    /// IntelMQ's `add(key, value)`: sanitize, validate, error when the key is set.
    /// `Ok(false)` when the value is one IntelMQ ignores (`None`, `""`, `"-"`, `"N/A"`).
    pub fn add(&mut self, key: &str, value: impl Into<Value>) -> Result<bool, FieldError> {
        self.add_with(key, value.into(), Add::default())
    }

    /// IntelMQ's `add(key, value, overwrite=True)`.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) -> Result<bool, FieldError> {
        self.add_with(
            key,
            value.into(),
            Add {
                sanitize: true,
                overwrite: Some(true),
            },
        )
    }

    /// IntelMQ's `change(key, value)`: like `set`, but the key must exist.
    pub fn change(&mut self, key: &str, value: impl Into<Value>) -> Result<bool, FieldError> {
        if !self.contains(key) {
            return Err(FieldError::InvalidKey {
                key: key.into(),
                reason: "key does not exist",
            });
        }
        self.set(key, value)
    }

    /// IntelMQ's `update(dict)`: every item overwriting, taken as it is when
    /// valid, else sanitized (so `raw` is not base64-encoded a second time).
    pub fn update(&mut self, other: &Message) -> Result<(), FieldError> {
        for (k, v) in other.iter() {
            self.add_as_is_or_sanitized(k, v.clone())?;
        }
        Ok(())
    }

    /// IntelMQ's `message["extra"]` (any JSONDict field): its `field.*` items as
    /// one JSON object, nested at dots (`extra.a.b` -> `{"a": {"b": ..}}`), in
    /// Python's `json.dumps` form; `None` when there are none.
    pub fn jsondict_str(&self, field: &str) -> Option<String> {
        let mut root = Map::new();
        let mut any = false;
        for (k, v) in self.iter() {
            let Some(sub) = k.strip_prefix(field).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            any = true;
            let mut node = &mut root;
            let mut parts = sub.split('.').peekable();
            while let Some(p) = parts.next() {
                if parts.peek().is_none() {
                    node.insert(p.to_string(), v.clone());
                    break;
                }
                let child = node
                    .entry(p.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !child.is_object() {
                    // IntelMQ fails here (a value and a sub-object at one name);
                    // the later field wins.
                    *child = Value::Object(Map::new());
                }
                node = child.as_object_mut().expect("made an object above");
            }
        }
        any.then(|| crate::pyfmt::py_json_dumps(&Value::Object(root), false))
    }

    /// IntelMQ's `Message.add` with all its options.
    pub fn add_with(&mut self, key: &str, value: Value, opt: Add) -> Result<bool, FieldError> {
        // Found once, used for the final insert too (nothing below moves fields
        // before it, except on paths that return).
        let at = self.position(key);
        let exists = at.is_some() || (key == "extra" && self.contains(key));
        if opt.overwrite.is_none() && exists {
            return Err(FieldError::KeyExists { key: key.into() });
        }
        if opt.overwrite == Some(false) && exists {
            return Ok(false);
        }
        if is_ignored(&value) {
            if opt.overwrite == Some(true) && exists {
                self.remove(key);
            }
            return Ok(false);
        }
        let h = harmonization();
        let Some((spec, subitem)) = h.lookup(self.ty, key) else {
            return Err(FieldError::InvalidKey {
                key: key.into(),
                reason: if harmonization::is_valid_key_syntax(key) {
                    "This key is not allowed by the harmonization configuration"
                } else {
                    "Does not match regular expression ^[a-z_][a-z_0-9]+(\\.[a-z_0-9]+)*$"
                },
            });
        };
        let normal = |v: &Value| v.as_str().is_some_and(|x| sanitize_keeps(spec.ty, x));
        let value = if subitem || !opt.sanitize || normal(&value) {
            value
        } else {
            match sanitize(spec.ty, &value) {
                Some(v) => v,
                None => return Err(invalid(key, &value, None)),
            }
        };
        // A string sanitized into base64 is our encoder's output, valid by
        // construction: checking it again would read every byte of `raw` twice.
        let encoded = opt.sanitize
            && spec.ty == FieldType::Base64
            && spec.length.is_none()
            && spec.regex.is_none()
            && spec.iregex.is_none();
        if !subitem && !encoded {
            check_value(spec, &value).map_err(|r| invalid(key, &value, Some(r)))?;
        }
        if spec.ty == FieldType::JsonDict && !subitem {
            // `extra` given whole: flatten into extra.* items.
            if opt.overwrite == Some(true) {
                self.remove(key);
            }
            let items = value.as_str().and_then(jsondict_items).unwrap_or_default();
            for (k, v) in items {
                // IntelMQ keeps empty values inside `extra` (backwards compatibility),
                // but drops them for any other JSONDict field.
                if key != "extra" && (is_ignored(&v) || is_empty_container(&v)) {
                    continue;
                }
                let full = format!("{key}.{k}");
                // The one place keys are made from data (a JSON object's keys: a
                // feed's column names, an `"extra": {...}` read): IntelMQ's key
                // rule holds for them as for any other key, so that what is
                // written is JSON every tool reads back. (IntelMQ sets them
                // unchecked here; its next bot then rejects the event.)
                if !harmonization::is_valid_key_syntax(&full) {
                    return Err(FieldError::InvalidKey {
                        key: full,
                        reason:
                            "Does not match regular expression ^[a-z_][a-z_0-9]+(\\.[a-z_0-9]+)*$",
                    });
                }
                self.put(Cow::Owned(full), v);
            }
            return Ok(true);
        }
        let name: Cow<'static, str> = if subitem {
            Cow::Owned(key.to_string())
        } else {
            Cow::Borrowed(spec.name)
        };
        self.place(at, Field::new(name, value));
        Ok(true)
    }

    /// Insert or replace without any checks (values known to be valid).
    fn put(&mut self, key: Cow<'static, str>, value: Value) {
        let at = self.position(&key);
        self.place(at, Field::new(key, value));
    }

    /// Store a field: replace the one at `at`, or append it.
    fn place(&mut self, at: Option<usize>, field: Field) {
        match at {
            Some(i) => {
                self.cut_verbatim(i);
                self.fields[i] = field
            }
            None => {
                if let Some(ix) = self.index.get_mut() {
                    ix.insert(&self.fields, &field.key, self.fields.len());
                }
                self.fields.push(field)
            }
        }
    }

    /// Field `i` changes: the verbatim prefix ends before it.
    fn cut_verbatim(&mut self, i: usize) {
        self.verbatim = self.verbatim.min(i as u32);
    }

    /// Is `value` acceptable for `key` (after sanitation when asked)? IntelMQ's
    /// `Message.is_valid`.
    pub fn is_valid_value(&self, key: &str, value: &Value, sanitize_first: bool) -> bool {
        if is_ignored(value) {
            return false;
        }
        let Some((spec, subitem)) = harmonization().lookup(self.ty, key) else {
            return false;
        };
        if subitem {
            return true;
        }
        let v = if sanitize_first {
            match sanitize(spec.ty, value) {
                Some(v) => v,
                None => return false,
            }
        } else {
            value.clone()
        };
        check_value(spec, &v).is_ok()
    }

    /// Add one field of a message read from the wire, as IntelMQ's message
    /// constructor does: keep the value if valid as given, else sanitize it.
    fn add_wire(&mut self, key: &str, value: Value) -> Result<(), FieldError> {
        if is_ignored(&value) {
            return Ok(());
        }
        match harmonization().lookup(self.ty, key) {
            Some((spec, false))
                if spec.ty != FieldType::JsonDict && check_value(spec, &value).is_ok() =>
            {
                // Fast path: already normal, as nearly every value coming from
                // another imq or IntelMQ stage is.
                self.put(Cow::Borrowed(spec.name), value);
                return Ok(());
            }
            // IntelMQ adds the items of a read message without `overwrite`, but a
            // dict cannot repeat a key, so only a whole JSONDict (`"extra": {...}`)
            // can meet fields set already (`extra.*` read before it): KeyExists.
            Some((spec, false)) if spec.ty == FieldType::JsonDict && self.contains(key) => {
                return Err(FieldError::KeyExists { key: key.into() });
            }
            Some((_, true)) => {
                // `extra.*` items: IntelMQ's sanitize_subitem / is_valid_subitem take
                // any value as it is. (An `extra.x` that repeats an item of a whole
                // `extra` read before it is KeyExists in IntelMQ; here it replaces.)
                self.put(Cow::Owned(key.to_string()), value);
                return Ok(());
            }
            // Values to sanitize, and unknown keys (add_with reports them).
            _ => {}
        }
        self.add_as_is_or_sanitized(key, value)
    }

    /// [`Message::add_wire`] for a value of a line being read that could not be
    /// kept as it is. `later`: the keys after it in the line. Python's
    /// `json.loads` keeps the last of repeated keys, so IntelMQ never sees an
    /// earlier value: one that fails is no error, and one that is added is
    /// replaced by the later one (`seen` learns of it).
    fn add_read<'a>(
        &mut self,
        key: &str,
        value: Value,
        seen: &mut Seen,
        h: &harmonization::Harmonization,
        mut later: impl Iterator<Item = &'a str>,
    ) -> Result<(), FieldError> {
        match self.add_wire(key, value) {
            Ok(()) => {
                seen.mark(h, self.ty, key);
                Ok(())
            }
            Err(_) if later.any(|k| k == key) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// IntelMQ's `add(sanitize=False, raise_failure=False, overwrite=True)`, then
    /// `add(sanitize=True, overwrite=True)` when that failed: how `Message.__init__`
    /// and `update` take values.
    fn add_as_is_or_sanitized(&mut self, key: &str, value: Value) -> Result<(), FieldError> {
        let as_is = Add {
            sanitize: false,
            overwrite: Some(true),
        };
        match self.add_with(key, value.clone(), as_is) {
            Ok(_) => Ok(()),
            Err(e @ FieldError::InvalidValue { .. }) => {
                // A string that is not base64 makes IntelMQ's `Base64.is_valid`
                // raise (binascii.Error, uncaught): the message is not read. We
                // reject it rather than base64-encode the text as `add()` would.
                if let (Some((spec, false)), Value::String(_)) =
                    (harmonization().lookup(self.ty, key), &value)
                {
                    if spec.ty == FieldType::Base64 {
                        return Err(e);
                    }
                }
                self.add_with(
                    key,
                    value,
                    Add {
                        sanitize: true,
                        overwrite: Some(true),
                    },
                )
                .map(|_| ())
            }
            Err(e) => Err(e),
        }
    }

    /// Keep a wire value as a span of the line when it is valid as it is (the
    /// common case). `escaped`: a string value may hold escapes (not known from a
    /// scan). `Some(true)`: kept or ignored; `None`: decode and check it the
    /// slow way.
    // Called per field of every line: plain arguments, no struct to build.
    #[allow(clippy::too_many_arguments)]
    fn keep_raw(
        &mut self,
        key: &str,
        text: &str,
        span: (u32, u32),
        seen: &mut Seen,
        escaped: bool,
        hint: &mut Hint,
        hinted_key: bool,
        h: &'static harmonization::Harmonization,
    ) -> Option<bool> {
        // Lines of one stream repeat their keys in the same order: try the field
        // found at this position in the previous line before hashing.
        let (spec, subitem) = match hint.spec {
            Some(spec)
                if (hinted_key || same_bytes(spec.name.as_bytes(), key.as_bytes()))
                    && h.lookup_class_of(spec) == Some(self.ty) =>
            {
                (spec, false)
            }
            _ => match hint.sub_spec {
                Some(spec) if hint.sub_key == key && h.lookup_class_of(spec) == Some(self.ty) => {
                    (spec, true)
                }
                _ => {
                    let found = h.lookup(self.ty, key)?;
                    hint.spec = (!found.1).then_some(found.0);
                    hint.valid.clear();
                    hint.misses = 0;
                    if found.1 {
                        hint.sub_key.clear();
                        hint.sub_key.push_str(key);
                        hint.sub_spec = Some(found.0);
                    }
                    found
                }
            },
        };
        let bytes = text.as_bytes();
        let first = *bytes.first()?;
        let use_cache = !subitem && !escaped && hint.misses < HINT_MISSES;
        let cached = use_cache && !hint.valid.is_empty() && same_bytes(&hint.valid, bytes);
        // The value when finding it valid decoded it. Every span kept must decode
        // later without failure (`decode_span`): the scanners accept JSON that
        // serde_json does not decode (numbers beyond f64, lone surrogates and
        // nesting beyond 128 levels inside nested values), so such values are
        // decoded here, and one that fails takes the slow path, which dumps the line.
        let mut decoded = None;
        if cached {
            // Found valid for this field in an earlier line.
        } else if first == b'"' {
            let inner = &text[1..text.len() - 1];
            if escaped && inner.contains('\\') {
                return None;
            }
            if inner.is_empty() || inner == "-" || inner == "N/A" {
                return Some(true);
            }
            if !subitem && (spec.ty == FieldType::JsonDict || check_str(spec, inner).is_err()) {
                return None;
            }
        } else if first == b'n' {
            return Some(true); // null: ignored
        } else if subitem {
            // Any JSON value is a valid `extra.*` item.
            decoded = match first {
                b't' | b'f' => None,
                b'{' | b'[' => Some(serde_json::from_str(text).ok()?),
                _ => Some(parse_number(text)?),
            };
        } else {
            // Numbers and booleans of known fields: valid as they are?
            let v: Value = match first {
                b't' => Value::Bool(true),
                b'f' => Value::Bool(false),
                _ => parse_number(text)?,
            };
            if !is_valid(spec.ty, &v) {
                return None;
            }
            let constrained =
                spec.length.is_some() || spec.regex.is_some() || spec.iregex.is_some();
            // An integer's JSON text is its Python str(); other numbers and booleans
            // take the general path.
            if constrained && (!v.is_i64() || check_constraints(spec, text).is_err()) {
                return None;
            }
            decoded = Some(v);
        }
        if cached {
            hint.misses = 0;
        } else {
            hint.misses = hint.misses.wrapping_add(1);
            if use_cache && bytes.len() <= HINT_MAX {
                hint.valid.clear();
                hint.valid.extend_from_slice(bytes);
            }
        }
        let key: Cow<'static, str> = if subitem {
            Cow::Owned(key.to_string())
        } else {
            Cow::Borrowed(spec.name)
        };
        let field = Field {
            key,
            raw: Some(span),
            val: decoded.map_or_else(OnceCell::new, OnceCell::from),
        };
        let dup = if subitem {
            self.position(&field.key)
        } else if seen.test_and_set(spec.idx as usize) {
            self.position(spec.name)
        } else {
            None
        };
        self.place(dup, field);
        Some(true)
    }

    /// Build a message from a scanned line.
    fn from_pairs(line: &[u8], pairs: &[Pair], default: MsgType) -> Result<Message, InputError> {
        let mut ty = default;
        for p in pairs.iter().filter(|p| p.key == "__type") {
            // Nearly always one of the two plain names: no decoding for those.
            ty = match p.text {
                "\"Event\"" => MsgType::Event,
                "\"Report\"" => MsgType::Report,
                _ => {
                    let t: Value = serde_json::from_str(p.text).unwrap_or(Value::Null);
                    t.as_str().and_then(MsgType::from_name).ok_or_else(|| {
                        InputError::BadType(t.as_str().map(str::to_string).unwrap_or(t.to_string()))
                    })?
                }
            };
        }
        let mut msg = Message::new(ty);
        msg.line = Some(share_line(line));
        let mut seen = Seen::default();
        let h = harmonization();
        // Where the next field must start to extend the verbatim prefix (no
        // whitespace, fields kept as they are, in order); `None` once broken.
        let mut next_at = (line.first() == Some(&b'{')).then_some(1usize);
        let base = line.as_ptr() as usize;
        KEY_HINTS.with_borrow_mut(|hints| -> Result<(), InputError> {
            if hints.len() < pairs.len() {
                hints.resize(pairs.len(), Hint::default());
            }
            for (n, (p, hint)) in pairs.iter().zip(hints.iter_mut()).enumerate() {
                if p.key == "__type" {
                    next_at = None;
                    continue;
                }
                if p.key.starts_with("__") && is_meta(p.key) {
                    next_at = None;
                    msg.add_meta(p.key, p.text)?;
                    continue;
                }
                let span = (p.start as u32, (p.start + p.text.len()) as u32);
                let before = msg.fields.len();
                if p.kind != jsonscan::Kind::Escaped
                    && msg.keep_raw(p.key, p.text, span, &mut seen, false, hint, p.expected, h)
                        == Some(true)
                {
                    if let Some(at) = next_at {
                        let key_at = p.key.as_ptr() as usize - base - 1;
                        let end = span.1 as usize;
                        next_at = (key_at == at
                            && p.start == key_at + p.key.len() + 3
                            && line.get(end) == Some(&b',')
                            && msg.fields.len() == before + 1
                            && msg.verbatim as usize == before)
                            .then_some(end + 1);
                        if next_at.is_some() {
                            msg.verbatim += 1;
                        }
                    }
                    continue;
                }
                next_at = None;
                let v: Value = serde_json::from_str(p.text).map_err(|e| {
                    InputError::Json(match lone_surrogate(p.text) {
                        Some(esc) => format!("{}: lone surrogate {esc} (no UTF-8 form)", p.key),
                        None => format!("{}: {e}", p.key),
                    })
                })?;
                msg.add_read(p.key, v, &mut seen, h, pairs[n + 1..].iter().map(|q| q.key))
                    .map_err(InputError::Field)?;
            }
            Ok(())
        })?;
        Ok(msg)
    }

    /// Build a message from a decoded JSON object with IntelMQ's reading rules.
    pub fn from_map(map: Map<String, Value>, default: MsgType) -> Result<Message, InputError> {
        let ty = match map.get("__type") {
            None => default,
            Some(Value::String(t)) => {
                MsgType::from_name(t).ok_or_else(|| InputError::BadType(t.clone()))?
            }
            Some(other) => return Err(InputError::BadType(other.to_string())),
        };
        let mut msg = Message::new(ty);
        for (k, v) in map {
            if k == "__type" {
                continue;
            }
            if is_meta(&k) {
                msg.add_meta(&k, &v.to_string())?;
                continue;
            }
            msg.add_wire(&k, v).map_err(InputError::Field)?;
        }
        Ok(msg)
    }

    /// Decode one wire line.
    pub fn from_json(line: &[u8], default: MsgType) -> Result<Message, InputError> {
        let mut pairs: Vec<Pair> = PAIRS.try_with(|p| p.take()).unwrap_or_default();
        // Each position expects the key the previous line had there.
        let scanned = KEY_HINTS.with_borrow(|hints| {
            jsonscan::scan_object_expecting(line, &mut pairs, |i| {
                hints.get(i).and_then(|h| h.spec).map(|s| s.name)
            })
        });
        let read = scanned.map(|()| Message::from_pairs(line, &pairs, default));
        pairs.clear();
        // An empty vector changes its element lifetime in place, keeping its buffer.
        let empty: Vec<Pair<'static>> = pairs
            .into_iter()
            .map(|_| -> Pair<'static> { unreachable!("cleared") })
            .collect();
        let _ = PAIRS.try_with(|p| p.replace(empty));
        if let Some(read) = read {
            return read;
        }
        // Unusual or invalid: serde_json decides, and words the error.
        let mut de = serde_json::Deserializer::from_slice(line);
        let msg = MessageSeed { default, line }
            .deserialize(&mut de)
            .map_err(classify_json_error)?;
        de.end().map_err(|e| InputError::Json(e.to_string()))?;
        msg
    }

    /// Append the wire form (compact JSON, `__type` last) to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut n = self.verbatim as usize;
        match (n.checked_sub(1).map(|i| self.fields[i].raw), &self.line) {
            (Some(Some((_, end))), Some(line)) => {
                out.extend_from_slice(&line[..end as usize + 1]);
            }
            _ => {
                n = 0;
                out.push(b'{');
            }
        }
        for f in &self.fields[n..] {
            // Keys passed the key syntax check: nothing to escape.
            out.push(b'"');
            out.extend_from_slice(f.key.as_bytes());
            out.extend_from_slice(b"\":");
            match (f.raw, &self.line) {
                // Unchanged since it was read: the original bytes.
                (Some((a, b)), Some(line)) => out.extend_from_slice(&line[a as usize..b as usize]),
                _ => write_value(out, self.value(f)),
            }
            out.push(b',');
        }
        for (k, v) in &self.meta {
            // Metadata keys are plain names: nothing to escape.
            out.push(b'"');
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b"\":");
            out.extend_from_slice(v.as_bytes());
            out.push(b',');
        }
        out.extend_from_slice(b"\"__type\":\"");
        out.extend_from_slice(self.ty.name().as_bytes());
        out.extend_from_slice(b"\"}");
    }

    /// The wire form as a string.
    pub fn to_json(&self) -> String {
        let mut v = Vec::with_capacity(512);
        self.write_json(&mut v);
        String::from_utf8(v).expect("JSON is UTF-8")
    }

    /// The fields as a JSON object (without `__type`).
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// IntelMQ's `Message.hash()`: SHA-256 over sorted `key\xc0repr(value)\xc0`,
    /// `time.observation` always left out. `whitelist`: only `keys`; otherwise all
    /// but `keys`.
    pub fn hash(&self, keys: &[&str], whitelist: bool) -> String {
        use sha2::{Digest, Sha256};
        let mut items: Vec<(&str, &Value)> = self.iter().collect();
        items.sort_by(|a, b| a.0.cmp(b.0));
        let mut h = Sha256::new();
        for (k, v) in items {
            if k == "time.observation" || keys.contains(&k) != whitelist {
                continue;
            }
            h.update(k.as_bytes());
            h.update([0xc0]);
            h.update(py_repr(v).as_bytes());
            h.update([0xc0]);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The first `\uXXXX` escape of a UTF-16 surrogate without its partner in a
/// JSON text: Python reads it into a string, Rust strings cannot hold it.
fn lone_surrogate(text: &str) -> Option<&str> {
    let unit = |i: usize| {
        let hex = text.get(i + 2..i + 6)?;
        let v = u16::from_str_radix(hex, 16).ok()?;
        (text.get(i..i + 2) == Some("\\u")).then_some(v)
    };
    let mut i = 0;
    while let Some(k) = text[i..].find('\\') {
        let at = i + k;
        match unit(at) {
            Some(0xD800..=0xDBFF) if matches!(unit(at + 6), Some(0xDC00..=0xDFFF)) => i = at + 12,
            Some(0xD800..=0xDFFF) => return Some(&text[at..at + 6]),
            // Any other escape is two bytes at least; `\\` is skipped whole.
            _ => i = at + 2,
        }
    }
    None
}

/// The value of a span [`Message::keep_raw`] kept without decoding it: a string
/// without escapes, `true`, `false`, or a number `parse_number` took; all decode.
/// (Nothing else is left undecoded, so the fallback is never taken.)
fn decode_span(text: &[u8]) -> Value {
    if let Some(s) = plain_text(text) {
        return Value::String(s.to_string());
    }
    match text {
        b"true" => Value::Bool(true),
        b"false" => Value::Bool(false),
        _ => std::str::from_utf8(text)
            .ok()
            .and_then(parse_number)
            .unwrap_or_else(|| {
                debug_assert!(false, "undecodable span {text:?}");
                Value::Null
            }),
    }
}

/// The value of a JSON string's text when it has no escapes: its bytes between
/// the quotes. (Spans were checked for UTF-8 and control characters when read;
/// the UTF-8 check here is cheap.)
fn plain_text(text: &[u8]) -> Option<&str> {
    match text {
        [b'"', inner @ .., b'"'] if !inner.contains(&b'\\') => std::str::from_utf8(inner).ok(),
        _ => None,
    }
}

/// A value as serde_json writes it; strings without anything to escape (nearly
/// all) are copied in one piece instead of byte by byte.
fn write_value(out: &mut Vec<u8>, v: &Value) {
    if let Value::String(s) = v {
        let plain = |b: u8| b >= 0x20 && b != b'"' && b != b'\\';
        if s.bytes().fold(true, |ok, b| ok & plain(b)) {
            out.reserve(s.len() + 2);
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
            return;
        }
    }
    serde_json::to_writer(&mut *out, v).expect("Vec write");
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn invalid(key: &str, value: &Value, reason: Option<String>) -> FieldError {
    FieldError::InvalidValue {
        key: key.to_string(),
        value: py_repr(value),
        reason,
    }
}

/// A JSON number as serde_json decodes it (integers exactly, others as f64).
fn parse_number(text: &str) -> Option<Value> {
    // serde_json reads `-0` as the float -0.0 (Python: the int 0).
    if text == "-0" {
        return serde_json::Number::from_f64(-0.0).map(Value::Number);
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    if let Ok(u) = text.parse::<u64>() {
        return Some(Value::from(u));
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

/// [`check_value`] for a string, checked where it lies.
fn check_str(spec: &harmonization::FieldSpec, x: &str) -> Result<(), String> {
    if !harmonization::is_valid_str(spec.ty, x) {
        return Err(format!("not a valid {}", spec.ty.name()));
    }
    check_constraints(spec, x)
}

fn check_constraints(spec: &harmonization::FieldSpec, text: &str) -> Result<(), String> {
    if let Some(max) = spec.length {
        let n = text.chars().count();
        if n > max {
            return Err(format!("too long: {n} > {max}"));
        }
    }
    if let Some(r) = &spec.regex {
        if !r.is_match(text) {
            return Err("regex did not match".into());
        }
    }
    if let Some(r) = &spec.iregex {
        if !r.is_match(text) {
            return Err("regex (case insensitive) did not match".into());
        }
    }
    Ok(())
}

/// Type validity plus the field's length/regex constraints (IntelMQ's
/// `__is_valid_value`).
fn check_value(spec: &harmonization::FieldSpec, v: &Value) -> Result<(), String> {
    if !is_valid(spec.ty, v) {
        return Err(format!("not a valid {}", spec.ty.name()));
    }
    if spec.length.is_none() && spec.regex.is_none() && spec.iregex.is_none() {
        return Ok(());
    }
    match v {
        Value::String(s) => check_constraints(spec, s),
        other => check_constraints(spec, &py_str(other)),
    }
}

/// Why an input line is not a message.
#[derive(Debug, Clone, PartialEq)]
pub enum InputError {
    /// Not JSON, or not one JSON object.
    Json(String),
    /// Valid JSON, but not an object.
    NotAnObject,
    /// `__type` is neither "Event" nor "Report".
    BadType(String),
    /// A field failed.
    Field(FieldError),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Json(e) => write!(f, "invalid JSON: {e}"),
            InputError::NotAnObject => write!(f, "not a JSON object"),
            InputError::BadType(t) => write!(f, "invalid __type {t:?}: expected Event or Report"),
            InputError::Field(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for InputError {}

fn classify_json_error(e: serde_json::Error) -> InputError {
    let text = e.to_string();
    if text.starts_with(NOT_OBJECT) {
        return InputError::NotAnObject;
    }
    InputError::Json(text)
}

const NOT_OBJECT: &str = "not a JSON object";

/// Decodes a wire line straight into a [`Message`], field by field, so that known
/// keys are never allocated and no intermediate map is built.
struct MessageSeed<'l> {
    default: MsgType,
    line: &'l [u8],
}

impl<'de, 'l> DeserializeSeed<'de> for MessageSeed<'l> {
    type Value = Result<Message, InputError>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(MessageVisitor {
            default: self.default,
            line: self.line,
        })
    }
}

struct MessageVisitor<'l> {
    default: MsgType,
    line: &'l [u8],
}

struct KeyCow<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for KeyCow<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyCow<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(KeyCow(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeyCow(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de, 'l> Visitor<'de> for MessageVisitor<'l> {
    type Value = Result<Message, InputError>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // `__type` may come last (IntelMQ writes it last), so the fields are read
        // first and checked against the class once it is known.
        let mut pending: Vec<(KeyCow<'de>, &'de RawValue)> = Vec::with_capacity(24);
        let mut ty = self.default;
        let mut bad_type = None;
        while let Some(k) = map.next_key::<KeyCow<'de>>()? {
            let v: &'de RawValue = map.next_value()?;
            if k.0 == "__type" {
                let t: Value = serde_json::from_str(v.get()).unwrap_or(Value::Null);
                match t.as_str().and_then(MsgType::from_name) {
                    Some(t) => ty = t,
                    None => {
                        bad_type = Some(t.as_str().map(str::to_string).unwrap_or(t.to_string()))
                    }
                }
                continue;
            }
            pending.push((k, v));
        }
        if let Some(t) = bad_type {
            return Ok(Err(InputError::BadType(t)));
        }
        let mut msg = Message::new(ty);
        msg.line = Some(share_line(self.line));
        let base = self.line.as_ptr() as usize;
        // Known fields seen so far (the table has fewer than 128), to keep the last
        // of duplicate keys as Python's json.loads does.
        let mut seen = Seen::default();
        let h = harmonization();
        for (n, (k, raw)) in pending.iter().enumerate() {
            let text = raw.get();
            if is_meta(&k.0) {
                if let Err(e) = msg.add_meta(&k.0, text) {
                    return Ok(Err(e));
                }
                continue;
            }
            let start = text.as_ptr() as usize - base;
            let span = (start as u32, (start + text.len()) as u32);
            let mut hint = Hint::default();
            if let Some(kept) = msg.keep_raw(&k.0, text, span, &mut seen, true, &mut hint, false, h)
            {
                if kept {
                    continue;
                }
            }
            // serde_json's raw values do not check escapes: a lone surrogate
            // (`"\ud800"`, valid for Python, not a Rust string) fails only here.
            // Other errors are worded for the whole line, as for any bad JSON.
            let v: Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    let why = match lone_surrogate(text) {
                        Some(esc) => format!("{}: lone surrogate {esc} (no UTF-8 form)", k.0),
                        None => serde_json::from_slice::<Value>(self.line)
                            .err()
                            .unwrap_or(e)
                            .to_string(),
                    };
                    return Ok(Err(InputError::Json(why)));
                }
            };
            let later = pending[n + 1..].iter().map(|q| &*q.0 .0);
            if let Err(e) = msg.add_read(&k.0, v, &mut seen, h, later) {
                return Ok(Err(InputError::Field(e)));
            }
        }
        Ok(Ok(msg))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(NOT_OBJECT))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(de::Error::custom(NOT_OBJECT))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(de::Error::custom(NOT_OBJECT))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(de::Error::custom(NOT_OBJECT))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(de::Error::custom(NOT_OBJECT))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(de::Error::custom(NOT_OBJECT))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(de::Error::custom(NOT_OBJECT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key index agrees with a plain search through every kind of change,
    /// across the size where it is built.
    #[test]
    fn key_index_follows_changes() {
        let mut m = Message::event();
        let mut want: Vec<String> = Vec::new();
        for i in 0..3 * INDEX_MIN {
            let k = format!("extra.k{i}");
            m.add(&k, i as u64).unwrap();
            want.push(k);
            if i % 7 == 0 {
                m.set("extra.k0", "again").unwrap();
            }
            if i % 11 == 10 {
                let gone = want.remove(i / 3);
                assert!(m.remove(&gone).is_some());
                assert!(m.get(&gone).is_none());
            }
            if i % 37 == 36 {
                let c = m.clone();
                assert_eq!(c, m);
            }
            for (n, k) in want.iter().enumerate() {
                assert_eq!(m.position(k), Some(n), "{k} after {i}");
            }
            assert_eq!(m.position("extra.none"), None);
        }
        m.add("source.ip", "192.0.2.1").unwrap();
        assert!(m.add("extra.k1", 1).is_err(), "an existing key is found");
        m.remove("extra");
        assert_eq!(m.len(), 1);
        assert_eq!(m.get_str("source.ip"), Some("192.0.2.1"));
        // A read message with many keys.
        let line: String = (0..500)
            .map(|i| format!("\"extra.r{i}\":{i},"))
            .collect::<String>();
        let line = format!("{{{line}\"extra.r7\":\"last\"}}");
        let m = Message::from_json(line.as_bytes(), MsgType::Event).unwrap();
        assert_eq!(m.len(), 500);
        assert_eq!(m.get_str("extra.r7"), Some("last"));
        assert_eq!(m.get("extra.r499"), Some(&Value::from(499)));
    }

    /// Many distinct keys take linear time: 100,000 inserts would take minutes
    /// with a linear search per insert (and this bound is a debug build's).
    #[test]
    fn many_keys_are_not_quadratic() {
        let t = std::time::Instant::now();
        let mut m = Message::event();
        for i in 0..100_000 {
            m.add(&format!("extra.k{i}"), i).unwrap();
        }
        let mut line = Vec::new();
        m.write_json(&mut line);
        let back = Message::from_json(&line, MsgType::Event).unwrap();
        assert_eq!(back.len(), 100_000);
        let secs = t.elapsed().as_secs_f64();
        assert!(secs < 10.0, "{secs} s");
    }

    /// Every span kept undecoded decodes (the fallback of `decode_span` is
    /// never taken), and values serde_json cannot decode are not kept.
    #[test]
    fn kept_spans_decode() {
        for (text, ok) in [
            ("1", true),
            ("-0", true),
            ("-1.5e300", true),
            ("123456789012345678901234567890", true),
            ("1e400", false),
            ("[1e400]", false),
            (r#"{"a":"\udc00"}"#, false),
            (r#"["\ud83d\ude00"]"#, true),
            ("true", true),
            (r#""plain""#, true),
            (r#""esc\n""#, true),
        ] {
            for spaced in ["", " "] {
                let line = format!("{{\"extra.x\":{spaced}{text}}}");
                let r = Message::from_json(line.as_bytes(), MsgType::Event);
                assert_eq!(r.is_ok(), ok, "{line}: {r:?}");
                if let Ok(m) = r {
                    let want: Value = serde_json::from_str(text).unwrap();
                    assert_eq!(m.get("extra.x"), Some(&want), "{line}");
                }
            }
        }
    }
}
