//! SIGTERM and SIGINT as a request to stop: the loop stops reading, commits the
//! batch in flight, acknowledges it and ends normally (exit 0), so a service
//! manager's stop loses and doubles nothing.
//!
//! Only transports that can wait without end for input (brokers) install the
//! handler, and they wait in slices so they see the request. For files and pipes
//! the default action stays: a plain pipeline stage dies at once, as `grep` does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

fn flag() -> &'static Arc<AtomicBool> {
    STOP.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Turn SIGTERM and SIGINT into a stop request (idempotent).
pub fn install() -> std::io::Result<()> {
    static DONE: OnceLock<()> = OnceLock::new();
    if DONE.get().is_some() {
        return Ok(());
    }
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(flag()))?;
    }
    let _ = DONE.set(());
    Ok(())
}

/// Has a stop been requested?
pub fn stop_requested() -> bool {
    flag().load(Ordering::Relaxed)
}

/// Ask the loop to stop, as SIGTERM does (tests and embedding code).
pub fn request_stop() {
    flag().store(true, Ordering::Relaxed);
}
