//! A set of record ids kept as runs of consecutive ids: a queue's ready
//! records are mostly one run (put in order, taken from the front), so
//! millions of them cost a few bytes instead of a B-tree entry each.

use alloc::collections::BTreeMap;

/// Ids as inclusive runs `first ..= last`, keyed by `first`; runs never
/// touch or overlap.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdRanges {
    runs: BTreeMap<u64, u64>,
}

impl IdRanges {
    /// The run holding `id`, as `(first, last)`.
    fn run_of(&self, id: u64) -> Option<(u64, u64)> {
        self.runs.range(..=id).next_back().map(|(&f, &l)| (f, l)).filter(|&(_, l)| id <= l)
    }

    /// Adds `id` (nothing if present).
    pub(crate) fn insert(&mut self, id: u64) {
        // The common case: one past the last run's end.
        if let Some(mut last) = self.runs.last_entry() {
            if id.checked_sub(1) == Some(*last.get()) {
                *last.get_mut() = id;
                return;
            }
            if id > *last.get() && id > *last.key() {
                self.runs.insert(id, id);
                return;
            }
        }
        if self.run_of(id).is_some() {
            return;
        }
        let before = id.checked_sub(1).and_then(|b| self.run_of(b));
        let after = id.checked_add(1).and_then(|a| self.runs.get(&a).copied());
        match (before, after) {
            (Some((first, _)), Some(last)) => {
                self.runs.remove(&(id + 1));
                self.runs.insert(first, last);
            }
            (Some((first, _)), None) => {
                self.runs.insert(first, id);
            }
            (None, Some(last)) => {
                self.runs.remove(&(id + 1));
                self.runs.insert(id, last);
            }
            (None, None) => {
                self.runs.insert(id, id);
            }
        }
    }

    /// Removes `id` (nothing if absent).
    pub(crate) fn remove(&mut self, id: u64) {
        let Some((first, last)) = self.run_of(id) else { return };
        self.runs.remove(&first);
        if first < id {
            self.runs.insert(first, id - 1);
        }
        if id < last {
            self.runs.insert(id + 1, last);
        }
    }

    /// Every id, lowest first (`.rev()`: highest first).
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = u64> + '_ {
        self.runs.iter().flat_map(|(&first, &last)| first..=last)
    }
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeSet;
    use alloc::vec::Vec;

    use super::IdRanges;

    #[test]
    fn runs_hold_the_same_ids_as_a_set_through_random_inserts_and_removes() {
        let (mut runs, mut set) = (IdRanges::default(), BTreeSet::new());
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..crate::records::MODEL_STEPS {
            let x = crate::records::xorshift(&mut x);
            let id = x % 300;
            if x & (1 << 40) == 0 {
                runs.insert(id);
                set.insert(id);
            } else {
                runs.remove(id);
                set.remove(&id);
            }
            assert_eq!(runs.iter().collect::<Vec<_>>(), set.iter().copied().collect::<Vec<_>>());
        }
        assert_eq!(runs.iter().rev().collect::<Vec<_>>(), set.iter().rev().copied().collect::<Vec<_>>());
    }

    #[test]
    fn consecutive_ids_are_one_run_and_the_extremes_do_not_overflow() {
        let mut runs = IdRanges::default();
        for id in 1..=1000 {
            runs.insert(id);
        }
        assert_eq!(runs.runs.len(), 1);
        runs.insert(u64::MAX);
        runs.insert(0);
        runs.remove(u64::MAX);
        runs.remove(0);
        assert_eq!(runs.iter().next(), Some(1));
        assert_eq!(runs.runs.len(), 1);
    }
}
