//! tor_nodes: set `source.tor_node`/`destination.tor_node` when the IP address is in
//! a list of Tor nodes, one address a line (IntelMQ
//! `intelmq.bots.experts.tor_nodes.expert`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::Context;
use std::collections::HashSet;

pub const DEFAULT_DATABASE: &str = "/var/lib/intelmq/bots/tor_nodes/tor_nodes.dat";

pub struct TorNodes {
    nodes: HashSet<String>,
    overwrite: bool,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let file = params::string_or(p, "database", DEFAULT_DATABASE)?;
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("reading the Tor node list {file}"))?;
    let nodes = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    Ok(Box::new(TorNodes {
        nodes,
        overwrite: params::boolean(p, "overwrite", false)?,
    }))
}

const SIDES: [(&str, &str); 2] = [
    ("source.ip", "source.tor_node"),
    ("destination.ip", "destination.tor_node"),
];

impl Expert for TorNodes {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for (ip, flag) in SIDES {
            let Some(addr) = ev.get_str(ip) else {
                continue;
            };
            if !self.nodes.contains(addr) {
                continue;
            }
            if !ev.contains(flag) {
                ev.add(flag, true)?;
            } else if self.overwrite {
                ev.change(flag, true)?;
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_listed_addresses() {
        let mut e = TorNodes {
            nodes: ["192.168.0.1".to_string()].into(),
            overwrite: false,
        };
        let mut ev = Message::event();
        ev.add("source.ip", "192.168.0.1").unwrap();
        ev.add("destination.ip", "192.0.2.1").unwrap();
        e.process(&mut ev).unwrap();
        assert_eq!(ev.get("source.tor_node"), Some(&true.into()));
        assert!(!ev.contains("destination.tor_node"));
        let mut ev = Message::event();
        ev.add("source.ip", "192.168.0.1").unwrap();
        ev.add("source.tor_node", false).unwrap();
        e.process(&mut ev).unwrap();
        assert_eq!(ev.get("source.tor_node"), Some(&false.into()));
        e.overwrite = true;
        e.process(&mut ev).unwrap();
        assert_eq!(ev.get("source.tor_node"), Some(&true.into()));
    }
}
