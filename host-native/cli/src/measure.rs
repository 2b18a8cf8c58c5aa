//! Timing helpers and number formatting for `pq bench`.

use std::time::{Duration, Instant};

/// Median of `v` (which must not be empty).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// Runs `step` (which returns how many operations it did) until `window`
/// has passed; returns operations per second.
pub(crate) fn rate_for(window: Duration, mut step: impl FnMut() -> u64) -> f64 {
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < window {
        ops += step();
    }
    ops as f64 / start.elapsed().as_secs_f64()
}

/// `threads` threads call `op(thread, n)` until `window` has passed (or it
/// returns false); returns the calls per second that succeeded, in total.
pub(crate) fn concurrent_rate(
    threads: usize,
    window: Duration,
    op: impl Fn(usize, u64) -> bool + Sync,
) -> f64 {
    let deadline = Instant::now() + window;
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let op = &op;
                s.spawn(move || {
                    let mut n = 0u64;
                    while Instant::now() < deadline && op(t, n) {
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// `tasks` tokio tasks (on 2 worker threads) await `op(task, n)` until
/// `window` has passed (or it returns false); the calls per second that
/// succeeded, in total.
pub(crate) fn async_rate<F>(
    tasks: usize,
    window: Duration,
    op: impl Fn(usize, u64) -> F + Send + Sync + 'static,
) -> Result<f64, String>
where
    F: Future<Output = bool> + Send + 'static,
{
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().map_err(|e| e.to_string())?;
    let op = std::sync::Arc::new(op);
    let start = Instant::now();
    let deadline = start + window;
    let done: u64 = runtime.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let op = std::sync::Arc::clone(&op);
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < deadline && op(t, n).await {
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap_or(0);
        }
        total
    });
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

/// `1234567.8` → `1,234,568`.
pub(crate) fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Resident set size now and at its peak, in bytes (Linux only).
pub(crate) fn resident_memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
