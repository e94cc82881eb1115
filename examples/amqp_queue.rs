//! Queue chores for `scripts/bench` on the local RabbitMQ (guest/guest, vhost
//! `/`): `amqp_queue delete Q...` removes queues; `amqp_queue wait Q N` returns
//! once Q holds N ready messages (polling every 5 ms, failing after 30 s
//! without change) and prints the seconds it waited.
use imq::net::amqp::{Conn, Opts};
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut c = Conn::open(&Opts {
        host: "127.0.0.1".into(),
        port: 5672,
        user: "guest".into(),
        pass: "guest".into(),
        vhost: "/".into(),
        name: "imq bench".into(),
        connect_timeout: Duration::from_secs(5),
    })?;
    match args.first().map(String::as_str) {
        Some("delete") => {
            for q in &args[1..] {
                c.delete_queue(q)?;
            }
        }
        Some("wait") if args.len() == 3 => {
            let want: u32 = args[2].parse().map_err(std::io::Error::other)?;
            let start = Instant::now();
            let (mut last, mut changed) = (0, Instant::now());
            loop {
                let n = c.declare_queue(&args[1])?;
                if n >= want {
                    break;
                }
                if n != last {
                    (last, changed) = (n, Instant::now());
                } else if changed.elapsed() > Duration::from_secs(30) {
                    return Err(std::io::Error::other(format!("stuck at {n} of {want}")));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            println!("{:.3}", start.elapsed().as_secs_f64());
        }
        _ => {
            eprintln!("usage: amqp_queue delete Q... | amqp_queue wait Q N");
            std::process::exit(2);
        }
    }
    Ok(())
}
