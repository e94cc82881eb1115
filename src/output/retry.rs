//! Retries of transient delivery failures (connection refused, timeouts, 5xx,
//! 429), with exponential backoff and a bounded total time: when it is spent the
//! batch is not delivered and the run stops (exit 2), nothing acknowledged.

use crate::params::{self, Params};
use crate::pipeline::signal;
use std::time::{Duration, Instant};

/// The outcome of one attempt.
pub enum Attempt<T> {
    Done(T),
    /// Worth trying again; the reason is logged and reported when retries run out.
    Transient(String),
}

#[derive(Clone, Debug)]
pub struct Retry {
    /// The longest time spent retrying one delivery.
    pub total: Duration,
    pub first: Duration,
    pub max: Duration,
}

impl Retry {
    /// `retry_seconds` (default 60): how long a delivery is retried.
    pub fn from_params(p: &Params) -> anyhow::Result<Retry> {
        let total = params::number(p, "retry_seconds", 60.0)?;
        if !(total >= 0.0 && total.is_finite()) {
            anyhow::bail!("parameter retry_seconds: a number of seconds >= 0, got {total}");
        }
        Ok(Retry {
            total: Duration::from_secs_f64(total),
            first: Duration::from_millis(100),
            max: Duration::from_secs(5),
        })
    }

    /// Run `attempt` until it is done, fails for good (`Err`), or the time is up.
    /// `what` names the delivery in messages.
    pub fn run<T>(
        &self,
        what: &str,
        mut attempt: impl FnMut() -> anyhow::Result<Attempt<T>>,
    ) -> anyhow::Result<T> {
        let start = Instant::now();
        let mut wait = self.first;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let reason = match attempt()? {
                Attempt::Done(t) => {
                    if tries > 1 {
                        crate::pipeline::eprintln_safe(&format!(
                            "imq-output: {what}: delivered after {tries} attempts"
                        ));
                    }
                    return Ok(t);
                }
                Attempt::Transient(r) => r,
            };
            let spent = start.elapsed();
            if spent + wait > self.total || signal::stop_requested() {
                anyhow::bail!(
                    "{what}: not delivered after {tries} attempts in {:.1} s: {reason}",
                    spent.as_secs_f64()
                );
            }
            crate::pipeline::eprintln_safe(&format!(
                "imq-output: {what}: {reason}; retrying in {:.1} s",
                wait.as_secs_f64()
            ));
            // Sleep in slices so a stop request is seen.
            let until = Instant::now() + wait;
            while Instant::now() < until && !signal::stop_requested() {
                std::thread::sleep((until - Instant::now()).min(Duration::from_millis(200)));
            }
            wait = (wait * 2).min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_then_gives_up() {
        let r = Retry {
            total: Duration::from_millis(300),
            first: Duration::from_millis(10),
            max: Duration::from_millis(50),
        };
        let mut n = 0;
        let v = r
            .run("test", || {
                n += 1;
                Ok(if n < 3 {
                    Attempt::Transient("busy".into())
                } else {
                    Attempt::Done(n)
                })
            })
            .unwrap();
        assert_eq!(v, 3);
        let e = r
            .run("test", || Ok(Attempt::<()>::Transient("down".into())))
            .unwrap_err();
        assert!(e.to_string().contains("not delivered"), "{e}");
        assert!(e.to_string().contains("down"));
    }
}
