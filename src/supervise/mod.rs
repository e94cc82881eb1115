//! `imq-supervise`: run imq pipelines as services, see and steer them (IntelMQ's
//! intelmqctl, intelmqdump, the Manager and its API, for imq).
//!
//! * [`config`]: the pipeline file; [`schedule`]: collector schedules.
//! * [`pipes`]: the `fifo` transport's pipes and relays; [`run`]: the process
//!   manager; [`state`]: what it leaves in the state directory.
//! * [`check`]: `check`; [`units`]: systemd units; [`status`]: `status`,
//!   `queues`, `log`; [`dump`]: `dump list|show|recover|delete`;
//!   [`import`]: IntelMQ's runtime.yaml; [`api`] and [`web`]: `serve`.

pub mod api;
pub mod check;
pub mod config;
pub mod dump;
pub mod import;
pub mod pipes;
pub mod run;
pub mod schedule;
pub mod state;
pub mod status;
pub mod units;
pub mod web;
