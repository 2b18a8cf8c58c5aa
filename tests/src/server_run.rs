//! Producer and consumer processes on one server-backed ack queue
//! (`server_child`), and what they reported.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};

/// What the processes said.
#[derive(Debug, Default)]
pub struct Reports {
    /// Items whose put returned.
    pub put: HashSet<u64>,
    /// Items whose put failed (they may or may not be stored).
    pub put_failed: HashSet<u64>,
    /// Per consumer, the items delivered to it, in order.
    pub delivered: Vec<Vec<u64>>,
    /// Items whose ack returned.
    pub acked: HashSet<u64>,
    /// Every process's stderr, for failure messages.
    pub stderr: String,
    /// Some producer was still running when `during` returned.
    pub producing_during: bool,
}

fn spawn(child: &str, args: &[String]) -> Child {
    Command::new(child)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server_child")
}

/// The processes of a run.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Producer processes; producer `p` puts `p * per_producer ..`.
    pub producers: u64,
    /// Items each producer puts.
    pub per_producer: u64,
    /// Items per put call.
    pub batch: usize,
    /// Consumer processes, acking what they take.
    pub consumers: usize,
}

/// Runs `load` on the queue `name` at `url` with `child`, the
/// `server_child` binary; `during` runs while the processes work.
pub fn drive_children(child: &str, url: &str, name: &str, load: Load, during: impl FnOnce()) -> Reports {
    let Load { producers, per_producer, batch, consumers } = load;
    let tmp = tempfile::tempdir().expect("tmp");
    let done = tmp.path().join("done");
    let done_arg = done.to_str().expect("utf-8").to_string();
    let base = |cmd: &str| vec![url.to_string(), name.to_string(), cmd.to_string()];
    let cons: Vec<Child> = (0..consumers)
        .map(|_| {
            let mut a = base("consume");
            a.push(done_arg.clone());
            spawn(child, &a)
        })
        .collect();
    let prods: Vec<Child> = (0..producers)
        .map(|p| {
            let mut a = base("produce");
            a.push((p * per_producer).to_string());
            a.push(per_producer.to_string());
            a.push(batch.to_string());
            spawn(child, &a)
        })
        .collect();
    during();
    let mut reports = Reports::default();
    let mut prods = prods;
    reports.producing_during = prods.iter_mut().any(|p| matches!(p.try_wait(), Ok(None)));
    for p in prods {
        let out = p.wait_with_output().expect("producer");
        reports.stderr.push_str(&String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "producer failed: {}", reports.stderr);
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (mark, item) = line.split_once(' ').expect("mark item");
            let item: u64 = item.parse().expect("item");
            match mark {
                "P" => reports.put.insert(item),
                _ => reports.put_failed.insert(item),
            };
        }
    }
    std::fs::write(&done, b"").expect("done marker");
    for c in cons {
        let out = c.wait_with_output().expect("consumer");
        reports.stderr.push_str(&String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "consumer failed: {}", reports.stderr);
        let mut mine = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (mark, item) = line.split_once(' ').expect("mark item");
            let item: u64 = item.parse().expect("item");
            match mark {
                "G" => mine.push(item),
                _ => {
                    reports.acked.insert(item);
                }
            }
        }
        reports.delivered.push(mine);
    }
    reports
}
