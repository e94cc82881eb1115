//! Python's `urllib.parse.urlsplit`, which IntelMQ's URL and FQDN types and its URL
//! experts use to decide what a URL's host is. A WHATWG parser (the `url` crate) would
//! accept and reject other strings, so we follow Python's rules instead.

/// The five parts of a URL as Python's `urlsplit` returns them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SplitResult<'a> {
    pub scheme: String,
    pub netloc: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub fragment: &'a str,
}

fn is_scheme_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'
}

/// Python's `urlsplit(url)` (allow_fragments=True). Python also strips leading C0
/// controls/spaces and removes tab, CR and LF anywhere; callers that need this pass
/// the cleaned string from [`clean`]. `Err` is Python's `ValueError`
/// ("Invalid IPv6 URL").
pub fn urlsplit(url: &str) -> Result<SplitResult<'_>, &'static str> {
    let mut rest = url;
    let mut scheme = String::new();
    if let Some(i) = rest.find(':') {
        let first = rest.chars().next().unwrap_or(' ');
        if i > 0 && first.is_ascii_alphabetic() && rest[..i].chars().all(is_scheme_char) {
            scheme = rest[..i].to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = &after[..end];
        rest = &after[end..];
        let open = netloc.contains('[');
        let close = netloc.contains(']');
        if open != close {
            return Err("Invalid IPv6 URL");
        }
        if open && close {
            // Python 3.11.4+: the bracketed part must be an IPv6 (or IPvFuture) address.
            let start = netloc.find('[').unwrap_or(0);
            let end = netloc.rfind(']').unwrap_or(netloc.len());
            if end <= start {
                return Err("Invalid IPv6 URL");
            }
            let inner = &netloc[start + 1..end];
            let ok = inner.starts_with(['v', 'V'])
                || inner
                    .split('%')
                    .next()
                    .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok());
            if !ok {
                return Err("'[' and ']' must enclose an IPv6 address");
            }
        }
    }
    let mut fragment = "";
    if let Some(i) = rest.find('#') {
        fragment = &rest[i + 1..];
        rest = &rest[..i];
    }
    let mut query = "";
    if let Some(i) = rest.find('?') {
        query = &rest[i + 1..];
        rest = &rest[..i];
    }
    Ok(SplitResult {
        scheme,
        netloc,
        path: rest,
        query,
        fragment,
    })
}

/// What Python does to a URL before splitting: strip leading C0 controls and spaces,
/// delete every tab, CR and LF.
pub fn clean(url: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = url.trim_start_matches(|c: char| c <= ' ');
    if trimmed.contains(['\t', '\r', '\n']) {
        std::borrow::Cow::Owned(trimmed.replace(['\t', '\r', '\n'], ""))
    } else {
        std::borrow::Cow::Borrowed(trimmed)
    }
}

impl SplitResult<'_> {
    /// `hostname` as Python computes it: netloc without userinfo and port, lower-cased,
    /// brackets of IPv6 literals removed.
    pub fn hostname(&self) -> Option<String> {
        let host = self.netloc.rsplit_once('@').map_or(self.netloc, |(_, h)| h);
        let host = if let Some(stripped) = host.strip_prefix('[') {
            stripped.split(']').next().unwrap_or("")
        } else {
            host.split(':').next().unwrap_or("")
        };
        if host.is_empty() {
            None
        } else {
            Some(host.to_lowercase())
        }
    }

    /// `port` as Python computes it (None when absent or empty).
    pub fn port(&self) -> Result<Option<u16>, &'static str> {
        let host = self.netloc.rsplit_once('@').map_or(self.netloc, |(_, h)| h);
        let port = if host.starts_with('[') {
            host.split_once("]:").map(|(_, p)| p)
        } else {
            host.split_once(':').map(|(_, p)| p)
        };
        match port {
            None | Some("") => Ok(None),
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u32>()
                .ok()
                .filter(|&n| n <= 65535)
                .map(|n| Some(n as u16))
                .ok_or("Port out of range 0-65535"),
            Some(_) => Err("Port could not be cast to integer value"),
        }
    }

    /// Python's `urlunsplit` of these parts.
    pub fn unsplit(&self) -> String {
        let mut url = self.path.to_string();
        const USES_NETLOC: &[&str] = &[
            "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https",
            "shttp", "snews", "prospero", "rtsp", "rtspu", "rsync", "svn", "svn+ssh", "sftp",
            "nfs", "git", "git+ssh", "ws", "wss",
        ];
        if !self.netloc.is_empty()
            || (!self.scheme.is_empty()
                && USES_NETLOC.contains(&self.scheme.as_str())
                && !url.starts_with("//"))
        {
            if !url.is_empty() && !url.starts_with('/') {
                url.insert(0, '/');
            }
            url = format!("//{}{}", self.netloc, url);
        }
        if !self.scheme.is_empty() {
            url = format!("{}:{}", self.scheme, url);
        }
        if !self.query.is_empty() {
            url.push('?');
            url.push_str(self.query);
        }
        if !self.fragment.is_empty() {
            url.push('#');
            url.push_str(self.fragment);
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_python() {
        let r = urlsplit("HTTP://User@Example.com:8080/a/b?x=1#frag").unwrap();
        assert_eq!(r.scheme, "http");
        assert_eq!(r.netloc, "User@Example.com:8080");
        assert_eq!(r.path, "/a/b");
        assert_eq!(r.query, "x=1");
        assert_eq!(r.fragment, "frag");
        assert_eq!(r.hostname().as_deref(), Some("example.com"));
        assert_eq!(r.port(), Ok(Some(8080)));
        // no '//' -> no netloc
        assert_eq!(urlsplit("example.com/foo").unwrap().netloc, "");
        assert_eq!(urlsplit("//example.com").unwrap().netloc, "example.com");
        // a digit first: no scheme
        assert_eq!(urlsplit("1http://x").unwrap().scheme, "");
        assert!(urlsplit("http://[::1/").is_err());
        assert_eq!(
            urlsplit("http://[2001:db8::1]:80/")
                .unwrap()
                .hostname()
                .as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            urlsplit("file:///etc/x").unwrap().unsplit(),
            "file:///etc/x"
        );
    }
}
