//! `imq-output`: write events to their destination.
//!
//! An output is one file in this folder implementing [`Output`], plus one entry in
//! [`REGISTRY`]. The shared [`OutputStage`] counts what was delivered and commits
//! the output at every batch boundary.

pub mod csv;
pub mod ndjson;

use crate::message::Message;
use crate::stream::{Emit, Fail, Stage};
use std::io;

/// An output.
pub trait Output {
    /// Deliver one event.
    fn write(&mut self, ev: &Message) -> Result<(), Fail>;
    /// Make everything written so far durable.
    fn commit(&mut self) -> io::Result<()>;
}

/// Options of an output, from the command line.
pub struct OutputOpts {
    pub target: Option<String>,
    pub fields: Vec<String>,
    pub line_buffered: bool,
    pub no_header: bool,
}

pub struct Entry {
    pub name: &'static str,
    pub intelmq: &'static str,
    pub description: &'static str,
    pub build: fn(&OutputOpts) -> anyhow::Result<Box<dyn Output>>,
}

pub const REGISTRY: &[Entry] = &[
    Entry {
        name: "csv",
        intelmq: "",
        description: "CSV with a header row; --fields chooses the columns",
        build: csv::build,
    },
    Entry {
        name: "json",
        intelmq: "intelmq.bots.outputs.file.output",
        description: "events as NDJSON (IntelMQ's file output)",
        build: ndjson::build,
    },
];

pub fn find(name: &str) -> Option<&'static Entry> {
    REGISTRY
        .iter()
        .find(|e| e.name == name || (!e.intelmq.is_empty() && e.intelmq == name))
}

/// The stage delivering events to an output.
pub struct OutputStage {
    pub output: Box<dyn Output>,
}

impl Stage for OutputStage {
    fn process(&mut self, msg: Message, out: &mut Emit) -> Result<(), Fail> {
        self.output.write(&msg)?;
        out.delivered();
        Ok(())
    }

    fn commit(&mut self) -> io::Result<()> {
        self.output.commit()
    }
}
