//! idea: convert the event into the IDEA format (<https://idea.cesnet.cz/>) and put
//! it into `output` as JSON (IntelMQ `intelmq.bots.experts.idea.expert`). Parts
//! whose fields are missing are left out, as IntelMQ does.

use super::{Expert, Params, Verdict};
use crate::harmonization::{b64_lenient_decode, py_float};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use crate::pyfmt::{py_json_dumps, py_str};
use serde_json::{Map, Value};

fn category(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "phishing" => "Fraud.Phishing",
        "ddos" => "Availability.DDoS",
        "spam" => "Abusive.Spam",
        "scanner" => "Recon.Scanning",
        "infected-system" | "malware-configuration" | "malware-distribution" | "malware" => {
            "Malware"
        }
        "c2-server" | "ddos-amplifier" => "Intrusion.Botnet",
        "exploit" | "ids-alert" => "Attempt.Exploit",
        "brute-force" => "Attempt.Login",
        "system-compromise" | "privileged-account-compromise" => "Intrusion.AdminCompromise",
        "blacklist" | "tor" | "other" | "undetermined" => "Other",
        "dga-domain" => "Anomaly.Behaviour",
        "proxy" | "weak-crypto" | "vulnerable-system" => "Vulnerable.Config",
        "data-leak" | "data-loss" => "Information",
        "test" => "Test",
        "violence" => "Abusive.Violence",
        "burglary" => "Intrusion",
        "unauthorised-information-access" | "information-disclosure" => {
            "Information.UnauthorizedAccess"
        }
        "potentially-unwanted-accessible" => "Vulnerable.Open",
        "application-compromise" => "Intrusion.AppCompromise",
        "unauthorized-use-of-resources" => "Fraud.UnauthorizedUsage",
        "masquerade" => "Fraud.Scam",
        "harmful-speech" => "Abusive.Harassment",
        "unprivileged-account-compromise" => "Intrusion.UserCompromise",
        "social-engineering" => "Recon.SocialEngineering",
        "dos" => "Availability.DoS",
        "sniffing" => "Recon.Sniffing",
        "unauthorised-information-modification" => "Information.UnauthorizedModification",
        "sabotage" => "Availability.Sabotage",
        "outage" | "misconfiguration" => "Availability.Outage",
        "copyright" => "Fraud.Copyright",
        _ => return None,
    })
}

fn source_type(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "phishing" => "Phishing",
        "malware-configuration" => "MalwareConf",
        "c2-server" => "CC",
        "dga-domain" => "DGA",
        "proxy" => "Proxy",
        "tor" => "Tor",
        "malware-distribution" => "Malware",
        _ => return None,
    })
}

/// Python's `urllib.parse.quote_plus`.
fn quot(v: Option<&Value>) -> String {
    let s = v.map(py_str).unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn list(items: impl IntoIterator<Item = Option<Value>>) -> Option<Value> {
    let v: Vec<Value> = items.into_iter().flatten().collect();
    (!v.is_empty()).then_some(Value::Array(v))
}

fn dict(items: Vec<(&str, Option<Value>)>) -> Option<Value> {
    let m: Map<String, Value> = items
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect();
    (!m.is_empty()).then_some(Value::Object(m))
}

pub struct Idea {
    test_mode: bool,
    rng: [u64; 2],
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    // IDs only need to be unique: seed a fast generator from the OS once.
    let mut seed = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut seed);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let a = u64::from_le_bytes(seed[..8].try_into().expect("8 bytes")) ^ t;
    let b =
        u64::from_le_bytes(seed[8..].try_into().expect("8 bytes")) ^ (std::process::id() as u64);
    Ok(Box::new(Idea {
        test_mode: params::boolean(p, "test_mode", false)?,
        rng: [a | 1, b | 1],
    }))
}

impl Idea {
    fn next(&mut self) -> u64 {
        // xorshift128+
        let [mut s1, s0] = self.rng;
        self.rng[0] = s0;
        s1 ^= s1 << 23;
        self.rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
        self.rng[1].wrapping_add(s0)
    }

    fn uuid4(&mut self) -> String {
        let mut x = ((self.next() as u128) << 64) | self.next() as u128;
        x = (x & !(0xf << 76)) | (0x4 << 76);
        x = (x & !(0x3 << 62)) | (0x2 << 62);
        let h = format!("{x:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

fn endpoint(ev: &Message, side: &str, source: bool) -> Option<Value> {
    let g = |k: &str| ev.get(&format!("{side}.{k}")).cloned();
    let addr = |k: &str, v6: bool| {
        ev.get_str(&format!("{side}.{k}"))
            .filter(|s| s.contains(':') == v6)
            .map(|s| Value::String(s.to_string()))
    };
    let tor = ev.get(&format!("{side}.tor_node")).map(|v| {
        if v == &Value::Bool(true) {
            Value::from("Tor")
        } else {
            v.clone()
        }
    });
    let ty = if source {
        list([
            ev.get_str("classification.type")
                .and_then(source_type)
                .map(Value::from),
            tor,
        ])
    } else {
        list([tor])
    };
    let one = |k: &str| list([g(k)]);
    dict(vec![
        (
            "Proto",
            list([
                ev.get("protocol.transport").cloned(),
                ev.get("protocol.application").cloned(),
            ]),
        ),
        ("Type", ty),
        ("Account", one("account")),
        ("ASN", one("asn")),
        ("Hostname", one("fqdn")),
        ("IP4", list([addr("ip", false)])),
        ("IP6", list([addr("ip", true)])),
        ("LocalHostname", one("local_hostname")),
        ("LocalIP4", list([addr("local_ip", false)])),
        ("LocalIP6", list([addr("local_ip", true)])),
        ("Port", one("port")),
        ("PTR", one("reverse_dns")),
        ("URL", one("url")),
        ("Note", ev.get("status").cloned()),
    ])
}

impl Expert for Idea {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let e = &*ev;
        let g = |k: &str| e.get(k).cloned();
        let pre = |p: &str, k: &str| {
            e.get(k)
                .map(|v| Value::String(format!("{p}{}", quot(Some(v)))))
        };
        let description = e.get("feed.name").map(|name| {
            let what = e
                .get("event_description.text")
                .or_else(|| e.get("comment"))
                .or_else(|| e.get("classification.type"))
                .map_or_else(|| "undetermined".to_string(), py_str);
            Value::String(format!("{}: {what}", py_str(name)))
        });
        let ty = e.get_str("classification.type").unwrap_or("undetermined");
        let confidence = e.get("feed.accuracy").and_then(py_float).map(|a| {
            let c = (a / 100.0).clamp(0.0, 1.0);
            // Python's min/max return the int bounds themselves.
            if c == 1.0 && a / 100.0 >= 1.0 {
                Value::from(1)
            } else if c == 0.0 && a / 100.0 <= 0.0 {
                Value::from(0)
            } else {
                Value::from(c)
            }
        });
        let malware_ref = e.get("malware.name").map(|n| {
            Value::String(format!(
                "malware:{}-{}",
                quot(Some(n)),
                quot(e.get("malware.version"))
            ))
        });
        let raw = e.get_str("raw");
        let content = raw.and_then(b64_lenient_decode).map(|bytes| {
            // ISO-8859-1: every byte is the code point of the same number.
            Value::String(bytes.iter().map(|&b| b as char).collect())
        });
        let id = self.uuid4();
        let idea = dict(vec![
            ("Format", Some(Value::from("IDEA0"))),
            ("Description", description),
            (
                "Category",
                list([
                    category(ty).map(Value::from),
                    self.test_mode.then(|| Value::from("Test")),
                ]),
            ),
            ("DetectTime", g("time.observation")),
            ("EventTime", g("time.source")),
            ("ID", Some(Value::String(id))),
            ("RelID", pre("hash:", "event_hash")),
            ("Confidence", confidence),
            ("Note", g("comment")),
            (
                "Ref",
                list([
                    pre("malid:", "classification.identifier"),
                    g("event_description.url"),
                    pre("intelmq_feed:", "feed.code"),
                    pre("misp_attr:", "misp.attribute_uuid"),
                    pre("misp_event:", "misp.event_uuid"),
                    pre("rtir:", "rtir_id"),
                    g("screenshot_url"),
                ]),
            ),
            (
                "Attach",
                list([
                    dict(vec![
                        (
                            "Hash",
                            list([
                                pre("crypt:", "malware.hash"),
                                pre("md5:", "malware.hash.md5"),
                                pre("sha1:", "malware.hash.sha1"),
                            ]),
                        ),
                        ("Ref", list([malware_ref])),
                    ]),
                    dict(vec![
                        ("Content", content),
                        (
                            "Type",
                            list([raw.map(|r| {
                                if r.is_empty() {
                                    Value::from("")
                                } else {
                                    Value::from("OrigData")
                                }
                            })]),
                        ),
                        ("Ref", list([g("feed.url")])),
                    ]),
                ]),
            ),
            ("Source", list([endpoint(e, "source", true)])),
            ("Target", list([endpoint(e, "destination", false)])),
        ])
        .unwrap_or_default();
        let text = py_json_dumps(&idea, true);
        ev.add("output", text)?;
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_plus() {
        assert_eq!(quot(Some(&Value::from("a b/c~"))), "a+b%2Fc~");
        assert_eq!(quot(None), "");
    }

    #[test]
    fn uuid_shape() {
        let mut i = Idea {
            test_mode: false,
            rng: [1, 2],
        };
        let u = i.uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, i.uuid4());
    }
}
