//! The loopback feed server of `scripts/bench`: `feed_server BYTES` prints its
//! port and answers every GET with BYTES of generated CSV feed lines (with a
//! Content-Length), until killed. The body is made from one buffer written over
//! and over, so the server costs little beside the collector it feeds.
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

fn main() {
    let size: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256 << 20);
    let mut chunk = Vec::with_capacity(1 << 20);
    let mut i = 0u32;
    while chunk.len() < (1 << 20) - 128 {
        chunk.extend_from_slice(
            format!(
                "2024-01-01T00:{:02}:{:02}Z,192.0.{}.{},80,http://example.com/{i}/x.exe,64496,AT,emotet\n",
                i / 60 % 60,
                i % 60,
                i / 250 % 250,
                i % 250
            )
            .as_bytes(),
        );
        i += 1;
    }
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("{}", l.local_addr().expect("addr").port());
    for s in l.incoming().flatten() {
        let chunk = chunk.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(s.try_clone().expect("clone"));
            let mut line = String::new();
            // The request head, up to its empty line.
            while r.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let mut w = s;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
            );
            if w.write_all(head.as_bytes()).is_err() {
                return;
            }
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                if w.write_all(&chunk[..n]).is_err() {
                    return;
                }
                left -= n as u64;
            }
        });
    }
}
