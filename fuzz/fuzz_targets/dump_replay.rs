//! Dump replay: dump records back to their lines, through a tool.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    for l in data.split(|&b| b == b'\n') {
        let _ = imq::dump::from_dump_line(l);
    }
    let entry = imq::enrich::find("taxonomy").unwrap();
    let expert = (entry.build)(&imq::params::Params::new()).unwrap();
    let mut stage = imq::enrich::Chain {
        experts: vec![expert],
    };
    let mut src = imq::transport::dump::Replay::new(Box::new(common::Mem::lines(data)));
    if let Some(s) = common::run(&mut stage, &mut src) {
        assert!(s.balanced(), "{s}");
    }
});
