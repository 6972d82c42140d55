//! Refresh throughput over keep-alive loopback connections. Ignored by default; run:
//!
//! ```text
//! cargo test --release -p alfaview-mock --test bench -- --ignored --nocapture
//! ```
//!
//! Bounded: a few seconds, a fixed number of connections, 127.0.0.1 only.

mod common;

use std::time::{Duration, Instant};

use alfaview_mock::MockServer;
use common::*;

fn run(connections: usize, secs: u64) -> f64 {
    let s = MockServer::start();
    let port = s.port();
    let (_, token) = login_alice(port);
    let body = refresh_body("c-100").to_string();
    let raw = format!(
        "POST {AUTH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Cookie: auth={token}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let raw = raw.clone();
            std::thread::spawn(move || {
                let mut c = Conn::connect(port);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    for _ in 0..100 {
                        let r = c.send_raw(raw.as_bytes()).unwrap();
                        assert_eq!(r.status, 200);
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let elapsed = start.elapsed().as_secs_f64();
    let st = s.stats();
    assert_eq!(st.refreshes, total);
    assert_eq!(st.connections, 1 + connections as u64);
    total as f64 / elapsed
}

#[test]
#[ignore = "benchmark: run explicitly with --release"]
fn refresh_throughput() {
    for connections in [1, 2, 4] {
        let rate = run(connections, 3);
        println!("{connections} keep-alive connection(s): {rate:.0} refreshes/s");
    }
}
