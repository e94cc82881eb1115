//! `imq-filter`: keep, drop, route and rewrite events.
//!
//! Three ways to say what to do, one stage to run them:
//! * a one-liner expression ([`expr`]): keep the events it is true for;
//! * a sieve file ([`sieve`]): IntelMQ's sieve expert, complete;
//! * IntelMQ's filter expert ([`filter_expert`]).
//!
//! A kept event that nothing modified is written as its original input line
//! (same bytes); only events a sieve rule changed are serialized again.

pub mod cond;
pub mod expr;
pub mod filter_expert;
pub mod sieve;
pub mod value;

use crate::harmonization::MsgType;
use crate::message::Message;
use crate::pipeline::{Emit, Fail, Stage};
use std::collections::HashSet;

/// The path dropped events are written to when `--reject FILE` is given.
pub const REJECT_PATH: &str = "_reject";

/// What decides about each event.
pub enum Program {
    Expr(cond::Cond),
    Sieve(sieve::Sieve),
    Filter(filter_expert::FilterExpert),
}

/// The IntelMQ modules `--intelmq` runs.
pub const SIEVE_MODULE: &str = "intelmq.bots.experts.sieve.expert";
pub const FILTER_MODULE: &str = "intelmq.bots.experts.filter.expert";

impl Program {
    /// The program for an IntelMQ module and its parameters.
    pub fn intelmq(module: &str, params: &crate::enrich::Params) -> anyhow::Result<Program> {
        match module.trim_end_matches(".py") {
            SIEVE_MODULE | "sieve" => {
                let file = params
                    .get("file")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| anyhow::anyhow!("the sieve expert needs the parameter 'file'"))?;
                Ok(Program::Sieve(sieve::Sieve::from_file(file)?))
            }
            FILTER_MODULE | "filter" => Ok(Program::Filter(
                filter_expert::FilterExpert::from_params(params)?,
            )),
            _ => anyhow::bail!(
                "imq-filter runs {SIEVE_MODULE} and {FILTER_MODULE}, not {module:?} (see imq-enrich --list)"
            ),
        }
    }
}

/// The filter stage.
pub struct Filter {
    pub program: Program,
    /// Keep what the expression rejects (`-v`).
    pub invert: bool,
    /// Dropped events go to [`REJECT_PATH`].
    pub reject: bool,
    /// Optional paths of the filter expert that are configured (IntelMQ
    /// sends to `filter_match` & co. only when they are).
    pub paths: HashSet<String>,
    cache: cond::Cache,
}

impl Filter {
    pub fn new(program: Program) -> Filter {
        Filter {
            program,
            invert: false,
            reject: false,
            paths: HashSet::new(),
            cache: cond::Cache::default(),
        }
    }
}

/// An event no rule kept: to the reject file, or counted as filtered.
fn dropped(reject: bool, out: &mut Emit) -> Result<(), Fail> {
    {
        if reject {
            out.divert(REJECT_PATH)?;
        } else {
            out.filtered();
        }
        Ok(())
    }
}

impl Stage for Filter {
    fn default_type(&self) -> MsgType {
        MsgType::Event
    }

    fn process(&mut self, mut msg: Message, out: &mut Emit) -> Result<(), Fail> {
        match &mut self.program {
            Program::Expr(c) => {
                self.cache.reset();
                if c.eval(&msg, &Vec::new(), &mut self.cache)? != self.invert {
                    out.send_original("_default")?;
                } else {
                    dropped(self.reject, out)?;
                }
            }
            Program::Sieve(s) => match s.process(&mut msg)? {
                sieve::Outcome::Drop => {
                    dropped(self.reject, out)?;
                }
                sieve::Outcome::Send { paths, modified } => {
                    let default = ["_default".to_string()];
                    let paths = if paths.is_empty() {
                        &default[..]
                    } else {
                        paths
                    };
                    // One event, however many paths get a copy: out once.
                    for (i, p) in paths.iter().enumerate() {
                        match (i, modified) {
                            (0, true) => out.send_to(p, &msg)?,
                            (0, false) => out.send_original(p)?,
                            (_, true) => out.also_to(p, Some(&msg))?,
                            (_, false) => out.also_to(p, None)?,
                        }
                    }
                }
            },
            Program::Filter(f) => match f.decide(&msg) {
                filter_expert::Decision::Drop => {
                    dropped(self.reject, out)?;
                }
                filter_expert::Decision::Send(paths) => {
                    let mut sent = false;
                    for p in paths {
                        if *p == "_default" || self.paths.contains(*p) {
                            if sent {
                                out.also_to(p, None)?;
                            } else {
                                out.send_original(p)?;
                            }
                            sent = true;
                        }
                    }
                    if !sent {
                        dropped(self.reject, out)?;
                    }
                }
            },
        }
        Ok(())
    }
}
