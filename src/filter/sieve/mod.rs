//! IntelMQ's sieve language (`intelmq.bots.experts.sieve.expert`): rules that
//! test, modify, route, keep and drop events.
//!
//! The grammar is IntelMQ's textX grammar (`sieve.tx`), parsed by hand in
//! [`parser`] with the same ordered choices, so that every file IntelMQ
//! accepts means the same here, and files it rejects are rejected with
//! `file:line:column`.

pub mod parser;

use super::cond::{var, Cache, Cond, Operand, Vars};
use super::value::{parse_relative, read_time};
use crate::message::{Add, Message};
use crate::pipeline::Fail;
use crate::pyfmt::py_str;
use crate::timeparse::to_iso;
use serde_json::Value;

/// `=`, `+=` and `-=` of `add`, `add!` and `update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assign {
    Set,
    Plus,
    Minus,
}

/// One action.
#[derive(Debug, Clone)]
pub enum Action {
    Drop,
    Keep,
    Path(Vec<String>),
    Add {
        key: String,
        op: Assign,
        value: Operand,
    },
    AddForce {
        key: String,
        op: Assign,
        value: Operand,
    },
    Update {
        key: String,
        op: Assign,
        value: Operand,
    },
    Remove(String),
    Append {
        key: String,
        value: Operand,
        force: bool,
    },
    /// `$var = key`
    SetVar {
        var: String,
        key: String,
    },
}

/// A statement: an action or an `if`/`elif`/`else` chain.
#[derive(Debug, Clone)]
pub enum Statement {
    Action(Action),
    /// (condition, body) for `if` and each `elif`; then the `else` body.
    Branch(Vec<(Cond, Vec<Statement>)>, Option<Vec<Statement>>),
}

/// What the rules decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Keep,
    Drop,
}

/// A parsed sieve file, ready to run.
#[derive(Debug, Clone)]
pub struct Sieve {
    pub statements: Vec<Statement>,
    vars: Vars,
    cache: Cache,
}

/// The outcome for one event.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    Drop,
    /// Send to these paths (`_default` when no `path` action ran).
    Send {
        paths: &'a [String],
        modified: bool,
    },
}

struct Run<'a> {
    vars: &'a mut Vars,
    cache: &'a mut Cache,
    paths: Option<&'a [String]>,
    modified: bool,
}

static DEFAULT_PATH: [String; 0] = [];

impl Sieve {
    pub fn new(statements: Vec<Statement>) -> Sieve {
        Sieve {
            statements,
            vars: Vars::new(),
            cache: Cache::default(),
        }
    }

    /// Parse a sieve file; errors read `file:line:column: message`.
    pub fn from_file(path: &str) -> anyhow::Result<Sieve> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        parser::parse(&text).map_err(|e| anyhow::anyhow!("{path}:{e}"))
    }

    /// The path names the rules can send to (`path` actions), in order of
    /// appearance, each once.
    pub fn path_names(&self) -> Vec<String> {
        fn walk(stmts: &[Statement], out: &mut Vec<String>) {
            for s in stmts {
                match s {
                    Statement::Action(Action::Path(p)) => {
                        for name in p {
                            if !out.contains(name) {
                                out.push(name.clone());
                            }
                        }
                    }
                    Statement::Action(_) => {}
                    Statement::Branch(arms, other) => {
                        for (_, body) in arms {
                            walk(body, out);
                        }
                        if let Some(b) = other {
                            walk(b, out);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.statements, &mut out);
        out
    }

    /// Run the rules over one event. An empty path list in `Send` means
    /// `_default`.
    pub fn process(&mut self, ev: &mut Message) -> Result<Outcome<'_>, Fail> {
        self.vars.clear();
        self.cache.reset();
        let mut run = Run {
            vars: &mut self.vars,
            cache: &mut self.cache,
            paths: None,
            modified: false,
        };
        let flow = block(&self.statements, ev, &mut run)?;
        if flow == Flow::Drop {
            return Ok(Outcome::Drop);
        }
        Ok(Outcome::Send {
            paths: run.paths.unwrap_or(&DEFAULT_PATH),
            modified: run.modified,
        })
    }
}

fn block<'a>(stmts: &'a [Statement], ev: &mut Message, run: &mut Run<'a>) -> Result<Flow, Fail> {
    for s in stmts {
        let flow = match s {
            Statement::Action(a) => action(a, ev, run)?,
            Statement::Branch(clauses, otherwise) => {
                let mut taken = None;
                for (cond, body) in clauses {
                    if cond.eval(ev, run.vars, run.cache)? {
                        taken = Some(body);
                        break;
                    }
                }
                match taken.or(otherwise.as_ref()) {
                    Some(body) => block(body, ev, run)?,
                    None => Flow::Continue,
                }
            }
        };
        if flow != Flow::Continue {
            return Ok(flow);
        }
    }
    Ok(Flow::Continue)
}

fn operand(v: &Operand, vars: &Vars) -> Result<Value, Fail> {
    Ok(match v {
        Operand::Lit(v) => v.clone(),
        Operand::Var(n) => var(vars, n)?.clone(),
    })
}

/// `+=`/`-=`: the key's time moved by a relative span, as ISO 8601.
fn basic_math(ev: &Message, key: &str, op: Assign, value: &Value) -> Result<Value, Fail> {
    let cur = ev
        .get(key)
        .ok_or_else(|| Fail::Reject(format!("KeyError: {key:?}")))?;
    let t = cur
        .as_str()
        .and_then(read_time)
        .ok_or_else(|| Fail::Reject(format!("Invalid isoformat string: {}", py_str(cur))))?;
    let span = value
        .as_str()
        .ok_or_else(|| Fail::Reject(format!("not a relative time: {}", py_str(value))))
        .and_then(|s| parse_relative(s).map_err(Fail::Reject))?;
    let t = if op == Assign::Plus {
        t.checked_add_signed(span)
    } else {
        t.checked_sub_signed(span)
    }
    .ok_or_else(|| {
        Fail::Reject(format!(
            "date value out of range: {} {op:?} {span}",
            py_str(cur)
        ))
    })?;
    Ok(Value::String(to_iso(&t)))
}

fn action<'a>(a: &'a Action, ev: &mut Message, run: &mut Run<'a>) -> Result<Flow, Fail> {
    match a {
        Action::Drop => return Ok(Flow::Drop),
        Action::Keep => return Ok(Flow::Keep),
        Action::Path(p) => run.paths = Some(p),
        Action::Add { key, op, value } => {
            if !ev.contains(key) {
                let mut v = operand(value, run.vars)?;
                if *op != Assign::Set {
                    v = basic_math(ev, key, *op, &v)?;
                }
                ev.add(key, v)?;
                run.modified = true;
                run.cache.reset();
            }
        }
        Action::AddForce { key, op, value } => {
            let mut v = operand(value, run.vars)?;
            if *op != Assign::Set {
                v = basic_math(ev, key, *op, &v)?;
            }
            ev.set(key, v)?;
            run.modified = true;
            run.cache.reset();
        }
        Action::Update { key, op, value } => {
            if ev.contains(key) {
                let mut v = operand(value, run.vars)?;
                if *op != Assign::Set {
                    v = basic_math(ev, key, *op, &v)?;
                }
                ev.change(key, v)?;
                run.modified = true;
                run.cache.reset();
            }
        }
        Action::Remove(key) => {
            if ev.remove(key).is_some() {
                run.modified = true;
                run.cache.reset();
            }
        }
        Action::Append { key, value, force } => {
            let v = operand(value, run.vars)?;
            match ev.get(key) {
                None => {
                    ev.add(key, Value::Array(vec![v]))?;
                }
                Some(Value::Array(items)) => {
                    // IntelMQ appends to the list in place: no new validation.
                    let mut items = items.clone();
                    items.push(v);
                    ev.add_with(
                        key,
                        Value::Array(items),
                        Add {
                            sanitize: false,
                            overwrite: Some(true),
                        },
                    )?;
                }
                Some(old) if *force => {
                    let old = old.clone();
                    ev.set(key, Value::Array(vec![old, v]))?;
                }
                // `append` silently ignores an existing value that is not a list.
                Some(_) => return Ok(Flow::Continue),
            }
            run.modified = true;
            run.cache.reset();
        }
        Action::SetVar { var: name, key } => {
            let v = ev
                .get(key)
                .ok_or_else(|| Fail::Reject(format!("{key} not present in event.")))?
                .clone();
            match run.vars.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = v,
                None => run.vars.push((name.clone(), v)),
            }
        }
    }
    Ok(Flow::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harmonization::MsgType;

    fn run(rules: &str, input: &str) -> (Option<Vec<String>>, String) {
        let mut s = parser::parse(rules).unwrap();
        let mut ev = Message::from_json(input.as_bytes(), MsgType::Event).unwrap();
        let out = match s.process(&mut ev).unwrap() {
            Outcome::Drop => None,
            Outcome::Send { paths, .. } => Some(paths.to_vec()),
        };
        (out, ev.to_json())
    }

    #[test]
    fn actions() {
        let (p, j) = run(
            "add comment = 'x'\nadd! source.port = 80\nremove source.fqdn\nupdate source.asn = 3\n",
            r#"{"source.fqdn":"a.example","source.port":1}"#,
        );
        assert_eq!(p, Some(vec![]));
        assert_eq!(j, r#"{"source.port":80,"comment":"x","__type":"Event"}"#);
    }

    #[test]
    fn keep_drop_path() {
        let r = "if source.port == 1 { drop }\nif source.port == 2 { keep }\npath 'p'\n";
        assert_eq!(run(r, r#"{"source.port":1}"#).0, None);
        assert_eq!(run(r, r#"{"source.port":2}"#).0, Some(vec![]));
        assert_eq!(
            run(r, r#"{"source.port":3}"#).0,
            Some(vec!["p".to_string()])
        );
        let (p, _) = run("path ['a', 'b']", "{}");
        assert_eq!(p, Some(vec!["a".into(), "b".into()]));
    }

    #[test]
    fn append_and_math() {
        let (_, j) = run(
            "append extra.l 'a'\nappend extra.l 2\nappend comment 'x'\nappend! extra.s 'b'",
            r#"{"comment":"c","extra.s":"a"}"#,
        );
        assert_eq!(
            j,
            r#"{"comment":"c","extra.s":["a","b"],"extra.l":["a",2],"__type":"Event"}"#
        );
        let (_, j) = run(
            "add! time.observation += '1 hour'",
            r#"{"time.observation":"2017-01-01T00:00:00+00:00"}"#,
        );
        assert!(j.contains("2017-01-01T01:00:00+00:00"), "{j}");
    }

    #[test]
    fn field_cache_sees_changes() {
        let r = "if :exists comment { drop }\nadd comment = 'x'\nif comment == 'x' { path 'p' }\n\
                 remove comment\nif :exists comment { drop }";
        assert_eq!(run(r, "{}").0, Some(vec!["p".to_string()]));
    }

    #[test]
    fn variables() {
        let (_, j) = run(
            "$foo = source.abuse_contact\nadd! extra.email = $foo",
            r#"{"source.abuse_contact":"a@example.com"}"#,
        );
        assert!(j.contains(r#""extra.email":"a@example.com""#), "{j}");
        let mut s = parser::parse("add! extra.email = $nope").unwrap();
        let mut ev = Message::event();
        assert!(s.process(&mut ev).is_err());
    }

    #[test]
    fn nested_elif_else() {
        let r = "if source.port == 1 { add comment = 'one' } elif source.port == 2 { \
                 if source.ip << '10.0.0.0/8' { add comment = 'two-ten' } else { add comment = 'two' } \
                 } else { add comment = 'other' }";
        assert!(run(r, r#"{"source.port":1}"#).1.contains("one"));
        assert!(run(r, r#"{"source.port":2,"source.ip":"10.1.1.1"}"#)
            .1
            .contains("two-ten"));
        assert!(run(r, r#"{"source.port":2}"#).1.contains("\"two\""));
        assert!(run(r, r#"{"source.port":5}"#).1.contains("other"));
    }
}
