//! Timestamp parsing and normalisation, reproducing IntelMQ 3.5.0's
//! `harmonization.DateTime` (Python 3.11, python-dateutil 4.0.0) exactly.
//!
//! Pieces:
//! * [`is_intelmq_iso`]: `DateTime.from_isoformat` acceptance test (Python
//!   `strptime` with `'%Y-%m-%dT%H:%M:%S+00:00'` / `'...%S.%f+00:00'`).
//! * [`parse_fuzzy`]: a port of `dateutil.parser.parse(s, fuzzy=True)`
//!   (`dayfirst=False`, `yearfirst=False`, no `tzinfos`), including its lexer.
//! * [`strptime`]: a port of CPython's `_strptime` (C locale, host zone UTC).
//! * [`sanitize`], [`convert`] and the `from_*` helpers: IntelMQ's glue code.
//!
//! Assumptions shared with a typical IntelMQ deployment: the host time zone
//! is UTC (`time.tzname == ('UTC', 'UTC')`) and the C locale is active.

use chrono::{
    DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike,
    Utc,
};
use std::cmp::Ordering;

/// A parsed instant: naive (no zone given, IntelMQ then assumes UTC) or with a fixed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    Naive(NaiveDateTime),
    Aware(DateTime<FixedOffset>),
}

impl Parsed {
    /// The UTC instant (naive values are taken as UTC, like IntelMQ does).
    pub fn to_utc(&self) -> DateTime<Utc> {
        match self {
            Parsed::Naive(n) => n.and_utc(),
            Parsed::Aware(a) => a.with_timezone(&Utc),
        }
    }
}

/// Python `datetime.isoformat()` of the UTC instant:
/// `YYYY-MM-DDTHH:MM:SS+00:00`, with `.ffffff` only when microseconds != 0.
pub fn to_iso(dt: &DateTime<Utc>) -> String {
    let us = (dt.nanosecond() % 1_000_000_000) / 1000;
    let year = dt.year();
    if !(0..=9999).contains(&year) {
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}+00:00",
            year,
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            if us != 0 {
                format!(".{us:06}")
            } else {
                String::new()
            }
        );
    }
    // Digits by hand: this runs for every parsed event, and `format!` costs
    // several times more.
    let mut b = [0u8; 32];
    let mut put = |at: usize, v: u32, width: usize| {
        let mut v = v;
        for k in (0..width).rev() {
            b[at + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, dt.month(), 2);
    put(8, dt.day(), 2);
    put(11, dt.hour(), 2);
    put(14, dt.minute(), 2);
    put(17, dt.second(), 2);
    let mut n = 19;
    if us != 0 {
        put(20, us, 6);
        b[19] = b'.';
        n = 26;
    }
    b[4] = b'-';
    b[7] = b'-';
    b[10] = b'T';
    b[13] = b':';
    b[16] = b':';
    b[n..n + 6].copy_from_slice(b"+00:00");
    String::from_utf8_lossy(&b[..n + 6]).into_owned()
}

/// Python's `datetime` only covers years 1..=9999 (`astimezone` raises
/// `OverflowError` outside of it).
fn in_py_range(year: i32) -> bool {
    (1..=9999).contains(&year)
}

/// Like IntelMQ: naive -> UTC, aware -> `astimezone(utc)`, range checked.
fn parsed_to_utc_checked(p: &Parsed) -> Result<DateTime<Utc>, String> {
    let u = p.to_utc();
    if in_py_range(u.year()) {
        Ok(u)
    } else {
        Err("date value out of range".to_string())
    }
}

fn now_default() -> NaiveDateTime {
    Utc::now().date_naive().and_time(NaiveTime::MIN)
}

fn current_year() -> i64 {
    i64::from(Utc::now().year())
}

// ---------------------------------------------------------------------------
// Small Python helpers
// ---------------------------------------------------------------------------

/// `str.isspace()` for one character.
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `str.isalpha()` for one character (approximation: Unicode Alphabetic).
fn py_isalpha(c: char) -> bool {
    c.is_alphabetic() && !c.is_numeric()
}

/// `str.isdigit()` for one character (ASCII only, see module docs).
fn py_isdigit(c: char) -> bool {
    c.is_ascii_digit()
}

/// `s.isdigit()` for a whole string.
fn py_isdigit_str(s: &str) -> bool {
    !s.is_empty() && s.chars().all(py_isdigit)
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Python slice `s[a:b]` by character index (clamped like Python).
fn cslice(s: &str, a: usize, b: Option<usize>) -> &str {
    let byte_at = |n: usize| s.char_indices().nth(n).map_or(s.len(), |(i, _)| i);
    let start = byte_at(a);
    let end = match b {
        Some(b) => byte_at(b).max(start),
        None => s.len(),
    };
    &s[start..end]
}

/// Validates Python's digit-group syntax (`1_000`): underscores only between digits.
fn digits_with_underscores(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b[0] == b'_' || b[b.len() - 1] == b'_' {
        return false;
    }
    let mut prev_us = false;
    for &c in b {
        if c == b'_' {
            if prev_us {
                return false;
            }
            prev_us = true;
        } else if c.is_ascii_digit() {
            prev_us = false;
        } else {
            return false;
        }
    }
    true
}

/// Python `int(str)` (base 10), saturating at the i64 bounds.
fn py_int(s: &str) -> Result<i64, ()> {
    let t = py_strip(s);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if !digits_with_underscores(digits) {
        return Err(());
    }
    let mut v: i64 = 0;
    for c in digits.bytes().filter(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    Ok(if neg { -v } else { v })
}

/// Python `float(str)`.
fn py_float(s: &str) -> Option<f64> {
    let t = py_strip(s);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = body.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => {
            let (mant, exp) = match lower.find('e') {
                Some(p) => (&lower[..p], Some(&lower[p + 1..])),
                None => (lower.as_str(), None),
            };
            let (ip, fp) = match mant.find('.') {
                Some(p) => (&mant[..p], Some(&mant[p + 1..])),
                None => (mant, None),
            };
            let ip_ok = ip.is_empty() || digits_with_underscores(ip);
            let fp_ok = fp.is_none_or(|f| f.is_empty() || digits_with_underscores(f));
            let has_digit = !ip.is_empty() || fp.is_some_and(|f| !f.is_empty());
            let exp_ok = exp.is_none_or(|e| {
                let e = e.strip_prefix(['+', '-']).unwrap_or(e);
                digits_with_underscores(e)
            });
            if !(ip_ok && fp_ok && has_digit && exp_ok) {
                return None;
            }
            let clean: String = lower.chars().filter(|&c| c != '_').collect();
            clean.parse::<f64>().ok()?
        }
    };
    Some(if neg { -v } else { v })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// `calendar.monthrange(year, month)[1]`; error for an illegal month.
fn days_in_month(y: i64, m: i64) -> Result<i64, ()> {
    Ok(match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
        _ => return Err(()),
    })
}

/// Python `datetime(y, mo, d, h, mi, s, us)` validation.
fn py_datetime(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, us: i64) -> Option<NaiveDateTime> {
    if !(1..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(0..=23).contains(&h)
        || !(0..=59).contains(&mi)
        || !(0..=59).contains(&s)
        || !(0..=999_999).contains(&us)
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y as i32, mo as u32, d.clamp(0, 99) as u32)?;
    let time = NaiveTime::from_hms_micro_opt(h as u32, mi as u32, s as u32, us as u32)?;
    Some(date.and_time(time))
}

// ---------------------------------------------------------------------------
// dateutil lexer (_timelex)
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum LexState {
    Start,
    Alpha,
    Num,
    AlphaDot,
    NumDot,
}

fn timelex(input: &str) -> Vec<String> {
    let chars: Vec<char> = input.chars().filter(|&c| c != '\0').collect();
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < chars.len() {
        let mut token = String::new();
        let mut state = LexState::Start;
        let mut seen_letters = false;
        while pos < chars.len() {
            let c = chars[pos];
            match state {
                LexState::Start => {
                    token.push(c);
                    pos += 1;
                    if py_isalpha(c) {
                        state = LexState::Alpha;
                    } else if py_isdigit(c) {
                        state = LexState::Num;
                    } else if py_isspace(c) {
                        token = " ".to_string();
                        break;
                    } else {
                        break;
                    }
                }
                LexState::Alpha => {
                    seen_letters = true;
                    if py_isalpha(c) {
                        token.push(c);
                    } else if c == '.' {
                        token.push(c);
                        state = LexState::AlphaDot;
                    } else {
                        break;
                    }
                    pos += 1;
                }
                LexState::Num => {
                    if py_isdigit(c) {
                        token.push(c);
                    } else if c == '.' || (c == ',' && char_len(&token) >= 2) {
                        token.push(c);
                        state = LexState::NumDot;
                    } else {
                        break;
                    }
                    pos += 1;
                }
                LexState::AlphaDot => {
                    seen_letters = true;
                    if c == '.' || py_isalpha(c) {
                        token.push(c);
                    } else if py_isdigit(c) && token.ends_with('.') {
                        token.push(c);
                        state = LexState::NumDot;
                    } else {
                        break;
                    }
                    pos += 1;
                }
                LexState::NumDot => {
                    if c == '.' || py_isdigit(c) {
                        token.push(c);
                    } else if py_isalpha(c) && token.ends_with('.') {
                        token.push(c);
                        state = LexState::AlphaDot;
                    } else {
                        break;
                    }
                    pos += 1;
                }
            }
        }
        let dotted = matches!(state, LexState::AlphaDot | LexState::NumDot);
        if dotted
            && (seen_letters
                || token.matches('.').count() > 1
                || token.ends_with('.')
                || token.ends_with(','))
        {
            // re.split('([.,])', token): keep separators, drop empty pieces.
            let mut pieces: Vec<String> = Vec::new();
            let mut cur = String::new();
            for c in token.chars() {
                if c == '.' || c == ',' {
                    pieces.push(std::mem::take(&mut cur));
                    pieces.push(c.to_string());
                } else {
                    cur.push(c);
                }
            }
            pieces.push(cur);
            let mut it = pieces.into_iter();
            let first = it.next().unwrap_or_default();
            out.push(first);
            out.extend(it.filter(|p| !p.is_empty()));
            continue;
        }
        if state == LexState::NumDot && !token.contains('.') {
            token = token.replace(',', ".");
        }
        out.push(token);
    }
    out
}

// ---------------------------------------------------------------------------
// dateutil parserinfo
// ---------------------------------------------------------------------------

fn info_jump(name: &str) -> bool {
    matches!(
        name.to_lowercase().as_str(),
        " " | "."
            | ","
            | ";"
            | "-"
            | "/"
            | "'"
            | "at"
            | "on"
            | "and"
            | "ad"
            | "m"
            | "t"
            | "of"
            | "st"
            | "nd"
            | "rd"
            | "th"
    )
}

fn info_weekday(name: &str) -> Option<i64> {
    Some(match name.to_lowercase().as_str() {
        "mon" | "monday" => 0,
        "tue" | "tuesday" => 1,
        "wed" | "wednesday" => 2,
        "thu" | "thursday" => 3,
        "fri" | "friday" => 4,
        "sat" | "saturday" => 5,
        "sun" | "sunday" => 6,
        _ => return None,
    })
}

fn info_month(name: &str) -> Option<i64> {
    Some(match name.to_lowercase().as_str() {
        "jan" | "january" => 1,
        "feb" | "february" => 2,
        "mar" | "march" => 3,
        "apr" | "april" => 4,
        "may" => 5,
        "jun" | "june" => 6,
        "jul" | "july" => 7,
        "aug" | "august" => 8,
        "sep" | "sept" | "september" => 9,
        "oct" | "october" => 10,
        "nov" | "november" => 11,
        "dec" | "december" => 12,
        _ => return None,
    })
}

fn info_hms(name: &str) -> Option<i64> {
    Some(match name.to_lowercase().as_str() {
        "h" | "hour" | "hours" => 0,
        "m" | "minute" | "minutes" => 1,
        "s" | "second" | "seconds" => 2,
        _ => return None,
    })
}

fn info_ampm(name: &str) -> Option<i64> {
    Some(match name.to_lowercase().as_str() {
        "am" | "a" => 0,
        "pm" | "p" => 1,
        _ => return None,
    })
}

fn info_pertain(name: &str) -> bool {
    name.to_lowercase() == "of"
}

fn info_utczone(name: &str) -> bool {
    matches!(name.to_lowercase().as_str(), "utc" | "gmt" | "z")
}

/// `parserinfo.tzoffset`: note the case-sensitive lookup in lowercased keys.
fn info_tzoffset(name: &str) -> Option<i64> {
    if matches!(name, "utc" | "gmt" | "z") {
        Some(0)
    } else {
        None
    }
}

fn convertyear(year: i64, century_specified: bool, this_year: i64) -> i64 {
    let mut year = year;
    if year < 100 && !century_specified {
        year += this_year / 100 * 100;
        if year >= this_year + 50 {
            year -= 100;
        } else if year < this_year - 50 {
            year += 100;
        }
    }
    year
}

// ---------------------------------------------------------------------------
// Exact decimal numbers (dateutil uses decimal.Decimal)
// ---------------------------------------------------------------------------

struct Dec {
    int: i64,
    frac: String,
}

impl Dec {
    fn frac_nonzero(&self) -> bool {
        self.frac.bytes().any(|b| b != b'0')
    }

    fn cmp_int(&self, k: i64) -> Ordering {
        match self.int.cmp(&k) {
            Ordering::Equal if self.frac_nonzero() => Ordering::Greater,
            o => o,
        }
    }

    /// `int(m * (self % 1))`, computed exactly.
    fn frac_times_floor(&self, m: u64) -> i64 {
        let mut carry: u64 = 0;
        for d in self.frac.bytes().rev() {
            carry = (u64::from(d - b'0') * m + carry) / 10;
        }
        carry as i64
    }
}

/// `Decimal(token)` for the token shapes the lexer can produce; non-finite
/// values (`nan`, `inf`) are errors, like dateutil's `_to_decimal`.
fn to_decimal(tok: &str) -> Result<Dec, ()> {
    let t = py_strip(tok);
    let (ip, fp) = match t.find('.') {
        Some(p) => (&t[..p], &t[p + 1..]),
        None => (t, ""),
    };
    let ok = ip.bytes().all(|b| b.is_ascii_digit())
        && fp.bytes().all(|b| b.is_ascii_digit())
        && (!ip.is_empty() || !fp.is_empty());
    if !ok {
        return Err(());
    }
    let int = if ip.is_empty() { 0 } else { py_int(ip)? };
    Ok(Dec {
        int,
        frac: fp.to_string(),
    })
}

/// Whether Python `float(token)` succeeds, for lexer tokens.
fn is_float_token(tok: &str) -> bool {
    py_float(tok).is_some()
}

// ---------------------------------------------------------------------------
// dateutil _ymd
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Ymd {
    v: Vec<i64>,
    century_specified: bool,
    ystridx: Option<usize>,
    mstridx: Option<usize>,
    dstridx: Option<usize>,
}

type R<T> = Result<T, ()>;

impl Ymd {
    fn could_be_day(&self, value: &Dec) -> bool {
        let in_range =
            |hi: i64| value.cmp_int(1) != Ordering::Less && value.cmp_int(hi) != Ordering::Greater;
        if self.dstridx.is_some() {
            false
        } else if let Some(mi) = self.mstridx {
            let month = self.v[mi];
            let year = match self.ystridx {
                Some(yi) => self.v[yi],
                None => 2000,
            };
            match days_in_month(year, month) {
                Ok(dim) => in_range(dim),
                Err(_) => false,
            }
        } else {
            in_range(31)
        }
    }

    fn check_label(&mut self, label: Option<char>) -> R<Option<char>> {
        self.century_specified = true;
        match label {
            None | Some('Y') => Ok(Some('Y')),
            _ => Err(()),
        }
    }

    fn append_str(&mut self, s: &str, label: Option<char>) -> R<()> {
        let mut label = label;
        if py_isdigit_str(s) && char_len(s) > 2 {
            label = self.check_label(label)?;
        }
        let v = py_int(s)?;
        self.push(v, label)
    }

    fn append_int(&mut self, v: i64, label: Option<char>) -> R<()> {
        let mut label = label;
        if v > 100 {
            label = self.check_label(label)?;
        }
        self.push(v, label)
    }

    fn append_dec(&mut self, d: &Dec, label: Option<char>) -> R<()> {
        let mut label = label;
        if d.cmp_int(100) == Ordering::Greater {
            label = self.check_label(label)?;
        }
        self.push(d.int, label)
    }

    fn push(&mut self, v: i64, label: Option<char>) -> R<()> {
        self.v.push(v);
        let idx = self.v.len() - 1;
        let slot = match label {
            Some('M') => &mut self.mstridx,
            Some('D') => &mut self.dstridx,
            Some('Y') => &mut self.ystridx,
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(());
        }
        *slot = Some(idx);
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn resolve(
        &self,
        yearfirst: bool,
        dayfirst: bool,
    ) -> R<(Option<i64>, Option<i64>, Option<i64>)> {
        let n = self.v.len();
        let mut strids: Vec<(char, usize)> = [
            ('y', self.ystridx),
            ('m', self.mstridx),
            ('d', self.dstridx),
        ]
        .iter()
        .filter_map(|&(k, v)| v.map(|v| (k, v)))
        .collect();
        if (n == strids.len() && n > 0) || (n == 3 && strids.len() == 2) {
            if n == 3 && strids.len() == 2 {
                let missing = (0..3)
                    .find(|x| !strids.iter().any(|s| s.1 == *x))
                    .ok_or(())?;
                let key = ['y', 'm', 'd']
                    .into_iter()
                    .find(|k| !strids.iter().any(|s| s.0 == *k))
                    .ok_or(())?;
                strids.push((key, missing));
            }
            let get = |k: char| strids.iter().find(|s| s.0 == k).map(|s| self.v[s.1]);
            return Ok((get('y'), get('m'), get('d')));
        }
        let s = &self.v;
        let (mut year, mut month, mut day) = (None, None, None);
        let mstridx = self.mstridx;
        if n > 3 {
            return Err(());
        } else if n == 1 || (mstridx.is_some() && n == 2) {
            let other = if let Some(mi) = mstridx {
                month = Some(s[mi]);
                if mi == 0 {
                    s[n - 1]
                } else {
                    s[mi - 1]
                }
            } else {
                s[0]
            };
            if n > 1 || mstridx.is_none() {
                if other > 31 {
                    year = Some(other);
                } else {
                    day = Some(other);
                }
            }
        } else if n == 2 {
            if s[0] > 31 {
                (year, month) = (Some(s[0]), Some(s[1]));
            } else if s[1] > 31 {
                (month, year) = (Some(s[0]), Some(s[1]));
            } else if dayfirst && s[1] <= 12 {
                (day, month) = (Some(s[0]), Some(s[1]));
            } else {
                (month, day) = (Some(s[0]), Some(s[1]));
            }
        } else if n == 3 {
            let (a, b, c) = (Some(s[0]), Some(s[1]), Some(s[2]));
            match mstridx {
                Some(0) => {
                    if s[1] > 31 {
                        (month, year, day) = (a, b, c);
                    } else {
                        (month, day, year) = (a, b, c);
                    }
                }
                Some(1) => {
                    if s[0] > 31 || (yearfirst && s[2] <= 31) {
                        (year, month, day) = (a, b, c);
                    } else {
                        (day, month, year) = (a, b, c);
                    }
                }
                Some(2) => {
                    if s[1] > 31 {
                        (day, year, month) = (a, b, c);
                    } else {
                        (year, day, month) = (a, b, c);
                    }
                }
                _ => {
                    if s[0] > 31
                        || self.ystridx == Some(0)
                        || (yearfirst && s[1] <= 12 && s[2] <= 31)
                    {
                        if dayfirst && s[2] <= 12 {
                            (year, day, month) = (a, b, c);
                        } else {
                            (year, month, day) = (a, b, c);
                        }
                    } else if s[0] > 12 || (dayfirst && s[1] <= 12) {
                        (day, month, year) = (a, b, c);
                    } else {
                        (month, day, year) = (a, b, c);
                    }
                }
            }
        }
        Ok((year, month, day))
    }
}

// ---------------------------------------------------------------------------
// dateutil parser._parse
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Res {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    weekday: Option<i64>,
    hour: Option<i64>,
    minute: Option<i64>,
    second: Option<i64>,
    microsecond: Option<i64>,
    tzname: Option<String>,
    tzoffset: Option<i64>,
    ampm: Option<i64>,
    century_specified: bool,
}

impl Res {
    fn len(&self) -> usize {
        [
            self.year.is_some(),
            self.month.is_some(),
            self.day.is_some(),
            self.weekday.is_some(),
            self.hour.is_some(),
            self.minute.is_some(),
            self.second.is_some(),
            self.microsecond.is_some(),
            self.tzname.is_some(),
            self.tzoffset.is_some(),
            self.ampm.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count()
    }
}

fn tok(l: &[String], i: usize) -> R<&str> {
    l.get(i).map(String::as_str).ok_or(())
}

fn could_be_tzname(
    hour: Option<i64>,
    tzname: &Option<String>,
    tzoffset: Option<i64>,
    token: &str,
) -> bool {
    hour.is_some()
        && tzname.is_none()
        && tzoffset.is_none()
        && char_len(token) <= 5
        && (token.chars().all(|c| c.is_ascii_uppercase())
            || matches!(token, "UTC" | "GMT" | "Z" | "z"))
}

/// `parser._ampm_valid`: not fuzzy, an AM/PM without a 12-hour clock hour is
/// an error.
fn ampm_valid(hour: Option<i64>, ampm: Option<i64>, fuzzy: bool) -> R<bool> {
    let mut valid = !(fuzzy && ampm.is_some());
    match hour {
        None | Some(13..) | Some(..0) if !fuzzy => return Err(()),
        None => valid = false,
        Some(h) if !(0..=12).contains(&h) => valid = false,
        _ => {}
    }
    Ok(valid)
}

fn adjust_ampm(hour: i64, ampm: i64) -> i64 {
    if hour < 12 && ampm == 1 {
        hour + 12
    } else if hour == 12 && ampm == 0 {
        0
    } else {
        hour
    }
}

/// `parser._parsems`: `I[.F]` seconds -> (seconds, microseconds).
fn parsems(value: &str) -> R<(i64, i64)> {
    if !value.contains('.') {
        return Ok((py_int(value)?, 0));
    }
    let mut parts = value.split('.');
    let (i, f) = match (parts.next(), parts.next(), parts.next()) {
        (Some(i), Some(f), None) => (i, f),
        _ => return Err(()),
    };
    let mut padded: String = f.to_string();
    while char_len(&padded) < 6 {
        padded.push('0');
    }
    Ok((py_int(i)?, py_int(cslice(&padded, 0, Some(6)))?))
}

fn parse_min_sec(value: &Dec) -> (i64, Option<i64>) {
    let second = if value.frac_nonzero() {
        Some(value.frac_times_floor(60))
    } else {
        None
    };
    (value.int, second)
}

fn find_hms_idx(idx: usize, t: &[String]) -> Option<usize> {
    let n = t.len();
    if idx + 1 < n && info_hms(&t[idx + 1]).is_some() {
        Some(idx + 1)
    } else if idx + 2 < n && t[idx + 1] == " " && info_hms(&t[idx + 2]).is_some() {
        Some(idx + 2)
    } else if idx > 0 && info_hms(&t[idx - 1]).is_some() {
        Some(idx - 1)
    } else if 1 < idx && idx == n - 1 && t[idx - 1] == " " && info_hms(&t[idx - 2]).is_some() {
        Some(idx - 2)
    } else {
        None
    }
}

fn assign_hms(res: &mut Res, value_repr: &str, hms: i64) -> R<()> {
    let value = to_decimal(value_repr)?;
    match hms {
        0 => {
            res.hour = Some(value.int);
            if value.frac_nonzero() {
                res.minute = Some(value.frac_times_floor(60));
            }
        }
        1 => {
            let (m, s) = parse_min_sec(&value);
            res.minute = Some(m);
            res.second = s;
        }
        2 => {
            let (s, us) = parsems(value_repr)?;
            res.second = Some(s);
            res.microsecond = Some(us);
        }
        _ => {}
    }
    Ok(())
}

fn parse_numeric_token(
    l: &[String],
    idx0: usize,
    ymd: &mut Ymd,
    res: &mut Res,
    fuzzy: bool,
) -> R<usize> {
    let mut idx = idx0;
    let value_repr = l[idx].as_str();
    let value = to_decimal(value_repr)?;
    let len_li = char_len(value_repr);
    let len_l = l.len();
    let s = value_repr;

    if ymd.v.len() == 3
        && (len_li == 2 || len_li == 4)
        && res.hour.is_none()
        && (idx + 1 >= len_l || (l[idx + 1] != ":" && info_hms(&l[idx + 1]).is_none()))
    {
        // 19990101T23[59]
        res.hour = Some(py_int(cslice(s, 0, Some(2)))?);
        if len_li == 4 {
            res.minute = Some(py_int(cslice(s, 2, None))?);
        }
    } else if len_li == 6 || (len_li > 6 && s.chars().position(|c| c == '.') == Some(6)) {
        // YYMMDD or HHMMSS[.ss]
        if ymd.v.is_empty() && !s.contains('.') {
            ymd.append_str(cslice(s, 0, Some(2)), None)?;
            ymd.append_str(cslice(s, 2, Some(4)), None)?;
            ymd.append_str(cslice(s, 4, None), None)?;
        } else {
            res.hour = Some(py_int(cslice(s, 0, Some(2)))?);
            res.minute = Some(py_int(cslice(s, 2, Some(4)))?);
            let (sec, us) = parsems(cslice(s, 4, None))?;
            res.second = Some(sec);
            res.microsecond = Some(us);
        }
    } else if len_li == 8 || len_li == 12 || len_li == 14 {
        // YYYYMMDD[hhmm[ss]]
        ymd.append_str(cslice(s, 0, Some(4)), Some('Y'))?;
        ymd.append_str(cslice(s, 4, Some(6)), None)?;
        ymd.append_str(cslice(s, 6, Some(8)), None)?;
        if len_li > 8 {
            res.hour = Some(py_int(cslice(s, 8, Some(10)))?);
            res.minute = Some(py_int(cslice(s, 10, Some(12)))?);
            if len_li > 12 {
                res.second = Some(py_int(cslice(s, 12, None))?);
            }
        }
    } else if let Some(hms_idx) = find_hms_idx(idx, l) {
        // HH[ ]h or MM[ ]m or SS[.ss][ ]s
        let hms = if hms_idx > idx {
            idx = hms_idx;
            info_hms(&l[hms_idx]).ok_or(())?
        } else {
            info_hms(&l[hms_idx]).ok_or(())? + 1
        };
        assign_hms(res, value_repr, hms)?;
    } else if idx + 2 < len_l && l[idx + 1] == ":" {
        // HH:MM[:SS[.ss]]
        res.hour = Some(value.int);
        let v2 = to_decimal(&l[idx + 2])?;
        let (m, sec) = parse_min_sec(&v2);
        res.minute = Some(m);
        res.second = sec;
        if idx + 4 < len_l && l[idx + 3] == ":" {
            let (sec, us) = parsems(&l[idx + 4])?;
            res.second = Some(sec);
            res.microsecond = Some(us);
            idx += 2;
        }
        idx += 2;
    } else if idx + 1 < len_l && matches!(l[idx + 1].as_str(), "-" | "/" | ".") {
        let sep = l[idx + 1].as_str();
        ymd.append_str(value_repr, None)?;
        if idx + 2 < len_l && !info_jump(&l[idx + 2]) {
            if py_isdigit_str(&l[idx + 2]) {
                // 01-01[-01]
                ymd.append_str(&l[idx + 2], None)?;
            } else {
                // 01-Jan[-01]
                let m = info_month(&l[idx + 2]).ok_or(())?;
                ymd.append_int(m, Some('M'))?;
            }
            if idx + 3 < len_l && l[idx + 3] == sep {
                // We have three members
                let t4 = tok(l, idx + 4)?;
                match info_month(t4) {
                    Some(m) => ymd.append_int(m, Some('M'))?,
                    None => ymd.append_str(t4, None)?,
                }
                idx += 2;
            }
            idx += 1;
        }
        idx += 1;
    } else if idx + 1 >= len_l || info_jump(&l[idx + 1]) {
        if idx + 2 < len_l && info_ampm(&l[idx + 2]).is_some() {
            // 12 am
            let ap = info_ampm(&l[idx + 2]).ok_or(())?;
            res.hour = Some(adjust_ampm(value.int, ap));
            idx += 1;
        } else {
            // Year, month or day
            ymd.append_dec(&value, None)?;
        }
        idx += 1;
    } else if info_ampm(&l[idx + 1]).is_some()
        && value.cmp_int(0) != Ordering::Less
        && value.cmp_int(24) == Ordering::Less
    {
        // 12am
        let ap = info_ampm(&l[idx + 1]).ok_or(())?;
        res.hour = Some(adjust_ampm(value.int, ap));
        idx += 1;
    } else if ymd.could_be_day(&value) {
        ymd.append_dec(&value, None)?;
    } else if !fuzzy {
        return Err(());
    }
    Ok(idx)
}

/// `parser._parse(timestr, fuzzy=fuzzy)` followed by `parserinfo.validate`.
fn du_parse(timestr: &str, this_year: i64, fuzzy: bool) -> R<Res> {
    let mut l = timelex(timestr);
    let len_l = l.len();
    let mut res = Res::default();
    let mut ymd = Ymd::default();
    let mut i = 0;
    while i < len_l {
        let cur = l[i].clone();
        if is_float_token(&cur) {
            i = parse_numeric_token(&l, i, &mut ymd, &mut res, fuzzy)?;
        } else if let Some(wd) = info_weekday(&cur) {
            res.weekday = Some(wd);
        } else if let Some(m) = info_month(&cur) {
            ymd.append_int(m, Some('M'))?;
            if i + 1 < len_l {
                if l[i + 1] == "-" || l[i + 1] == "/" {
                    // Jan-01[-99]
                    let sep = l[i + 1].clone();
                    ymd.append_str(tok(&l, i + 2)?, None)?;
                    if i + 3 < len_l && l[i + 3] == sep {
                        // Jan-01-99
                        ymd.append_str(tok(&l, i + 4)?, None)?;
                        i += 2;
                    }
                    i += 2;
                } else if i + 4 < len_l
                    && l[i + 1] == " "
                    && l[i + 3] == " "
                    && info_pertain(&l[i + 2])
                {
                    // Jan of 01
                    if py_isdigit_str(&l[i + 4]) {
                        let v = py_int(&l[i + 4])?;
                        let y = convertyear(v, false, this_year);
                        ymd.append_str(&y.to_string(), Some('Y'))?;
                    }
                    i += 4;
                }
            }
        } else if let Some(ap) = info_ampm(&cur) {
            if ampm_valid(res.hour, res.ampm, fuzzy)? {
                res.hour = Some(adjust_ampm(res.hour.ok_or(())?, ap));
                res.ampm = Some(ap);
            }
        } else if could_be_tzname(res.hour, &res.tzname, res.tzoffset, &cur) {
            res.tzoffset = info_tzoffset(&cur);
            res.tzname = Some(cur.clone());
            // GMT+3 means "my time +3 is GMT": flip the sign.
            if i + 1 < len_l && (l[i + 1] == "+" || l[i + 1] == "-") {
                l[i + 1] = if l[i + 1] == "+" { "-" } else { "+" }.to_string();
                res.tzoffset = None;
                if info_utczone(&cur) {
                    res.tzname = None;
                }
            }
        } else if res.hour.is_some() && (cur == "+" || cur == "-") {
            let signal = if cur == "+" { 1 } else { -1 };
            let next = tok(&l, i + 1)?.to_string();
            let len_li = char_len(&next);
            let (hour_offset, min_offset);
            if len_li == 4 {
                // -0300
                hour_offset = py_int(cslice(&next, 0, Some(2)))?;
                min_offset = py_int(cslice(&next, 2, None))?;
            } else if i + 2 < len_l && l[i + 2] == ":" {
                // -03:00
                hour_offset = py_int(&next)?;
                min_offset = py_int(tok(&l, i + 3)?)?;
                i += 2;
            } else if len_li <= 2 {
                // -[0]3
                hour_offset = py_int(cslice(&next, 0, Some(2)))?;
                min_offset = 0;
            } else {
                return Err(());
            }
            res.tzoffset = Some(
                signal
                    * hour_offset
                        .saturating_mul(3600)
                        .saturating_add(min_offset.saturating_mul(60)),
            );
            // Look for a timezone name between parenthesis: -0300 (BRST)
            if i + 5 < len_l
                && info_jump(&l[i + 2])
                && l[i + 3] == "("
                && l[i + 5] == ")"
                && 3 <= char_len(&l[i + 4])
                && could_be_tzname(res.hour, &res.tzname, None, &l[i + 4])
            {
                res.tzname = Some(l[i + 4].clone());
                i += 4;
            }
            i += 1;
        } else if !fuzzy && !info_jump(&cur) {
            return Err(());
        }
        // else: a jump word, or a token fuzzy parsing skips
        i += 1;
    }

    let (year, month, day) = ymd.resolve(false, false)?;
    res.century_specified = ymd.century_specified;
    res.year = year;
    res.month = month;
    res.day = day;

    // parserinfo.validate
    if let Some(y) = res.year {
        res.year = Some(convertyear(y, res.century_specified, this_year));
    }
    let tzname_empty = res.tzname.as_deref().is_none_or(str::is_empty);
    if (res.tzoffset == Some(0) && tzname_empty)
        || matches!(res.tzname.as_deref(), Some("Z") | Some("z"))
    {
        res.tzname = Some("UTC".to_string());
        res.tzoffset = Some(0);
    } else if res.tzoffset != Some(0)
        && !tzname_empty
        && info_utczone(res.tzname.as_deref().unwrap_or(""))
    {
        res.tzoffset = Some(0);
    }
    Ok(res)
}

fn build_naive(res: &Res, default: NaiveDateTime) -> Result<NaiveDateTime, String> {
    let err = || "invalid date".to_string();
    let year = res.year.unwrap_or(i64::from(default.year()));
    let month = res.month.unwrap_or(i64::from(default.month()));
    let day = match res.day {
        Some(d) => d,
        None => {
            let dim = days_in_month(year, month).map_err(|_| "bad month".to_string())?;
            i64::from(default.day()).min(dim)
        }
    };
    let hour = res.hour.unwrap_or(i64::from(default.hour()));
    let minute = res.minute.unwrap_or(i64::from(default.minute()));
    let second = res.second.unwrap_or(i64::from(default.second()));
    let us = res
        .microsecond
        .unwrap_or(i64::from(default.nanosecond() / 1000));
    let mut naive = py_datetime(year, month, day, hour, minute, second, us).ok_or_else(err)?;
    if let Some(wd) = res.weekday.filter(|_| res.day.is_none_or(|d| d == 0)) {
        let cur = i64::from(naive.weekday().num_days_from_monday());
        let jump = (7 - cur + wd).rem_euclid(7) as u64;
        naive = naive.checked_add_days(Days::new(jump)).ok_or_else(err)?;
        if !in_py_range(naive.year()) {
            return Err("date value out of range".to_string());
        }
    }
    Ok(naive)
}

fn parse_fuzzy_impl(s: &str, default: NaiveDateTime, this_year: i64) -> Result<Parsed, String> {
    parse_impl(s, default, this_year, true, &[])
}

fn parse_impl(
    s: &str,
    default: NaiveDateTime,
    this_year: i64,
    fuzzy: bool,
    tzinfos: &[(&str, i32)],
) -> Result<Parsed, String> {
    let res = du_parse(s, this_year, fuzzy).map_err(|_| format!("Unknown string format: {s}"))?;
    if res.len() == 0 {
        return Err(format!("String does not contain a date: {s}"));
    }
    let naive = build_naive(&res, default)?;
    // _build_tzaware: a zone name in `tzinfos` first (given as an offset in
    // seconds); host zone names are ('UTC', 'UTC').
    let named = res
        .tzname
        .as_deref()
        .and_then(|n| tzinfos.iter().find(|(k, _)| *k == n));
    if let Some(&(_, off)) = named {
        return FixedOffset::east_opt(off)
            .and_then(|tz| tz.from_local_datetime(&naive).single())
            .map(Parsed::Aware)
            .ok_or_else(|| "offset must be a timedelta strictly between -24h and 24h".to_string());
    }
    if res.tzname.as_deref() == Some("UTC") || res.tzoffset == Some(0) {
        return Ok(Parsed::Aware(naive.and_utc().fixed_offset()));
    }
    match res.tzoffset {
        Some(off) if off != 0 => {
            let tz = i32::try_from(off)
                .ok()
                .and_then(FixedOffset::east_opt)
                .ok_or_else(|| {
                    "offset must be a timedelta strictly between -24h and 24h".to_string()
                })?;
            tz.from_local_datetime(&naive)
                .single()
                .map(Parsed::Aware)
                .ok_or_else(|| "invalid local time".to_string())
        }
        _ => Ok(Parsed::Naive(naive)),
    }
}

/// `dateutil.parser.parse(s, fuzzy=True)` with `default` supplying missing components
/// (dateutil's default is today at midnight).
pub fn parse_fuzzy(s: &str, default: NaiveDateTime) -> Result<Parsed, String> {
    parse_fuzzy_impl(s, default, current_year())
}

/// `dateutil.parser.parse(s, tzinfos=tzinfos)`: not fuzzy (a token that is no
/// part of a date is an error), zone names looked up in `tzinfos` (offsets in
/// seconds east of UTC), missing components from today at midnight.
pub fn parse_strict(s: &str, tzinfos: &[(&str, i32)]) -> Result<Parsed, String> {
    let today = chrono::Utc::now()
        .date_naive()
        .and_time(chrono::NaiveTime::MIN);
    parse_impl(s, today, current_year(), false, tzinfos)
}

// ---------------------------------------------------------------------------
// Python strptime (_strptime.py, C locale, host zone UTC)
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Elem {
    Lit(char),
    Ws,
    Dir(u8),
}

#[derive(Clone, Copy)]
enum C {
    D,
    R(u8, u8),
    L(u8),
}

type Alt = &'static [C];

const ALT_D: &[Alt] = &[
    &[C::L(b'3'), C::R(b'0', b'1')],
    &[C::R(b'1', b'2'), C::D],
    &[C::L(b'0'), C::R(b'1', b'9')],
    &[C::R(b'1', b'9')],
    &[C::L(b' '), C::R(b'1', b'9')],
];
const ALT_H: &[Alt] = &[
    &[C::L(b'2'), C::R(b'0', b'3')],
    &[C::R(b'0', b'1'), C::D],
    &[C::D],
];
const ALT_I: &[Alt] = &[
    &[C::L(b'1'), C::R(b'0', b'2')],
    &[C::L(b'0'), C::R(b'1', b'9')],
    &[C::R(b'1', b'9')],
];
const ALT_J: &[Alt] = &[
    &[C::L(b'3'), C::L(b'6'), C::R(b'0', b'6')],
    &[C::L(b'3'), C::R(b'0', b'5'), C::D],
    &[C::R(b'1', b'2'), C::D, C::D],
    &[C::L(b'0'), C::R(b'1', b'9'), C::D],
    &[C::L(b'0'), C::L(b'0'), C::R(b'1', b'9')],
    &[C::R(b'1', b'9'), C::D],
    &[C::L(b'0'), C::R(b'1', b'9')],
    &[C::R(b'1', b'9')],
];
const ALT_MM: &[Alt] = &[&[C::R(b'0', b'5'), C::D], &[C::D]];
const ALT_S: &[Alt] = &[
    &[C::L(b'6'), C::R(b'0', b'1')],
    &[C::R(b'0', b'5'), C::D],
    &[C::D],
];
const ALT_UW: &[Alt] = &[
    &[C::L(b'5'), C::R(b'0', b'3')],
    &[C::R(b'0', b'4'), C::D],
    &[C::D],
];
const ALT_W: &[Alt] = &[&[C::R(b'0', b'6')]];
const ALT_U: &[Alt] = &[&[C::R(b'1', b'7')]];
const ALT_Y2: &[Alt] = &[&[C::D, C::D]];
const ALT_Y4: &[Alt] = &[&[C::D, C::D, C::D, C::D]];

const A_WEEKDAY: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const F_WEEKDAY: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const A_MONTH: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const F_MONTH: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const AM_PM: [&str; 2] = ["am", "pm"];
const TZ_NAMES: [&str; 2] = ["utc", "gmt"];

/// Candidate end positions of one regex element, in regex priority order.
struct Cands {
    e: [usize; 48],
    n: usize,
}

impl Cands {
    fn new() -> Self {
        Cands { e: [0; 48], n: 0 }
    }
    fn push(&mut self, x: usize) {
        if self.n < self.e.len() {
            self.e[self.n] = x;
            self.n += 1;
        }
    }
}

/// Simple case folding used by `re.IGNORECASE` (single-character mappings).
fn fold(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn match_alt(b: &[u8], pos: usize, alt: &[C]) -> Option<usize> {
    let mut p = pos;
    for c in alt {
        let x = *b.get(p)?;
        let ok = match *c {
            C::D => x.is_ascii_digit(),
            C::R(lo, hi) => (lo..=hi).contains(&x),
            C::L(l) => x == l,
        };
        if !ok {
            return None;
        }
        p += 1;
    }
    Some(p)
}

fn match_word(s: &str, pos: usize, word: &str) -> Option<usize> {
    let mut it = s[pos..].char_indices();
    for w in word.chars() {
        let (_, c) = it.next()?;
        if fold(c) != w {
            return None;
        }
    }
    Some(it.next().map_or(s.len(), |(i, _)| pos + i))
}

fn words_sorted(words: &[&'static str], s: &str, pos: usize, out: &mut Cands) {
    // __seqToRE sorts by length, longest first (stable).
    let max = words.iter().map(|w| w.len()).max().unwrap_or(0);
    for len in (1..=max).rev() {
        for w in words.iter().filter(|w| w.len() == len) {
            if let Some(e) = match_word(s, pos, w) {
                out.push(e);
            }
        }
    }
}

fn z_cands(b: &[u8], pos: usize, out: &mut Cands) {
    let dig = |p: usize| b.get(p).is_some_and(u8::is_ascii_digit);
    let d05 = |p: usize| b.get(p).is_some_and(|x| (b'0'..=b'5').contains(x));
    if matches!(b.get(pos), Some(b'+') | Some(b'-')) && dig(pos + 1) && dig(pos + 2) {
        let p = pos + 3;
        for colon in [true, false] {
            let p1 = if colon {
                if b.get(p) != Some(&b':') {
                    continue;
                }
                p + 1
            } else {
                p
            };
            if !(d05(p1) && dig(p1 + 1)) {
                continue;
            }
            let p2 = p1 + 2;
            for colon2 in [true, false] {
                let q = if colon2 {
                    if b.get(p2) != Some(&b':') {
                        continue;
                    }
                    p2 + 1
                } else {
                    p2
                };
                if d05(q) && dig(q + 1) {
                    let q2 = q + 2;
                    if b.get(q2) == Some(&b'.') {
                        let mut k = 0;
                        while k < 6 && dig(q2 + 1 + k) {
                            k += 1;
                        }
                        for j in (1..=k).rev() {
                            out.push(q2 + 1 + j);
                        }
                    }
                    out.push(q2);
                }
            }
            out.push(p2);
        }
    }
    if b.get(pos) == Some(&b'Z') {
        out.push(pos + 1);
    }
}

fn candidates(e: Elem, s: &str, pos: usize) -> Cands {
    let mut out = Cands::new();
    let b = s.as_bytes();
    match e {
        Elem::Lit(l) => {
            if let Some(c) = s[pos..]
                .chars()
                .next()
                .filter(|&c| c == l || fold(c) == fold(l))
            {
                out.push(pos + c.len_utf8());
            }
        }
        Elem::Ws => {
            let mut ends: [usize; 48] = [0; 48];
            let mut n = 0;
            let mut p = pos;
            for c in s[pos..].chars() {
                if !py_isspace(c) {
                    break;
                }
                p += c.len_utf8();
                if n < ends.len() {
                    ends[n] = p;
                    n += 1;
                } else {
                    ends[n - 1] = p;
                }
            }
            for i in (0..n).rev() {
                out.push(ends[i]);
            }
        }
        Elem::Dir(d) => {
            let alts: &[Alt] = match d {
                b'd' => ALT_D,
                b'H' => ALT_H,
                b'I' => ALT_I,
                b'j' => ALT_J,
                b'm' => ALT_I,
                b'M' => ALT_MM,
                b'S' => ALT_S,
                b'U' | b'W' => ALT_UW,
                b'w' => ALT_W,
                b'u' => ALT_U,
                b'y' => ALT_Y2,
                b'Y' => ALT_Y4,
                b'f' => {
                    let mut k = 0;
                    while k < 6 && b.get(pos + k).is_some_and(u8::is_ascii_digit) {
                        k += 1;
                    }
                    for j in (1..=k).rev() {
                        out.push(pos + j);
                    }
                    return out;
                }
                b'z' => {
                    z_cands(b, pos, &mut out);
                    return out;
                }
                b'a' => {
                    words_sorted(&A_WEEKDAY, s, pos, &mut out);
                    return out;
                }
                b'A' => {
                    words_sorted(&F_WEEKDAY, s, pos, &mut out);
                    return out;
                }
                b'b' => {
                    words_sorted(&A_MONTH, s, pos, &mut out);
                    return out;
                }
                b'B' => {
                    words_sorted(&F_MONTH, s, pos, &mut out);
                    return out;
                }
                b'p' => {
                    words_sorted(&AM_PM, s, pos, &mut out);
                    return out;
                }
                b'Z' => {
                    words_sorted(&TZ_NAMES, s, pos, &mut out);
                    return out;
                }
                _ => &[],
            };
            for alt in alts {
                if let Some(e) = match_alt(b, pos, alt) {
                    out.push(e);
                }
            }
        }
    }
    out
}

/// First match of the element sequence in regex priority order (like `re.match`).
fn match_seq(elems: &[Elem], s: &str, pos: usize, spans: &mut [(usize, usize)]) -> Option<usize> {
    let Some((&first, rest)) = elems.split_first() else {
        return Some(pos);
    };
    let cands = candidates(first, s, pos);
    for &end in &cands.e[..cands.n] {
        spans[0] = (pos, end);
        if let Some(done) = match_seq(rest, s, end, &mut spans[1..]) {
            return Some(done);
        }
    }
    None
}

/// `int()` of a matched numeric group (may carry the leading space of `%d`).
fn group_int(t: &str) -> i64 {
    t.bytes().filter(u8::is_ascii_digit).fold(0i64, |acc, d| {
        acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    })
}

fn word_index(words: &[&str], t: &str) -> i64 {
    let lower: String = t.chars().map(fold).collect();
    words
        .iter()
        .position(|w| *w == lower)
        .map_or(0, |p| p as i64)
}

fn ordinal(y: i64, m: i64, d: i64) -> Option<NaiveDate> {
    if !(1..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, u32::try_from(m).ok()?, u32::try_from(d).ok()?)
}

/// The value computation of `_strptime` after a successful full match.
fn strptime_eval(
    elems: &[Elem],
    spans: &[(usize, usize)],
    s: &str,
) -> Result<Parsed, &'static str> {
    let mut year: Option<i64> = None;
    let (mut month, mut day) = (1i64, 1i64);
    let (mut hour, mut minute, mut second, mut fraction) = (0i64, 0i64, 0i64, 0i64);
    let mut gmtoff: Option<i64> = None;
    let mut gmtoff_fraction = 0i64;
    let mut week_of_year: Option<i64> = None;
    let mut week_starts_mon = false;
    let mut weekday: Option<i64> = None;
    let mut julian: Option<i64> = None;
    let p_text = elems
        .iter()
        .position(|e| *e == Elem::Dir(b'p'))
        .map(|i| &s[spans[i].0..spans[i].1]);
    for (i, e) in elems.iter().enumerate() {
        let Elem::Dir(d) = *e else { continue };
        let t = &s[spans[i].0..spans[i].1];
        match d {
            b'y' => {
                let y = group_int(t);
                year = Some(if y <= 68 { y + 2000 } else { y + 1900 });
            }
            b'Y' => year = Some(group_int(t)),
            b'm' => month = group_int(t),
            b'B' => month = word_index(&F_MONTH, t) + 1,
            b'b' => month = word_index(&A_MONTH, t) + 1,
            b'd' => day = group_int(t),
            b'H' => hour = group_int(t),
            b'I' => {
                hour = group_int(t);
                let ap = p_text.map_or(-1, |p| word_index(&AM_PM, p));
                if ap != 1 {
                    if hour == 12 {
                        hour = 0;
                    }
                } else if hour != 12 {
                    hour += 12;
                }
            }
            b'M' => minute = group_int(t),
            b'S' => second = group_int(t),
            b'f' => {
                let mut v = group_int(t);
                for _ in t.len()..6 {
                    v *= 10;
                }
                fraction = v;
            }
            b'A' => weekday = Some(word_index(&F_WEEKDAY, t)),
            b'a' => weekday = Some(word_index(&A_WEEKDAY, t)),
            b'w' => {
                let w = group_int(t);
                weekday = Some(if w == 0 { 6 } else { w - 1 });
            }
            b'u' => weekday = Some(group_int(t) - 1),
            b'j' => julian = Some(group_int(t)),
            b'U' | b'W' => {
                week_of_year = Some(group_int(t));
                week_starts_mon = d == b'W';
            }
            b'z' => {
                if t == "Z" {
                    gmtoff = Some(0);
                } else {
                    // Work on bytes: the group is pure ASCII.
                    let mut z: Vec<u8> = t.as_bytes().to_vec();
                    if z[3] == b':' {
                        z.remove(3);
                        if z.len() > 5 {
                            if z[5] != b':' {
                                return Err("Inconsistent use of : in %z");
                            }
                            z.remove(5);
                        }
                    }
                    let num = |a: usize, b: usize| -> Result<i64, &'static str> {
                        let part = &z[a.min(z.len())..b.min(z.len())];
                        if part.iter().all(u8::is_ascii_digit) {
                            Ok(group_int(std::str::from_utf8(part).unwrap_or("")))
                        } else {
                            Err("invalid literal for int()")
                        }
                    };
                    let hours = num(1, 3)?;
                    let minutes = num(3, 5)?;
                    let seconds = num(5, 7)?;
                    let mut off = hours * 3600 + minutes * 60 + seconds;
                    let rem = num(8, z.len().max(8))?;
                    let rem_len = z.len().saturating_sub(8);
                    let mut frac = rem;
                    for _ in rem_len..6 {
                        frac *= 10;
                    }
                    if z[0] == b'-' {
                        off = -off;
                        frac = -frac;
                    }
                    gmtoff = Some(off);
                    gmtoff_fraction = frac;
                }
            }
            _ => {}
        }
    }

    let mut leap_year_fix = false;
    let mut year = match year {
        None if month == 2 && day == 29 => {
            leap_year_fix = true;
            1904
        }
        None => 1900,
        Some(y) => y,
    };
    if let (None, Some(wd), Some(woy)) = (julian, weekday, week_of_year) {
        let first = ordinal(year, 1, 1).ok_or("year out of range")?;
        let mut first_weekday = i64::from(first.weekday().num_days_from_monday());
        let mut dow = wd;
        if !week_starts_mon {
            first_weekday = (first_weekday + 1) % 7;
            dow = (dow + 1) % 7;
        }
        let week_0_length = (7 - first_weekday) % 7;
        let mut j = if woy == 0 {
            1 + dow - first_weekday
        } else {
            1 + week_0_length + 7 * (woy - 1) + dow
        };
        if j <= 0 {
            year -= 1;
            j += if is_leap(year) { 366 } else { 365 };
        }
        julian = Some(j);
    }
    match julian {
        None => {
            ordinal(year, month, day).ok_or("day is out of range for month")?;
        }
        Some(j) => {
            let base = ordinal(year, 1, 1).ok_or("year out of range")?;
            let date = if j >= 1 {
                base.checked_add_days(Days::new((j - 1) as u64))
            } else {
                base.checked_sub_days(Days::new((1 - j) as u64))
            }
            .filter(|d| in_py_range(d.year()))
            .ok_or("ordinal out of range")?;
            year = i64::from(date.year());
            month = i64::from(date.month());
            day = i64::from(date.day());
        }
    }
    if leap_year_fix {
        year = 1900;
    }
    let naive =
        py_datetime(year, month, day, hour, minute, second, fraction).ok_or("invalid datetime")?;
    match gmtoff {
        None => Ok(Parsed::Naive(naive)),
        Some(off) => {
            if gmtoff_fraction != 0 {
                return Err("sub-second UTC offsets are not supported");
            }
            let tz = i32::try_from(off)
                .ok()
                .and_then(FixedOffset::east_opt)
                .ok_or("offset must be a timedelta strictly between -24h and 24h")?;
            tz.from_local_datetime(&naive)
                .single()
                .map(Parsed::Aware)
                .ok_or("invalid local time")
        }
    }
}

fn compile_format(fmt: &str, out: &mut Vec<Elem>) -> Result<(), String> {
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        if c == '%' {
            let d = it
                .next()
                .ok_or_else(|| format!("stray % in format '{fmt}'"))?;
            match d {
                '%' => out.push(Elem::Lit('%')),
                'c' => compile_format("%a %b %d %H:%M:%S %Y", out)?,
                'x' => compile_format("%m/%d/%y", out)?,
                'X' => compile_format("%H:%M:%S", out)?,
                'a' | 'A' | 'b' | 'B' | 'd' | 'f' | 'H' | 'I' | 'j' | 'm' | 'M' | 'p' | 'S'
                | 'U' | 'W' | 'w' | 'u' | 'y' | 'Y' | 'z' | 'Z' => out.push(Elem::Dir(d as u8)),
                'G' | 'V' => return Err(format!("'%{d}' is not supported by this strptime port")),
                _ if py_isspace(d) => {
                    return Err(format!("'%' is a bad directive in format '{fmt}'"));
                }
                _ => return Err(format!("'{d}' is a bad directive in format '{fmt}'")),
            }
        } else if py_isspace(c) {
            while it.peek().is_some_and(|&n| py_isspace(n)) {
                it.next();
            }
            out.push(Elem::Ws);
        } else {
            out.push(Elem::Lit(c));
        }
    }
    Ok(())
}

/// Python `datetime.datetime.strptime(s, fmt)` semantics (C locale, host zone UTC).
///
/// Supported: `%Y %y %m %d %H %I %M %S %f %p %b %B %a %A %j %U %W %w %u %z %Z %c %x %X %%`.
/// `%Z` accepts only UTC/GMT and, like Python, yields a naive value; only `%z` gives
/// an aware result.
pub fn strptime(s: &str, fmt: &str) -> Result<Parsed, String> {
    if let Some(p) = strptime_fixed(s, fmt) {
        return Ok(p);
    }
    strptime_general(s, fmt)
}

fn strptime_general(s: &str, fmt: &str) -> Result<Parsed, String> {
    let mut elems = Vec::new();
    compile_format(fmt, &mut elems)?;
    for (i, e) in elems.iter().enumerate() {
        if matches!(e, Elem::Dir(d) if elems[..i].contains(&Elem::Dir(*d))) {
            let Elem::Dir(d) = e else { unreachable!() };
            return Err(format!("redefinition of group name '{}'", *d as char));
        }
    }
    let mut spans = vec![(0usize, 0usize); elems.len()];
    let end = match_seq(&elems, s, 0, &mut spans)
        .ok_or_else(|| format!("time data '{s}' does not match format '{fmt}'"))?;
    if end != s.len() {
        return Err(format!("unconverted data remains: {}", &s[end..]));
    }
    strptime_eval(&elems, &spans, s).map_err(str::to_string)
}

/// [`strptime`] for the formats feeds use most (`%Y-%m-%d %H:%M:%S` and the
/// like: `%Y %m %d %H %M %S` between plain ASCII literals and single spaces) on
/// input that fills every field with exactly its full width of ASCII digits, in
/// range. Python's regex then matches one way only (each of these fields tries
/// its two-digit alternative first), so the general matcher would find the same
/// values. `None`: anything else, for the general matcher to decide (and word the
/// error).
fn strptime_fixed(s: &str, fmt: &str) -> Option<Parsed> {
    let (b, f) = (s.as_bytes(), fmt.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    // Y m d H M S
    let mut v: [Option<i64>; 6] = [None; 6];
    while j < f.len() {
        let c = f[j];
        if c == b'%' {
            let (slot, width) = match *f.get(j + 1)? {
                b'Y' => (0, 4),
                b'm' => (1, 2),
                b'd' => (2, 2),
                b'H' => (3, 2),
                b'M' => (4, 2),
                b'S' => (5, 2),
                _ => return None,
            };
            let digits = b.get(i..i + width)?;
            if v[slot].is_some() || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            v[slot] = Some(digits.iter().fold(0, |a, &d| a * 10 + i64::from(d - b'0')));
            i += width;
            j += 2;
        } else if c == b' ' {
            // Format whitespace is `\s+`: one plain space, not followed by more.
            j += 1;
            if b.get(i) != Some(&b' ')
                || f.get(j).is_some_and(|&n| n.is_ascii_whitespace())
                || b.get(i + 1)
                    .is_some_and(|&n| n.is_ascii_whitespace() || n >= 0x80)
            {
                return None;
            }
            i += 1;
        } else if c.is_ascii_graphic() && b.get(i) == Some(&c) {
            i += 1;
            j += 1;
        } else {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let [Some(y), Some(mo), Some(d), h, mi, sec] = v else {
        return None;
    };
    let (h, mi, sec) = (h.unwrap_or(0), mi.unwrap_or(0), sec.unwrap_or(0));
    if !(1..=31).contains(&d) {
        return None;
    }
    py_datetime(y, mo, d, h, mi, sec, 0).map(Parsed::Naive)
}

/// Reads a run of ASCII digits starting at `*p` (at most `max` of them).
/// Returns (value, digit count) and advances `*p`.
#[inline]
fn digit_run(b: &[u8], p: &mut usize, max: usize) -> (u32, usize) {
    let (mut v, mut n) = (0u32, 0usize);
    while n < max && *p < b.len() && b[*p].is_ascii_digit() {
        v = v * 10 + u32::from(b[*p] - b'0');
        *p += 1;
        n += 1;
    }
    (v, n)
}

/// One `%m %d %H %M %S` field: 1 or 2 digits (the digit run must end at the
/// next separator) with the regex's value range `lo..=hi`.
#[inline]
fn small_field(b: &[u8], p: &mut usize, lo: u32, hi: u32) -> Option<u32> {
    let (v, n) = digit_run(b, p, 3);
    ((1..=2).contains(&n) && (lo..=hi).contains(&v)).then_some(v)
}

#[inline]
fn expect(b: &[u8], p: &mut usize, c: u8) -> Option<()> {
    (b.get(*p) == Some(&c)).then(|| *p += 1)
}

fn iso_fields(b: &[u8]) -> Option<()> {
    let mut p = 0;
    // %Y: exactly four digits.
    let (year, n) = digit_run(b, &mut p, 4);
    if n != 4 {
        return None;
    }
    expect(b, &mut p, b'-')?;
    let month = small_field(b, &mut p, 1, 12)?;
    expect(b, &mut p, b'-')?;
    // %d also has the alternative ' [1-9]'.
    let day = if b.get(p) == Some(&b' ') {
        p += 1;
        let (v, n) = digit_run(b, &mut p, 2);
        if n != 1 || v == 0 {
            return None;
        }
        v
    } else {
        small_field(b, &mut p, 1, 31)?
    };
    // Literal 'T', matched case-insensitively.
    match b.get(p) {
        Some(b'T') | Some(b't') => p += 1,
        _ => return None,
    }
    small_field(b, &mut p, 0, 23)?;
    expect(b, &mut p, b':')?;
    small_field(b, &mut p, 0, 59)?;
    expect(b, &mut p, b':')?;
    // The regex allows 60 and 61, datetime() then rejects them.
    small_field(b, &mut p, 0, 59)?;
    if b.get(p) == Some(&b'.') {
        p += 1;
        let (_, n) = digit_run(b, &mut p, 7);
        if !(1..=6).contains(&n) {
            return None;
        }
    }
    if &b[p..] != b"+00:00" {
        return None;
    }
    let dim = days_in_month(i64::from(year), i64::from(month)).ok()?;
    (year >= 1 && i64::from(day) <= dim).then_some(())
}

/// True when the value is accepted by IntelMQ's `DateTime.from_isoformat`
/// (`strptime` with `'%Y-%m-%dT%H:%M:%S+00:00'` or `'%Y-%m-%dT%H:%M:%S.%f+00:00'`,
/// including Python's leniency such as 1-digit fields, `' 5'` days and a lowercase
/// `t`). Allocation-free.
///
/// Every element of both formats is separated by a fixed non-digit literal, so the
/// regex can only split the input one way; checking each field against its regex
/// alternatives and then the calendar is therefore equivalent to Python.
pub fn is_intelmq_iso(s: &str) -> bool {
    iso_fields(s.as_bytes()).is_some()
}

#[cfg(test)]
const ISO_PLAIN: [Elem; 17] = [
    Elem::Dir(b'Y'),
    Elem::Lit('-'),
    Elem::Dir(b'm'),
    Elem::Lit('-'),
    Elem::Dir(b'd'),
    Elem::Lit('T'),
    Elem::Dir(b'H'),
    Elem::Lit(':'),
    Elem::Dir(b'M'),
    Elem::Lit(':'),
    Elem::Dir(b'S'),
    Elem::Lit('+'),
    Elem::Lit('0'),
    Elem::Lit('0'),
    Elem::Lit(':'),
    Elem::Lit('0'),
    Elem::Lit('0'),
];

#[cfg(test)]
const ISO_FRAC: [Elem; 19] = [
    Elem::Dir(b'Y'),
    Elem::Lit('-'),
    Elem::Dir(b'm'),
    Elem::Lit('-'),
    Elem::Dir(b'd'),
    Elem::Lit('T'),
    Elem::Dir(b'H'),
    Elem::Lit(':'),
    Elem::Dir(b'M'),
    Elem::Lit(':'),
    Elem::Dir(b'S'),
    Elem::Lit('.'),
    Elem::Dir(b'f'),
    Elem::Lit('+'),
    Elem::Lit('0'),
    Elem::Lit('0'),
    Elem::Lit(':'),
    Elem::Lit('0'),
    Elem::Lit('0'),
];

/// Reference implementation of [`is_intelmq_iso`] through the generic strptime
/// matcher; used by the tests to cross-check the fast path.
#[cfg(test)]
fn is_intelmq_iso_generic(s: &str) -> bool {
    // Fast reject: %Y needs 4 digits and the fixed suffix is '+00:00'.
    let b = s.as_bytes();
    if b.len() < 19 || !b[..4].iter().all(u8::is_ascii_digit) || !s.ends_with("+00:00") {
        return false;
    }
    let mut spans = [(0usize, 0usize); 19];
    for elems in [&ISO_PLAIN[..], &ISO_FRAC[..]] {
        if match_seq(elems, s, 0, &mut spans) == Some(s.len())
            && strptime_eval(elems, &spans, s).is_ok()
        {
            return true;
        }
    }
    false
}

// ---------------------------------------------------------------------------
// IntelMQ DateTime
// ---------------------------------------------------------------------------

fn sanitize_impl(s: &str, default: NaiveDateTime, this_year: i64) -> Option<String> {
    let v = if is_intelmq_iso(s) {
        s.to_string()
    } else {
        let p = parse_fuzzy_impl(s, default, this_year).ok()?;
        to_iso(&parsed_to_utc_checked(&p).ok()?)
    };
    // GenericType.sanitize: falsy -> None, else strip()
    let v = py_strip(&v);
    if v.is_empty() {
        None
    } else {
        Some(v.to_string())
    }
}

/// IntelMQ `DateTime.sanitize` for a string: values accepted by `from_isoformat`
/// pass through unchanged, otherwise fuzzy parse -> UTC -> ISO. `None` when unparseable.
pub fn sanitize(s: &str) -> Option<String> {
    // Values from_isoformat accepts pass unchanged (sanitize_impl); the fast path
    // is only for what would otherwise go to the fuzzy parser.
    if !is_intelmq_iso(s) {
        if let Some(v) = sanitize_common(s) {
            return Some(v);
        }
    }
    sanitize_impl(s, now_default(), current_year())
}

/// The timestamp forms feeds use most, `YYYY-MM-DD[ T]HH:MM:SS[.f][Z|+00:00]`,
/// converted directly: for these dateutil's answer is certain (the fields as
/// written, in UTC), and the general parser costs microseconds per value.
/// `None`: not this form, use the general parser.
fn sanitize_common(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
        || !(b[10] == b' ' || b[10] == b'T')
        || !(digits(11..13) && b[13] == b':' && digits(14..16) && b[16] == b':' && digits(17..19))
    {
        return None;
    }
    let mut i = 19;
    let mut micros = 0u32;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start || end - start > 6 {
            return None;
        }
        let frac = &s[start..end];
        micros = frac.parse::<u32>().ok()? * 10u32.pow((6 - frac.len()) as u32);
        i = end;
    }
    match &s[i..] {
        "" | "Z" | "+00:00" => {}
        _ => return None,
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, se) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if y == 0 || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let dt = NaiveDate::from_ymd_opt(y as i32, mo, d)?.and_hms_micro_opt(h, mi, se, micros)?;
    Some(to_iso(&dt.and_utc()))
}

/// `DateTime.from_timestamp`: `datetime.fromtimestamp(secs, timezone.utc).isoformat()`.
pub fn from_timestamp(secs: f64) -> Option<String> {
    if !secs.is_finite() {
        return None;
    }
    // _PyTime_DoubleToDenominator with ROUND_HALF_EVEN
    let mut intpart = secs.trunc();
    let mut floatpart = (secs - intpart) * 1e6;
    floatpart = floatpart.round_ties_even();
    if floatpart >= 1e6 {
        floatpart -= 1e6;
        intpart += 1.0;
    } else if floatpart < 0.0 {
        floatpart += 1e6;
        intpart -= 1.0;
    }
    if !(-9.2e18..9.2e18).contains(&intpart) {
        return None;
    }
    let dt = DateTime::<Utc>::from_timestamp(intpart as i64, (floatpart as u32) * 1000)?;
    in_py_range(dt.year()).then(|| to_iso(&dt))
}

/// `DateTime.from_epoch_millis`: 10, 12 or 13 characters (as `len(str(value))`), else `None`.
pub fn from_epoch_millis(value: &str) -> Option<String> {
    let bytecount = char_len(value);
    let v = py_int(value).ok()?;
    match bytecount {
        10 => from_timestamp(v as f64),
        12 => from_timestamp(v.div_euclid(100) as f64),
        13 => from_timestamp(v.div_euclid(1000) as f64),
        _ => None,
    }
}

/// `DateTime.from_windows_nt`: 100 ns ticks since 1601-01-01 UTC, computed with the same
/// float arithmetic as `timedelta(seconds=int(value) * 10 ** -7)`.
pub fn from_windows_nt(value: i64) -> Option<String> {
    let secs = (value as f64) * 1e-7;
    if !secs.is_finite() {
        return None;
    }
    // CPython delta_new / accum for a float `seconds` argument.
    let intpart = secs.trunc();
    let fracpart = secs - intpart;
    if intpart.abs() > 1e15 {
        return None;
    }
    let mut total: i128 = (intpart as i128) * 1_000_000;
    let mut leftover = 0.0f64;
    if fracpart != 0.0 {
        let d = fracpart * 1e6;
        let ip = d.trunc();
        total += ip as i128;
        leftover = d - ip;
    }
    if leftover != 0.0 {
        let mut whole = leftover.round();
        if (whole - leftover).abs() == 0.5 {
            let odd = if total.rem_euclid(2) == 1 { 1.0 } else { 0.0 };
            whole = 2.0 * ((leftover + odd) * 0.5).round() - odd;
        }
        total += whole as i128;
    }
    let epoch = NaiveDate::from_ymd_opt(1601, 1, 1)?
        .and_time(NaiveTime::MIN)
        .and_utc();
    let delta = chrono::TimeDelta::microseconds(i64::try_from(total).ok()?);
    let dt = epoch.checked_add_signed(delta)?;
    in_py_range(dt.year()).then(|| to_iso(&dt))
}

fn from_format(value: &str, fmt: &str) -> Result<String, String> {
    let p = strptime(value, fmt)?;
    Ok(to_iso(&parsed_to_utc_checked(&p)?))
}

fn from_format_midnight(value: &str, fmt: &str) -> Result<String, String> {
    let date = match strptime(value, fmt)? {
        Parsed::Naive(n) => n.date(),
        Parsed::Aware(a) => a.naive_local().date(),
    };
    Ok(to_iso(&date.and_time(NaiveTime::MIN).and_utc()))
}

fn convert_impl(
    value: &str,
    format: Option<&str>,
    default: NaiveDateTime,
    this_year: i64,
) -> Result<String, String> {
    let format = format.unwrap_or("fuzzy");
    if let Some(fmt) = format.strip_prefix("from_format|") {
        return from_format(value, fmt);
    }
    if let Some(fmt) = format.strip_prefix("from_format_midnight|") {
        return from_format_midnight(value, fmt);
    }
    match format {
        "timestamp" => {
            let f = py_float(value)
                .ok_or_else(|| format!("could not convert string to float: '{value}'"))?;
            from_timestamp(f).ok_or_else(|| "timestamp out of range".to_string())
        }
        "windows_nt" => {
            let v = py_int(value)
                .map_err(|_| format!("invalid literal for int() with base 10: '{value}'"))?;
            from_windows_nt(v).ok_or_else(|| "date value out of range".to_string())
        }
        "epoch_millis" => {
            py_int(value)
                .map_err(|_| format!("invalid literal for int() with base 10: '{value}'"))?;
            from_epoch_millis(value).ok_or_else(|| "from_epoch_millis returned None".to_string())
        }
        "utc_isoformat" => {
            if is_intelmq_iso(value) {
                Ok(value.to_string())
            } else {
                Err(format!(
                    "time data '{value}' does not match format '%Y-%m-%dT%H:%M:%S.%f+00:00'"
                ))
            }
        }
        "fuzzy" => {
            // The common forms convert directly, as in `sanitize`.
            if let Some(v) = sanitize_common(value) {
                return Ok(v);
            }
            let p = parse_fuzzy_impl(value, default, this_year)?;
            Ok(to_iso(&parsed_to_utc_checked(&p)?))
        }
        "from_format" | "from_format_midnight" => {
            Err("missing required argument: 'format'".to_string())
        }
        other => Err(format!("unknown conversion format '{other}'")),
    }
}

/// IntelMQ `DateTime.convert(value, format)`.
pub fn convert(value: &str, format: Option<&str>) -> Result<String, String> {
    convert_impl(value, format, now_default(), current_year())
}

#[cfg(test)]
mod tests {

    #[test]
    fn fixed_width_strptime_agrees_with_the_general_matcher() {
        let cases = [
            ("2024-01-02 03:04:05", "%Y-%m-%d %H:%M:%S"),
            ("2024-02-29 23:59:59", "%Y-%m-%d %H:%M:%S"),
            ("2023-02-29 23:59:59", "%Y-%m-%d %H:%M:%S"),
            ("2024-01-02 24:00:00", "%Y-%m-%d %H:%M:%S"),
            ("2024-01-02 03:04:60", "%Y-%m-%d %H:%M:%S"),
            ("2024-01-02 03:04:61", "%Y-%m-%d %H:%M:%S"),
            ("0000-01-02 03:04:05", "%Y-%m-%d %H:%M:%S"),
            ("2024-00-02 03:04:05", "%Y-%m-%d %H:%M:%S"),
            ("2024-01-00 03:04:05", "%Y-%m-%d %H:%M:%S"),
            ("2024-1-2 3:4:5", "%Y-%m-%d %H:%M:%S"),
            ("2024-01-02  03:04:05", "%Y-%m-%d %H:%M:%S"),
            ("2024-01-02\t03:04:05", "%Y-%m-%d %H:%M:%S"),
            ("2024-01-02 03:04:05 ", "%Y-%m-%d %H:%M:%S"),
            ("2024-01-02T03:04:05", "%Y-%m-%dT%H:%M:%S"),
            ("2024-01-02t03:04:05", "%Y-%m-%dT%H:%M:%S"),
            ("2024-01-02", "%Y-%m-%d"),
            ("2024-13-02", "%Y-%m-%d"),
            ("20240102", "%Y%m%d"),
            ("2024010", "%Y%m%d"),
            ("02/01/2024", "%d/%m/%Y"),
            ("2024-01-02 03:04", "%Y-%m-%d %H:%M"),
            ("2024-01", "%Y-%m"),
            ("01-02", "%m-%d"),
            ("2024-01-02 03:04:05", "%Y-%m-%d %H:%M:%S%%"),
            ("2024-01-02%", "%Y-%m-%d%%"),
            ("2024-01-02 2024", "%Y-%m-%d %Y"),
            ("2024-01-02 03:04:05", "%Y-%m-%d %H:%M:%S %z"),
            ("2024-01-02 03:04:05", "%Y-%m-%d  %H:%M:%S"),
            ("١٢٣٤-01-02", "%Y-%m-%d"),
        ];
        for (s, f) in cases {
            let fast = strptime(s, f).map(|p| p.to_utc());
            let general = strptime_general(s, f).map(|p| p.to_utc());
            assert_eq!(fast, general, "{s:?} {f:?}");
        }
    }

    #[test]
    fn to_iso_writes_python_isoformat() {
        for (s, want) in [
            ("2024-01-02 03:04:05", "2024-01-02T03:04:05+00:00"),
            ("0001-01-01 00:00:00", "0001-01-01T00:00:00+00:00"),
            (
                "9999-12-31 23:59:59.000001",
                "9999-12-31T23:59:59.000001+00:00",
            ),
            ("2024-01-02 03:04:05.5", "2024-01-02T03:04:05.500000+00:00"),
        ] {
            let t = strptime_general(
                s,
                if s.contains('.') {
                    "%Y-%m-%d %H:%M:%S.%f"
                } else {
                    "%Y-%m-%d %H:%M:%S"
                },
            )
            .unwrap();
            assert_eq!(to_iso(&t.to_utc()), want);
        }
    }

    #[test]
    fn common_form_fast_path_agrees_with_dateutil_port() {
        let default = NaiveDate::from_ymd_opt(2024, 1, 31)
            .unwrap()
            .and_time(NaiveTime::MIN);
        for x in [
            "2024-01-02 03:04:05",
            "2024-01-02T03:04:05",
            "2024-01-02 03:04:05Z",
            "2024-01-02T03:04:05+00:00",
            "2024-01-02 03:04:05.5",
            "2024-01-02 03:04:05.123456",
            "2024-02-29 23:59:59",
            "1999-12-31T00:00:00.000100Z",
        ] {
            assert_eq!(sanitize_common(x), sanitize_impl(x, default, 2026), "{x}");
        }
        for x in [
            "2023-02-29 00:00:00",
            "2024-01-02 24:00:00",
            "2024-01-02 03:04:60",
            "2024-01-02 03:04:05+01:00",
            "0000-01-01 00:00:00",
        ] {
            assert_eq!(sanitize_common(x), None, "{x}");
        }
    }

    use super::*;

    /// The oracle tables were generated with python-dateutil's `parserinfo._year`
    /// pinned to 2026 and `default=datetime(2024, 1, 31)`.
    const YEAR: i64 = 2026;

    fn default() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 1, 31)
            .unwrap()
            .and_time(NaiveTime::MIN)
    }

    fn py_naive_iso(n: &NaiveDateTime) -> String {
        let us = n.nanosecond() / 1000;
        let base = n.format("%Y-%m-%dT%H:%M:%S").to_string();
        if us != 0 {
            format!("{base}.{us:06}")
        } else {
            base
        }
    }

    fn canon(p: &Parsed) -> String {
        match p {
            Parsed::Naive(n) => format!("N:{}", py_naive_iso(n)),
            Parsed::Aware(a) => format!(
                "A:{}|{}",
                py_naive_iso(&a.naive_local()),
                a.offset().local_minus_utc()
            ),
        }
    }

    fn report(kind: &str, bad: &[String], total: usize) {
        assert!(
            bad.is_empty(),
            "{kind}: {} of {total} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }

    #[test]
    fn fuzzy_matches_dateutil() {
        let mut bad = Vec::new();
        for &(input, want) in FUZZY {
            let got = parse_fuzzy_impl(input, default(), YEAR)
                .map(|p| canon(&p))
                .unwrap_or_else(|_| "E".to_string());
            if got != want {
                bad.push(format!("{input:?}: got {got}, want {want}"));
            }
        }
        report("fuzzy", &bad, FUZZY.len());
    }

    #[test]
    fn sanitize_matches_intelmq() {
        let mut bad = Vec::new();
        for &(input, want) in SANITIZE {
            let got = sanitize_impl(input, default(), YEAR);
            if got.as_deref() != want {
                bad.push(format!("{input:?}: got {got:?}, want {want:?}"));
            }
        }
        report("sanitize", &bad, SANITIZE.len());
    }

    #[test]
    fn iso_fast_path_equals_generic_matcher() {
        let mut inputs: Vec<String> = ISO.iter().map(|(s, _)| s.to_string()).collect();
        inputs.extend(SANITIZE.iter().map(|(s, _)| s.to_string()));
        for y in ["0000", "0001", "2022", "2024", "9999", "202"] {
            for m in [
                "0", "1", "2", "9", "00", "01", "02", "10", "12", "13", "012",
            ] {
                for d in [
                    "0", "1", " 1", " 0", "9", "00", "28", "29", "30", "31", "32", " 10",
                ] {
                    for t in ["T", "t", " "] {
                        for hms in [
                            "0:0:0", "23:59:59", "24:00:00", "10:60:00", "10:00:60", "10:00:61",
                            "1:02:3",
                        ] {
                            for frac in ["", ".", ".1", ".123456", ".1234567"] {
                                for tz in ["+00:00", "+00:01", "Z", ""] {
                                    inputs.push(format!("{y}-{m}-{d}{t}{hms}{frac}{tz}"));
                                }
                            }
                        }
                    }
                }
            }
        }
        for s in &inputs {
            assert_eq!(is_intelmq_iso(s), is_intelmq_iso_generic(s), "{s:?}");
        }
    }

    #[test]
    fn iso_matches_from_isoformat() {
        let mut bad = Vec::new();
        for &(input, want) in ISO {
            if is_intelmq_iso(input) != want {
                bad.push(format!("{input:?}: want {want}"));
            }
        }
        report("iso", &bad, ISO.len());
    }

    #[test]
    fn strptime_matches_python() {
        let mut bad = Vec::new();
        for &(value, fmt, want) in STRPTIME {
            let got = strptime(value, fmt)
                .map(|p| canon(&p))
                .unwrap_or_else(|_| "E".to_string());
            if got != want {
                bad.push(format!("{value:?} / {fmt:?}: got {got}, want {want}"));
            }
        }
        report("strptime", &bad, STRPTIME.len());
    }

    #[test]
    fn convert_matches_intelmq() {
        let mut bad = Vec::new();
        for &(value, fmt, want) in CONVERT {
            let got = convert_impl(value, fmt, default(), YEAR).unwrap_or_else(|_| "E".to_string());
            if got != want {
                bad.push(format!("{value:?} / {fmt:?}: got {got}, want {want}"));
            }
        }
        report("convert", &bad, CONVERT.len());
    }

    #[test]
    fn public_wrappers() {
        assert_eq!(
            sanitize("2022-11-15 10:00:00 +0200").as_deref(),
            Some("2022-11-15T08:00:00+00:00")
        );
        assert_eq!(sanitize("garbage"), None);
        assert_eq!(
            convert("1668506400", Some("timestamp")).as_deref(),
            Ok("2022-11-15T10:00:00+00:00")
        );
        let p = parse_fuzzy("Nov 15 2022 10:00", default()).unwrap();
        assert_eq!(to_iso(&p.to_utc()), "2022-11-15T10:00:00+00:00");
        // A time-only value takes today's date (UTC) from the default.
        let before = Utc::now().date_naive();
        let s = sanitize("10:00").unwrap();
        let after = Utc::now().date_naive();
        assert!(
            [before, after]
                .iter()
                .any(|d| s == format!("{}T10:00:00+00:00", d.format("%Y-%m-%d"))),
            "{s}"
        );
        // Two-digit years are resolved against the current year (dateutil's window).
        assert_eq!(convertyear(75, false, 2026), 2075);
        assert_eq!(convertyear(76, false, 2026), 1976);
        assert!(is_intelmq_iso("2022-11-15T10:00:00+00:00"));
        assert_eq!(
            from_timestamp(0.5).as_deref(),
            Some("1970-01-01T00:00:00.500000+00:00")
        );
        assert_eq!(from_epoch_millis("123"), None);
        assert_eq!(
            from_windows_nt(0).as_deref(),
            Some("1601-01-01T00:00:00+00:00")
        );
    }

    /// Documented divergences from Python (not oracle facts: these pin our behaviour).
    #[test]
    fn known_divergences() {
        // Python's lexer/regex treat non-ASCII decimal digits as digits; we only know ASCII.
        // Python: '٢٠٢٢-١١-١٥' -> 2022-11-15T00:00:00+00:00.
        assert_eq!(sanitize_impl("٢٠٢٢-١١-١٥", default(), YEAR), None);
        // Python accepts sub-second %z offsets; chrono's FixedOffset has whole seconds.
        assert!(strptime("2022-11-15 10:00:00+01:00:00.5", "%Y-%m-%d %H:%M:%S%z").is_err());
        // dateutil returns a datetime with a >= 24h offset that IntelMQ then rejects
        // (astimezone raises); we reject it already in parse_fuzzy.
        assert!(parse_fuzzy_impl("2022-11-15T10:00:00+9999", default(), YEAR).is_err());
        // %G/%V are not implemented.
        assert!(strptime("2022-W46-1", "%G-W%V-%u").is_err());
    }

    // BEGIN ORACLE TABLES
    // Generated from Python 3.11.7 + python-dateutil 4.0.0 + IntelMQ 3.5.0 (oracle).
    const FUZZY: &[(&str, &str)] = &[
        ("2022-11-15T10:00:00+00:00", "A:2022-11-15T10:00:00|0"),
        ("2022-11-15T10:00:00Z", "A:2022-11-15T10:00:00|0"),
        ("2022-11-15T10:00:00z", "A:2022-11-15T10:00:00|0"),
        ("2022-11-15T10:00:00", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00:00", "N:2022-11-15T10:00:00"),
        ("2022-11-15T10:00:00+0200", "A:2022-11-15T10:00:00|7200"),
        ("2022-11-15T10:00:00+02:00", "A:2022-11-15T10:00:00|7200"),
        ("2022-11-15T10:00:00-05", "A:2022-11-15T10:00:00|-18000"),
        ("2022-11-15T10:00:00-0530", "A:2022-11-15T10:00:00|-19800"),
        ("2022-11-15T10:00:00-05:30", "A:2022-11-15T10:00:00|-19800"),
        ("2022-11-15T10:00:00.1Z", "A:2022-11-15T10:00:00.100000|0"),
        ("2022-11-15T10:00:00.12Z", "A:2022-11-15T10:00:00.120000|0"),
        ("2022-11-15T10:00:00.123Z", "A:2022-11-15T10:00:00.123000|0"),
        (
            "2022-11-15T10:00:00.1234Z",
            "A:2022-11-15T10:00:00.123400|0",
        ),
        (
            "2022-11-15T10:00:00.12345Z",
            "A:2022-11-15T10:00:00.123450|0",
        ),
        (
            "2022-11-15T10:00:00.123456Z",
            "A:2022-11-15T10:00:00.123456|0",
        ),
        (
            "2022-11-15T10:00:00.1234567Z",
            "A:2022-11-15T10:00:00.123456|0",
        ),
        (
            "2022-11-15T10:00:00.12345678Z",
            "A:2022-11-15T10:00:00.123456|0",
        ),
        (
            "2022-11-15T10:00:00.123456789Z",
            "A:2022-11-15T10:00:00.123456|0",
        ),
        (
            "2022-11-15T10:00:00.123456789+01:00",
            "A:2022-11-15T10:00:00.123456|3600",
        ),
        ("2022-11-15T23:30:00-03:00", "A:2022-11-15T23:30:00|-10800"),
        ("2022-12-31T23:30:00-03:00", "A:2022-12-31T23:30:00|-10800"),
        ("2022-11-15T10:00:00,5Z", "A:2022-11-15T10:00:00.500000|0"),
        ("2022-11-15T10:00", "N:2022-11-15T10:00:00"),
        ("2022-11-15T10", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10", "N:2022-11-15T10:00:00"),
        ("2022-11-15 1000", "N:2022-11-15T10:00:00"),
        (
            "2022-11-15T10:00:00.000000+00:00",
            "A:2022-11-15T10:00:00|0",
        ),
        ("2022-11-15t10:00:00+00:00", "A:2022-11-15T10:00:00|0"),
        ("2022-11-15T10:00:00 +00:00", "A:2022-11-15T10:00:00|0"),
        ("2022-11-15T10:00:00+00", "A:2022-11-15T10:00:00|0"),
        ("2022-11-15T10:00:00-00:00", "A:2022-11-15T10:00:00|0"),
        ("2022-11-15T10:00:00+14:00", "A:2022-11-15T10:00:00|50400"),
        ("2022-11-15T10:00:00+2400", "E"),
        ("2022-11-15T10:00:00+9999", "E"),
        ("2022-11-15 10:00:00+01", "A:2022-11-15T10:00:00|3600"),
        ("2022-11-15 10:00:00 +0100", "A:2022-11-15T10:00:00|3600"),
        ("2022-11-15 10:00:00 -0100", "A:2022-11-15T10:00:00|-3600"),
        ("2022-11-15 10:00:00.5", "N:2022-11-15T10:00:00.500000"),
        ("2022-11-15 10:00:00.999999", "N:2022-11-15T10:00:00.999999"),
        ("2022-1-5 1:2:3", "N:2022-01-05T01:02:03"),
        ("2022-11-15 10:00:60", "E"),
        ("2022-11-15 24:00:00", "E"),
        ("2022-02-29 10:00:00", "E"),
        ("2024-02-29 10:00:00", "N:2024-02-29T10:00:00"),
        ("2022-13-01", "E"),
        ("2022-11-31", "E"),
        ("0001-01-01T00:00:00+01:00", "A:0001-01-01T00:00:00|3600"),
        ("9999-12-31T23:00:00-02:00", "A:9999-12-31T23:00:00|-7200"),
        ("2022-11-15 10:00:00 UTC", "A:2022-11-15T10:00:00|0"),
        ("2022-11-15 10:00:00 GMT", "A:2022-11-15T10:00:00|0"),
        ("2022-11-15 10:00:00 utc", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00:00 CET", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00:00 EST", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00:00 PST", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00:00 CEST", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00:00 Europe/Berlin", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00:00 GMT+3", "A:2022-11-15T10:00:00|-10800"),
        ("2022-11-15 10:00:00 GMT-3", "A:2022-11-15T10:00:00|10800"),
        ("2022-11-15 10:00:00 UTC+3", "A:2022-11-15T10:00:00|-10800"),
        (
            "2022-11-15 10:00:00 UTC+03:00",
            "A:2022-11-15T10:00:00|-10800",
        ),
        ("2022-11-15 10:00:00 BRST+3", "A:2022-11-15T10:00:00|-10800"),
        ("2022-11-15 10:00:00 UTC +0300", "A:2022-11-15T10:00:00|0"),
        (
            "2022-11-15 10:00:00 +0300 (BRST)",
            "A:2022-11-15T10:00:00|10800",
        ),
        ("2022-11-15 10:00:00 +0200 (UTC)", "A:2022-11-15T10:00:00|0"),
        ("2022-11-15 10:00:00 -0300 (UTC)", "A:2022-11-15T10:00:00|0"),
        ("Tue, 15 Nov 2022 10:00:00 +0000", "A:2022-11-15T10:00:00|0"),
        ("Tue, 15 Nov 2022 10:00:00 GMT", "A:2022-11-15T10:00:00|0"),
        (
            "Tue, 15 Nov 2022 10:00:00 -0800",
            "A:2022-11-15T10:00:00|-28800",
        ),
        (
            "Tue, 15 Nov 2022 10:00:00 +0000 (UTC)",
            "A:2022-11-15T10:00:00|0",
        ),
        ("15 Nov 2022 10:00:00 +0100", "A:2022-11-15T10:00:00|3600"),
        ("Tue, 15 Nov 22 10:00:00 +0000", "A:2022-11-15T10:00:00|0"),
        ("Wed, 15 Nov 2022 10:00:00 +0000", "A:2022-11-15T10:00:00|0"),
        ("Tuesday, 15-Nov-22 10:00:00 GMT", "A:2022-11-15T10:00:00|0"),
        ("Tue Nov 15 10:00:00 2022", "N:2022-11-15T10:00:00"),
        ("Tue Nov 15 10:00:00 UTC 2022", "A:2022-11-15T10:00:00|0"),
        ("Tue Nov 15 10:00:00 CET 2022", "N:2022-11-15T10:00:00"),
        ("Tue Nov  5 10:00:00 2022", "N:2022-11-05T10:00:00"),
        ("Nov 15 2022 10:00:00", "N:2022-11-15T10:00:00"),
        ("Nov 15, 2022 10:00:00", "N:2022-11-15T10:00:00"),
        ("November 15, 2022", "N:2022-11-15T00:00:00"),
        ("15 November 2022", "N:2022-11-15T00:00:00"),
        ("15-Nov-2022", "N:2022-11-15T00:00:00"),
        ("15/Nov/2022:10:00:00 +0100", "A:2022-11-15T10:00:00|3600"),
        ("Nov-15-2022", "N:2022-11-15T00:00:00"),
        ("NOV 15 2022", "N:2022-11-15T00:00:00"),
        ("nov 15 2022", "N:2022-11-15T00:00:00"),
        ("15 nOvEmBeR 2022", "N:2022-11-15T00:00:00"),
        ("Sept 5 2022", "N:2022-09-05T00:00:00"),
        ("Sep. 5, 2022", "N:2022-09-05T00:00:00"),
        ("5 Sep. 2022", "N:2022-09-05T00:00:00"),
        ("Jan 2022", "N:2022-01-31T00:00:00"),
        ("Feb 2022", "N:2022-02-28T00:00:00"),
        ("February", "N:2024-02-29T00:00:00"),
        ("2022 Nov 15", "N:2022-11-15T00:00:00"),
        ("2022-Nov-15", "N:2022-11-15T00:00:00"),
        ("15.Nov.2022", "N:2022-11-15T00:00:00"),
        ("Nov 15", "N:2024-11-15T00:00:00"),
        ("15 Nov", "N:2024-11-15T00:00:00"),
        ("Jan of 22", "N:2022-01-31T00:00:00"),
        ("Jan of 2022", "N:2022-01-31T00:00:00"),
        ("Nov 15th 2022", "N:2022-11-15T00:00:00"),
        ("November 1st, 2022 at 3pm", "N:2022-11-01T15:00:00"),
        ("May 5 2022", "N:2022-05-05T00:00:00"),
        ("Dec 31 1999 23:59:59", "N:1999-12-31T23:59:59"),
        ("Mar 1 00", "N:2000-03-01T00:00:00"),
        ("Mar 1 75", "N:2075-03-01T00:00:00"),
        ("Mar 1 76", "N:1976-03-01T00:00:00"),
        ("Mar 1 99", "N:1999-03-01T00:00:00"),
        ("Apr 31 2022", "E"),
        ("15/11/2022", "N:2022-11-15T00:00:00"),
        ("11/15/2022", "N:2022-11-15T00:00:00"),
        ("11/12/2022", "N:2022-11-12T00:00:00"),
        ("01/02/03", "N:2003-01-02T00:00:00"),
        ("13/01/22", "N:2022-01-13T00:00:00"),
        ("01/13/22", "N:2022-01-13T00:00:00"),
        ("2022/11/15", "N:2022-11-15T00:00:00"),
        ("2022/11/15 10:00", "N:2022-11-15T10:00:00"),
        ("2022/11/15 10:00:00", "N:2022-11-15T10:00:00"),
        ("15.11.2022", "N:2022-11-15T00:00:00"),
        ("15.11.2022 10:00", "N:2022-11-15T10:00:00"),
        ("15.11.22", "N:2022-11-15T00:00:00"),
        ("1.2.2022", "N:2022-01-02T00:00:00"),
        ("2022.11.15", "N:2022-11-15T00:00:00"),
        ("15-11-2022", "N:2022-11-15T00:00:00"),
        ("11-15-2022", "N:2022-11-15T00:00:00"),
        ("22-11-15", "N:2015-11-22T00:00:00"),
        ("99-01-01", "N:1999-01-01T00:00:00"),
        ("01-99", "N:1999-01-31T00:00:00"),
        ("99-01", "N:1999-01-31T00:00:00"),
        ("11/2022", "N:2022-11-30T00:00:00"),
        ("2022/11", "N:2022-11-30T00:00:00"),
        ("11/15", "N:2024-11-15T00:00:00"),
        ("15/11", "E"),
        ("20221115", "N:2022-11-15T00:00:00"),
        ("20221115T101010", "N:2022-11-15T10:10:10"),
        ("20221115T1010", "N:2022-11-15T10:10:00"),
        ("20221115101010", "N:2022-11-15T10:10:10"),
        ("202211151010", "N:2022-11-15T10:10:00"),
        ("221115", "N:2015-11-22T00:00:00"),
        ("221115 101010", "N:2015-11-22T10:10:10"),
        ("20221115T101010Z", "A:2022-11-15T10:10:10|0"),
        ("20221115T101010.5", "N:2022-11-15T10:10:10.500000"),
        ("1668506400", "E"),
        ("1668506400000", "E"),
        ("1668506400.123", "E"),
        ("2022", "N:2022-01-31T00:00:00"),
        ("22", "N:2024-01-22T00:00:00"),
        ("15", "N:2024-01-15T00:00:00"),
        ("5", "N:2024-01-05T00:00:00"),
        ("0", "E"),
        ("100", "N:0100-01-31T00:00:00"),
        ("123", "N:0123-01-31T00:00:00"),
        ("10000", "E"),
        ("2022-11", "N:2022-11-30T00:00:00"),
        ("2022-11-", "E"),
        ("12.5", "N:2024-01-12T00:00:00"),
        ("1e5", "N:2024-01-05T00:00:00"),
        ("2022-11-15 10:00 AM", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00 PM", "N:2022-11-15T22:00:00"),
        ("2022-11-15 12:00 AM", "N:2022-11-15T00:00:00"),
        ("2022-11-15 12:00 PM", "N:2022-11-15T12:00:00"),
        ("2022-11-15 12:30 am", "N:2022-11-15T00:30:00"),
        ("2022-11-15 1:05:07 pm", "N:2022-11-15T13:05:07"),
        ("2022-11-15 10:00 a.m.", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00 p.m.", "N:2022-11-15T22:00:00"),
        ("2022-11-15 10pm", "N:2022-11-15T22:00:00"),
        ("2022-11-15 10 pm", "N:2022-11-15T22:00:00"),
        ("2022-11-15 13:00 PM", "N:2022-11-15T13:00:00"),
        ("2022-11-15 0:30 AM", "N:2022-11-15T00:30:00"),
        ("11/15/2022 3:04:05 PM", "N:2022-11-15T15:04:05"),
        ("3pm", "N:2024-01-31T15:00:00"),
        ("3 pm", "N:2024-01-31T15:00:00"),
        ("15 pm", "N:2024-01-31T15:00:00"),
        ("3 pm pm", "N:2024-01-31T15:00:00"),
        ("10:00 PM UTC", "A:2024-01-31T22:00:00|0"),
        ("10:00 AM CET", "N:2024-01-31T10:00:00"),
        ("12am", "N:2024-01-31T00:00:00"),
        ("12pm", "N:2024-01-31T12:00:00"),
        ("10:00", "N:2024-01-31T10:00:00"),
        ("10:00:00", "N:2024-01-31T10:00:00"),
        ("10:00:00.5", "N:2024-01-31T10:00:00.500000"),
        ("10h", "N:2024-01-31T10:00:00"),
        ("10h30", "N:2024-01-31T10:30:00"),
        ("10h30m", "N:2024-01-31T10:30:00"),
        ("10h30m15s", "N:2024-01-31T10:30:15"),
        ("10 h 30 m", "N:2024-01-31T10:30:00"),
        ("1.5h", "N:2024-01-31T01:30:00"),
        ("10.5m", "N:2024-01-31T00:10:30"),
        ("30s", "N:2024-01-31T00:00:30"),
        ("10:30.5", "N:2024-01-31T10:30:30"),
        ("10:00 UTC", "A:2024-01-31T10:00:00|0"),
        ("Monday", "N:2024-02-05T00:00:00"),
        ("Monday 10:00", "N:2024-02-05T10:00:00"),
        ("Mon, 10:00", "N:2024-02-05T10:00:00"),
        ("Friday 2022-11-15", "N:2022-11-15T00:00:00"),
        ("Sat", "N:2024-02-03T00:00:00"),
        ("T10:00", "N:2024-01-31T10:00:00"),
        ("Last seen: 2022-11-15 10:00", "N:2022-11-15T10:00:00"),
        (
            "first seen 2022-11-15T10:00:00Z by sensor",
            "A:2022-11-15T10:00:00|0",
        ),
        (
            "Date: Tue, 15 Nov 2022 10:00:00 +0000",
            "A:2022-11-15T10:00:00|0",
        ),
        ("seen on 15/11/2022 at 10:00", "N:2022-11-15T10:00:00"),
        (
            "The event happened on November 15, 2022 at 10am",
            "N:2022-11-15T10:00:00",
        ),
        ("ts=2022-11-15 10:00:00", "N:2022-11-15T10:00:00"),
        ("[2022-11-15 10:00:00]", "N:2022-11-15T10:00:00"),
        ("(2022-11-15)", "N:2022-11-15T00:00:00"),
        ("\"2022-11-15\"", "N:2022-11-15T00:00:00"),
        ("2022-11-15;10:00:00", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00:00 - foo", "E"),
        ("10:00 - 12:00", "E"),
        ("2022-11-15 | 10:00", "N:2022-11-15T10:00:00"),
        (
            "Today is January 1, 2047 at 8:21:00AM",
            "N:2047-01-01T08:21:00",
        ),
        ("a 2022-11-15 10:00", "N:2022-11-15T10:00:00"),
        ("2022-11-15 10:00 and then some", "N:2022-11-15T10:00:00"),
        ("scan at 2022-11-15 10:00 from 1.2.3.4", "E"),
        ("ip 192.168.1.1", "E"),
        ("host-20221115.example.com", "N:2022-11-15T00:00:00"),
        ("malware.exe", "E"),
        ("version 1.2.3", "N:2003-01-02T00:00:00"),
        ("2022-11-15 10:00:00 +0000 UTC", "A:2022-11-15T10:00:00|0"),
        ("  2022-11-15 10:00:00  ", "N:2022-11-15T10:00:00"),
        ("\t2022-11-15\n", "N:2022-11-15T00:00:00"),
        ("2022-11-15\u{0}10:00", "E"),
        ("Sun Nov 13 08:00:00 +0000 2022", "A:2022-11-13T08:00:00|0"),
        ("", "E"),
        (" ", "E"),
        ("garbage", "E"),
        ("hello world", "E"),
        ("nan", "E"),
        ("NaN", "E"),
        ("inf", "E"),
        ("Infinity", "E"),
        ("Last seen: inf", "E"),
        ("foo bar baz", "E"),
        ("-", "E"),
        ("::", "E"),
        ("abc123", "N:0123-01-31T00:00:00"),
        ("0000-00-00 00:00:00", "E"),
        ("N/A", "E"),
        ("null", "E"),
        ("None", "E"),
        ("unknown", "E"),
        ("2022-11-15 25:00", "E"),
        ("10:61", "E"),
        ("99:99", "E"),
        ("5.a", "E"),
        ("a.5", "N:2024-01-05T00:00:00"),
        ("12:", "N:2024-01-12T00:00:00"),
        ("10: foo", "E"),
        ("+0200", "N:0200-01-31T00:00:00"),
        ("10:00 +abcd", "E"),
        ("10:00 +123", "E"),
        ("10:00 -", "E"),
        ("10:00 +", "E"),
        ("32/13/2022", "E"),
        ("2022-02-30", "E"),
        ("31/02/2022", "E"),
        ("Jan-", "E"),
        ("Jan-foo", "E"),
        ("2022-11-15T10:00:00+00:00 extra", "A:2022-11-15T10:00:00|0"),
        ("1,000,000", "E"),
        ("10,5", "N:2024-01-10T00:00:00"),
        ("2022-11-15 10:00:00,123", "N:2022-11-15T10:00:00.123000"),
        ("2022–11–15", "N:2024-11-15T00:00:00"),
        ("Ⅻ", "E"),
        ("Ⅻ Nov 2022", "N:2022-11-30T00:00:00"),
        ("é 2022-11-15", "N:2022-11-15T00:00:00"),
        ("15 Ⅻ 2022", "E"),
        ("sun 29/11/22T10:00:00+0000;", "A:2022-11-29T10:00:00|0"),
        ("at sun 1/2022 3 pm;", "N:2022-02-06T15:00:00"),
        ("Last seen: Tue, 15/13 at 10h30 GMT+3]", "E"),
        (
            "seen on sun 1-1-2212:00 a.m. UTC-03:00",
            "A:2212-01-01T00:00:00|10800",
        ),
        ("at sun 1-00T23:59:59.999999999 UTC-03:00", "E"),
        ("The 3rd of Tue, 0099/13 10:00 +0100 (CET) - foo", "E"),
        ("Last seen: sun Nov, 31, 2076 1010z]", "E"),
        ("Tue, 29, novemberT12:30 AM UTC]", "A:2024-01-29T00:30:00|0"),
        ("The 3rd of 29-november-207600:00:00.000001 GMT+3;", "E"),
        ("ts=sun 05/13 at 12:30 AM GMT;", "A:2024-05-13T00:30:00|0"),
        ("Last seen: 0099-01T+0000;", "E"),
        ("seen on november076T12:30 AM - foo", "E"),
        (
            "Last seen: sun 2069 november 05 at 1010 GMT",
            "A:2069-11-05T10:10:00|0",
        ),
        ("[sun 00.12T10:00:00 1.2.3.4", "E"),
        ("The 3rd of 22/Nov/29 1:2:3z", "E"),
        ("at SEPT.199912:00 a.m. +0200 (UTC) and 5", "E"),
        ("Tue, 0-SEPT-2076 1:2:3z]", "E"),
        (
            "Tue, 2022/1/15 at 00:00:00.000001Z]",
            "A:2022-01-15T00:00:00.000001|0",
        ),
        ("The 3rd of 12, 75 3 pm EST5;", "E"),
        ("22.1.110h30+24:00", "E"),
        ("ts=31/1/2076 at 12:30 AM+24:00 by x", "E"),
        ("75 12 12:00 a.m.+0000", "A:2075-12-31T00:00:00|0"),
        ("Last seen: 0 november 1999T12:00 a.m. +0100 (CET);", "E"),
        ("at 76.0.13 1010 EST5 and 5", "E"),
        (
            "The 3rd of sun Feb, 15, 2022TZ by x",
            "N:2015-02-03T20:22:00",
        ),
        ("Monday 1-00T10:00 UTC]", "E"),
        (
            "seen on 30.november.22 101010 GMT+3;",
            "A:2022-11-30T10:10:10|-10800",
        ),
        ("at 2069-SEPT-30 10pm+0000 and 5", "E"),
        ("seen on sun 1.31.2076 at 10:00:00+24:00", "E"),
        (
            "seen on Tue, 22-01-29 at 1010+02:00]",
            "A:2029-01-22T10:10:00|7200",
        ),
        ("seen on Monday 0099.13Tz", "N:2024-02-05T00:00:00"),
        ("sun 29/01T10pm +0200 (UTC)", "E"),
        (
            "Last seen: Monday Feb.1999 at 12:30 AM+02:00",
            "A:1999-03-01T00:30:00|7200",
        ),
        ("ts=Tue, 30/11 1:2:3+0000 by x", "E"),
        ("at Monday 1-01-1999 1010 GMT+3 and 5", "E"),
        ("seen on Tue, 15 november 22 1:2:3+24:00]", "E"),
        ("[Tue, 12.1.2022 at 12:00 a.m.z;", "A:2022-12-01T00:00:00|0"),
        ("ts=1/2022 at 23:59:59.999999999Z - foo", "E"),
        ("ts=Feb 76 1:2:3 GMT", "A:1976-02-29T01:02:03|0"),
        ("seen on november, 5, 20763 pm GMT+3 and 5", "E"),
        (
            "Last seen: Monday 29november20761:2:3 +0200 (UTC) and 5",
            "E",
        ),
        ("The 3rd of Monday 29.11.00 10h30 GMT+3 1.2.3.4", "E"),
        ("at 00, SEPT, 05 23:59:59.999999999 GMT+3 and 5", "E"),
        ("ts=Monday 15-01-009910pmz]", "N:9910-01-15T00:00:00"),
        ("ts=31/november 1010]", "E"),
        (
            "Last seen: Monday 15SEPT00 at 00:00:00.000001+0000 1.2.3.4",
            "E",
        ),
        (
            "The 3rd of Monday 751Feb 00:00:00.000001-05 and 5",
            "A:2005-02-03T00:00:00.000001|-18000",
        ),
        ("seen on 0, Feb, 2069 at 23:59:59.999999999+24:00]", "E"),
        ("at 5/Nov/20761:2:3 +0100 (CET)", "E"),
        (
            "Monday 76 Nov 01:2:3 +0200 (UTC);",
            "A:1976-12-06T01:02:03|0",
        ),
        ("at sun 2022 Nov 00:00:00.000001 +0200 (UTC) 1.2.3.4", "E"),
        (
            "The 3rd of 2069-0-novemberT10:00:00,5 +0100 (CET) by x",
            "E",
        ),
        ("76, 5, 1110:00:00+24:00 and 5", "E"),
        ("ts=Tue, 12.0.2076T10 +0100 (CET) and 5", "E"),
        ("15.11.75 101010z]", "A:2075-11-15T10:10:10|0"),
        ("at sun 2022/31/01 at 101010+0000 1.2.3.4", "E"),
        ("ts=Tue, 01/5/2076 10:00;", "N:2076-01-05T10:00:00"),
        ("sun 22, 1223:59:59.999999999+0000 - foo", "E"),
        ("ts=2076-110h30 EST5 - foo", "E"),
        ("The 3rd of sun november, 1999101010 GMT 1.2.3.4", "E"),
        ("The 3rd of Nov-31-2069 at 00:00:00.000001+24:00;", "E"),
        ("[Tue, 2022/30/SEPT at 1:2:3 UTC-03:00 and 5", "E"),
        ("at Monday 31-11-001010 +0200 (UTC) 1.2.3.4", "E"),
        ("[Tue, 5.11.75 at 10h30 UTC 1.2.3.4", "E"),
        ("seen on Tue, 30.FebT10pm GMT]", "E"),
        ("at Nov, 0099 at 10-05 1.2.3.4", "E"),
        (
            "seen on 13/5/00 1:2:3 UTC-03:00",
            "A:2000-05-13T01:02:03|10800",
        ),
        ("Monday 11152069 at 1010+02:00", "E"),
        ("Monday 0.SEPT.75 GMT", "E"),
        ("at 15/1/7510 CET", "N:7510-01-15T00:00:00"),
        (
            "Tue, 0099 1 Feb 23:59:59.999999999 +0200 (UTC)",
            "A:1999-02-01T23:59:59.999999|0",
        ),
        ("5/13/009910:00:00z;", "A:9910-05-13T00:00:00|0"),
        ("Monday 13/15/75 at 1010 CET]", "E"),
        (
            "Last seen: Tue, 5november0099T101010+02:00",
            "A:1999-11-05T10:10:10|7200",
        ),
        ("seen on Monday 1999 13 2910pm CET 1.2.3.4", "E"),
        ("11, 1, 22T3 pm GMT]", "A:2022-11-01T15:00:00|0"),
        ("Last seen: Tue, 11 2069101010+24:00;", "E"),
        ("[SEPT 30 2210:00:00,5+0000;", "E"),
        (
            "Tue, 2069 november 15T10:00:00,5 GMT;",
            "A:2069-11-15T10:00:00.500000|0",
        ),
        ("The 3rd of sun 1-SEPT-00T12:30 AM UTC-03:00 1.2.3.4", "E"),
        ("0099.05.13 00:00:00.000001 EST5]", "E"),
        ("The 3rd of 206915Feb 10:00 UTC", "A:2024-02-03T10:00:00|0"),
        ("The 3rd of 75 1310pm EST5 by x", "E"),
        (
            "seen on Tue, Feb-05-0099 at 10 +0200 (UTC)",
            "A:0099-02-05T10:00:00|0",
        ),
        ("ts=Tue, SEPT 2069 at 10pm UTC-03:00 1.2.3.4", "E"),
        ("[0099/1210 +0200 (UTC) 1.2.3.4", "E"),
        ("The 3rd of 0-01-7612:30 AM GMT+3", "E"),
        ("[Tue, 1, 01, 2022T10:00 EST5;", "E"),
        ("sun 1.Feb 1010 EST5", "E"),
        ("Last seen: Monday 2069 12 5T10+0000 and 5", "E"),
        (
            "at Nov.15.2022 10:00:00,5 +0200 (UTC);",
            "A:2022-11-15T10:00:00.500000|0",
        ),
        ("Last seen: Monday 19990110h30 UTC]", "E"),
        ("Last seen: Tue, 2069, SEPT, 2900:00:00.000001+24:00", "E"),
        ("ts=13, 1, 2076T10pm CET 1.2.3.4", "E"),
        ("ts=november300099T1010 CET and 5", "E"),
        ("at SEPT/2022 10 UTC-03:00 and 5", "E"),
        ("22 11 29 at 3 pm UTC-03:00 and 5", "E"),
        (
            "seen on sun 76/01 at 12:30 AM UTC-03:00 by x",
            "A:1976-02-01T00:30:00|10800",
        ),
        ("ts=75-30-13T10:00+02:00 - foo", "E"),
        ("ts=Tue, 761129T10pm UTC-03:00 - foo", "E"),
        (
            "The 3rd of SEPT009910:00:00,5 UTC and 5",
            "A:2005-09-03T00:00:30|0",
        ),
        ("at 01-15-2210pm+0000 by x", "N:2210-01-15T00:00:00"),
        ("Monday 1Nov1010+02:00 1.2.3.4", "E"),
        ("Tue, 2069/30/11 at 10pm UTC - foo", "E"),
        ("at 2022/november/29T12:00 a.m.+24:00", "E"),
        ("at sun 05122076 at 10:00-0530]", "E"),
        ("29/11/1999 12:30 AM GMT", "A:1999-11-29T00:30:00|0"),
        ("Tue, Nov312022-05 by x", "E"),
        ("sun 00 5 1 10 UTC-03:00 1.2.3.4", "E"),
        ("ts=Monday 29 FebTZ;", "N:2024-01-29T00:00:00"),
        ("Last seen: SEPT-5-75 at 3 pm+02:00 and 5", "E"),
        ("Feb 763 pm +0200 (UTC)]", "E"),
        (
            "Monday 75.1210pm +0100 (CET) - foo",
            "N:0100-02-01T00:00:00",
        ),
        ("30/13T00:00:00.000001 EST5", "E"),
        ("ts=1/76 GMT+3 - foo", "E"),
        ("The 3rd of 2022.13.29T3 pm-0530]", "E"),
        ("Monday 2076-FebT23:59:59.999999999 UTC and 5", "E"),
        ("ts=13.29.1999 -05", "E"),
        ("[2022 31 1 at 10pm GMT+3 and 5", "E"),
        ("seen on 22/113 pmZ 1.2.3.4", "E"),
    ];
    const SANITIZE: &[(&str, Option<&str>)] = &[
        (
            "2022-11-15T10:00:00+00:00",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        ("2022-11-15T10:00:00Z", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15T10:00:00z", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15T10:00:00", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 10:00:00", Some("2022-11-15T10:00:00+00:00")),
        (
            "2022-11-15T10:00:00+0200",
            Some("2022-11-15T08:00:00+00:00"),
        ),
        (
            "2022-11-15T10:00:00+02:00",
            Some("2022-11-15T08:00:00+00:00"),
        ),
        ("2022-11-15T10:00:00-05", Some("2022-11-15T15:00:00+00:00")),
        (
            "2022-11-15T10:00:00-0530",
            Some("2022-11-15T15:30:00+00:00"),
        ),
        (
            "2022-11-15T10:00:00-05:30",
            Some("2022-11-15T15:30:00+00:00"),
        ),
        (
            "2022-11-15T10:00:00.1Z",
            Some("2022-11-15T10:00:00.100000+00:00"),
        ),
        (
            "2022-11-15T10:00:00.12Z",
            Some("2022-11-15T10:00:00.120000+00:00"),
        ),
        (
            "2022-11-15T10:00:00.123Z",
            Some("2022-11-15T10:00:00.123000+00:00"),
        ),
        (
            "2022-11-15T10:00:00.1234Z",
            Some("2022-11-15T10:00:00.123400+00:00"),
        ),
        (
            "2022-11-15T10:00:00.12345Z",
            Some("2022-11-15T10:00:00.123450+00:00"),
        ),
        (
            "2022-11-15T10:00:00.123456Z",
            Some("2022-11-15T10:00:00.123456+00:00"),
        ),
        (
            "2022-11-15T10:00:00.1234567Z",
            Some("2022-11-15T10:00:00.123456+00:00"),
        ),
        (
            "2022-11-15T10:00:00.12345678Z",
            Some("2022-11-15T10:00:00.123456+00:00"),
        ),
        (
            "2022-11-15T10:00:00.123456789Z",
            Some("2022-11-15T10:00:00.123456+00:00"),
        ),
        (
            "2022-11-15T10:00:00.123456789+01:00",
            Some("2022-11-15T09:00:00.123456+00:00"),
        ),
        (
            "2022-11-15T23:30:00-03:00",
            Some("2022-11-16T02:30:00+00:00"),
        ),
        (
            "2022-12-31T23:30:00-03:00",
            Some("2023-01-01T02:30:00+00:00"),
        ),
        (
            "2022-11-15T10:00:00,5Z",
            Some("2022-11-15T10:00:00.500000+00:00"),
        ),
        ("2022-11-15T10:00", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15T10", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 10", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 1000", Some("2022-11-15T10:00:00+00:00")),
        (
            "2022-11-15T10:00:00.000000+00:00",
            Some("2022-11-15T10:00:00.000000+00:00"),
        ),
        (
            "2022-11-15t10:00:00+00:00",
            Some("2022-11-15t10:00:00+00:00"),
        ),
        (
            "2022-11-15T10:00:00 +00:00",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        ("2022-11-15T10:00:00+00", Some("2022-11-15T10:00:00+00:00")),
        (
            "2022-11-15T10:00:00-00:00",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "2022-11-15T10:00:00+14:00",
            Some("2022-11-14T20:00:00+00:00"),
        ),
        ("2022-11-15T10:00:00+2400", None),
        ("2022-11-15T10:00:00+9999", None),
        ("2022-11-15 10:00:00+01", Some("2022-11-15T09:00:00+00:00")),
        (
            "2022-11-15 10:00:00 +0100",
            Some("2022-11-15T09:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 -0100",
            Some("2022-11-15T11:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00.5",
            Some("2022-11-15T10:00:00.500000+00:00"),
        ),
        (
            "2022-11-15 10:00:00.999999",
            Some("2022-11-15T10:00:00.999999+00:00"),
        ),
        ("2022-1-5 1:2:3", Some("2022-01-05T01:02:03+00:00")),
        ("2022-11-15 10:00:60", None),
        ("2022-11-15 24:00:00", None),
        ("2022-02-29 10:00:00", None),
        ("2024-02-29 10:00:00", Some("2024-02-29T10:00:00+00:00")),
        ("2022-13-01", None),
        ("2022-11-31", None),
        ("0001-01-01T00:00:00+01:00", None),
        ("9999-12-31T23:00:00-02:00", None),
        ("2022-11-15 10:00:00 UTC", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 10:00:00 GMT", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 10:00:00 utc", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 10:00:00 CET", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 10:00:00 EST", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 10:00:00 PST", Some("2022-11-15T10:00:00+00:00")),
        (
            "2022-11-15 10:00:00 CEST",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 Europe/Berlin",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 GMT+3",
            Some("2022-11-15T13:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 GMT-3",
            Some("2022-11-15T07:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 UTC+3",
            Some("2022-11-15T13:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 UTC+03:00",
            Some("2022-11-15T13:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 BRST+3",
            Some("2022-11-15T13:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 UTC +0300",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 +0300 (BRST)",
            Some("2022-11-15T07:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 +0200 (UTC)",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "2022-11-15 10:00:00 -0300 (UTC)",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "Tue, 15 Nov 2022 10:00:00 +0000",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "Tue, 15 Nov 2022 10:00:00 GMT",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "Tue, 15 Nov 2022 10:00:00 -0800",
            Some("2022-11-15T18:00:00+00:00"),
        ),
        (
            "Tue, 15 Nov 2022 10:00:00 +0000 (UTC)",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "15 Nov 2022 10:00:00 +0100",
            Some("2022-11-15T09:00:00+00:00"),
        ),
        (
            "Tue, 15 Nov 22 10:00:00 +0000",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "Wed, 15 Nov 2022 10:00:00 +0000",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "Tuesday, 15-Nov-22 10:00:00 GMT",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "Tue Nov 15 10:00:00 2022",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "Tue Nov 15 10:00:00 UTC 2022",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "Tue Nov 15 10:00:00 CET 2022",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "Tue Nov  5 10:00:00 2022",
            Some("2022-11-05T10:00:00+00:00"),
        ),
        ("Nov 15 2022 10:00:00", Some("2022-11-15T10:00:00+00:00")),
        ("Nov 15, 2022 10:00:00", Some("2022-11-15T10:00:00+00:00")),
        ("November 15, 2022", Some("2022-11-15T00:00:00+00:00")),
        ("15 November 2022", Some("2022-11-15T00:00:00+00:00")),
        ("15-Nov-2022", Some("2022-11-15T00:00:00+00:00")),
        (
            "15/Nov/2022:10:00:00 +0100",
            Some("2022-11-15T09:00:00+00:00"),
        ),
        ("Nov-15-2022", Some("2022-11-15T00:00:00+00:00")),
        ("NOV 15 2022", Some("2022-11-15T00:00:00+00:00")),
        ("nov 15 2022", Some("2022-11-15T00:00:00+00:00")),
        ("15 nOvEmBeR 2022", Some("2022-11-15T00:00:00+00:00")),
        ("Sept 5 2022", Some("2022-09-05T00:00:00+00:00")),
        ("Sep. 5, 2022", Some("2022-09-05T00:00:00+00:00")),
        ("5 Sep. 2022", Some("2022-09-05T00:00:00+00:00")),
        ("Jan 2022", Some("2022-01-31T00:00:00+00:00")),
        ("Feb 2022", Some("2022-02-28T00:00:00+00:00")),
        ("February", Some("2024-02-29T00:00:00+00:00")),
        ("2022 Nov 15", Some("2022-11-15T00:00:00+00:00")),
        ("2022-Nov-15", Some("2022-11-15T00:00:00+00:00")),
        ("15.Nov.2022", Some("2022-11-15T00:00:00+00:00")),
        ("Nov 15", Some("2024-11-15T00:00:00+00:00")),
        ("15 Nov", Some("2024-11-15T00:00:00+00:00")),
        ("Jan of 22", Some("2022-01-31T00:00:00+00:00")),
        ("Jan of 2022", Some("2022-01-31T00:00:00+00:00")),
        ("Nov 15th 2022", Some("2022-11-15T00:00:00+00:00")),
        (
            "November 1st, 2022 at 3pm",
            Some("2022-11-01T15:00:00+00:00"),
        ),
        ("May 5 2022", Some("2022-05-05T00:00:00+00:00")),
        ("Dec 31 1999 23:59:59", Some("1999-12-31T23:59:59+00:00")),
        ("Mar 1 00", Some("2000-03-01T00:00:00+00:00")),
        ("Mar 1 75", Some("2075-03-01T00:00:00+00:00")),
        ("Mar 1 76", Some("1976-03-01T00:00:00+00:00")),
        ("Mar 1 99", Some("1999-03-01T00:00:00+00:00")),
        ("Apr 31 2022", None),
        ("15/11/2022", Some("2022-11-15T00:00:00+00:00")),
        ("11/15/2022", Some("2022-11-15T00:00:00+00:00")),
        ("11/12/2022", Some("2022-11-12T00:00:00+00:00")),
        ("01/02/03", Some("2003-01-02T00:00:00+00:00")),
        ("13/01/22", Some("2022-01-13T00:00:00+00:00")),
        ("01/13/22", Some("2022-01-13T00:00:00+00:00")),
        ("2022/11/15", Some("2022-11-15T00:00:00+00:00")),
        ("2022/11/15 10:00", Some("2022-11-15T10:00:00+00:00")),
        ("2022/11/15 10:00:00", Some("2022-11-15T10:00:00+00:00")),
        ("15.11.2022", Some("2022-11-15T00:00:00+00:00")),
        ("15.11.2022 10:00", Some("2022-11-15T10:00:00+00:00")),
        ("15.11.22", Some("2022-11-15T00:00:00+00:00")),
        ("1.2.2022", Some("2022-01-02T00:00:00+00:00")),
        ("2022.11.15", Some("2022-11-15T00:00:00+00:00")),
        ("15-11-2022", Some("2022-11-15T00:00:00+00:00")),
        ("11-15-2022", Some("2022-11-15T00:00:00+00:00")),
        ("22-11-15", Some("2015-11-22T00:00:00+00:00")),
        ("99-01-01", Some("1999-01-01T00:00:00+00:00")),
        ("01-99", Some("1999-01-31T00:00:00+00:00")),
        ("99-01", Some("1999-01-31T00:00:00+00:00")),
        ("11/2022", Some("2022-11-30T00:00:00+00:00")),
        ("2022/11", Some("2022-11-30T00:00:00+00:00")),
        ("11/15", Some("2024-11-15T00:00:00+00:00")),
        ("15/11", None),
        ("20221115", Some("2022-11-15T00:00:00+00:00")),
        ("20221115T101010", Some("2022-11-15T10:10:10+00:00")),
        ("20221115T1010", Some("2022-11-15T10:10:00+00:00")),
        ("20221115101010", Some("2022-11-15T10:10:10+00:00")),
        ("202211151010", Some("2022-11-15T10:10:00+00:00")),
        ("221115", Some("2015-11-22T00:00:00+00:00")),
        ("221115 101010", Some("2015-11-22T10:10:10+00:00")),
        ("20221115T101010Z", Some("2022-11-15T10:10:10+00:00")),
        (
            "20221115T101010.5",
            Some("2022-11-15T10:10:10.500000+00:00"),
        ),
        ("1668506400", None),
        ("1668506400000", None),
        ("1668506400.123", None),
        ("2022", Some("2022-01-31T00:00:00+00:00")),
        ("22", Some("2024-01-22T00:00:00+00:00")),
        ("15", Some("2024-01-15T00:00:00+00:00")),
        ("5", Some("2024-01-05T00:00:00+00:00")),
        ("0", None),
        ("100", Some("0100-01-31T00:00:00+00:00")),
        ("123", Some("0123-01-31T00:00:00+00:00")),
        ("10000", None),
        ("2022-11", Some("2022-11-30T00:00:00+00:00")),
        ("2022-11-", None),
        ("12.5", Some("2024-01-12T00:00:00+00:00")),
        ("1e5", Some("2024-01-05T00:00:00+00:00")),
        ("2022-11-15 10:00 AM", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 10:00 PM", Some("2022-11-15T22:00:00+00:00")),
        ("2022-11-15 12:00 AM", Some("2022-11-15T00:00:00+00:00")),
        ("2022-11-15 12:00 PM", Some("2022-11-15T12:00:00+00:00")),
        ("2022-11-15 12:30 am", Some("2022-11-15T00:30:00+00:00")),
        ("2022-11-15 1:05:07 pm", Some("2022-11-15T13:05:07+00:00")),
        ("2022-11-15 10:00 a.m.", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 10:00 p.m.", Some("2022-11-15T22:00:00+00:00")),
        ("2022-11-15 10pm", Some("2022-11-15T22:00:00+00:00")),
        ("2022-11-15 10 pm", Some("2022-11-15T22:00:00+00:00")),
        ("2022-11-15 13:00 PM", Some("2022-11-15T13:00:00+00:00")),
        ("2022-11-15 0:30 AM", Some("2022-11-15T00:30:00+00:00")),
        ("11/15/2022 3:04:05 PM", Some("2022-11-15T15:04:05+00:00")),
        ("3pm", Some("2024-01-31T15:00:00+00:00")),
        ("3 pm", Some("2024-01-31T15:00:00+00:00")),
        ("15 pm", Some("2024-01-31T15:00:00+00:00")),
        ("3 pm pm", Some("2024-01-31T15:00:00+00:00")),
        ("10:00 PM UTC", Some("2024-01-31T22:00:00+00:00")),
        ("10:00 AM CET", Some("2024-01-31T10:00:00+00:00")),
        ("12am", Some("2024-01-31T00:00:00+00:00")),
        ("12pm", Some("2024-01-31T12:00:00+00:00")),
        ("10:00", Some("2024-01-31T10:00:00+00:00")),
        ("10:00:00", Some("2024-01-31T10:00:00+00:00")),
        ("10:00:00.5", Some("2024-01-31T10:00:00.500000+00:00")),
        ("10h", Some("2024-01-31T10:00:00+00:00")),
        ("10h30", Some("2024-01-31T10:30:00+00:00")),
        ("10h30m", Some("2024-01-31T10:30:00+00:00")),
        ("10h30m15s", Some("2024-01-31T10:30:15+00:00")),
        ("10 h 30 m", Some("2024-01-31T10:30:00+00:00")),
        ("1.5h", Some("2024-01-31T01:30:00+00:00")),
        ("10.5m", Some("2024-01-31T00:10:30+00:00")),
        ("30s", Some("2024-01-31T00:00:30+00:00")),
        ("10:30.5", Some("2024-01-31T10:30:30+00:00")),
        ("10:00 UTC", Some("2024-01-31T10:00:00+00:00")),
        ("Monday", Some("2024-02-05T00:00:00+00:00")),
        ("Monday 10:00", Some("2024-02-05T10:00:00+00:00")),
        ("Mon, 10:00", Some("2024-02-05T10:00:00+00:00")),
        ("Friday 2022-11-15", Some("2022-11-15T00:00:00+00:00")),
        ("Sat", Some("2024-02-03T00:00:00+00:00")),
        ("T10:00", Some("2024-01-31T10:00:00+00:00")),
        (
            "Last seen: 2022-11-15 10:00",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "first seen 2022-11-15T10:00:00Z by sensor",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "Date: Tue, 15 Nov 2022 10:00:00 +0000",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "seen on 15/11/2022 at 10:00",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "The event happened on November 15, 2022 at 10am",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        ("ts=2022-11-15 10:00:00", Some("2022-11-15T10:00:00+00:00")),
        ("[2022-11-15 10:00:00]", Some("2022-11-15T10:00:00+00:00")),
        ("(2022-11-15)", Some("2022-11-15T00:00:00+00:00")),
        ("\"2022-11-15\"", Some("2022-11-15T00:00:00+00:00")),
        ("2022-11-15;10:00:00", Some("2022-11-15T10:00:00+00:00")),
        ("2022-11-15 10:00:00 - foo", None),
        ("10:00 - 12:00", None),
        ("2022-11-15 | 10:00", Some("2022-11-15T10:00:00+00:00")),
        (
            "Today is January 1, 2047 at 8:21:00AM",
            Some("2047-01-01T08:21:00+00:00"),
        ),
        ("a 2022-11-15 10:00", Some("2022-11-15T10:00:00+00:00")),
        (
            "2022-11-15 10:00 and then some",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        ("scan at 2022-11-15 10:00 from 1.2.3.4", None),
        ("ip 192.168.1.1", None),
        (
            "host-20221115.example.com",
            Some("2022-11-15T00:00:00+00:00"),
        ),
        ("malware.exe", None),
        ("version 1.2.3", Some("2003-01-02T00:00:00+00:00")),
        (
            "2022-11-15 10:00:00 +0000 UTC",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        ("  2022-11-15 10:00:00  ", Some("2022-11-15T10:00:00+00:00")),
        ("\t2022-11-15\n", Some("2022-11-15T00:00:00+00:00")),
        ("2022-11-15\u{0}10:00", None),
        (
            "Sun Nov 13 08:00:00 +0000 2022",
            Some("2022-11-13T08:00:00+00:00"),
        ),
        ("", None),
        (" ", None),
        ("garbage", None),
        ("hello world", None),
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        ("Infinity", None),
        ("Last seen: inf", None),
        ("foo bar baz", None),
        ("-", None),
        ("::", None),
        ("abc123", Some("0123-01-31T00:00:00+00:00")),
        ("0000-00-00 00:00:00", None),
        ("N/A", None),
        ("null", None),
        ("None", None),
        ("unknown", None),
        ("2022-11-15 25:00", None),
        ("10:61", None),
        ("99:99", None),
        ("5.a", None),
        ("a.5", Some("2024-01-05T00:00:00+00:00")),
        ("12:", Some("2024-01-12T00:00:00+00:00")),
        ("10: foo", None),
        ("+0200", Some("0200-01-31T00:00:00+00:00")),
        ("10:00 +abcd", None),
        ("10:00 +123", None),
        ("10:00 -", None),
        ("10:00 +", None),
        ("32/13/2022", None),
        ("2022-02-30", None),
        ("31/02/2022", None),
        ("Jan-", None),
        ("Jan-foo", None),
        (
            "2022-11-15T10:00:00+00:00 extra",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        ("1,000,000", None),
        ("10,5", Some("2024-01-10T00:00:00+00:00")),
        (
            "2022-11-15 10:00:00,123",
            Some("2022-11-15T10:00:00.123000+00:00"),
        ),
        ("2022–11–15", Some("2024-11-15T00:00:00+00:00")),
        ("Ⅻ", None),
        ("Ⅻ Nov 2022", Some("2022-11-30T00:00:00+00:00")),
        ("é 2022-11-15", Some("2022-11-15T00:00:00+00:00")),
        ("15 Ⅻ 2022", None),
        (
            "sun 29/11/22T10:00:00+0000;",
            Some("2022-11-29T10:00:00+00:00"),
        ),
        ("at sun 1/2022 3 pm;", Some("2022-02-06T15:00:00+00:00")),
        ("Last seen: Tue, 15/13 at 10h30 GMT+3]", None),
        (
            "seen on sun 1-1-2212:00 a.m. UTC-03:00",
            Some("2211-12-31T21:00:00+00:00"),
        ),
        ("at sun 1-00T23:59:59.999999999 UTC-03:00", None),
        ("The 3rd of Tue, 0099/13 10:00 +0100 (CET) - foo", None),
        ("Last seen: sun Nov, 31, 2076 1010z]", None),
        (
            "Tue, 29, novemberT12:30 AM UTC]",
            Some("2024-01-29T00:30:00+00:00"),
        ),
        ("The 3rd of 29-november-207600:00:00.000001 GMT+3;", None),
        (
            "ts=sun 05/13 at 12:30 AM GMT;",
            Some("2024-05-13T00:30:00+00:00"),
        ),
        ("Last seen: 0099-01T+0000;", None),
        ("seen on november076T12:30 AM - foo", None),
        (
            "Last seen: sun 2069 november 05 at 1010 GMT",
            Some("2069-11-05T10:10:00+00:00"),
        ),
        ("[sun 00.12T10:00:00 1.2.3.4", None),
        ("The 3rd of 22/Nov/29 1:2:3z", None),
        ("at SEPT.199912:00 a.m. +0200 (UTC) and 5", None),
        ("Tue, 0-SEPT-2076 1:2:3z]", None),
        (
            "Tue, 2022/1/15 at 00:00:00.000001Z]",
            Some("2022-01-15T00:00:00.000001+00:00"),
        ),
        ("The 3rd of 12, 75 3 pm EST5;", None),
        ("22.1.110h30+24:00", None),
        ("ts=31/1/2076 at 12:30 AM+24:00 by x", None),
        ("75 12 12:00 a.m.+0000", Some("2075-12-31T00:00:00+00:00")),
        ("Last seen: 0 november 1999T12:00 a.m. +0100 (CET);", None),
        ("at 76.0.13 1010 EST5 and 5", None),
        (
            "The 3rd of sun Feb, 15, 2022TZ by x",
            Some("2015-02-03T20:22:00+00:00"),
        ),
        ("Monday 1-00T10:00 UTC]", None),
        (
            "seen on 30.november.22 101010 GMT+3;",
            Some("2022-11-30T13:10:10+00:00"),
        ),
        ("at 2069-SEPT-30 10pm+0000 and 5", None),
        ("seen on sun 1.31.2076 at 10:00:00+24:00", None),
        (
            "seen on Tue, 22-01-29 at 1010+02:00]",
            Some("2029-01-22T08:10:00+00:00"),
        ),
        (
            "seen on Monday 0099.13Tz",
            Some("2024-02-05T00:00:00+00:00"),
        ),
        ("sun 29/01T10pm +0200 (UTC)", None),
        (
            "Last seen: Monday Feb.1999 at 12:30 AM+02:00",
            Some("1999-02-28T22:30:00+00:00"),
        ),
        ("ts=Tue, 30/11 1:2:3+0000 by x", None),
        ("at Monday 1-01-1999 1010 GMT+3 and 5", None),
        ("seen on Tue, 15 november 22 1:2:3+24:00]", None),
        (
            "[Tue, 12.1.2022 at 12:00 a.m.z;",
            Some("2022-12-01T00:00:00+00:00"),
        ),
        ("ts=1/2022 at 23:59:59.999999999Z - foo", None),
        ("ts=Feb 76 1:2:3 GMT", Some("1976-02-29T01:02:03+00:00")),
        ("seen on november, 5, 20763 pm GMT+3 and 5", None),
        (
            "Last seen: Monday 29november20761:2:3 +0200 (UTC) and 5",
            None,
        ),
        ("The 3rd of Monday 29.11.00 10h30 GMT+3 1.2.3.4", None),
        ("at 00, SEPT, 05 23:59:59.999999999 GMT+3 and 5", None),
        (
            "ts=Monday 15-01-009910pmz]",
            Some("9910-01-15T00:00:00+00:00"),
        ),
        ("ts=31/november 1010]", None),
        (
            "Last seen: Monday 15SEPT00 at 00:00:00.000001+0000 1.2.3.4",
            None,
        ),
        (
            "The 3rd of Monday 751Feb 00:00:00.000001-05 and 5",
            Some("2005-02-03T05:00:00.000001+00:00"),
        ),
        ("seen on 0, Feb, 2069 at 23:59:59.999999999+24:00]", None),
        ("at 5/Nov/20761:2:3 +0100 (CET)", None),
        (
            "Monday 76 Nov 01:2:3 +0200 (UTC);",
            Some("1976-12-06T01:02:03+00:00"),
        ),
        ("at sun 2022 Nov 00:00:00.000001 +0200 (UTC) 1.2.3.4", None),
        (
            "The 3rd of 2069-0-novemberT10:00:00,5 +0100 (CET) by x",
            None,
        ),
        ("76, 5, 1110:00:00+24:00 and 5", None),
        ("ts=Tue, 12.0.2076T10 +0100 (CET) and 5", None),
        ("15.11.75 101010z]", Some("2075-11-15T10:10:10+00:00")),
        ("at sun 2022/31/01 at 101010+0000 1.2.3.4", None),
        (
            "ts=Tue, 01/5/2076 10:00;",
            Some("2076-01-05T10:00:00+00:00"),
        ),
        ("sun 22, 1223:59:59.999999999+0000 - foo", None),
        ("ts=2076-110h30 EST5 - foo", None),
        ("The 3rd of sun november, 1999101010 GMT 1.2.3.4", None),
        ("The 3rd of Nov-31-2069 at 00:00:00.000001+24:00;", None),
        ("[Tue, 2022/30/SEPT at 1:2:3 UTC-03:00 and 5", None),
        ("at Monday 31-11-001010 +0200 (UTC) 1.2.3.4", None),
        ("[Tue, 5.11.75 at 10h30 UTC 1.2.3.4", None),
        ("seen on Tue, 30.FebT10pm GMT]", None),
        ("at Nov, 0099 at 10-05 1.2.3.4", None),
        (
            "seen on 13/5/00 1:2:3 UTC-03:00",
            Some("2000-05-12T22:02:03+00:00"),
        ),
        ("Monday 11152069 at 1010+02:00", None),
        ("Monday 0.SEPT.75 GMT", None),
        ("at 15/1/7510 CET", Some("7510-01-15T00:00:00+00:00")),
        (
            "Tue, 0099 1 Feb 23:59:59.999999999 +0200 (UTC)",
            Some("1999-02-01T23:59:59.999999+00:00"),
        ),
        ("5/13/009910:00:00z;", Some("9910-05-13T00:00:00+00:00")),
        ("Monday 13/15/75 at 1010 CET]", None),
        (
            "Last seen: Tue, 5november0099T101010+02:00",
            Some("1999-11-05T08:10:10+00:00"),
        ),
        ("seen on Monday 1999 13 2910pm CET 1.2.3.4", None),
        ("11, 1, 22T3 pm GMT]", Some("2022-11-01T15:00:00+00:00")),
        ("Last seen: Tue, 11 2069101010+24:00;", None),
        ("[SEPT 30 2210:00:00,5+0000;", None),
        (
            "Tue, 2069 november 15T10:00:00,5 GMT;",
            Some("2069-11-15T10:00:00.500000+00:00"),
        ),
        ("The 3rd of sun 1-SEPT-00T12:30 AM UTC-03:00 1.2.3.4", None),
        ("0099.05.13 00:00:00.000001 EST5]", None),
        (
            "The 3rd of 206915Feb 10:00 UTC",
            Some("2024-02-03T10:00:00+00:00"),
        ),
        ("The 3rd of 75 1310pm EST5 by x", None),
        (
            "seen on Tue, Feb-05-0099 at 10 +0200 (UTC)",
            Some("0099-02-05T10:00:00+00:00"),
        ),
        ("ts=Tue, SEPT 2069 at 10pm UTC-03:00 1.2.3.4", None),
        ("[0099/1210 +0200 (UTC) 1.2.3.4", None),
        ("The 3rd of 0-01-7612:30 AM GMT+3", None),
        ("[Tue, 1, 01, 2022T10:00 EST5;", None),
        ("sun 1.Feb 1010 EST5", None),
        ("Last seen: Monday 2069 12 5T10+0000 and 5", None),
        (
            "at Nov.15.2022 10:00:00,5 +0200 (UTC);",
            Some("2022-11-15T10:00:00.500000+00:00"),
        ),
        ("Last seen: Monday 19990110h30 UTC]", None),
        ("Last seen: Tue, 2069, SEPT, 2900:00:00.000001+24:00", None),
        ("ts=13, 1, 2076T10pm CET 1.2.3.4", None),
        ("ts=november300099T1010 CET and 5", None),
        ("at SEPT/2022 10 UTC-03:00 and 5", None),
        ("22 11 29 at 3 pm UTC-03:00 and 5", None),
        (
            "seen on sun 76/01 at 12:30 AM UTC-03:00 by x",
            Some("1976-01-31T21:30:00+00:00"),
        ),
        ("ts=75-30-13T10:00+02:00 - foo", None),
        ("ts=Tue, 761129T10pm UTC-03:00 - foo", None),
        (
            "The 3rd of SEPT009910:00:00,5 UTC and 5",
            Some("2005-09-03T00:00:30+00:00"),
        ),
        (
            "at 01-15-2210pm+0000 by x",
            Some("2210-01-15T00:00:00+00:00"),
        ),
        ("Monday 1Nov1010+02:00 1.2.3.4", None),
        ("Tue, 2069/30/11 at 10pm UTC - foo", None),
        ("at 2022/november/29T12:00 a.m.+24:00", None),
        ("at sun 05122076 at 10:00-0530]", None),
        ("29/11/1999 12:30 AM GMT", Some("1999-11-29T00:30:00+00:00")),
        ("Tue, Nov312022-05 by x", None),
        ("sun 00 5 1 10 UTC-03:00 1.2.3.4", None),
        ("ts=Monday 29 FebTZ;", Some("2024-01-29T00:00:00+00:00")),
        ("Last seen: SEPT-5-75 at 3 pm+02:00 and 5", None),
        ("Feb 763 pm +0200 (UTC)]", None),
        (
            "Monday 75.1210pm +0100 (CET) - foo",
            Some("0100-02-01T00:00:00+00:00"),
        ),
        ("30/13T00:00:00.000001 EST5", None),
        ("ts=1/76 GMT+3 - foo", None),
        ("The 3rd of 2022.13.29T3 pm-0530]", None),
        ("Monday 2076-FebT23:59:59.999999999 UTC and 5", None),
        ("ts=13.29.1999 -05", None),
        ("[2022 31 1 at 10pm GMT+3 and 5", None),
        ("seen on 22/113 pmZ 1.2.3.4", None),
        (
            "2022-11-15T10:00:00.123456+00:00",
            Some("2022-11-15T10:00:00.123456+00:00"),
        ),
        (
            "2022-11-15T10:00:00.1+00:00",
            Some("2022-11-15T10:00:00.1+00:00"),
        ),
        (
            "2022-11-15T10:00:00.1234567+00:00",
            Some("2022-11-15T10:00:00.123456+00:00"),
        ),
        ("2022-1-5T1:2:3+00:00", Some("2022-1-5T1:2:3+00:00")),
        (
            "2022-11-15 10:00:00+00:00",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "2022-11-15T10:00:00+01:00",
            Some("2022-11-15T09:00:00+00:00"),
        ),
        ("2022-02-29T10:00:00+00:00", None),
        (
            "2024-02-29T10:00:00+00:00",
            Some("2024-02-29T10:00:00+00:00"),
        ),
        ("2022-11-31T10:00:00+00:00", None),
        ("2022-11-15T24:00:00+00:00", None),
        ("2022-11-15T10:60:00+00:00", None),
        ("2022-11-15T10:00:60+00:00", None),
        ("2022-11-15T10:00:61+00:00", None),
        ("0000-01-01T00:00:00+00:00", None),
        (
            "0001-01-01T00:00:00+00:00",
            Some("0001-01-01T00:00:00+00:00"),
        ),
        (
            "9999-12-31T23:59:59.999999+00:00",
            Some("9999-12-31T23:59:59.999999+00:00"),
        ),
        (
            "2022-11- 5T10:00:00+00:00",
            Some("2022-11- 5T10:00:00+00:00"),
        ),
        ("2022-11-5T10:00:00+00:00", Some("2022-11-5T10:00:00+00:00")),
        (
            "2022-11-15T10:00:00+00:00 ",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            " 2022-11-15T10:00:00+00:00",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        ("22-11-15T10:00:00+00:00", Some("2015-11-22T10:00:00+00:00")),
        ("12022-11-15T10:00:00+00:00", None),
        ("2022-011-15T10:00:00+00:00", None),
        ("2022-11-015T10:00:00+00:00", None),
        (
            "2022-11-15T010:00:00+00:00",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "2022-11-15T10:00:00.+00:00",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "2022-11-15T10:00:00+0000",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        ("2022-1-15T10:00:00+00:00", Some("2022-1-15T10:00:00+00:00")),
        (
            "2022-10-15T10:00:00+00:00",
            Some("2022-10-15T10:00:00+00:00"),
        ),
        ("2022-1115T10:00:00+00:00", None),
        ("2022-11-15T1:00:00+00:00", Some("2022-11-15T1:00:00+00:00")),
        ("2022-11-15T10:0:00+00:00", Some("2022-11-15T10:0:00+00:00")),
        ("2022-11-15T10:00:0+00:00", Some("2022-11-15T10:00:0+00:00")),
        (
            "2022-11-15T10:00:00.12+00:00",
            Some("2022-11-15T10:00:00.12+00:00"),
        ),
        (
            "2022-12-31T23:59:59+00:00",
            Some("2022-12-31T23:59:59+00:00"),
        ),
        ("2022-06-31T00:00:00+00:00", None),
        ("1900-02-29T00:00:00+00:00", None),
        (
            "2000-02-29T00:00:00+00:00",
            Some("2000-02-29T00:00:00+00:00"),
        ),
        (
            "2022-11-15T10:00:00.1234567890+00:00",
            Some("2022-11-15T10:00:00.123456+00:00"),
        ),
        (
            "2022-11-15T10:00:00+00:00\n",
            Some("2022-11-15T10:00:00+00:00"),
        ),
        (
            "2022-11-15T23:59:59+00:00",
            Some("2022-11-15T23:59:59+00:00"),
        ),
        ("2022-11-1T10:00:00+00:00", Some("2022-11-1T10:00:00+00:00")),
        ("2022-1-1T0:0:0+00:00", Some("2022-1-1T0:0:0+00:00")),
    ];
    const ISO: &[(&str, bool)] = &[
        ("2022-11-15T10:00:00+00:00", true),
        ("2022-11-15T10:00:00.123456+00:00", true),
        ("2022-11-15T10:00:00.1+00:00", true),
        ("2022-11-15T10:00:00.1234567+00:00", false),
        ("2022-1-5T1:2:3+00:00", true),
        ("2022-11-15t10:00:00+00:00", true),
        ("2022-11-15 10:00:00+00:00", false),
        ("2022-11-15T10:00:00Z", false),
        ("2022-11-15T10:00:00+01:00", false),
        ("2022-11-15T10:00:00", false),
        ("2022-02-29T10:00:00+00:00", false),
        ("2024-02-29T10:00:00+00:00", true),
        ("2022-11-31T10:00:00+00:00", false),
        ("2022-11-15T24:00:00+00:00", false),
        ("2022-11-15T10:60:00+00:00", false),
        ("2022-11-15T10:00:60+00:00", false),
        ("2022-11-15T10:00:61+00:00", false),
        ("0000-01-01T00:00:00+00:00", false),
        ("0001-01-01T00:00:00+00:00", true),
        ("9999-12-31T23:59:59.999999+00:00", true),
        ("2022-11- 5T10:00:00+00:00", true),
        ("2022-11-5T10:00:00+00:00", true),
        ("2022-11-15T10:00:00+00:00 ", false),
        (" 2022-11-15T10:00:00+00:00", false),
        ("22-11-15T10:00:00+00:00", false),
        ("12022-11-15T10:00:00+00:00", false),
        ("2022-011-15T10:00:00+00:00", false),
        ("2022-11-015T10:00:00+00:00", false),
        ("2022-11-15T010:00:00+00:00", false),
        ("2022-11-15T10:00:00.+00:00", false),
        ("2022-11-15T10:00:00.000000+00:00", true),
        ("2022-11-15T10:00:00+0000", false),
        ("2022-11-15T10:00:00-00:00", false),
        ("2022-1-15T10:00:00+00:00", true),
        ("2022-10-15T10:00:00+00:00", true),
        ("2022-1115T10:00:00+00:00", false),
        ("2022-11-15T1:00:00+00:00", true),
        ("2022-11-15T10:0:00+00:00", true),
        ("2022-11-15T10:00:0+00:00", true),
        ("2022-11-15T10:00:00.12+00:00", true),
        ("", false),
        ("garbage", false),
        ("2022-12-31T23:59:59+00:00", true),
        ("2022-06-31T00:00:00+00:00", false),
        ("1900-02-29T00:00:00+00:00", false),
        ("2000-02-29T00:00:00+00:00", true),
        ("2022-11-15T10:00:00.1234567890+00:00", false),
        ("2022-11-15T10:00:00+00:00\n", false),
        ("2022-11-15T23:59:59+00:00", true),
        ("2022-11-1T10:00:00+00:00", true),
        ("2022-1-1T0:0:0+00:00", true),
    ];
    const STRPTIME: &[(&str, &str, &str)] = &[
        (
            "2022-11-15 10:00:00",
            "%Y-%m-%d %H:%M:%S",
            "N:2022-11-15T10:00:00",
        ),
        ("15/11/2022", "%d/%m/%Y", "N:2022-11-15T00:00:00"),
        ("15/11/22", "%d/%m/%y", "N:2022-11-15T00:00:00"),
        ("15/11/69", "%d/%m/%y", "N:1969-11-15T00:00:00"),
        ("15/11/68", "%d/%m/%y", "N:2068-11-15T00:00:00"),
        (
            "2022-11-15T10:00:00+0200",
            "%Y-%m-%dT%H:%M:%S%z",
            "A:2022-11-15T10:00:00|7200",
        ),
        (
            "2022-11-15T10:00:00+02:00",
            "%Y-%m-%dT%H:%M:%S%z",
            "A:2022-11-15T10:00:00|7200",
        ),
        (
            "2022-11-15T10:00:00Z",
            "%Y-%m-%dT%H:%M:%S%z",
            "A:2022-11-15T10:00:00|0",
        ),
        ("2022-11-15T10:00:00z", "%Y-%m-%dT%H:%M:%S%z", "E"),
        (
            "2022-11-15T10:00:00-053045",
            "%Y-%m-%dT%H:%M:%S%z",
            "A:2022-11-15T10:00:00|-19845",
        ),
        (
            "2022-11-15T10:00:00-05:30:45",
            "%Y-%m-%dT%H:%M:%S%z",
            "A:2022-11-15T10:00:00|-19845",
        ),
        ("2022-11-15T10:00:00+05:3045", "%Y-%m-%dT%H:%M:%S%z", "E"),
        ("2022-11-15T10:00:00+2500", "%Y-%m-%dT%H:%M:%S%z", "E"),
        (
            "2022-11-15 10:00:00 UTC",
            "%Y-%m-%d %H:%M:%S %Z",
            "N:2022-11-15T10:00:00",
        ),
        (
            "2022-11-15 10:00:00 gmt",
            "%Y-%m-%d %H:%M:%S %Z",
            "N:2022-11-15T10:00:00",
        ),
        ("2022-11-15 10:00:00 CET", "%Y-%m-%d %H:%M:%S %Z", "E"),
        ("Nov 15 2022", "%b %d %Y", "N:2022-11-15T00:00:00"),
        ("november 15 2022", "%B %d %Y", "N:2022-11-15T00:00:00"),
        ("NOVEMBER 15 2022", "%B %d %Y", "N:2022-11-15T00:00:00"),
        (
            "Tue Nov 15 10:00:00 2022",
            "%a %b %d %H:%M:%S %Y",
            "N:2022-11-15T10:00:00",
        ),
        (
            "Tuesday Nov 15 10:00:00 2022",
            "%A %b %d %H:%M:%S %Y",
            "N:2022-11-15T10:00:00",
        ),
        ("Tue Nov 15 10:00:00 2022", "%c", "N:2022-11-15T10:00:00"),
        ("Tue Nov  5 10:00:00 2022", "%c", "N:2022-11-05T10:00:00"),
        ("11/15/22", "%x", "N:2022-11-15T00:00:00"),
        ("10:00:00", "%X", "N:1900-01-01T10:00:00"),
        ("03:04:05 PM", "%I:%M:%S %p", "N:1900-01-01T15:04:05"),
        ("12:04:05 AM", "%I:%M:%S %p", "N:1900-01-01T00:04:05"),
        ("12:04:05 pm", "%I:%M:%S %p", "N:1900-01-01T12:04:05"),
        ("12:04:05", "%I:%M:%S", "N:1900-01-01T00:04:05"),
        ("2022 319", "%Y %j", "N:2022-11-15T00:00:00"),
        ("2022 366", "%Y %j", "N:2023-01-01T00:00:00"),
        ("2024 366", "%Y %j", "N:2024-12-31T00:00:00"),
        ("2022 000", "%Y %j", "E"),
        (
            "2022-11-15 10:00:00.5",
            "%Y-%m-%d %H:%M:%S.%f",
            "N:2022-11-15T10:00:00.500000",
        ),
        (
            "2022-11-15 10:00:00.123456",
            "%Y-%m-%d %H:%M:%S.%f",
            "N:2022-11-15T10:00:00.123456",
        ),
        ("2022-11-15 10:00:00.1234567", "%Y-%m-%d %H:%M:%S.%f", "E"),
        (
            "2022-11-15   10:00",
            "%Y-%m-%d %H:%M",
            "N:2022-11-15T10:00:00",
        ),
        (
            "2022-11-15\t10:00",
            "%Y-%m-%d %H:%M",
            "N:2022-11-15T10:00:00",
        ),
        ("2022-11-1510:00", "%Y-%m-%d %H:%M", "E"),
        ("2022-11-15 10:00 ", "%Y-%m-%d %H:%M", "E"),
        ("20221115", "%Y%m%d", "N:2022-11-15T00:00:00"),
        ("2022111", "%Y%m%d", "N:2022-11-01T00:00:00"),
        ("202211", "%Y%m%d", "N:2022-01-01T00:00:00"),
        ("123", "%m%d", "N:1900-12-03T00:00:00"),
        ("02-29", "%m-%d", "E"),
        ("02-28", "%m-%d", "N:1900-02-28T00:00:00"),
        ("2022-02-29", "%Y-%m-%d", "E"),
        ("2022-11-15 10:00:60", "%Y-%m-%d %H:%M:%S", "E"),
        ("2022-11-15 10:00:61", "%Y-%m-%d %H:%M:%S", "E"),
        ("2022-11-15", "%Y-%m-%d %H", "E"),
        ("2022-11-15 10", "%Y-%m-%d", "E"),
        ("100%", "%d%%", "E"),
        ("2022-11-15", "%Y-%m-%d%", "E"),
        ("2022-11-15", "%Y-%m-%Q", "E"),
        ("2022 2022", "%Y %Y", "E"),
        ("2022 45 1", "%Y %W %w", "N:2022-11-07T00:00:00"),
        ("2022 45 2", "%Y %U %u", "N:2022-11-08T00:00:00"),
        ("2022 00 0", "%Y %W %w", "N:2022-01-02T00:00:00"),
        ("2022 0 1", "%Y %U %w", "N:2021-12-27T00:00:00"),
        ("15.11.2022", "%d.%m.%Y", "N:2022-11-15T00:00:00"),
        (
            "15.11.2022 10:00",
            "%d.%m.%Y %H:%M",
            "N:2022-11-15T10:00:00",
        ),
        (
            "11/15/2022 03:04 PM",
            "%m/%d/%Y %I:%M %p",
            "N:2022-11-15T15:04:00",
        ),
        ("15-Nov-2022", "%d-%b-%Y", "N:2022-11-15T00:00:00"),
        ("15 Sept 2022", "%d %b %Y", "E"),
        ("5 May 2022", "%d %B %Y", "N:2022-05-05T00:00:00"),
        ("0000-01-01", "%Y-%m-%d", "E"),
        (" 5/11/2022", "%d/%m/%Y", "N:2022-11-05T00:00:00"),
        (
            "2022-11-15T10:00:00",
            "%Y-%m-%dt%H:%M:%S",
            "N:2022-11-15T10:00:00",
        ),
        ("1668506400", "%s", "E"),
        ("2022-W46", "%G-W%V", "E"),
        (
            "2022-11-15 10:00:00 +0000",
            "%Y-%m-%d %H:%M:%S %z",
            "A:2022-11-15T10:00:00|0",
        ),
        (
            "2022-11-15 10:00:00 -1200",
            "%Y-%m-%d %H:%M:%S %z",
            "A:2022-11-15T10:00:00|-43200",
        ),
        (
            "0001-01-01 00:00:00 +0100",
            "%Y-%m-%d %H:%M:%S %z",
            "A:0001-01-01T00:00:00|3600",
        ),
        (
            "2022-11-15 10:00:00+01:00:30",
            "%Y-%m-%d %H:%M:%S%z",
            "A:2022-11-15T10:00:00|3630",
        ),
    ];
    const CONVERT: &[(&str, Option<&str>, &str)] = &[
        ("1668506400", Some("timestamp"), "2022-11-15T10:00:00+00:00"),
        (
            "1668506400.123",
            Some("timestamp"),
            "2022-11-15T10:00:00.123000+00:00",
        ),
        (
            "1668506400.5",
            Some("timestamp"),
            "2022-11-15T10:00:00.500000+00:00",
        ),
        (
            "-1.5",
            Some("timestamp"),
            "1969-12-31T23:59:58.500000+00:00",
        ),
        (
            " 1668506400 ",
            Some("timestamp"),
            "2022-11-15T10:00:00+00:00",
        ),
        (
            "1_668_506_400",
            Some("timestamp"),
            "2022-11-15T10:00:00+00:00",
        ),
        ("1e9", Some("timestamp"), "2001-09-09T01:46:40+00:00"),
        ("0", Some("timestamp"), "1970-01-01T00:00:00+00:00"),
        ("nan", Some("timestamp"), "E"),
        ("inf", Some("timestamp"), "E"),
        ("abc", Some("timestamp"), "E"),
        ("253402300800", Some("timestamp"), "E"),
        ("253402300799.9999999", Some("timestamp"), "E"),
        (
            "-62135596800",
            Some("timestamp"),
            "0001-01-01T00:00:00+00:00",
        ),
        ("-62135596801", Some("timestamp"), "E"),
        (
            "1668506400.0000005",
            Some("timestamp"),
            "2022-11-15T10:00:00+00:00",
        ),
        (
            "0.0000015",
            Some("timestamp"),
            "1970-01-01T00:00:00.000002+00:00",
        ),
        (
            "1668506400",
            Some("epoch_millis"),
            "2022-11-15T10:00:00+00:00",
        ),
        (
            "166850640012",
            Some("epoch_millis"),
            "2022-11-15T10:00:00+00:00",
        ),
        (
            "1668506400123",
            Some("epoch_millis"),
            "2022-11-15T10:00:00+00:00",
        ),
        ("16685064001", Some("epoch_millis"), "E"),
        ("16685064", Some("epoch_millis"), "E"),
        (
            "-123456789",
            Some("epoch_millis"),
            "1966-02-02T02:26:51+00:00",
        ),
        (
            "-12345678901",
            Some("epoch_millis"),
            "1966-02-02T02:26:50+00:00",
        ),
        ("abc", Some("epoch_millis"), "E"),
        (" 1668506400", Some("epoch_millis"), "E"),
        (
            "1_66850640",
            Some("epoch_millis"),
            "1975-04-16T03:24:00+00:00",
        ),
        (
            "1668506400999",
            Some("epoch_millis"),
            "2022-11-15T10:00:00+00:00",
        ),
        (
            "133130544000000000",
            Some("windows_nt"),
            "2022-11-16T06:40:00+00:00",
        ),
        (
            "133130544001234567",
            Some("windows_nt"),
            "2022-11-16T06:40:00.123455+00:00",
        ),
        ("0", Some("windows_nt"), "1601-01-01T00:00:00+00:00"),
        ("1", Some("windows_nt"), "1601-01-01T00:00:00+00:00"),
        ("5", Some("windows_nt"), "1601-01-01T00:00:00+00:00"),
        ("15", Some("windows_nt"), "1601-01-01T00:00:00.000002+00:00"),
        ("25", Some("windows_nt"), "1601-01-01T00:00:00.000002+00:00"),
        (
            "116444736000000000",
            Some("windows_nt"),
            "1970-01-01T00:00:00+00:00",
        ),
        ("-1", Some("windows_nt"), "1601-01-01T00:00:00+00:00"),
        ("abc", Some("windows_nt"), "E"),
        ("2650467743999999999", Some("windows_nt"), "E"),
        ("9223372036854775807", Some("windows_nt"), "E"),
        (
            "133130544009999995",
            Some("windows_nt"),
            "2022-11-16T06:40:01+00:00",
        ),
        (
            " 42 ",
            Some("windows_nt"),
            "1601-01-01T00:00:00.000004+00:00",
        ),
        (
            "2022-11-15T10:00:00+00:00",
            Some("utc_isoformat"),
            "2022-11-15T10:00:00+00:00",
        ),
        ("2022-11-15T10:00:00Z", Some("utc_isoformat"), "E"),
        ("2022-11-15 10:00:00 CET", None, "2022-11-15T10:00:00+00:00"),
        (
            "2022-11-15 10:00:00 CET",
            Some("fuzzy"),
            "2022-11-15T10:00:00+00:00",
        ),
        (
            "2022-11-15T10:00:00+02:00",
            Some("fuzzy"),
            "2022-11-15T08:00:00+00:00",
        ),
        (
            "2022-1-5T10:00:00+00:00",
            Some("fuzzy"),
            "2022-01-05T10:00:00+00:00",
        ),
        ("garbage", Some("fuzzy"), "E"),
        (
            "15/11/2022 10:00",
            Some("from_format|%d/%m/%Y %H:%M"),
            "2022-11-15T10:00:00+00:00",
        ),
        (
            "2022-11-15T10:00:00+0200",
            Some("from_format|%Y-%m-%dT%H:%M:%S%z"),
            "2022-11-15T08:00:00+00:00",
        ),
        (
            "2022-11-15T01:00:00+0200",
            Some("from_format_midnight|%Y-%m-%dT%H:%M:%S%z"),
            "2022-11-15T00:00:00+00:00",
        ),
        (
            "15-11-2022",
            Some("from_format_midnight|%d-%m-%Y"),
            "2022-11-15T00:00:00+00:00",
        ),
        ("15-11-2022", Some("from_format|%d/%m/%Y"), "E"),
        ("15-11-2022", Some("from_format"), "E"),
        ("15-11-2022", Some("bogus"), "E"),
        (
            "0001-01-01T00:30:00+0100",
            Some("from_format|%Y-%m-%dT%H:%M:%S%z"),
            "E",
        ),
    ];
    // END ORACLE TABLES
}
