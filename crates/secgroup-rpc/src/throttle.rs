//! Flow control as Alibaba's gateway does it: each account may call each action in each
//! region so many times per calendar minute; past that, calls are refused with
//! `Throttling.User` (400, no `Retry-After`) until the next minute starts. The counters are
//! this process's own: with several nodes each counts what it serves.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

/// How many calls per minute are allowed; `None` anywhere means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// The limit of every action without its own (`None`: off, the default).
    pub per_minute: Option<u32>,
    /// Limits of single actions, by name; they apply even when `per_minute` is `None`.
    pub per_action: HashMap<String, u32>,
}

impl ThrottleConfig {
    fn limit_of(&self, action: &str) -> Option<u32> {
        self.per_action.get(action).copied().or(self.per_minute)
    }
    /// Whether any limit is set at all.
    pub fn is_on(&self) -> bool {
        self.per_minute.is_some() || !self.per_action.is_empty()
    }
}

/// The counters of the current minute.
pub struct Throttle {
    config: ThrottleConfig,
    window: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    /// Minutes since the epoch.
    minute: i64,
    /// Calls so far this minute per (account, action, region).
    counts: HashMap<(String, String, String), u32>,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Self {
        Throttle {
            config,
            window: Mutex::new(Window::default()),
        }
    }

    /// Counts one call and says whether it is within the limit. Refused calls count too
    /// (a client hammering a throttled action stays throttled for the minute).
    pub fn admit(&self, account: &str, action: &str, region: &str, now: DateTime<Utc>) -> bool {
        let Some(limit) = self.config.limit_of(action) else {
            return true;
        };
        let minute = now.timestamp().div_euclid(60);
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if window.minute != minute {
            // A new minute: every count starts again, and old keys do not pile up.
            window.minute = minute;
            window.counts.clear();
        }
        let key = (account.to_string(), action.to_string(), region.to_string());
        let count = window.counts.entry(key).or_insert(0);
        *count = count.saturating_add(1);
        *count <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    #[test]
    fn per_account_action_and_region_until_the_next_minute() {
        let mut config = ThrottleConfig {
            per_minute: Some(2),
            ..ThrottleConfig::default()
        };
        config.per_action.insert("RunInstances".into(), 1);
        let t = Throttle::new(config);
        let now = at("2026-01-01T00:00:10Z");
        assert!(t.admit("a", "Describe", "r1", now));
        assert!(t.admit("a", "Describe", "r1", now));
        assert!(!t.admit("a", "Describe", "r1", now));
        // Independent counters.
        assert!(t.admit("b", "Describe", "r1", now));
        assert!(t.admit("a", "Describe", "r2", now));
        assert!(t.admit("a", "Other", "r1", now));
        assert!(t.admit("a", "RunInstances", "r1", now));
        assert!(!t.admit("a", "RunInstances", "r1", now));
        // Still the same minute, then the next one.
        assert!(!t.admit("a", "Describe", "r1", at("2026-01-01T00:00:59Z")));
        assert!(t.admit("a", "Describe", "r1", at("2026-01-01T00:01:00Z")));
    }

    #[test]
    fn off_by_default() {
        let t = Throttle::new(ThrottleConfig::default());
        assert!(!ThrottleConfig::default().is_on());
        let now = at("2026-01-01T00:00:10Z");
        assert!((0..10_000).all(|_| t.admit("a", "Describe", "r1", now)));
    }
}
