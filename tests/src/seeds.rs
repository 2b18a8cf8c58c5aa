//! Seeded test loops: `PQ_CRASH_ITERS` seeds (default 10,000) from a random
//! base, or the one seed in `PQ_SEED`; a failure names its seed.

/// The seeds for this run.
pub fn seeds() -> Vec<u64> {
    match std::env::var("PQ_SEED") {
        Ok(s) => vec![s.parse().expect("PQ_SEED is a number")],
        Err(_) => {
            let n: u64 = std::env::var("PQ_CRASH_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
            let base = fastrand::u64(..);
            (0..n).map(|i| base.wrapping_add(i)).collect()
        }
    }
}

/// Runs `check` for every seed; panics with the seed (and how to replay
/// it) on the first failure or panic. `what` names the case.
pub fn for_each_seed(what: &str, check: impl Fn(u64) -> Result<(), String> + std::panic::RefUnwindSafe) {
    for seed in seeds() {
        match std::panic::catch_unwind(|| check(seed)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("{what}, seed {seed} (rerun with PQ_SEED={seed}): {e}"),
            Err(_) => panic!("{what}, seed {seed} panicked (rerun with PQ_SEED={seed})"),
        }
    }
}
