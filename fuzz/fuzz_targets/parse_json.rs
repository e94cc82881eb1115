//! JSON parsers over raw feed bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&which, data)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => common::parse("abusech-feodotracker", "{}", data),
        1 => common::parse("json", r#"{"splitlines":true}"#, data),
        2 => common::parse(
            "shadowserver-json",
            &format!(r#"{{"schema_file":{:?}}}"#, common::schema()),
            data,
        ),
        3 => common::parse("alienvault-otx", "{}", data),
        _ => common::parse("misp", "{}", data),
    }
});
