//! Component names as users type them: one normal form (case, `-` and `_`
//! ignored) so that `abusech-feodo-tracker`, `abusech_feodotracker` and IntelMQ's
//! `maxmind_geoip` all find what they mean, and "did you mean" suggestions for
//! names that exist.

/// The normal form of a name: lower case, without `-`, `_`, `.` and spaces.
pub fn norm(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Edit distance (Levenshtein) between two short names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidates closest to `name` (at most three), for "did you mean".
pub fn similar<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let n = norm(name);
    let limit = (n.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| {
            let cn = norm(c);
            // A name that holds the typed one (or is held by it) is close too.
            let d = distance(&n, &cn);
            let d = if d > limit && n.len() >= 3 && (cn.contains(&n) || n.contains(&cn)) {
                limit
            } else {
                d
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// `; did you mean "a" or "b"?` (empty when nothing is close).
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let s = similar(name, candidates);
    if s.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = s.iter().map(|c| format!("{c:?}")).collect();
    format!("; did you mean {}?", quoted.join(" or "))
}

/// Is `key` a field of the data format for messages of class `t` (`extra.*`
/// keys are free)? The error names the fields that come close.
pub fn check_field(t: crate::harmonization::MsgType, key: &str) -> Result<(), String> {
    let h = crate::harmonization::harmonization();
    if h.lookup(t, key).is_some() {
        return Ok(());
    }
    if let Some(rest) = key.strip_prefix("extra.") {
        if !rest.is_empty() && crate::harmonization::is_valid_key_syntax(key) {
            return Ok(());
        }
    }
    Err(format!(
        "unknown field {key:?}{}",
        did_you_mean(key, h.fields(t).iter().map(|f| f.name))
    ))
}

/// [`check_field`] for every name of a list of event fields given by the
/// user (`--fields`, a `fields` parameter): a typo would leave a column or a
/// list empty, silently.
pub fn check_fields<'a>(
    what: &str,
    fields: impl IntoIterator<Item = &'a String>,
) -> anyhow::Result<()> {
    for f in fields {
        check_field(crate::harmonization::MsgType::Event, f)
            .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    }
    Ok(())
}

/// Is `ty` a `classification.type` of the data format (or one of its aliases)?
pub fn check_type(ty: &str) -> Result<(), String> {
    let mut probe = crate::message::Message::event();
    match probe.set("classification.type", ty) {
        Ok(_) if probe.contains("classification.type") => Ok(()),
        _ => {
            let h = crate::harmonization::harmonization();
            Err(format!(
                "{ty:?} is not a classification.type{}",
                did_you_mean(ty, h.taxonomy_of_type.keys().map(String::as_str))
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms_and_suggestions() {
        assert_eq!(norm("abusech-feodo-tracker"), norm("abusech_feodotracker"));
        assert_eq!(distance("datbase", "database"), 1);
        assert_eq!(
            did_you_mean("--datbase", ["database", "overwrite", "use_registered"]),
            "; did you mean \"database\"?"
        );
        assert_eq!(did_you_mean("xyz", ["database"]), "");
        assert_eq!(
            similar("overwrit", ["overwrite", "database"]),
            ["overwrite"]
        );
        use crate::harmonization::MsgType;
        assert!(check_field(MsgType::Event, "source.ip").is_ok());
        assert!(check_field(MsgType::Event, "extra.anything").is_ok());
        let e = check_field(MsgType::Event, "source.ipp").unwrap_err();
        assert!(e.contains("did you mean \"source.ip\""), "{e}");
        assert!(check_field(MsgType::Report, "feed.nam")
            .unwrap_err()
            .contains("feed.name"));
        assert!(check_type("c2-server").is_ok());
        let e = check_type("c2-servr").unwrap_err();
        assert!(e.contains("\"c2-server\""), "{e}");
    }
}
