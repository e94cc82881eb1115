//! HTML and XML parsers over raw feed bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&which, data)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => common::parse(
            "html-table",
            r#"{"columns":["source.ip","source.url","time.source"],"type":"malware-distribution"}"#,
            data,
        ),
        1 => common::parse("fireeye", "{}", data),
        _ => common::parse("threatminer", "{}", data),
    }
});
