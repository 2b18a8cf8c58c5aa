//! `pq verify` and `pq repair` on real files flipped, zero-filled and
//! truncated at seeded random offsets: verify finds every change (damage,
//! or a torn-looking tail it names as such), repair moves the damaged
//! bytes aside and leaves a queue that returns every item it did not
//! touch, in order.

use std::path::Path;
use std::process::Command;

use persist_queue::persist_queue_core::{CHUNK_HEADER_LEN, FRAME_V2_HEADER_LEN};
use persist_queue::{AckQueue, Json, Queue};
use serde_json::Value;

fn pq(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pq")).args(args).output().expect("run pq");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("no JSON ({e}): {out}"))
}

#[derive(Clone, Copy, Debug)]
enum Change {
    Flip,
    Zero(u64),
    Truncate,
}

/// Changes `file` at `at`; returns its bytes after the change (`None`:
/// the change changed nothing, zeros over zeros).
fn damage(file: &Path, at: u64, change: Change) -> Option<Vec<u8>> {
    let mut bytes = std::fs::read(file).expect("read");
    let before = bytes.clone();
    let at = at as usize;
    match change {
        Change::Flip => bytes[at] ^= 0x5a,
        Change::Zero(n) => {
            let end = (at + n as usize).min(bytes.len());
            bytes[at..end].fill(0);
        }
        Change::Truncate => bytes.truncate(at),
    }
    if bytes == before {
        return None;
    }
    std::fs::write(file, &bytes).expect("write");
    Some(bytes)
}

fn change_of(rng: &mut fastrand::Rng) -> Change {
    match rng.u8(..3) {
        0 => Change::Flip,
        1 => Change::Zero(rng.u64(1..60)),
        _ => Change::Truncate,
    }
}

/// Whether some file under `dir/corrupted/` holds exactly `bytes`.
fn kept_aside(dir: &Path, bytes: &[u8]) -> bool {
    let Ok(stamps) = std::fs::read_dir(dir.join("corrupted")) else { return false };
    stamps.filter_map(Result::ok).any(|s| {
        std::fs::read_dir(s.path())
            .map(|fs| fs.filter_map(Result::ok).any(|f| std::fs::read(f.path()).is_ok_and(|b| b == bytes)))
            .unwrap_or(false)
    })
}

/// Runs verify, then (if it found damage) repair --apply; returns the
/// items the queue then gives, in order. `cut`: the file was truncated,
/// which at a frame boundary at the newest chunk's end reads as a log with
/// fewer writes (the format has no end mark): verify may see nothing.
fn verify_repair_drain(d: &str, what: &str, cut: bool) -> Vec<String> {
    let (code, out, err) = pq(&["verify", d, "--json"]);
    let report = json_of(&out);
    let problems = report["problems"].as_array().expect("problems").len();
    assert!(problems > 0 || cut, "{what}: verify saw nothing ({err}): {report}");
    let damaged = report["ok"] == false;
    assert_eq!(code, Some(if damaged { 4 } else { 0 }), "{what}: {report}");
    if damaged {
        let (code, _, err) = pq(&["repair", d]);
        assert_eq!(code, Some(0), "{what}: dry run: {err}");
        let (code, out, err) = pq(&["repair", d, "--apply", "--json"]);
        assert_eq!(code, Some(0), "{what}: repair: {err} {out}");
        let (code, out, _) = pq(&["verify", d, "--json"]);
        assert_eq!(code, Some(0), "{what}: still damaged after repair: {out}");
    }
    let (code, out, err) = pq(&["get", d, "-n", "100000", "--json"]);
    assert!(matches!(code, Some(0 | 3)), "{what}: get after repair: {err}");
    if code == Some(3) {
        return Vec::new();
    }
    json_of(&out)
        .as_array()
        .expect("array")
        .iter()
        .map(|g| g["item"].as_str().expect("string").to_string())
        .collect()
}

fn name(i: usize) -> String {
    format!("item-{i:04}")
}

#[test]
fn the_file_queue_returns_every_untouched_item_after_repair() {
    let seed = std::env::var("PQ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261203u64);
    let mut rng = fastrand::Rng::with_seed(seed);
    let (per_chunk, chunks) = (40usize, 3usize);
    // JSON strings of 11 bytes: every frame has the same length.
    let frame = (FRAME_V2_HEADER_LEN + 11) as u64;
    let h = CHUNK_HEADER_LEN as u64;
    for trial in 0..18 {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("q");
        let q: Queue<String, Json> =
            Queue::builder(&dir).chunk_size(per_chunk as u32).codec(Json).open().expect("open");
        for i in 0..per_chunk * chunks {
            q.put(&name(i)).expect("put");
        }
        drop(q);
        let c = rng.usize(..chunks);
        let file = dir.join(format!("c{c:010}"));
        let size = std::fs::metadata(&file).expect("size").len();
        let at = rng.u64(h..size);
        let change = change_of(&mut rng);
        let what = format!("seed {seed} trial {trial}: {change:?} at {at} of chunk {c}");
        let Some(after) = damage(&file, at, change) else { continue };
        // Frames of chunk `c` the change touched; a torn-looking end of the
        // newest chunk (truncation, or zeros to its end) loses the frames
        // from there on: the rule cuts what a crash could have left.
        let first = (at - h) / frame;
        let end = match change {
            Change::Flip => at + 1,
            Change::Zero(n) => (at + n).min(size),
            Change::Truncate => size,
        };
        let last = (end - 1 - h) / frame;
        let lost = |i: usize| i / per_chunk == c && (first..=last).contains(&((i % per_chunk) as u64));
        let expected: Vec<String> = (0..per_chunk * chunks).filter(|&i| !lost(i)).map(name).collect();
        let got = verify_repair_drain(dir.to_str().expect("path"), &what, matches!(change, Change::Truncate));
        assert_eq!(got, expected, "{what}");
        let repaired = dir.join("corrupted").exists();
        assert!(!repaired || kept_aside(&dir, &after), "{what}: the damaged bytes were not kept aside");
    }
}

#[test]
fn the_record_log_keeps_its_order_and_moves_damage_aside() {
    let seed = std::env::var("PQ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(7u64);
    let mut rng = fastrand::Rng::with_seed(seed);
    let total = 60usize;
    for trial in 0..12 {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("r");
        let q: AckQueue<String, Json> = AckQueue::files(&dir).codec(Json).open().expect("open");
        for i in 0..total {
            q.put(&name(i)).expect("put"); // one plan per item
        }
        drop(q);
        let store = dir.join("ack_queue_default");
        let file = store.join("c0000000000");
        let size = std::fs::metadata(&file).expect("size").len();
        let at = rng.u64(CHUNK_HEADER_LEN as u64..size);
        let change = change_of(&mut rng);
        let what = format!("seed {seed} trial {trial}: {change:?} at {at}");
        let Some(after) = damage(&file, at, change) else { continue };
        let got = verify_repair_drain(dir.to_str().expect("path"), &what, matches!(change, Change::Truncate));
        let got: Vec<usize> = got.iter().map(|s| s["item-".len()..].parse().expect("index")).collect();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{what}: out of order: {got:?}");
        let lost = total - got.len();
        match change {
            // Each plan takes more than 20 bytes: a change spans few of them.
            Change::Flip => assert!(lost <= 1, "{what}: lost {lost}"),
            Change::Zero(n) if at + n < size => assert!(lost as u64 <= 2 + n / 20, "{what}: lost {lost}"),
            // Cut or zeroed to the end: the items before it stay.
            _ => assert_eq!(got, (0..got.len()).collect::<Vec<_>>(), "{what}"),
        }
        if store.join("corrupted").exists() {
            assert!(kept_aside(&store, &after), "{what}: the damaged bytes were not kept aside");
        }
    }
}
