//! Timestamp parsing: fuzzy (dateutil), strptime, IntelMQ's conversions.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let default = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    if let Ok(p) = imq::timeparse::parse_fuzzy(s, default) {
        let _ = imq::timeparse::to_iso(&p.to_utc());
    }
    let _ = imq::timeparse::sanitize(s);
    let _ = imq::timeparse::from_epoch_millis(s);
    if let Ok(f) = s.parse::<f64>() {
        let _ = imq::timeparse::from_timestamp(f);
    }
    if let Ok(n) = s.parse::<i64>() {
        let _ = imq::timeparse::from_windows_nt(n);
    }
    for fmt in [
        None,
        Some("epoch_millis"),
        Some("from_format|%Y-%m-%d %H:%M:%S"),
        Some("timestamp"),
        Some("windows_nt"),
    ] {
        let _ = imq::timeparse::convert(s, fmt);
    }
    if let Some((a, b)) = s.split_once('\u{1}') {
        let _ = imq::timeparse::strptime(a, b);
    }
});
