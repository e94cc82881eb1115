//! Filter expressions: compiled, and evaluated on an event.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = imq::filter::expr::compile(src) {
        let ev = imq::message::Message::from_json(
            br#"{"source.ip":"192.0.2.1","source.port":80,"time.source":"2024-01-01T00:00:00+00:00","classification.type":"scanner","extra.x":{"a":[1,2]}}"#,
            imq::harmonization::MsgType::Event,
        )
        .unwrap();
        let mut cache = imq::filter::cond::Cache::default();
        let _ = c.eval(&ev, &Vec::new(), &mut cache);
    } else if let Err(e) = imq::filter::expr::compile(src) {
        let _ = e.render(src);
    }
});
