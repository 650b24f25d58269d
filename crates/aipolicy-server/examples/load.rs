//! An open-loop load generator for the benchmarks (BENCHMARKS.md): sends one POST body at a
//! fixed rate over keep-alive HTTP/1.1 connections and reports throughput and latency
//! percentiles. A request that could not be sent on time because its connection was still
//! waiting for the previous answer is charged from the time it was *scheduled*, so a server that
//! falls behind is charged for the wait (no coordinated omission); otherwise from when it was
//! sent (the timer wakes at millisecond steps). Loopback only.
//!
//! ```sh
//! cargo run --release --example load -- URL BODY_FILE RATE SECONDS [CONNECTIONS] [-H 'NAME: VALUE']... [--status CODE]
//! ```
//!
//! `-H` adds a request header (the gateway's benchmark sends a caller's token and the user);
//! `--status` is the answer counted as a success (200 unless told: a refusal's 403 is measured
//! too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark tool

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut expected: u16 = 200;
    let mut given = std::env::args();
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "-H" => {
                let header = given.next().unwrap_or_default();
                let (name, value) = header.split_once(':').expect("-H 'NAME: VALUE'");
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
            "--status" => expected = given.next().unwrap_or_default().parse().unwrap(),
            _ => args.push(arg),
        }
    }
    if args.len() < 5 {
        eprintln!("usage: load URL BODY_FILE RATE SECONDS [CONNECTIONS] [-H 'NAME: VALUE']... [--status CODE]");
        std::process::exit(2);
    }
    let url: hyper::Uri = args[1].parse().unwrap();
    let host = url.host().unwrap().to_string();
    assert!(host == "127.0.0.1" || host == "localhost", "loopback only");
    let port = url.port_u16().unwrap_or(80);
    let body = Bytes::from(std::fs::read(&args[2]).unwrap());
    let rate: f64 = args[3].parse().unwrap();
    let seconds: f64 = args[4].parse().unwrap();
    let connections: usize = args.get(5).map_or(64, |c| c.parse().unwrap());
    let interval = Duration::from_secs_f64(connections as f64 / rate);
    let per_connection = (rate * seconds / connections as f64).round() as usize;
    let start = Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let body = body.clone();
        let path = url.path().to_string();
        let host = host.clone();
        let headers = headers.clone();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            // Spread the connections' schedules over one interval.
            let offset = interval.mul_f64(c as f64 / connections as f64);
            let mut latencies = Vec::with_capacity(per_connection);
            let mut errors = 0usize;
            let mut previous_done = start;
            for k in 0..per_connection {
                let scheduled = start + offset + interval * k as u32;
                tokio::time::sleep_until(scheduled.into()).await;
                // A request sent late because the previous answer came late is charged from its
                // scheduled time (the server made it wait); one sent late only because the
                // timer wakes at millisecond steps is charged from when it was sent.
                let sent = Instant::now();
                let since = if previous_done > scheduled {
                    scheduled
                } else {
                    sent
                };
                let mut request = Request::post(path.as_str())
                    .header("host", "localhost")
                    .header("content-type", "application/json");
                for (name, value) in &headers {
                    request = request.header(name.as_str(), value.as_str());
                }
                let request = request.body(Full::new(body.clone())).unwrap();
                match sender.send_request(request).await {
                    Ok(response) => {
                        let ok = response.status() == expected;
                        let _ = response.into_body().collect().await;
                        if !ok {
                            errors += 1;
                        }
                    }
                    Err(_) => errors += 1,
                }
                previous_done = Instant::now();
                latencies.push((previous_done - since).as_micros() as u64);
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (latencies, e) = task.await.unwrap();
        all.extend(latencies);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all[((all.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(all.len() - 1)] as f64
            / 1000.0
    };
    println!(
        "target {rate:.0}/s, {connections} connections, {seconds:.0} s: {} requests, {:.0}/s, errors {errors}; latency ms p50 {:.3} p90 {:.3} p99 {:.3} p99.9 {:.3} max {:.3}",
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        pct(1.0),
    );
}
