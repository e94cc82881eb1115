//! A scanner for the one JSON shape on our wire: a flat object per line.
//!
//! It finds each key and the exact text of its value without building anything,
//! so that [`crate::message`] can check values where they lie and write unchanged
//! ones back byte for byte. It validates as it goes (UTF-8 once for the whole
//! line, string contents, literals, numbers; nested objects and arrays are handed
//! to serde_json). Anything it does not like makes it give up (`None`); the caller
//! then decodes the line with serde_json, which either succeeds (an unusual but
//! valid line) or produces the precise error message for the dump.

use serde::de::IgnoredAny;

/// Kinds of values, as far as the caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string without escapes: the text between the quotes is the value.
    Plain,
    /// A string with escapes.
    Escaped,
    Number,
    True,
    False,
    Null,
    /// An object or array.
    Nested,
}

/// One `"key": value` of the line.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'a> {
    pub key: &'a str,
    /// The value's JSON text (with quotes for strings).
    pub text: &'a str,
    /// Byte offset of `text` in the line.
    pub start: usize,
    pub kind: Kind,
    /// The key is the one `expect` gave for this position.
    pub expected: bool,
}

/// Byte classes inside strings: 0 = ordinary, 1 = quote, 2 = backslash, 3 = control.
static STR_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = 3;
        i += 1;
    }
    t[b'"' as usize] = 1;
    t[b'\\' as usize] = 2;
    t
};

/// Any byte below 0x20? Written as a branch-free fold over blocks so that the
/// compiler vectorizes it.
fn has_control(line: &[u8]) -> bool {
    line.chunks(64)
        .any(|c| c.iter().fold(0u8, |acc, &b| acc | (b < 0x20) as u8) != 0)
}

#[inline(always)]
fn skip_ws(b: &[u8], i: usize) -> usize {
    // Our own lines have no whitespace between tokens: one compare.
    match b.get(i) {
        Some(&c) if c > b' ' => i,
        _ => skip_ws_slow(b, i),
    }
}

fn skip_ws_slow(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The first `"` or `\\` at or after `i`. Most strings on our lines are short
/// (20 bytes or so): eight bytes at a time in a register finds their end in a few
/// steps, where a SIMD search call costs more to set up than it saves; long
/// strings go to memchr2.
#[inline]
pub(crate) fn next_quote_or_backslash(b: &[u8], i: usize) -> Option<usize> {
    const LO: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // High bit set in each byte of `v` that is zero (exact, no false positives).
    let zero = |v: u64| !(((v & LO) + LO) | v | LO);
    let mut j = i;
    for _ in 0..4 {
        let Some(w) = b.get(j..j + 8) else { break };
        let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        let hit = zero(w ^ 0x2222_2222_2222_2222) | zero(w ^ 0x5c5c_5c5c_5c5c_5c5c);
        if hit != 0 {
            return Some(j + (hit.trailing_zeros() / 8) as usize);
        }
        j += 8;
    }
    Some(j + memchr::memchr2(b'"', b'\\', b.get(j..)?)?)
}

/// Where a line's quotes and backslashes are (bit `i % 64` of word `i / 64` for
/// byte `i`), found in one pass with its other facts; strings are then scanned by
/// jumping from mark to mark instead of reading their bytes again.
struct Marks {
    bits: Vec<u64>,
}

/// What [`Marks::fill`] learnt about the line's bytes.
struct LineFacts {
    /// A byte above 0x7f: the line needs a full UTF-8 check.
    high: bool,
    /// A byte below 0x20 (exact only when `!high`).
    control: bool,
}

impl Marks {
    /// Mark `line`, 32 bytes per step with AVX2 when the CPU has it, else 16 with
    /// SSE2 (every x86_64 has it): a JSON line is mostly string contents, and this
    /// pass replaces both the UTF-8 check of an ASCII line and the byte-by-byte
    /// search for each string's end.
    #[cfg(target_arch = "x86_64")]
    fn fill(&mut self, line: &[u8]) -> LineFacts {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            unsafe { self.fill_avx2(line) }
        } else {
            self.fill_sse2(line)
        }
    }

    /// [`Marks::fill`] 32 bytes per step.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn fill_avx2(&mut self, line: &[u8]) -> LineFacts {
        use std::arch::x86_64::*;
        self.bits.clear();
        self.bits.reserve(line.len() / 64 + 1);
        let quote = _mm256_set1_epi8(b'"' as i8);
        let backslash = _mm256_set1_epi8(b'\\' as i8);
        let space = _mm256_set1_epi8(b' ' as i8);
        let mut high = _mm256_setzero_si256();
        let mut control = _mm256_setzero_si256();
        // No closure: closures do not inherit `target_feature`, and the
        // intrinsics would become calls.
        let mut pad = [b' '; 64];
        let blocks = line.len().div_ceil(64);
        for n in 0..blocks {
            let at = n * 64;
            let p = if at + 64 <= line.len() {
                line[at..].as_ptr()
            } else {
                // The tail, padded with spaces (neither marked nor control).
                pad[..line.len() - at].copy_from_slice(&line[at..]);
                pad.as_ptr()
            };
            // SAFETY: two 32-byte loads inside a 64-byte block of `line` or `pad`.
            let (v0, v1) = unsafe {
                (
                    _mm256_loadu_si256(p as *const __m256i),
                    _mm256_loadu_si256(p.add(32) as *const __m256i),
                )
            };
            let m0 = _mm256_or_si256(
                _mm256_cmpeq_epi8(v0, quote),
                _mm256_cmpeq_epi8(v0, backslash),
            );
            let m1 = _mm256_or_si256(
                _mm256_cmpeq_epi8(v1, quote),
                _mm256_cmpeq_epi8(v1, backslash),
            );
            // black_box: without it, LLVM merges the two masks into a 64-lane
            // bit vector and takes it apart bit by bit.
            let lo = std::hint::black_box(_mm256_movemask_epi8(m0)) as u32;
            let hi = std::hint::black_box(_mm256_movemask_epi8(m1)) as u32;
            let word = u64::from(lo) | u64::from(hi) << 32;
            high = _mm256_or_si256(high, _mm256_or_si256(v0, v1));
            control = _mm256_or_si256(
                control,
                _mm256_or_si256(_mm256_cmpgt_epi8(space, v0), _mm256_cmpgt_epi8(space, v1)),
            );
            self.bits.push(word);
        }
        LineFacts {
            high: _mm256_movemask_epi8(high) != 0,
            control: _mm256_movemask_epi8(control) != 0,
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn fill_sse2(&mut self, line: &[u8]) -> LineFacts {
        use std::arch::x86_64::*;
        self.bits.clear();
        self.bits.reserve(line.len() / 64 + 1);
        // SAFETY: SSE2 is part of the x86_64 baseline; every load reads 16 bytes
        // inside a 64-byte block (a chunk of the line, or the padded copy of its
        // tail).
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let space = _mm_set1_epi8(b' ' as i8);
            let mut high = _mm_setzero_si128();
            let mut control = _mm_setzero_si128();
            let mut block = |b: &[u8]| -> u64 {
                let mut word = 0u64;
                for k in 0..4 {
                    let v = _mm_loadu_si128(b.as_ptr().add(16 * k) as *const __m128i);
                    let m = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
                    word |= u64::from(_mm_movemask_epi8(m) as u16) << (16 * k);
                    high = _mm_or_si128(high, v);
                    // Signed compare: true below 0x20, and for bytes above 0x7f
                    // (negative), which `high` reports anyway.
                    control = _mm_or_si128(control, _mm_cmplt_epi8(v, space));
                }
                word
            };
            let mut chunks = line.chunks_exact(64);
            for c in &mut chunks {
                let w = block(c);
                self.bits.push(w);
            }
            let rest = chunks.remainder();
            if !rest.is_empty() {
                // Spaces: neither marked nor control.
                let mut pad = [b' '; 64];
                pad[..rest.len()].copy_from_slice(rest);
                let w = block(&pad);
                self.bits.push(w);
            }
            LineFacts {
                high: _mm_movemask_epi8(high) != 0,
                control: _mm_movemask_epi8(control) != 0,
            }
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn fill(&mut self, line: &[u8]) -> LineFacts {
        self.fill_scalar(line)
    }

    /// [`Marks::fill`] a byte at a time: other architectures, and the reference
    /// the vector versions are tested against.
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    fn fill_scalar(&mut self, line: &[u8]) -> LineFacts {
        self.bits.clear();
        let (mut high, mut control) = (false, false);
        for c in line.chunks(64) {
            let mut word = 0u64;
            for (k, &b) in c.iter().enumerate() {
                word |= u64::from(b == b'"' || b == b'\\') << k;
                high |= b >= 0x80;
                control |= b < 0x20;
            }
            self.bits.push(word);
        }
        LineFacts { high, control }
    }

    /// The first marked byte at or after `i`.
    #[inline(always)]
    fn next(&self, i: usize) -> Option<usize> {
        let mut w = i >> 6;
        let mut word = *self.bits.get(w)? & (!0u64 << (i & 63));
        while word == 0 {
            w += 1;
            word = *self.bits.get(w)?;
        }
        Some(w * 64 + word.trailing_zeros() as usize)
    }
}

thread_local! {
    static MARKS: std::cell::RefCell<Marks> = const { std::cell::RefCell::new(Marks { bits: Vec::new() }) };
}

/// Byte equality for the short strings of a line (keys, most values) in
/// registers, with overlapping word loads: a call to `memcmp` costs more than
/// such a compare.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w64 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let w32 = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => w32(a, 0) == w32(b, 0) && w32(a, n - 4) == w32(b, n - 4),
        8..=16 => w64(a, 0) == w64(b, 0) && w64(a, n - 8) == w64(b, n - 8),
        17..=32 => {
            (w64(a, 0) ^ w64(b, 0))
                | (w64(a, 8) ^ w64(b, 8))
                | (w64(a, n - 16) ^ w64(b, n - 16))
                | (w64(a, n - 8) ^ w64(b, n - 8))
                == 0
        }
        _ => a == b,
    }
}

/// Scan a string starting at the opening quote `b[i]`; returns the index after the
/// closing quote and whether it had escapes.
#[inline(always)]
fn scan_string(b: &[u8], marks: &Marks, mut i: usize) -> Option<(usize, bool)> {
    i += 1;
    let mut escaped = false;
    loop {
        // The caller made sure the line has no control characters, so only quotes
        // and backslashes matter here.
        i = marks.next(i)?;
        match b.get(i).map(|&c| STR_CLASS[c as usize]) {
            Some(1) => return Some((i + 1, escaped)),
            Some(2) => {
                escaped = true;
                let e = *b.get(i + 1)?;
                match e {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                    b'u' => {
                        let hex = b.get(i + 2..i + 6)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        // Surrogates must pair up; leave those to serde_json.
                        let v = u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                        if (0xD800..0xE000).contains(&v) {
                            return None;
                        }
                        i += 6;
                    }
                    _ => return None,
                }
            }
            _ => return None, // control character or end of input
        }
    }
}

fn scan_number(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return None;
        }
    }
    Some(i)
}

/// Scan a line holding one flat JSON object. `None`: not handled here (invalid,
/// or a key with escapes); decode it with serde_json instead.
pub fn scan_object<'a>(line: &'a [u8], out: &mut Vec<Pair<'a>>) -> Option<()> {
    scan_object_expecting(line, out, |_| None)
}

/// [`scan_object`], told which key the caller expects at each position (lines of
/// one stream repeat their keys in order): an expected key is compared in place
/// instead of scanned. An expected key must hold no quote, backslash or control
/// character, so that matching its bytes and a closing quote is the scan's result.
pub fn scan_object_expecting<'a>(
    line: &'a [u8],
    out: &mut Vec<Pair<'a>>,
    expect: impl Fn(usize) -> Option<&'static str>,
) -> Option<()> {
    out.clear();
    MARKS.with_borrow_mut(|marks| {
        let facts = marks.fill(line);
        scan_marked(line, marks, facts, out, expect)
    })
}

fn scan_marked<'a>(
    line: &'a [u8],
    marks: &Marks,
    facts: LineFacts,
    out: &mut Vec<Pair<'a>>,
    expect: impl Fn(usize) -> Option<&'static str>,
) -> Option<()> {
    // An ASCII line is UTF-8; others get the full check. All slices below fall on
    // ASCII delimiters, so they are valid `str`s too.
    let s = if facts.high {
        std::str::from_utf8(line).ok()?
    } else {
        // SAFETY: every byte is below 0x80.
        unsafe { std::str::from_utf8_unchecked(line) }
    };
    // Control characters are only allowed as whitespace between tokens; a line
    // holding one anywhere is rare enough to leave to serde_json, and ruling them
    // out here lets string scanning look for two bytes only.
    let control = if facts.high {
        has_control(line)
    } else {
        facts.control
    };
    if control {
        return None;
    }
    let b = line;
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        i = skip_ws(b, i + 1);
        return (i == b.len()).then_some(());
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let want = expect(out.len()).map(str::as_bytes);
        let (kend, expected) = match want {
            Some(k)
                if b.get(i + 1 + k.len()) == Some(&b'"')
                    && same_bytes(&b[i + 1..i + 1 + k.len()], k) =>
            {
                (i + 2 + k.len(), true)
            }
            _ => {
                let (kend, kesc) = scan_string(b, marks, i)?;
                if kesc {
                    return None;
                }
                (kend, false)
            }
        };
        let key = &s[i + 1..kend - 1];
        i = skip_ws(b, kend);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let start = i;
        let (end, kind) = match *b.get(i)? {
            b'"' => {
                let (e, esc) = scan_string(b, marks, i)?;
                (e, if esc { Kind::Escaped } else { Kind::Plain })
            }
            b't' if b[i..].starts_with(b"true") => (i + 4, Kind::True),
            b'f' if b[i..].starts_with(b"false") => (i + 5, Kind::False),
            b'n' if b[i..].starts_with(b"null") => (i + 4, Kind::Null),
            b'{' | b'[' => {
                let mut it =
                    serde_json::Deserializer::from_slice(&b[i..]).into_iter::<IgnoredAny>();
                it.next()?.ok()?;
                (i + it.byte_offset(), Kind::Nested)
            }
            _ => (scan_number(b, i)?, Kind::Number),
        };
        out.push(Pair {
            key,
            text: &s[start..end],
            start,
            kind,
            expected,
        });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => {
                i = skip_ws(b, i + 1);
                return (i == b.len()).then_some(());
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(s: &str) -> Option<Vec<(String, String, Kind)>> {
        let mut v = Vec::new();
        scan_object(s.as_bytes(), &mut v)?;
        Some(
            v.iter()
                .map(|p| (p.key.to_string(), p.text.to_string(), p.kind))
                .collect(),
        )
    }

    #[test]
    fn scans_flat_objects() {
        let r =
            scan(r#" {"a": "x", "b":1.5e3 ,"c":true,"d":null,"e":{"f":[1,"}"]},"g":"q\"\u00e9"} "#)
                .unwrap();
        assert_eq!(r[0], ("a".into(), "\"x\"".into(), Kind::Plain));
        assert_eq!(r[1], ("b".into(), "1.5e3".into(), Kind::Number));
        assert_eq!(r[2].2, Kind::True);
        assert_eq!(r[3].2, Kind::Null);
        assert_eq!(r[4], ("e".into(), r#"{"f":[1,"}"]}"#.into(), Kind::Nested));
        assert_eq!(r[5].2, Kind::Escaped);
        assert_eq!(scan("{}").unwrap().len(), 0);
    }

    #[test]
    fn word_search_agrees_with_memchr() {
        let mut line = Vec::new();
        for n in 0..80u32 {
            line.push(match n.wrapping_mul(2654435761) % 11 {
                0 => b'"',
                1 => b'\\',
                2 => 0xe9,
                3 => 0x5c ^ 0x80,
                _ => b'a' + (n % 26) as u8,
            });
        }
        for end in 0..=line.len() {
            for i in 0..=end {
                let b = &line[..end];
                let want = memchr::memchr2(b'"', b'\\', &b[i..]).map(|k| i + k);
                assert_eq!(next_quote_or_backslash(b, i), want, "{i} {end}");
            }
        }
    }

    /// The vector markers agree with the byte-at-a-time one on every length and
    /// every kind of byte (the control flag only counts for ASCII lines).
    #[test]
    fn marks_agree() {
        let mut line = Vec::new();
        let (mut want, mut got) = (Marks { bits: Vec::new() }, Marks { bits: Vec::new() });
        for n in 0..300u32 {
            let x = n.wrapping_mul(2654435761) >> 7;
            line.push(match x % 13 {
                0 => b'"',
                1 => b'\\',
                2 => 0xe9,
                3 => b'"' ^ 0x80,
                4 => 0x1f,
                5 => b' ',
                _ => b'a' + (x % 26) as u8,
            });
            for ascii_only in [false, true] {
                let l: Vec<u8> = if ascii_only {
                    line.iter()
                        .map(|&b| if (0x20..0x80).contains(&b) { b } else { b'x' })
                        .collect()
                } else {
                    line.clone()
                };
                let w = want.fill_scalar(&l);
                let mut fills: Vec<fn(&mut Marks, &[u8]) -> LineFacts> = vec![Marks::fill];
                #[cfg(target_arch = "x86_64")]
                {
                    fills.push(Marks::fill_sse2);
                    if std::arch::is_x86_feature_detected!("avx2") {
                        // SAFETY: detected.
                        fills.push(|m, l| unsafe { m.fill_avx2(l) });
                    }
                }
                for fill in fills {
                    let g = fill(&mut got, &l);
                    assert_eq!(got.bits, want.bits, "{l:?}");
                    assert_eq!(g.high, w.high);
                    if !w.high {
                        assert_eq!(g.control, w.control);
                    }
                }
            }
        }
    }

    #[test]
    fn same_bytes_is_slice_equality() {
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..40 {
            let a = &base[..n];
            assert!(same_bytes(a, a));
            assert!(!same_bytes(a, &base[..n + 1]));
            for k in 0..n {
                let mut b = a.to_vec();
                b[k] ^= 0x20;
                assert!(!same_bytes(a, &b), "{n} {k}");
            }
        }
    }

    /// Strings of any length and position in the line, escapes at block edges.
    #[test]
    fn long_lines_scan_the_same() {
        for pad in [0, 60, 63, 64, 65, 8100, 9000] {
            let long = "y".repeat(pad);
            let line = format!(r#"{{"a":"{long}","b":"q\"x\\","c":1,"d":"{long}\u00e9"}}"#);
            let r = scan(&line).unwrap();
            assert_eq!(r.len(), 4, "{pad}");
            assert_eq!(r[1], ("b".into(), r#""q\"x\\""#.into(), Kind::Escaped));
            assert_eq!(r[3].1.len(), pad + 8);
            assert!(scan(&format!("{{\"a\":\"{long}\u{1}\"}}")).is_none());
        }
    }

    #[test]
    fn gives_up_on_anything_odd() {
        for bad in [
            "",
            "[]",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":01}",
            "{\"a\":1} x",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":tru}",
            "{\"a\":\"\\x\"}",
            "{\"a\\n\":1}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":-}",
            "{\"a\":1.}",
            "{\"a\":1e}",
        ] {
            assert!(scan(bad).is_none(), "{bad:?}");
        }
        let mut v = Vec::new();
        assert!(scan_object(b"{\"a\":\"\xff\"}", &mut v).is_none());
    }
}
