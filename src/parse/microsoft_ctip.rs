//! stub
use super::{Params, Parser};
pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    anyhow::bail!("not yet")
}
