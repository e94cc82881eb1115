//! XML character data: the entities of XML 1.0 (the five named ones and numeric
//! character references), for the feeds whose parsers read XML (Clean-MX, FireEye).

/// Append `s` to `out` with its entity and character references replaced; an
/// unknown or unterminated reference is an error, as for Python's XML parsers.
pub fn unescape(s: &str, out: &mut String) -> Result<(), String> {
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or("unterminated entity")?;
        let name = &after[..end];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or("bad character reference")?,
            n if n.starts_with('#') => n[1..]
                .parse::<u32>()
                .ok()
                .and_then(char::from_u32)
                .ok_or("bad character reference")?,
            _ => return Err(format!("undefined entity &{name};")),
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn entities() {
        let mut out = String::new();
        super::unescape("a &amp; b &lt;&#x41;&#66;&quot;&apos;&gt;", &mut out).unwrap();
        assert_eq!(out, "a & b <AB\"'>");
        assert!(super::unescape("&nbsp;", &mut String::new()).is_err());
        assert!(super::unescape("a & b", &mut String::new()).is_err());
    }
}
