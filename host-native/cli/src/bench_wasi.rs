//! `pq bench`, WebAssembly section (when the guests are built): a plugin's
//! put through the host-lent queue beside a native put, and the FIFO queue
//! inside a WASI guest beside the same queue natively.

use std::path::{Path, PathBuf};
use std::time::Instant;

use persist_queue::plugin::PluginHost;
use persist_queue::{AckQueue, Durability, QueueBuilder, Raw};

use crate::bench::{R, err, row};

/// Where the guests are: `$PQ_WASI_GUESTS`, else `target/wasm32-wasip1/release`.
pub(crate) fn guests() -> Option<PathBuf> {
    let dir = std::env::var("PQ_WASI_GUESTS").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/wasm32-wasip1/release"))
    });
    dir.join("pq-wasi-suite.wasm").is_file().then_some(dir)
}

fn seconds(f: impl FnOnce() -> R<()>) -> R<f64> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed().as_secs_f64())
}

/// Runs the section with `n` items per row.
pub(crate) fn measure(guests: &Path, scratch: &mut dyn FnMut() -> PathBuf, n: usize, rounds: usize) -> R<()> {
    println!("## WebAssembly plugins (wasmtime, wasm32-wasip1), buffered");
    println!();
    crate::bench::table_header();
    let plugin_wasm = std::fs::read(guests.join("examples/plugin.wasm")).map_err(err)?;
    let suite_wasm = std::fs::read(guests.join("pq-wasi-suite.wasm")).map_err(err)?;
    let (mut native, mut lent, mut ratio) = (vec![], vec![], vec![]);
    for _ in 0..rounds.max(1) {
        let q = AckQueue::files(scratch()).codec(Raw).durability(Durability::Buffered).open().map_err(err)?;
        let t_native = seconds(|| {
            for i in 0..n {
                q.put(&format!("item-{i}").into_bytes()).map_err(err)?;
            }
            Ok(())
        })?;
        let host = PluginHost::new(q.clone()).map_err(err)?;
        let plugin = host.load(&plugin_wasm).map_err(err)?;
        let count = n.to_string();
        let t_plugin = seconds(|| {
            let r = host.start(&plugin, &["put", &count]).map_err(err)?;
            if r.put as usize == n { Ok(()) } else { Err(format!("plugin put {} of {n}: {r:?}", r.put)) }
        })?;
        native.push(n as f64 / t_native);
        lent.push(n as f64 / t_plugin);
        ratio.push(t_plugin / t_native);
    }
    let m = crate::measure::median;
    row("native put, AckQueue::files (baseline N)", m(native), "1.00");
    row("plugin put through the host-lent queue", m(lent), &format!("{:.2}x N's cost", m(ratio)));
    let (mut native, mut guest, mut ratio) = (vec![], vec![], vec![]);
    let (mut batched, mut batched_ratio) = (vec![], vec![]);
    for _ in 0..rounds.max(1) {
        let dir = scratch();
        let q = QueueBuilder::new(dir.join("fifo"))
            .durability(Durability::Buffered)
            .open::<String>()
            .map_err(err)?;
        let t_native = seconds(|| {
            for i in 0..n {
                q.put(&format!("bench{i}")).map_err(err)?;
            }
            Ok(())
        })?;
        drop(q);
        let wasi_dir = scratch();
        std::fs::create_dir_all(&wasi_dir).map_err(err)?;
        let host = PluginHost::new(AckQueue::in_memory().codec(Raw).open().map_err(err)?)
            .map_err(err)?
            .preopen(&wasi_dir, "/data");
        let suite = host.load(&suite_wasm).map_err(err)?;
        let count = n.to_string();
        let t_guest = seconds(|| {
            let r = host.start(&suite, &["put-rate", "/data", &count]).map_err(err)?;
            if r.exit_code == 0 && r.trap.is_none() { Ok(()) } else { Err(format!("{r:?}")) }
        })?;
        let t_batched = seconds(|| {
            let r = host.start(&suite, &["put-many-rate", "/data", &count]).map_err(err)?;
            if r.exit_code == 0 && r.trap.is_none() { Ok(()) } else { Err(format!("{r:?}")) }
        })?;
        native.push(n as f64 / t_native);
        guest.push(n as f64 / t_guest);
        ratio.push(t_native / t_guest);
        batched.push(n as f64 / t_batched);
        batched_ratio.push(t_native / t_batched);
    }
    row("native FIFO Queue buffered put (baseline Q)", m(native), "1.00");
    row("the same queue inside a WASI guest, put", m(guest), &format!("{:.2}x Q", m(ratio)));
    row("inside the guest, put_many of 1,000", m(batched), &format!("{:.2}x Q", m(batched_ratio)));
    println!();
    Ok(())
}
