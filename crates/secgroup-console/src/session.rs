//! Sessions (docs/console.md §2.2): who signed in, for how long. Kept in this process's
//! memory (a session is per node: behind a load balancer, sign in again on another node, or
//! make it sticky).
//!
//! The cookie carries a random token of 256 bits from the operating system's generator;
//! the table is keyed by the token's SHA-256, so that looking one up takes the same time
//! whatever part of a guess is right, and the table holds no bearer token.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rand::rngs::OsRng;
use rand::RngCore;
use secgroup_domain::ids::AccountId;
use sha2::{Digest, Sha256};

/// How long sessions last, and how many are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused this long is over.
    pub idle: Duration,
    /// A session is over this long after sign-in, however much it is used.
    pub lifetime: Duration,
    /// At most this many live at once; past it the oldest goes first.
    pub max_sessions: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(12 * 3600),
            max_sessions: 10_000,
        }
    }
}

/// A signed-in person: the account every page reads, the key that signed in, and the
/// token the sign-out form must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub account_id: AccountId,
    pub access_key_id: String,
    pub csrf: String,
}

struct Entry {
    session: Session,
    created: Instant,
    seen: Instant,
}

pub struct Sessions {
    limits: SessionLimits,
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

/// 32 random bytes from the operating system, as 64 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    pub fn new(limits: SessionLimits) -> Self {
        Sessions {
            limits,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    /// A new session for this account and key; returns the cookie's token.
    pub fn create(&self, account_id: AccountId, access_key_id: String) -> (String, Session) {
        let token = random_token();
        let session = Session {
            account_id,
            access_key_id,
            csrf: random_token(),
        };
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.limits.max_sessions {
            entries.retain(|_, e| self.live(e, now));
        }
        while entries.len() >= self.limits.max_sessions.max(1) {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.created)
                .map(|(k, _)| *k);
            match oldest {
                Some(k) => entries.remove(&k),
                None => break,
            };
        }
        entries.insert(
            key(&token),
            Entry {
                session: session.clone(),
                created: now,
                seen: now,
            },
        );
        (token, session)
    }

    /// The live session of `token`, marked used now; an expired one is forgotten.
    pub fn get(&self, token: &str) -> Option<Session> {
        let now = Instant::now();
        let k = key(token);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get_mut(&k)?;
        if !self.live(entry, now) {
            entries.remove(&k);
            return None;
        }
        entry.seen = now;
        Some(entry.session.clone())
    }

    /// Ends the session of `token` (sign-out).
    pub fn remove(&self, token: &str) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key(token));
    }

    fn live(&self, entry: &Entry, now: Instant) -> bool {
        now.duration_since(entry.seen) < self.limits.idle
            && now.duration_since(entry.created) < self.limits.lifetime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_session_is_found_by_its_token_only_and_ends_at_sign_out() {
        let sessions = Sessions::new(SessionLimits::default());
        let (token, made) = sessions.create(AccountId::new("1"), "LTAIx".into());
        assert_eq!(sessions.get(&token), Some(made.clone()));
        assert_ne!(made.csrf, token);
        assert_eq!(sessions.get(&random_token()), None);
        assert_eq!(sessions.get(&token[..63]), None);
        sessions.remove(&token);
        assert_eq!(sessions.get(&token), None);
    }

    #[test]
    fn sessions_expire_when_idle_and_at_their_lifetime() {
        let idle = Sessions::new(SessionLimits {
            idle: Duration::ZERO,
            ..SessionLimits::default()
        });
        let (token, _) = idle.create(AccountId::new("1"), "k".into());
        assert_eq!(idle.get(&token), None, "idle past the limit");
        let old = Sessions::new(SessionLimits {
            lifetime: Duration::ZERO,
            ..SessionLimits::default()
        });
        let (token, _) = old.create(AccountId::new("1"), "k".into());
        assert_eq!(old.get(&token), None, "past its lifetime");
    }

    #[test]
    fn past_the_cap_the_oldest_session_goes() {
        let sessions = Sessions::new(SessionLimits {
            max_sessions: 2,
            ..SessionLimits::default()
        });
        let (first, _) = sessions.create(AccountId::new("1"), "k".into());
        std::thread::sleep(Duration::from_millis(2));
        let (second, _) = sessions.create(AccountId::new("2"), "k".into());
        std::thread::sleep(Duration::from_millis(2));
        let (third, _) = sessions.create(AccountId::new("3"), "k".into());
        assert_eq!(sessions.get(&first), None);
        assert!(sessions.get(&second).is_some());
        assert!(sessions.get(&third).is_some());
    }
}
