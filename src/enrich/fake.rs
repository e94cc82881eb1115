//! fake: fill events with made-up data for tests and demos: a `source.ip` from a
//! random network of a list and random values for chosen fields (IntelMQ
//! `intelmq.bots.experts.fake.expert`; database `{"ip_network": [...],
//! "event_fields": {FIELD: {"mode": "random_single_value", "values": [...]}}}`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use ipnetwork::IpNetwork;
use serde_json::Value;

pub const DEFAULT_DATABASE: &str = "/var/lib/intelmq/bots/fake/data.json";

pub struct Fake {
    overwrite: bool,
    networks: Vec<(IpNetwork, String)>,
    fields: Vec<(String, Vec<Value>)>,
    rng: u64,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let path = params::string_or(p, "database", DEFAULT_DATABASE)?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let db: Value = serde_json::from_str(&text).with_context(|| format!("{path}: not JSON"))?;
    let mut networks = Vec::new();
    match db.get("ip_network") {
        None => {}
        Some(Value::Array(a)) => {
            for n in a {
                let s = n
                    .as_str()
                    .with_context(|| format!("{path}: ip_network: {n}"))?;
                let net: IpNetwork = s.parse().with_context(|| format!("{path}: {s}"))?;
                if net.network() != net.ip() {
                    bail!("{path}: {s} has host bits set");
                }
                networks.push((net, s.to_string()));
            }
        }
        Some(_) => bail!("{path}: ip_network is not of type list"),
    }
    let mut fields = Vec::new();
    match db.get("event_fields") {
        None => {}
        Some(Value::Object(o)) => {
            for (name, f) in o {
                if crate::harmonization::harmonization()
                    .lookup(crate::harmonization::MsgType::Event, name)
                    .is_none()
                {
                    bail!("{path}: field name {name} is not valid");
                }
                let mode = f.get("mode").and_then(Value::as_str);
                if mode != Some("random_single_value") {
                    bail!("{path}: mode {mode:?} not supported in field {name}");
                }
                let Some(Value::Array(values)) = f.get("values") else {
                    bail!("{path}: values is not a list in field {name}");
                };
                if values.is_empty() {
                    bail!("{path}: no values in field {name}");
                }
                fields.push((name.clone(), values.clone()));
            }
        }
        Some(_) => bail!("{path}: event_fields is not of type dict"),
    }
    // `seed` makes runs repeatable; otherwise the clock seeds it.
    let seed = match p.get("seed") {
        Some(_) => params::integer(p, "seed", 0)? as u64,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    Ok(Box::new(Fake {
        overwrite: params::boolean(p, "overwrite", false)?,
        networks,
        fields,
        rng: seed | 1,
    }))
}

impl Fake {
    /// xorshift64*: plenty for picking test data.
    fn pick(&mut self, n: usize) -> usize {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

/// `ip_network(net)[1]`, or `[0]` when the network has one address.
fn second_address(net: &IpNetwork) -> String {
    match net {
        IpNetwork::V4(n) if n.prefix() < 32 => {
            std::net::Ipv4Addr::from(u32::from(n.network()) + 1).to_string()
        }
        IpNetwork::V6(n) if n.prefix() < 128 => {
            std::net::Ipv6Addr::from(u128::from(n.network()) + 1).to_string()
        }
        other => other.network().to_string(),
    }
}

impl Expert for Fake {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let ow = Some(self.overwrite);
        if !self.networks.is_empty() {
            let i = self.pick(self.networks.len());
            let (net, text) = &self.networks[i];
            let ip = second_address(net);
            let text = text.clone();
            if params::add(ev, "source.ip", Value::String(ip), ow)? {
                params::add(ev, "source.network", Value::String(text), Some(true))?;
            }
        }
        for k in 0..self.fields.len() {
            let i = self.pick(self.fields[k].1.len());
            let (name, values) = &self.fields[k];
            let v = values[i].clone();
            let name = name.clone();
            params::add(ev, &name, v, ow)?;
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(db: &str, overwrite: bool) -> Box<dyn Expert> {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("db.json");
        std::fs::write(&f, db).unwrap();
        let mut p = Params::new();
        p.insert("database".into(), f.to_str().unwrap().into());
        p.insert("overwrite".into(), overwrite.into());
        build(&p).unwrap()
    }

    #[test]
    fn intelmq_test_facts() {
        let mut e = fake(r#"{"ip_network": ["10.0.0.0/8"]}"#, true);
        let mut ev = Message::event();
        ev.add("source.ip", "93.184.216.34").unwrap();
        e.process(&mut ev).unwrap();
        assert_eq!(ev.get_str("source.ip"), Some("10.0.0.1"));
        assert_eq!(ev.get_str("source.network"), Some("10.0.0.0/8"));
        // without overwrite the address and its network stay
        let mut e = fake(r#"{"ip_network": ["10.0.0.0/8"]}"#, false);
        let mut ev = Message::event();
        ev.add("source.network", "93.184.216.0/24").unwrap();
        ev.add("source.ip", "93.184.216.34").unwrap();
        e.process(&mut ev).unwrap();
        assert_eq!(ev.get_str("source.network"), Some("93.184.216.0/24"));
        let sev = r#"{"event_fields": {"severity": {"mode": "random_single_value", "values": ["critical", "high", "medium", "low", "info", "undefined"]}}}"#;
        let mut e = fake(sev, false);
        let mut ev = Message::event();
        e.process(&mut ev).unwrap();
        assert!(ev.get_str("severity").is_some());
        assert_eq!(
            second_address(&"192.0.2.1/32".parse().unwrap()),
            "192.0.2.1"
        );
    }
}
