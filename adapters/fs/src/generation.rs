//! The lock file's generation counter: how a process sharing a queue
//! directory tells, each time it takes the lock, whether any other process
//! held the lock since it last released it.
//!
//! Layout of `lock` (16 bytes, little-endian): `PQLK`, version `u32` (1),
//! then the generation `u64`. Every holder, right after taking the lock,
//! reads the generation, compares it with the value it left there at its
//! own last hold, and writes it plus one. Equal means nobody else took the
//! lock in between, so nothing changed on storage: the process keeps its
//! open files and what it read (no reopen, no re-read per operation). The
//! increment comes before any write of the hold, so a holder that dies
//! mid-operation still leaves a changed number behind.
//!
//! A `lock` file that is empty (made by a version before this counter) or
//! holds anything else (damage) is given the header, and that hold is
//! reported as a possible change (the safe answer).
//!
//! Every process sharing the directory must count: one of a version
//! before this counter writes without changing it (`FORMAT.md`).

use std::fs::File;
use std::io;

use crate::positioned::{read_at, write_at};

const MAGIC: [u8; 4] = *b"PQLK";
const VERSION: u32 = 1;
const LEN: usize = 16;

/// This handle's view of the counter.
#[derive(Debug, Default)]
pub(crate) struct Generation {
    /// The value this handle wrote at its last hold.
    left: Option<u64>,
}

impl Generation {
    /// Called with the lock held: whether another holder may have written
    /// since this handle's last hold. Counts this hold.
    pub(crate) fn enter(&mut self, lock: &File) -> io::Result<bool> {
        let mut bytes = [0u8; LEN];
        let n = read_at(lock, &mut bytes, 0)?;
        let found = (n == LEN && bytes[..4] == MAGIC && bytes[4..8] == VERSION.to_le_bytes())
            .then(|| u64::from_le_bytes(bytes[8..].try_into().unwrap_or_default()));
        let next = found.unwrap_or(0).wrapping_add(1);
        bytes[..4].copy_from_slice(&MAGIC);
        bytes[4..8].copy_from_slice(&VERSION.to_le_bytes());
        bytes[8..].copy_from_slice(&next.to_le_bytes());
        write_at(lock, &bytes, 0)?;
        let changed = found.is_none() || self.left != found;
        self.left = Some(next);
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;

    use super::Generation;

    fn lock_file(dir: &std::path::Path) -> std::fs::File {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("lock"))
            .expect("lock")
    }

    #[test]
    fn a_hold_by_another_handle_is_seen_and_a_repeated_hold_is_not() {
        let dir = tempfile::tempdir().expect("dir");
        let (a_file, b_file) = (lock_file(dir.path()), lock_file(dir.path()));
        let (mut a, mut b) = (Generation::default(), Generation::default());
        assert!(a.enter(&a_file).expect("a"), "a first hold cannot know");
        assert!(!a.enter(&a_file).expect("a"), "nobody else held it");
        assert!(!a.enter(&a_file).expect("a"));
        assert!(b.enter(&b_file).expect("b"));
        assert!(a.enter(&a_file).expect("a"), "b held it in between");
        assert!(!a.enter(&a_file).expect("a"));
    }

    #[test]
    fn a_lock_file_holding_something_else_counts_as_a_change_and_is_given_the_header() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("lock"), b"damaged bytes, 16+").expect("write");
        let file = lock_file(dir.path());
        let mut g = Generation::default();
        assert!(g.enter(&file).expect("enter"), "unknown content: a possible change");
        assert!(!g.enter(&file).expect("enter"), "the header is ours from now on");
        assert_eq!(&std::fs::read(dir.path().join("lock")).expect("read")[..4], b"PQLK");
    }
}
