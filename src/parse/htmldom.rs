//! A small HTML reader for table feeds, shaped after what IntelMQ's
//! html_table parser sees through BeautifulSoup with Python's `html.parser`:
//! no implicit closing of tags (an unclosed `<td>` nests the next one), end tags
//! close up to the matching open element, whitespace-only text collapses to
//! `"\n"` or `" "`, and elements serialize as `str(tag)` does (attributes sorted,
//! `&`, `<`, `>` escaped, void elements as `<br/>`), which is what `raw` holds.

#[derive(Debug)]
pub enum Node {
    Element {
        name: String,
        attrs: Vec<(String, String)>,
        children: Vec<usize>,
    },
    Text(String),
    Comment(String),
}

/// The parsed document: an arena of nodes, node 0 the root.
pub struct Dom {
    pub nodes: Vec<Node>,
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "menuitem",
    "meta", "param", "source", "track", "wbr", "basefont", "bgsound", "command", "frame", "image",
    "isindex", "nextid", "spacer",
];

/// Python's `html.unescape` for the references feeds use.
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '#')
            .map(|e| e + 1)
            .unwrap_or(rest.len());
        let name = &rest[1..end];
        let decoded = if let Some(num) = name.strip_prefix('#') {
            let n = if let Some(h) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(h, 16).ok()
            } else {
                num.parse().ok()
            };
            n.and_then(char::from_u32).map(String::from)
        } else {
            match name {
                "amp" => Some("&".into()),
                "lt" => Some("<".into()),
                "gt" => Some(">".into()),
                "quot" => Some("\"".into()),
                "apos" => Some("'".into()),
                "nbsp" => Some("\u{a0}".into()),
                "copy" => Some("\u{a9}".into()),
                _ => None,
            }
        };
        match decoded {
            Some(d) => {
                out.push_str(&d);
                let semi = rest[end..].starts_with(';') as usize;
                rest = &rest[end + semi..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Deepest element nesting read: the tree is walked recursively (text, search,
/// serialization), and a thread's stack is finite. Feed pages nest a few dozen
/// levels; `html.parser` leaves unclosed tags open, so a page of unclosed `<td>`s
/// nests one level per cell.
pub const MAX_DEPTH: usize = 2000;

impl Dom {
    /// Read a page; an error when elements nest deeper than [`MAX_DEPTH`].
    pub fn parse(html: &str) -> Result<Dom, String> {
        let mut dom = Dom {
            nodes: vec![Node::Element {
                name: "[document]".into(),
                attrs: Vec::new(),
                children: Vec::new(),
            }],
        };
        let mut open: Vec<usize> = vec![0];
        let mut text = String::new();
        let b = html.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'<' {
                let next = b.get(i + 1).copied().unwrap_or(0);
                if html[i..].starts_with("<!--") {
                    dom.flush_text(&mut text, &open);
                    let end = html[i + 4..]
                        .find("-->")
                        .map(|e| i + 4 + e)
                        .unwrap_or(b.len());
                    let c = html[i + 4..end].to_string();
                    dom.append(&open, Node::Comment(c));
                    i = (end + 3).min(b.len());
                    continue;
                }
                if next == b'!' || next == b'?' {
                    dom.flush_text(&mut text, &open);
                    i = html[i..].find('>').map(|e| i + e + 1).unwrap_or(b.len());
                    continue;
                }
                if next == b'/' && b.get(i + 2).is_some_and(u8::is_ascii_alphabetic) {
                    dom.flush_text(&mut text, &open);
                    let end = html[i..].find('>').map(|e| i + e).unwrap_or(b.len());
                    let name = html[i + 2..end]
                        .split(|c: char| c.is_whitespace() || c == '/')
                        .next()
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    if let Some(pos) = open.iter().rposition(|&n| dom.name(n) == name) {
                        if pos > 0 {
                            open.truncate(pos);
                        }
                    }
                    i = end + 1;
                    continue;
                }
                if next.is_ascii_alphabetic() {
                    dom.flush_text(&mut text, &open);
                    let at = i;
                    i = dom.start_tag(html, i + 1, &mut open);
                    // The document node is open too.
                    if open.len() > MAX_DEPTH + 1 {
                        return Err(format!(
                            "HTML elements nested deeper than {MAX_DEPTH} (at byte {at})"
                        ));
                    }
                    continue;
                }
            }
            // `<` is ASCII: the byte search stays on char boundaries.
            let end = memchr::memchr(b'<', &b[i + 1..])
                .map(|e| i + 1 + e)
                .unwrap_or(b.len());
            text.push_str(&html[i..end]);
            i = end;
        }
        dom.flush_text(&mut text, &open);
        Ok(dom)
    }

    fn name(&self, n: usize) -> &str {
        match &self.nodes[n] {
            Node::Element { name, .. } => name,
            _ => "",
        }
    }

    fn append(&mut self, open: &[usize], node: Node) -> usize {
        let id = self.nodes.len();
        self.nodes.push(node);
        let parent = *open.last().expect("root is always open");
        if let Node::Element { children, .. } = &mut self.nodes[parent] {
            children.push(id);
        }
        id
    }

    fn flush_text(&mut self, text: &mut String, open: &[usize]) {
        if text.is_empty() {
            return;
        }
        let mut s = unescape(text);
        text.clear();
        let preserve = open
            .iter()
            .any(|&n| matches!(self.name(n), "pre" | "textarea"));
        // BeautifulSoup collapses strings of ASCII spaces only (its ASCII_SPACES);
        // a lone &nbsp; stays.
        if !preserve
            && s.chars()
                .all(|c| matches!(c, ' ' | '\n' | '\t' | '\x0c' | '\r'))
        {
            s = if s.contains('\n') { "\n" } else { " " }.into();
        }
        self.append(open, Node::Text(s));
    }

    /// Read a start tag from `at` (after `<`); returns the index after it.
    fn start_tag(&mut self, html: &str, at: usize, open: &mut Vec<usize>) -> usize {
        let b = html.as_bytes();
        let mut i = at;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' && b[i] != b'/' {
            i += 1;
        }
        let name = html[at..i].to_ascii_lowercase();
        let mut attrs: Vec<(String, String)> = Vec::new();
        let mut self_closing = false;
        loop {
            while i < b.len()
                && (b[i].is_ascii_whitespace() || (b[i] == b'/' && b.get(i + 1) != Some(&b'>')))
            {
                i += 1;
            }
            if i >= b.len() {
                break;
            }
            if b[i] == b'>' {
                i += 1;
                break;
            }
            if b[i] == b'/' {
                self_closing = true;
                i += 2;
                break;
            }
            let s = i;
            let name_end = |i: usize| {
                i >= b.len()
                    || b[i].is_ascii_whitespace()
                    || matches!(b[i], b'=' | b'>')
                    || (b[i] == b'/' && b.get(i + 1) == Some(&b'>'))
            };
            while !name_end(i) {
                i += 1;
            }
            let aname = html[s..i].to_ascii_lowercase();
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                    let q = b[i];
                    let e = html[i + 1..]
                        .find(q as char)
                        .map(|e| i + 1 + e)
                        .unwrap_or(b.len());
                    value = unescape(&html[i + 1..e]);
                    i = (e + 1).min(b.len());
                } else {
                    let s = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = unescape(&html[s..i]);
                }
            }
            if !attrs.iter().any(|(n, _)| *n == aname) {
                attrs.push((aname, value));
            }
        }
        let void = VOID.contains(&name.as_str());
        let raw_text = matches!(name.as_str(), "script" | "style");
        let id = self.append(
            open,
            Node::Element {
                name: name.clone(),
                attrs,
                children: Vec::new(),
            },
        );
        if raw_text && !self_closing {
            let close = format!("</{name}");
            let end = html[i..]
                .to_ascii_lowercase()
                .find(&close)
                .map(|e| i + e)
                .unwrap_or(b.len());
            if end > i {
                open.push(id);
                let t = html[i..end].to_string();
                self.append(open, Node::Text(t));
                open.pop();
            }
            return html[end..]
                .find('>')
                .map(|e| end + e + 1)
                .unwrap_or(b.len());
        }
        if !void && !self_closing {
            open.push(id);
        }
        i
    }

    /// Elements named `name` below `n`, in document order.
    pub fn find_all(&self, n: usize, name: &str, out: &mut Vec<usize>) {
        if let Node::Element { children, .. } = &self.nodes[n] {
            for &c in children {
                if self.name(c) == name {
                    out.push(c);
                }
                self.find_all(c, name, out);
            }
        }
    }

    pub fn attr(&self, n: usize, key: &str) -> Option<&str> {
        match &self.nodes[n] {
            Node::Element { attrs, .. } => attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }

    /// BeautifulSoup's `.text`: all text below `n`, comments left out.
    pub fn text(&self, n: usize, out: &mut String) {
        match &self.nodes[n] {
            Node::Text(t) => out.push_str(t),
            Node::Comment(_) => {}
            Node::Element { children, .. } => {
                for &c in children {
                    self.text(c, out);
                }
            }
        }
    }

    /// `str(tag)` of BeautifulSoup's default (minimal) formatter.
    pub fn serialize(&self, n: usize, out: &mut String) {
        match &self.nodes[n] {
            Node::Text(t) => escape_text(t, out),
            Node::Comment(c) => {
                out.push_str("<!--");
                out.push_str(c);
                out.push_str("-->");
            }
            Node::Element {
                name,
                attrs,
                children,
            } => {
                out.push('<');
                out.push_str(name);
                let mut sorted: Vec<&(String, String)> = attrs.iter().collect();
                sorted.sort();
                for (k, v) in sorted {
                    out.push(' ');
                    out.push_str(k);
                    out.push('=');
                    let mut val = String::new();
                    escape_text(v, &mut val);
                    if val.contains('"') {
                        if val.contains('\'') {
                            out.push('"');
                            out.push_str(&val.replace('"', "&quot;"));
                            out.push('"');
                        } else {
                            out.push('\'');
                            out.push_str(&val);
                            out.push('\'');
                        }
                    } else {
                        out.push('"');
                        out.push_str(&val);
                        out.push('"');
                    }
                }
                if VOID.contains(&name.as_str()) {
                    out.push_str("/>");
                    return;
                }
                out.push('>');
                for &c in children {
                    self.serialize(c, out);
                }
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
        }
    }
}

fn escape_text(t: &str, out: &mut String) {
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_tr(h: &str) -> (String, Vec<String>) {
        let d = Dom::parse(h).unwrap();
        let mut trs = Vec::new();
        d.find_all(0, "tr", &mut trs);
        let mut s = String::new();
        d.serialize(trs[0], &mut s);
        let mut tds = Vec::new();
        d.find_all(trs[0], "td", &mut tds);
        let texts = tds
            .iter()
            .map(|&t| {
                let mut x = String::new();
                d.text(t, &mut x);
                x
            })
            .collect();
        (s, texts)
    }

    #[test]
    fn like_beautifulsoup() {
        // Expected values are what BeautifulSoup 4.15 with html.parser gives.
        let (s, t) = first_tr("<table><tr>\n\t\t<td b=\"1\" a=2>x &amp; y &lt; &#65; &nbsp;z</td>  <td>\t q \n</td>\t<td><br><img src=x b=y></td></tr></table>");
        assert_eq!(s, "<tr>\n<td a=\"2\" b=\"1\">x &amp; y &lt; A \u{a0}z</td> <td>\t q \n</td> <td><br/><img b=\"y\" src=\"x\"/></td></tr>");
        assert_eq!(t, ["x & y < A \u{a0}z", "\t q \n", ""]);
        let (s, t) = first_tr("<table><tr><td title='a\"b' x=\"a&amp;b<\">1<td>2</tr></table>");
        assert_eq!(
            s,
            "<tr><td title='a\"b' x=\"a&amp;b&lt;\">1<td>2</td></td></tr>"
        );
        assert_eq!(t, ["12", "2"]);
        let (s, t) = first_tr("<tr><td>a<!-- c --> <b>x</b></td></tr><tr><td/>");
        assert_eq!(s, "<tr><td>a<!-- c --> <b>x</b></td></tr>");
        assert_eq!(t, ["a x"]);
    }
}
