//! The feed registry: IntelMQ's known feeds (`intelmq/etc/feeds.yaml` of 3.5.0,
//! corrected where upstream is stale) as our own data file, `data/feeds.json`,
//! compiled into the binaries. `imq-parse --feed NAME` takes the parser, its
//! parameters and the report's `feed.*` fields from here; `imq-collect --feed`
//! the `feed.*` fields. Regenerate with `scripts/feeds-from-intelmq.py`.

use serde::Deserialize;
use std::sync::OnceLock;

const DATA: &str = include_str!("../../data/feeds.json");

#[derive(Debug, Deserialize)]
pub struct Feed {
    /// Our name for the feed (`provider-feed`, lower case).
    pub name: String,
    pub provider: String,
    /// The feed's name as IntelMQ lists it (becomes `feed.name`).
    pub feed: String,
    #[serde(default)]
    pub description: String,
    pub url: Option<String>,
    pub format: Option<String>,
    /// The IntelMQ parser module.
    pub parser: Option<String>,
    #[serde(default)]
    pub parameters: crate::params::Params,
    pub documentation: Option<String>,
    pub public: Option<bool>,
    pub revision: Option<String>,
    /// What we changed from upstream, and why.
    pub corrections: Option<String>,
}

#[derive(Deserialize)]
struct File {
    feeds: Vec<Feed>,
}

/// Every known feed, sorted by name.
pub fn all() -> &'static [Feed] {
    static FEEDS: OnceLock<Vec<Feed>> = OnceLock::new();
    FEEDS.get_or_init(|| {
        serde_json::from_str::<File>(DATA)
            .expect("data/feeds.json is valid (checked by the tests)")
            .feeds
    })
}

/// A feed by our name, or by "Provider Feed name" in any case.
pub fn find(name: &str) -> Option<&'static Feed> {
    let want = name.to_lowercase();
    let n = crate::names::norm(name);
    all()
        .iter()
        .find(|f| f.name == want || format!("{} {}", f.provider, f.feed).to_lowercase() == want)
        .or_else(|| all().iter().find(|f| crate::names::norm(&f.name) == n))
}

/// "unknown feed" with the names that come close.
pub fn unknown(name: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "unknown feed {name:?}{} (imq-parse --list-feeds shows them)",
        crate::names::did_you_mean(name, all().iter().map(|f| f.name.as_str()))
    )
}

impl Feed {
    /// The report fields a collector of this feed sets (IntelMQ's CollectorBot:
    /// feed.name, feed.provider, feed.url, feed.documentation, feed.accuracy).
    /// URLs that are templates (API keys to fill in) are left out.
    pub fn report_fields(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("feed.name".to_string(), self.feed.clone()),
            ("feed.provider".to_string(), self.provider.clone()),
            ("feed.accuracy".to_string(), "100".to_string()),
        ];
        if let Some(u) = self.url.as_deref().filter(|u| is_plain_url(u)) {
            v.push(("feed.url".into(), u.into()));
        }
        if let Some(d) = self.documentation.as_deref().filter(|u| is_plain_url(u)) {
            v.push(("feed.documentation".into(), d.into()));
        }
        v
    }

    /// The registry entry of the parser, if implemented.
    pub fn parser_entry(&self) -> Option<&'static super::Entry> {
        self.parser.as_deref().and_then(super::find)
    }
}

fn is_plain_url(u: &str) -> bool {
    u.contains("://") && !u.contains(['{', '<', ' ', ','])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn registry_loads_and_names_are_unique() {
        let f = all();
        assert!(f.len() > 80);
        let mut names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), f.len(), "names sorted and unique");
        let drop = find("spamhaus-drop").unwrap();
        assert_eq!(drop.format.as_deref(), Some("ndjson"));
        assert!(find("Spamhaus Drop").is_some());
        assert!(find("abusech-threatfox").is_some());
    }

    /// Every feed whose parser is implemented builds with the registry's parameters.
    #[test]
    fn implemented_parsers_accept_registry_parameters() {
        let mut unread = Vec::new();
        for f in all() {
            if let Some(e) = f.parser_entry() {
                let parser = match (e.build)(&f.parameters) {
                    Ok(p) => p,
                    // Data the user installs (the Shadowserver schema) may be absent here.
                    Err(err)
                        if err
                            .downcast_ref::<super::super::shadowserver_schema::SchemaMissing>()
                            .is_some() =>
                    {
                        continue
                    }
                    Err(err) => panic!("feed {}: parser {}: {err:#}", f.name, e.name),
                };
                // The stage reads the parameters every parser has.
                if let Err(err) = super::super::ParseStage::new(parser, &f.parameters) {
                    // A placeholder the user fills in (`{depends on a collection}`).
                    if !format!("{err}").contains("'{") {
                        unread.push(format!("{}: {err:#}", f.name));
                    }
                }
                // Every parameter of the entry means something to its parser
                // (a broken or misspelt one would be silently ignored), and a
                // `type` is a classification.type.
                if let Err(err) = f.parameters.check_unread(&f.name) {
                    unread.push(format!("parser {}: {err:#}", e.name));
                }
                if let Some(t) = f.parameters.map_get("type").and_then(Value::as_str) {
                    crate::names::check_type(t).unwrap_or_else(|e| panic!("feed {}: {e}", f.name));
                }
            }
        }
        assert!(unread.is_empty(), "{}", unread.join("\n"));
    }

    /// Every feed of IntelMQ's feed list has its parser here.
    #[test]
    fn every_feed_parser_exists() {
        let missing: Vec<String> = all()
            .iter()
            .filter(|f| f.parser.is_some() && f.parser_entry().is_none())
            .map(|f| format!("{} ({})", f.name, f.parser.as_deref().unwrap_or("")))
            .collect();
        assert!(missing.is_empty(), "feeds without parser: {missing:#?}");
    }
}
