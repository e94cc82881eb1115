//! Messages to stderr: bounded, sanitized, quiet with `-q`.

use crate::transport::Pos;
use std::io::{self, Write};

/// A tool's stderr: reject messages, bounded in number.
pub struct Log {
    pub tool: &'static str,
    pub quiet: bool,
    pub verbose: u8,
    shown: u64,
    /// The last reject (position and reason), for `--stats`.
    pub last_error: Option<String>,
}

/// At most this many reject messages on stderr; the dump has them all.
const MAX_SHOWN: u64 = 20;

impl Log {
    pub fn new(tool: &'static str, quiet: bool, verbose: u8) -> Log {
        Log {
            tool,
            quiet,
            verbose,
            shown: 0,
            last_error: None,
        }
    }

    pub(crate) fn reject(&mut self, pos: Pos, reason: &str) {
        // Formatted once: the message on stderr and `--stats`' last error. The
        // reason is cut, so a flood of rejects costs a bounded copy each.
        let msg = format!(
            "{}:{}: {}",
            pos.input,
            pos.line,
            sanitize_for_terminal(reason, 300)
        );
        if !self.quiet {
            self.shown += 1;
            if self.shown <= MAX_SHOWN {
                eprintln_safe(&format!("{}: {msg}", self.tool));
            } else if self.shown == MAX_SHOWN + 1 {
                eprintln_safe(&format!(
                    "{}: more rejected lines; see the dump for all of them",
                    self.tool
                ));
            }
        }
        self.last_error = Some(msg);
    }

    /// One line about the run (not about a message), unless quiet.
    pub fn say(&self, s: &str) {
        if !self.quiet {
            eprintln_safe(&format!("{}: {s}", self.tool));
        }
    }
}

/// Write to stderr, ignoring a closed stderr (as with `2>&-` or a closed pipe).
pub fn eprintln_safe(s: &str) {
    let mut e = io::stderr().lock();
    let _ = writeln!(e, "{s}");
}

/// Escape control characters and cut long text, so that hostile input cannot drive
/// the terminal.
pub fn sanitize_for_terminal(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 8);
    for (i, c) in s.chars().enumerate() {
        if i >= max {
            out.push('…');
            break;
        }
        if c.is_control()
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
        {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
