//! AlienVault IP reputation list: `ip#risk#reliability#activity[;activity]#cc#city#lat,long#x`
//! (IntelMQ `intelmq.bots.parsers.alienvault.parser`).

use super::feedio;
use super::util_feeds::reject;
use super::{Params, Parser, Records};
use crate::harmonization::py_strip;
use crate::message::Message;
use crate::pipeline::Fail;

pub struct AlienVault;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(AlienVault))
}

fn classification(activity: &str) -> &'static str {
    match activity.to_lowercase().as_str() {
        "c2server" => "c2-server",
        "scanning host" => "scanner",
        "malicious host" => "infected-system",
        "spamming" => "spam",
        "malware domain" | "malware ip" | "malware distribution" => "malware-distribution",
        _ => "undetermined",
    }
}

impl Parser for AlienVault {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        for line in feedio::lines(&text, &[]) {
            let result = events(line, out);
            out.record(line.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn events(row: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let values: Vec<&str> = row.split('#').collect();
    if values.len() < 7 {
        return Err(reject(format!(
            "expected 8 '#'-separated fields, got {}",
            values.len()
        )));
    }
    // One event per activity; IntelMQ only splits when the `;` is not leading.
    let activities: Vec<&str> = if py_strip(values[3]).find(';').is_some_and(|i| i > 0) {
        values[3].split(';').collect()
    } else {
        vec![values[3]]
    };
    let geo = py_strip(values[6]);
    let coords: Option<(&str, &str)> = if geo.is_empty() {
        None
    } else {
        let parts: Vec<&str> = geo.split(',').collect();
        (parts.len() == 2).then(|| (parts[0], parts[1]))
    };
    // Without coordinates IntelMQ fails on an unbound variable.
    let (lat, long) = coords.ok_or_else(|| reject("no latitude,longitude in field 7"))?;
    let mut evs = Vec::with_capacity(activities.len());
    for activity in activities {
        let mut ev = out.new_event();
        ev.add("classification.type", classification(activity))?;
        ev.add("source.ip", py_strip(values[0]))?;
        ev.add("source.geolocation.cc", py_strip(values[4]))?;
        ev.add("source.geolocation.city", py_strip(values[5]))?;
        ev.add("source.geolocation.latitude", py_strip(lat))?;
        ev.add("source.geolocation.longitude", py_strip(long))?;
        ev.add("raw", row)?;
        evs.push(ev);
    }
    Ok(evs)
}
