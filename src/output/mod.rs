//! `imq-output`: write events to their destination.
//!
//! An output is one file in this folder implementing [`Output`], plus one entry in
//! [`REGISTRY`]. The shared [`OutputStage`] counts what was delivered and commits
//! the output at every batch boundary.

pub mod amqptopic;
pub mod atomic;
pub mod blackhole;
pub mod blocklist;
pub mod bro_file;
pub mod csv;
pub mod elasticsearch;
pub mod export;
pub mod export_fast;
pub mod file;
pub mod files;
pub mod misp_feed;
pub mod mqtt;
pub mod ndjson;
pub mod postgres;
pub mod redis;
pub mod restapi;
pub mod retry;
pub mod rpz_file;
pub mod smtp;
pub mod smtp_batch;
pub mod splunk;
pub mod sql;
pub mod sqlite;
pub mod stomp;
pub mod tcp;
pub mod templated_smtp;
pub mod touch;
pub mod udp;

use crate::message::Message;
use crate::pipeline::{Emit, Fail, Stage};
use crate::transport::Pos;

/// An output: takes events into a batch and delivers the batch on commit.
pub trait Output {
    /// Take one event (its original input line beside it) into the current
    /// batch; an output may deliver right away, but is only believed at commit.
    fn write(&mut self, ev: &Message, original: &[u8]) -> Result<(), Fail>;
    /// Deliver the batch and wait for the destination to confirm it. Returns the
    /// events of the batch (by their index in write order since the last commit)
    /// that the destination refused for good, each with its reason; all others
    /// are confirmed. Transient failures are retried inside, with backoff, for a
    /// bounded time; then the error stops the run (nothing of the batch is
    /// acknowledged).
    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>>;
    /// Is the batch as big as the output wants it (size, bytes)?
    fn batch_full(&self) -> bool {
        false
    }
    /// The input ended and every batch is delivered: work done once at the end
    /// (smtp_batch sends its mails).
    fn finish(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Options of an output, from the command line.
pub struct OutputOpts {
    pub target: Option<String>,
    pub fields: Vec<String>,
    pub line_buffered: bool,
    pub no_header: bool,
    /// Parameters (IntelMQ's names): `--params FILE` and `-p KEY=VALUE`.
    pub params: crate::params::Params,
    /// `--bot-id`: names state where IntelMQ does (Redis keys).
    pub bot_id: Option<String>,
}

pub struct Entry {
    pub name: &'static str,
    pub intelmq: &'static str,
    pub description: &'static str,
    pub build: fn(&OutputOpts) -> anyhow::Result<Box<dyn Output>>,
}

pub const REGISTRY: &[Entry] = &[
    Entry {
        name: "amqptopic",
        intelmq: "intelmq.bots.outputs.amqptopic.output",
        description: "publish to a RabbitMQ exchange, routing keys from templates, publisher confirms",
        build: amqptopic::build,
    },
    Entry {
        name: "blackhole",
        intelmq: "intelmq.bots.outputs.blackhole.output",
        description: "take events and drop them",
        build: blackhole::build,
    },
    Entry {
        name: "blocklist",
        intelmq: "",
        description: "deduplicated sorted IPs/networks, domains or URLs (plain, csv, nftables, ipset), replaced atomically",
        build: blocklist::build,
    },
    Entry {
        name: "bro_file",
        intelmq: "intelmq.bots.outputs.bro_file.output",
        description: "Zeek (Bro) intel file of IPs, domains and URLs",
        build: bro_file::build,
    },
    Entry {
        name: "csv",
        intelmq: "",
        description: "CSV, the header once per file; --fields chooses the columns",
        build: csv::build,
    },
    Entry {
        name: "elasticsearch",
        intelmq: "intelmq.bots.outputs.elasticsearch.output",
        description: "Elasticsearch/OpenSearch through the bulk API, per-document errors dumped",
        build: elasticsearch::build,
    },
    Entry {
        name: "file",
        intelmq: "intelmq.bots.outputs.file.output",
        description: "IntelMQ's file output: a line per event, file names from templates",
        build: file::build,
    },
    Entry {
        name: "files",
        intelmq: "intelmq.bots.outputs.files.output",
        description: "one file per event, Maildir style (tmp, then renamed into DIR)",
        build: files::build,
    },
    Entry {
        name: "json",
        intelmq: "",
        description: "events as NDJSON, imq's wire format",
        build: ndjson::build,
    },
    Entry {
        name: "misp_feed",
        intelmq: "intelmq.bots.outputs.misp.output_feed",
        description: "a MISP feed directory: an event file per time window, manifest.json, hashes.csv",
        build: misp_feed::build,
    },
    Entry {
        name: "mqtt",
        intelmq: "",
        description: "MQTT 3.1.1 PUBLISH of each event (QoS 1: confirmed by PUBACK), topic templates",
        build: mqtt::build,
    },
    Entry {
        name: "postgres",
        intelmq: "",
        description:
            "rows of IntelMQ's events table in PostgreSQL (COPY per batch; --init creates it)",
        build: postgres::build,
    },
    Entry {
        name: "redis",
        intelmq: "intelmq.bots.outputs.redis.output",
        description: "LPUSH of the event JSON to a Redis list (readable as an IntelMQ queue)",
        build: redis::build,
    },
    Entry {
        name: "restapi",
        intelmq: "intelmq.bots.outputs.restapi.output",
        description: "HTTP POST of each event (or of JSON arrays of events), auth header or basic auth",
        build: restapi::build,
    },
    Entry {
        name: "rpz_file",
        intelmq: "intelmq.bots.outputs.rpz_file.output",
        description: "DNS Response Policy Zone of the events' domains",
        build: rpz_file::build,
    },
    Entry {
        name: "smtp",
        intelmq: "intelmq.bots.outputs.smtp.output",
        description: "one mail per event, templated subject/text/recipients, CSV attachment",
        build: smtp::build,
    },
    Entry {
        name: "smtp_batch",
        intelmq: "intelmq.bots.outputs.smtp_batch.output",
        description: "events kept per recipient; with send=all one mail per recipient with a zipped CSV of them",
        build: smtp_batch::build,
    },
    Entry {
        name: "splunk",
        intelmq: "",
        description: "Splunk HTTP Event Collector, batches, refused events dumped",
        build: splunk::build,
    },
    Entry {
        name: "sqlite",
        intelmq: "",
        description: "rows of IntelMQ's events table in an SQLite file (created when missing)",
        build: sqlite::build,
    },
    Entry {
        name: "stomp",
        intelmq: "intelmq.bots.outputs.stomp.output",
        description: "STOMP SEND of each event (e.g. to RabbitMQ), confirmed by receipts",
        build: stomp::build,
    },
    Entry {
        name: "tcp",
        intelmq: "intelmq.bots.outputs.tcp.output",
        description: "JSON over TCP, length-prefixed or separated, IntelMQ's Ok handshake",
        build: tcp::build,
    },
    Entry {
        name: "templated_smtp",
        intelmq: "intelmq.bots.outputs.templated_smtp.output",
        description: "one mail per event from Jinja templates (subject, body, attachments)",
        build: templated_smtp::build,
    },
    Entry {
        name: "touch",
        intelmq: "intelmq.bots.outputs.touch.output",
        description: "set a file's times to now when events arrive",
        build: touch::build,
    },
    Entry {
        name: "udp",
        intelmq: "intelmq.bots.outputs.udp.output",
        description: "one datagram per event, json or delimited (syslog)",
        build: udp::build,
    },
];

/// Outputs whose first positional argument is their destination
/// (`imq-output sqlite events.db`), and the parameter it fills.
pub fn destination_param(name: &str) -> Option<&'static str> {
    Some(match name {
        "file" => "file",
        "files" => "dir",
        "misp_feed" => "output_dir",
        "touch" => "path",
        "sqlite" => "database",
        "postgres" => "dsn",
        _ => return None,
    })
}

pub fn find(name: &str) -> Option<&'static Entry> {
    REGISTRY
        .iter()
        .find(|e| e.name == name || (!e.intelmq.is_empty() && e.intelmq == name))
}

/// The output for a name, IntelMQ's `sql` module chosen by its `engine`.
pub fn find_for(name: &str, params: &crate::params::Params) -> Option<&'static Entry> {
    if name == "sql" || name == "intelmq.bots.outputs.sql.output" {
        let engine = params.get("engine").and_then(|v| v.as_str()).unwrap_or("");
        return find(match engine {
            "sqlite" => "sqlite",
            "postgresql" => "postgres",
            _ => return None,
        });
    }
    find(name)
}

/// The stage delivering events to an output. It keeps the batch's original lines
/// so that an event the destination refuses goes to the dump as it came, and it
/// counts events as delivered only once the output confirmed them.
pub struct OutputStage {
    output: Box<dyn Output>,
    /// The batch's original lines, end to end, and where each ends.
    originals: Vec<u8>,
    ends: Vec<(usize, u32, u64)>,
    /// Input names of the batch (an index per event above).
    inputs: Vec<String>,
}

impl OutputStage {
    pub fn new(output: Box<dyn Output>) -> OutputStage {
        OutputStage {
            output,
            originals: Vec::new(),
            ends: Vec::new(),
            inputs: Vec::new(),
        }
    }
}

impl Stage for OutputStage {
    fn process(&mut self, msg: Message, out: &mut Emit) -> Result<(), Fail> {
        self.output.write(&msg, out.original)?;
        if self.inputs.last().map(String::as_str) != Some(out.pos.input) {
            self.inputs.push(out.pos.input.to_string());
        }
        self.originals.extend_from_slice(out.original);
        self.ends.push((
            self.originals.len(),
            (self.inputs.len() - 1) as u32,
            out.pos.line,
        ));
        Ok(())
    }

    fn wants_commit(&self) -> bool {
        self.output.batch_full()
    }

    fn commit(&mut self, out: &mut Emit) -> Result<(), Fail> {
        let n = self.ends.len() as u64;
        let refused = match self.output.commit() {
            Ok(r) => r,
            Err(e) => {
                // Say what was not delivered: this batch (its input lines).
                let span = match (self.ends.first(), self.ends.last()) {
                    (Some(a), Some(b)) => format!(
                        ", {} line {} to {} line {}",
                        self.inputs[a.1 as usize], a.2, self.inputs[b.1 as usize], b.2
                    ),
                    _ => String::new(),
                };
                return Err(Fail::Fatal(
                    e.context(format!("{n} events not delivered{span}")),
                ));
            }
        };
        for (i, reason) in &refused {
            let Some(&(end, input, line)) = self.ends.get(*i) else {
                continue;
            };
            let start = if *i == 0 { 0 } else { self.ends[*i - 1].0 };
            let pos = Pos {
                input: &self.inputs[input as usize],
                line,
            };
            out.reject_at(pos, None, &self.originals[start..end], reason)?;
        }
        out.delivered(n - refused.len() as u64);
        self.originals.clear();
        self.ends.clear();
        self.inputs.clear();
        Ok(())
    }

    fn finish(&mut self, out: &mut Emit) -> Result<(), Fail> {
        self.commit(out)?;
        self.output.finish().map_err(Fail::Fatal)
    }
}
