//! imq: IntelMQ rebuilt as a Unix toolkit.
//!
//! Five tools (`imq-collect`, `imq-parse`, `imq-enrich`, `imq-filter`,
//! `imq-output`) exchange IntelMQ messages as newline-delimited JSON. This crate is
//! their library; the binaries in `src/bin/` are thin wrappers.
//!
//! * [`harmonization`]: IntelMQ's data format (fields, types, sanitation).
//! * [`message`]: events and reports, and the wire format.
//! * [`stream`]: the one stream loop and the transport interface (sources, sinks).
//! * [`dump`]: where rejected input goes.
//! * [`cli`]: common flags and exit codes.
//! * [`collect`], [`parse`], [`enrich`], [`filter`], [`output`]: the tools.

pub mod cli;
pub mod collect;
pub mod dump;
pub mod enrich;
pub mod filter;
pub mod harmonization;
pub mod help;
pub mod jsonscan;
pub mod message;
pub mod names;
pub mod net;
pub mod output;
pub mod params;
pub mod parse;
pub mod pipeline;
pub mod pyfmt;
pub mod pyurl;
pub mod supervise;
pub mod timeparse;
pub mod transport;

pub use harmonization::MsgType;
pub use message::Message;
