//! The wait before a transaction that conflicted runs again, for both backends: doubling
//! from a first wait up to a cap, optionally with a random part so that writers that
//! conflicted with each other do not all come back at the same moment.

use std::time::Duration;

use rand::Rng;

/// A back-off policy. Each backend keeps its own constants, since what it waits for
/// differs (SQLite: this process's writer or another process on the file; PostgreSQL:
/// writers of every node), but they share this one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first attempt.
    pub first: Duration,
    /// No wait is longer than this (before its random part).
    pub cap: Duration,
    /// Adds a random part of up to the wait itself: [wait, 2 × wait).
    pub jitter: bool,
}

impl Backoff {
    /// The wait after attempt `attempt` (1 for the first) has failed: `first` doubled
    /// `attempt - 1` times, at most `cap`, then its random part if any.
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let wait = self
            .first
            .checked_mul(1 << doublings)
            .map_or(self.cap, |d| d.min(self.cap));
        if !self.jitter || wait.is_zero() {
            return wait;
        }
        let micros = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
        if micros == 0 {
            return wait;
        }
        wait + Duration::from_micros(rand::thread_rng().gen_range(0..micros))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn doubles_from_the_first_wait_up_to_the_cap() {
        let b = Backoff {
            first: 2 * MS,
            cap: 50 * MS,
            jitter: false,
        };
        let waits: Vec<Duration> = (1..=8).map(|n| b.delay(n)).collect();
        assert_eq!(
            waits,
            [2, 4, 8, 16, 32, 50, 50, 50].map(|ms| ms * MS),
            "{waits:?}"
        );
        assert_eq!(b.delay(0), 2 * MS, "attempt 0 is taken as the first");
        assert_eq!(b.delay(u32::MAX), 50 * MS, "no overflow");
    }

    #[test]
    fn jitter_stays_below_twice_the_wait_and_varies() {
        let b = Backoff {
            first: 2 * MS,
            cap: 128 * MS,
            jitter: true,
        };
        for attempt in 1..20 {
            let base = (2 * MS * (1 << (attempt - 1).min(6))).min(128 * MS);
            let d = b.delay(attempt);
            assert!(d >= base && d < 2 * base, "attempt {attempt}: {d:?}");
        }
        let waits: HashSet<Duration> = (0..16).map(|_| b.delay(7)).collect();
        assert!(waits.len() > 1, "the same wait every time: {waits:?}");
    }

    #[test]
    fn a_zero_wait_stays_zero() {
        let b = Backoff {
            first: Duration::ZERO,
            cap: MS,
            jitter: true,
        };
        assert_eq!(b.delay(3), Duration::ZERO);
    }
}
