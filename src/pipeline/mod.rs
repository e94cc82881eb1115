//! What components use: the [`Stage`] a tool runs, the [`Emit`] handle it sends
//! through, [`Fail`], the counters ([`Stats`]) and the one stream loop ([`run`]).
//!
//! A tool is a [`Stage`]: one message in, zero or more out. [`run`] takes messages
//! from a [`Source`](crate::transport::Source), decodes them, hands them to the
//! stage, and passes what the stage emits to a [`Sink`](crate::transport::Sink).
//! Bad lines go to the [`Dumper`](crate::dump::Dumper); counters are kept so that
//! `input == output + filtered + dumped` can be checked. Where bytes come from and
//! go to is the [`transport`](crate::transport) layer's business, not a stage's.
//!
//! # Delivery contract
//!
//! The loop commits at batch boundaries: when the source is idle (no input ready
//! without waiting), every [`BATCH`] messages, when a stage asks for it, after a
//! second without a commit, and at the end. A commit is, in this order,
//! [`Stage::commit`] (an output confirms its writes), `Sink::commit` (what was
//! sent is durable downstream), `Source::ack` (the input of the batch is
//! released). A crash before the ack re-delivers the batch instead of losing it:
//! at-least-once, as IntelMQ.

mod log;
mod run;
pub mod signal;
mod stage;
mod stats;

pub use log::{eprintln_safe, sanitize_for_terminal, Log};
pub use run::{is_blank, run, Outcome, RunOpts, BATCH};
pub use stage::{Emit, Fail, Stage};
pub use stats::{PathCounts, Stats, StatsFile, StatsFormat};
