//! jinja: set fields from Jinja templates rendered with the event as `msg`
//! (IntelMQ `intelmq.bots.experts.jinja.expert`; templates with minijinja). A
//! template given as `file:///path` is read from that file. Templates are
//! compiled before any event is read; a syntax error stops the run.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use minijinja::Environment;
use serde_json::Value;

pub struct Jinja {
    env: Environment<'static>,
    fields: Vec<String>,
    overwrite: bool,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let fields = match p.get("fields") {
        None => serde_json::Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o,
            _ => bail!("parameter fields: expected a JSON object of field: template"),
        },
        Some(other) => bail!("parameter fields: expected an object, got {other}"),
    };
    let mut env = Environment::new();
    // Jinja2's Template() escapes nothing and drops one trailing newline.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    let mut names = Vec::new();
    for (field, t) in fields {
        let Value::String(t) = t else {
            bail!("parameter fields: template of {field} is not text");
        };
        let source = match t.strip_prefix("file://") {
            Some(path) => std::fs::read_to_string(path).with_context(|| {
                format!("Jinja Template {path} does not exist or is not readable")
            })?,
            None => t,
        };
        env.add_template_owned(field.clone(), source)
            .with_context(|| format!("Error parsing Jinja Template for '{field}'"))?;
        names.push(field);
    }
    Ok(Box::new(Jinja {
        env,
        fields: names,
        overwrite: params::boolean(p, "overwrite", false)?,
    }))
}

impl Expert for Jinja {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for field in &self.fields {
            let tmpl = self
                .env
                .get_template(field)
                .map_err(|e| Fail::Fatal(e.into()))?;
            let msg = minijinja::Value::from_serialize(ev.to_map());
            let text = tmpl
                .render(minijinja::context! { msg => msg })
                .map_err(|e| Fail::Reject(format!("template for {field}: {e}")))?;
            params::add(ev, field, Value::String(text), Some(self.overwrite))?;
        }
        Ok(Verdict::Keep)
    }
}
