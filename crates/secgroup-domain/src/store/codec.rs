//! How both backends store what SQL has no portable type for: instants as text. Kept
//! here, once, so that a database written by one backend reads back the same in the
//! other, and a change of format cannot reach only one of them.

use chrono::{DateTime, SecondsFormat, Utc};

use super::StoreError;

/// RFC 3339 in UTC with as many fractional digits as needed: whole seconds stay
/// `2024-01-02T03:04:05Z`, and any value reads back exactly (to the nanosecond).
pub fn encode_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The text a purge compares stored instants with: `cutoff` in whole seconds. Stored text
/// sorts as time does to the second (RFC 3339 in UTC; fractions vary in length), which is
/// all a retention needs.
pub fn purge_cutoff(cutoff: DateTime<Utc>) -> String {
    cutoff.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Reads what [`encode_time`] wrote (or any RFC 3339 instant, in any offset).
pub fn decode_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt("timestamp", s))
}

/// Per-account counts (an agent's enforced instances) as a JSON object.
pub fn encode_counts(counts: &std::collections::BTreeMap<String, u64>) -> String {
    serde_json::to_string(counts).unwrap_or_else(|_| "{}".to_owned())
}

/// Reads what [`encode_counts`] wrote.
pub fn decode_counts(s: &str) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
    serde_json::from_str(s).map_err(|_| corrupt("instance counts", s))
}

/// A stored value this build cannot interpret (a hand-edited or newer database).
pub fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("unreadable {what} in database: {value:?}"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn times_encode_as_short_as_exact_allows() {
        for (secs, nanos, text) in [
            (1_700_000_000, 0, "2023-11-14T22:13:20Z"),
            (1_700_000_000, 5_000_000, "2023-11-14T22:13:20.005Z"),
            (1_700_000_000, 123_456_000, "2023-11-14T22:13:20.123456Z"),
            (1_700_000_000, 123_456_789, "2023-11-14T22:13:20.123456789Z"),
            (0, 0, "1970-01-01T00:00:00Z"),
        ] {
            let t = DateTime::from_timestamp(secs, nanos).expect("valid");
            assert_eq!(encode_time(t), text);
            assert_eq!(decode_time(text), Ok(t));
        }
    }

    #[test]
    fn other_offsets_read_as_utc_and_garbage_is_corrupt() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).expect("valid");
        assert_eq!(decode_time("2023-11-15T06:13:20+08:00"), Ok(t));
        assert_eq!(
            decode_time("yesterday"),
            Err(StoreError::Other(
                "unreadable timestamp in database: \"yesterday\"".to_owned()
            ))
        );
        assert!(decode_time("").is_err());
        assert!(decode_time("2023-11-14 22:13:20").is_err());
    }

    proptest! {
        /// Every instant of years 0001 to 9999 reads back exactly as it was written.
        #[test]
        fn every_instant_round_trips(
            secs in -62_135_596_800_i64..253_402_300_799,
            nanos in 0_u32..1_000_000_000,
        ) {
            let t = DateTime::from_timestamp(secs, nanos).expect("in range");
            let text = encode_time(t);
            prop_assert_eq!(decode_time(&text), Ok(t));
            prop_assert!(text.ends_with('Z'), "{}", text);
        }
    }
}
