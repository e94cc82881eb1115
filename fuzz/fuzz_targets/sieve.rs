//! Sieve files: parsed, and run over an event.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(mut s) = imq::filter::sieve::parser::parse(src) {
        let mut ev = imq::message::Message::from_json(
            br#"{"source.ip":"192.0.2.1","source.port":80,"time.source":"2024-01-01T00:00:00+00:00","classification.type":"scanner","extra.x":{"a":[1,2]}}"#,
            imq::harmonization::MsgType::Event,
        )
        .unwrap();
        let _ = s.process(&mut ev);
    }
});
