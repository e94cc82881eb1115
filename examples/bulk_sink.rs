//! The loopback Elasticsearch `_bulk` endpoint of `scripts/bench` (the tests'
//! server, tests/support/search.rs, counting documents instead of keeping
//! them): prints its port, serves until killed; `GET /_count` tells how many
//! documents it took.
#[path = "../tests/support/search.rs"]
mod search;

fn main() {
    let s = search::SearchServer::start(search::State {
        count_only: true,
        ..search::State::default()
    });
    println!("{}", s.addr.port());
    loop {
        std::thread::park();
    }
}
