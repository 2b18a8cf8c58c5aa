//! Retry delays ([`Backoff`]): how long a nacked delivery waits before it
//! is delivered again, by attempt. No clock and no randomness of its own:
//! the host passes the jitter.

/// How long a nacked delivery waits before it is due again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backoff {
    /// Due again at once (persist-queue's nack).
    #[default]
    None,
    /// The same delay after every attempt (ms).
    Fixed(u64),
    /// `base · 2^(attempt-1)` ms, capped at `max` ms; with `jitter`, a
    /// uniformly random delay between half of that and all of it, so that
    /// consumers failing together do not retry together.
    Exponential {
        /// The first delay (ms).
        base: u64,
        /// The longest delay (ms).
        max: u64,
        /// Spread each delay over its upper half.
        jitter: bool,
    },
}

impl Backoff {
    /// The delay (ms) after delivery number `attempt` (1 for the first)
    /// failed; `random` is any value from the host's random source, used
    /// for the jitter.
    pub fn delay_ms(self, attempt: u32, random: u64) -> u64 {
        match self {
            Backoff::None => 0,
            Backoff::Fixed(ms) => ms,
            Backoff::Exponential { base, max, jitter } => {
                let shift = attempt.saturating_sub(1).min(63);
                let full = base.saturating_mul(1u64 << shift).min(max);
                if jitter && full > 1 {
                    let half = full / 2;
                    half + random % (full - half + 1)
                } else {
                    full
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::Backoff;

    #[test]
    fn exponential_delays_double_up_to_the_cap_and_jitter_stays_in_the_upper_half() {
        let b = Backoff::Exponential { base: 100, max: 1_000, jitter: false };
        let delays: Vec<u64> = (1..=6).map(|a| b.delay_ms(a, 0)).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(b.delay_ms(u32::MAX, 0), 1_000, "no overflow at huge attempts");
        let j = Backoff::Exponential { base: 100, max: 1_000, jitter: true };
        for r in [0, 1, 77, 400, u64::MAX] {
            let d = j.delay_ms(3, r);
            assert!((200..=400).contains(&d), "attempt 3 with jitter: {d}");
        }
        assert_eq!(Backoff::Fixed(5).delay_ms(9, 3), 5);
        assert_eq!(Backoff::None.delay_ms(9, 3), 0);
    }
}
