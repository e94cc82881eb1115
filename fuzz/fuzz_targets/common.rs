//! What the fuzz targets share: a stage run over bytes in memory.
#![allow(dead_code)]

use imq::dump::Dumper;
use imq::pipeline::{self, Log, RunOpts, Stage};
use imq::transport::{Next, Pos, Sink, Source};
use std::io::{self, BufRead};

/// Lines in memory; the first comes with `body` as its streamed raw feed.
pub struct Mem {
    lines: Vec<Vec<u8>>,
    at: usize,
    body: Option<Vec<u8>>,
    max: usize,
}

impl Mem {
    pub fn lines(data: &[u8]) -> Mem {
        Mem {
            lines: data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect(),
            at: 0,
            body: None,
            max: 1 << 16,
        }
    }
    pub fn report(body: &[u8]) -> Mem {
        Mem {
            lines: vec![br#"{"__type":"Report","feed.name":"fuzz","extra.file_name":"2024-01-01-scan_http-world.csv"}"#.to_vec()],
            at: 0,
            body: Some(body.to_vec()),
            max: 1 << 16,
        }
    }
}

impl Source for Mem {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        let Some(l) = self.lines.get(self.at) else {
            return Ok(Next::End);
        };
        self.at += 1;
        buf.clear();
        if l.len() > self.max {
            buf.extend_from_slice(&l[..self.max]);
            return Ok(Next::Reject("too long".into()));
        }
        buf.extend_from_slice(l);
        Ok(Next::Line)
    }
    fn pos(&self) -> Pos<'_> {
        Pos {
            input: "fuzz",
            line: self.at as u64,
        }
    }
    fn idle(&self) -> bool {
        false
    }
    fn ack(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn take_body(&mut self) -> Option<Box<dyn BufRead>> {
        self.body
            .take()
            .map(|b| Box::new(io::Cursor::new(b)) as Box<dyn BufRead>)
    }
}

/// Takes everything; checks that each message is one JSON object.
pub struct Check;

impl Sink for Check {
    fn send(&mut self, _path: &str, msg: &[u8]) -> io::Result<()> {
        // JSON text (RFC 8259: `1e400` is a number even where f64 ends).
        assert!(
            msg.starts_with(b"{") && serde_json::from_slice::<serde::de::IgnoredAny>(msg).is_ok(),
            "output is not a JSON object: {}",
            String::from_utf8_lossy(msg)
        );
        Ok(())
    }
    fn commit(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Run a stage over a source; the counters when the run ended normally.
pub fn run(stage: &mut dyn Stage, src: &mut dyn Source) -> Option<pipeline::Stats> {
    let mut dumper = Dumper::new("imq-fuzz", Some("/dev/null".into()));
    let mut log = Log::new("imq-fuzz", true, 0);
    pipeline::run(
        stage,
        src,
        &mut Check,
        &mut dumper,
        &mut log,
        RunOpts::default(),
    )
    .ok()
    .map(|o| o.stats)
}

/// Run parser `name` with `params` (JSON) over `data` as a streamed raw feed.
pub fn parse(name: &str, params: &str, data: &[u8]) {
    let entry = imq::parse::find(name).expect("a parser");
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(params).expect("parameters");
    let params = imq::params::Params::from(map);
    let parser = (entry.build)(&params).expect("parser builds");
    let mut stage = imq::parse::ParseStage::new(parser, &params)
        .expect("stage")
        .max_record(1 << 16);
    run(&mut stage, &mut Mem::report(data));
}

/// The shipped demo Shadowserver schema.
pub fn schema() -> String {
    format!(
        "{}/../tests/data/shadowserver/demo-schema.json",
        env!("CARGO_MANIFEST_DIR")
    )
}
