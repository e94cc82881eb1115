//! The status page `serve` ships in the binary (IntelMQ Manager's graph and
//! monitor): plain HTML, CSS and JavaScript, no build step, nothing fetched
//! from elsewhere. It polls `/api/v1/status` every second with the bearer token
//! (from the page's `#token=` fragment or typed in, kept in localStorage).

pub const PAGE: &str = include_str!("web/index.html");
