//! The line reader and the message reader: NDJSON lines through a one-in-one-out
//! tool (imq-enrich taxonomy), whose counters must balance.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    // The bounded readers.
    let mut buf = Vec::new();
    let mut r: &[u8] = data;
    while let Ok(Some(total)) = imq::transport::line::read_line_limited(&mut r, &mut buf, 64) {
        assert!(buf.len() <= 64 && buf.len() <= total);
    }
    let mut r: &[u8] = data;
    while let Ok(total) = imq::transport::line::read_until_limited(&mut r, b'\n', &mut buf, 64) {
        if total == 0 {
            break;
        }
        assert!(buf.len() <= 64 && buf.len() <= total);
    }
    // Messages through a stage.
    let entry = imq::enrich::find("taxonomy").unwrap();
    let expert = (entry.build)(&imq::params::Params::new()).unwrap();
    let mut stage = imq::enrich::Chain {
        experts: vec![expert],
    };
    if let Some(s) = common::run(&mut stage, &mut common::Mem::lines(data)) {
        assert!(s.balanced(), "{s}");
    }
});
