//! CSV and line-based parsers over raw feed bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&which, data)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => common::parse(
            "generic-csv",
            r#"{"columns":["time.source","source.ip","source.url","extra.x"],"type":"scanner","skip_header":true}"#,
            data,
        ),
        1 => common::parse(
            "shadowserver",
            &format!(r#"{{"schema_file":{:?}}}"#, common::schema()),
            data,
        ),
        2 => common::parse("spamhaus-drop", "{}", data),
        3 => common::parse("dshield-block", "{}", data),
        _ => common::parse("alienvault", "{}", data),
    }
});
