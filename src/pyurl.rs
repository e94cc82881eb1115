//! Python's `urllib.parse.urlsplit`, which IntelMQ's URL and FQDN types and its URL
//! experts use to decide what a URL's host is. A WHATWG parser (the `url` crate) would
//! accept and reject other strings, so we follow Python's rules instead.

use std::borrow::Cow;

/// The five parts of a URL as Python's `urlsplit` returns them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SplitResult<'a> {
    /// Lower-cased: borrowed from the URL when it is lower-case already.
    pub scheme: Cow<'a, str>,
    pub netloc: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub fragment: &'a str,
}

/// Byte classes for [`urlsplit`], so that each part is found in one pass of
/// table lookups (URLs are checked in every event that has one).
const SCHEME: u8 = 1; // a scheme character
const NETLOC_END: u8 = 2; // '/', '?', '#'
const OPEN: u8 = 4; // '['
const CLOSE: u8 = 8; // ']'
const QUERY: u8 = 16; // '?'
const FRAGMENT: u8 = 32; // '#'
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.' {
            t[c] = SCHEME;
        }
        c += 1;
    }
    t[b'/' as usize] = NETLOC_END;
    t[b'?' as usize] = NETLOC_END | QUERY;
    t[b'#' as usize] = NETLOC_END | FRAGMENT;
    t[b'[' as usize] = OPEN;
    t[b']' as usize] = CLOSE;
    t
};

#[inline(always)]
fn class(b: u8) -> u8 {
    CLASS[b as usize]
}

/// Python's `urlsplit(url)` (allow_fragments=True). Python also strips leading C0
/// controls/spaces and removes tab, CR and LF anywhere; callers that need this pass
/// the cleaned string from [`clean`]. `Err` is Python's `ValueError`
/// ("Invalid IPv6 URL").
pub fn urlsplit(url: &str) -> Result<SplitResult<'_>, &'static str> {
    let b = url.as_bytes();
    let mut rest = url;
    let mut scheme = Cow::Borrowed("");
    // Python takes the text before the first ':' when it is all scheme
    // characters; ':' is not one, so the run of scheme characters from the start
    // ends at that ':' exactly when there is a scheme.
    let mut i = 0;
    let mut upper = false;
    while i < b.len() && class(b[i]) & SCHEME != 0 {
        upper |= b[i].is_ascii_uppercase();
        i += 1;
    }
    if i > 0 && b.get(i) == Some(&b':') && b[0].is_ascii_alphabetic() {
        let s = &url[..i];
        scheme = if upper {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        };
        rest = &url[i + 1..];
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let a = after.as_bytes();
        let mut end = 0;
        let mut seen = 0u8;
        while end < a.len() {
            let c = class(a[end]);
            if c & NETLOC_END != 0 {
                break;
            }
            seen |= c;
            end += 1;
        }
        netloc = &after[..end];
        rest = &after[end..];
        let (open, close) = (seen & OPEN != 0, seen & CLOSE != 0);
        if open != close {
            return Err("Invalid IPv6 URL");
        }
        if open && close {
            check_bracketed_host(netloc)?;
        }
    }
    // The first '#' starts the fragment, the first '?' before it the query.
    let mut fragment = "";
    let mut query = "";
    let r = rest.as_bytes();
    let mut q = None;
    for (i, &c) in r.iter().enumerate() {
        let k = class(c);
        if k & (QUERY | FRAGMENT) == 0 {
            continue;
        }
        if k & FRAGMENT != 0 {
            fragment = &rest[i + 1..];
            rest = &rest[..i];
            break;
        }
        if q.is_none() {
            q = Some(i);
        }
    }
    if let Some(i) = q {
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

/// Python 3.11.4+ `_check_bracketed_host`: the text between the first '[' and
/// the first ']' after it must be an IPv6 address (a scope id allowed) or an
/// IPvFuture literal `v<hex>.<something>`.
fn check_bracketed_host(netloc: &str) -> Result<(), &'static str> {
    let after = &netloc[netloc.find('[').map_or(0, |i| i + 1)..];
    let inner = after.split(']').next().unwrap_or("");
    let ok = if let Some(rest) = inner.strip_prefix('v') {
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        hex > 0 && rest[hex..].strip_prefix('.').is_some_and(|t| !t.is_empty())
    } else {
        let (addr, scope) = match inner.split_once('%') {
            Some((a, sc)) => (a, Some(sc)),
            None => (inner, None),
        };
        scope.is_none_or(|sc| !sc.is_empty() && !sc.contains('%'))
            && addr.parse::<std::net::Ipv6Addr>().is_ok()
    };
    if ok {
        Ok(())
    } else {
        Err("'[' and ']' must enclose an IPv6 address")
    }
}

/// What Python does to a URL before splitting: strip leading C0 controls and spaces,
/// delete every tab, CR and LF.
pub fn clean(url: &str) -> std::borrow::Cow<'_, str> {
    let skip = url.bytes().take_while(|&b| b <= b' ').count();
    let trimmed = &url[skip..];
    if trimmed
        .bytes()
        .fold(false, |any, b| any | matches!(b, b'\t' | b'\r' | b'\n'))
    {
        std::borrow::Cow::Owned(trimmed.replace(['\t', '\r', '\n'], ""))
    } else {
        std::borrow::Cow::Borrowed(trimmed)
    }
}

impl SplitResult<'_> {
    /// `hostname` as Python computes it: netloc without userinfo and port, lower-cased,
    /// brackets of IPv6 literals removed.
    pub fn hostname(&self) -> Option<String> {
        let n = self.netloc.as_bytes();
        let host = memchr::memrchr(b'@', n).map_or(self.netloc, |i| &self.netloc[i + 1..]);
        let host = if let Some(stripped) = host.strip_prefix('[') {
            memchr::memchr(b']', stripped.as_bytes()).map_or(stripped, |i| &stripped[..i])
        } else {
            memchr::memchr(b':', host.as_bytes()).map_or(host, |i| &host[..i])
        };
        if host.is_empty() {
            None
        } else if host.is_ascii() {
            Some(host.to_ascii_lowercase())
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
                && USES_NETLOC.contains(&&*self.scheme)
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

    /// Python 3.11's `urlsplit`, written the way Python writes it (`split`,
    /// `find`), as the reference for the table-driven version.
    fn reference(url: &str) -> Result<SplitResult<'_>, &'static str> {
        let mut scheme = Cow::Borrowed("");
        let mut rest = url;
        if let Some(i) = url.find(':') {
            let s = &url[..i];
            if s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                scheme = Cow::Owned(s.to_ascii_lowercase());
                rest = &url[i + 1..];
            }
        }
        let mut netloc = "";
        if rest.starts_with("//") {
            // _splitnetloc(url, 2)
            let end = ['/', '?', '#']
                .iter()
                .filter_map(|&c| rest[2..].find(c).map(|i| i + 2))
                .min()
                .unwrap_or(rest.len());
            netloc = &rest[2..end];
            rest = &rest[end..];
            if netloc.contains('[') != netloc.contains(']') {
                return Err("Invalid IPv6 URL");
            }
            if netloc.contains('[') && netloc.contains(']') {
                check_bracketed_host(netloc)?;
            }
        }
        let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        Ok(SplitResult {
            scheme,
            netloc,
            path,
            query,
            fragment,
        })
    }

    /// The table-driven split agrees with the straightforward one on strings
    /// made of every character that matters to it.
    #[test]
    fn agrees_with_reference() {
        let parts = [
            "http", "HTTP", "h1+.-", "1x", ":", "//", "/", "?", "#", "[", "]", "::1", "v1.x", "%",
            "@", "a", "B", ".", " ", "é",
        ];
        let n = parts.len();
        for x in 0..n.pow(4) {
            let mut url = String::new();
            let mut k = x;
            for _ in 0..4 {
                url.push_str(parts[k % n]);
                k /= n;
            }
            assert_eq!(urlsplit(&url), reference(&url), "{url:?}");
        }
    }

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
        let r = urlsplit("http://h/a?b#c?d").unwrap();
        assert_eq!((r.path, r.query, r.fragment), ("/a", "b", "c?d"));
        let r = urlsplit("http://h/x#y?z").unwrap();
        assert_eq!((r.path, r.query, r.fragment), ("/x", "", "y?z"));
        let r = urlsplit("a b:c").unwrap();
        assert_eq!((&*r.scheme, r.path), ("", "a b:c"));
        assert_eq!(urlsplit("Mailto:x@y").unwrap().scheme, "mailto");
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
        // Python checks the text up to the *first* ']' (3.11.4+)
        assert!(urlsplit("http://[::1]]/").is_ok());
        assert!(urlsplit("http://[v1.x]/").is_ok());
        assert!(urlsplit("http://[V1.x]/").is_err());
        assert!(urlsplit("http://[::1%]/").is_err());
        assert!(urlsplit("http://[192.0.2.1]/").is_err());
        assert_eq!(
            urlsplit("file:///etc/x").unwrap().unsplit(),
            "file:///etc/x"
        );
    }
}
