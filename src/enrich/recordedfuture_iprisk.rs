//! recordedfuture_iprisk: `extra.rf_iprisk.source`/`.destination`, the Recorded
//! Future risk score of the IP address from a local risk list (CSV with `Name`
//! and `Risk` columns); 0 when the address is not listed
//! (IntelMQ `intelmq.bots.experts.recordedfuture_iprisk.expert`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use std::collections::HashMap;

pub struct RecordedFutureIpRisk {
    db: HashMap<String, i64>,
    overwrite: bool,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let path = params::text(p, "database")
        .ok_or_else(|| anyhow::anyhow!("parameter database (the risk list file) is required"))?;
    Ok(Box::new(RecordedFutureIpRisk {
        db: load(&path)?,
        overwrite: params::boolean(p, "overwrite", false)?,
    }))
}

fn load(path: &str) -> anyhow::Result<HashMap<String, i64>> {
    let mut rd =
        csv::Reader::from_path(path).map_err(|e| anyhow::anyhow!("risk list {path}: {e}"))?;
    let head = rd.headers()?.clone();
    let col = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .ok_or_else(|| anyhow::anyhow!("risk list {path}: no {name:?} column"))
    };
    let (name, risk) = (col("Name")?, col("Risk")?);
    let mut db = HashMap::new();
    for (i, row) in rd.records().enumerate() {
        let row = row.map_err(|e| anyhow::anyhow!("risk list {path}: {e}"))?;
        let r = row.get(risk).unwrap_or("").trim();
        let r: i64 = r.parse().map_err(|_| {
            anyhow::anyhow!(
                "risk list {path}: row {}: Risk {r:?} is not an integer",
                i + 2
            )
        })?;
        db.insert(row.get(name).unwrap_or("").to_string(), r);
    }
    Ok(db)
}

impl Expert for RecordedFutureIpRisk {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for (ipk, rk) in [
            ("source.ip", "extra.rf_iprisk.source"),
            ("destination.ip", "extra.rf_iprisk.destination"),
        ] {
            let Some(ip) = ev.get_str(ipk) else { continue };
            let score = self.db.get(ip).copied().unwrap_or(0);
            if !ev.contains(rk) {
                ev.add(rk, score)?;
            } else if self.overwrite {
                ev.change(rk, score)?;
            }
        }
        Ok(Verdict::Keep)
    }
}
