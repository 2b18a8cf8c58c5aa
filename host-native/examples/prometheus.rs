//! A service's queue metrics in Prometheus: install the exporter's
//! recorder *before* opening queues (their metric handles are registered
//! at open), work, then render the text exposition — here printed, or
//! served at `http://ADDR/metrics` with `--serve ADDR`.
//!
//! ```sh
//! cargo run -p persist-queue --example prometheus                 # print once
//! cargo run -p persist-queue --example prometheus -- --serve 127.0.0.1:9464
//! ```

use std::io::{Read, Write};

use metrics_exporter_prometheus::PrometheusBuilder;
use persist_queue::AckQueue;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let dir = tempfile::tempdir()?;
    let jobs: AckQueue<String> = AckQueue::builder(dir.path()).name("jobs").open()?;
    for i in 0..10 {
        jobs.put(&format!("job {i}"))?;
    }
    for _ in 0..4 {
        let d = jobs.get()?;
        jobs.ack(&d)?;
    }
    jobs.len()?; // counting sets the depth gauge
    let serve = std::env::args().skip_while(|a| a != "--serve").nth(1);
    let Some(addr) = serve else {
        print!("{}", prometheus.render());
        return Ok(());
    };
    let listener = std::net::TcpListener::bind(&addr)?;
    eprintln!("serving http://{addr}/metrics");
    for stream in listener.incoming() {
        let mut stream = stream?;
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request)?;
        jobs.len()?;
        let body = prometheus.render();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
    }
    Ok(())
}
