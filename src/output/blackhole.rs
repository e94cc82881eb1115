//! `blackhole`: IntelMQ's blackhole output; every event is taken and dropped
//! (counted as delivered).

use super::{Output, OutputOpts};
use crate::message::Message;
use crate::pipeline::Fail;

pub struct Blackhole;

pub fn build(_o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    Ok(Box::new(Blackhole))
}

impl Output for Blackhole {
    fn write(&mut self, _ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        Ok(())
    }
    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        Ok(Vec::new())
    }
}
