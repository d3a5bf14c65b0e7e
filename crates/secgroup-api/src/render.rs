//! Renderers every product shares: times and tags.

use chrono::{DateTime, Datelike, Timelike, Utc};
use secgroup_domain::Tag;
use secgroup_rpc::Node;

/// `yyyy-MM-ddTHH:mm:ssZ`, UTC. Written digit by digit: large rule lists call it per rule,
/// and going through `format!` cost about 3,000 instructions a call (a tenth of rendering
/// a 1,000-rule group).
pub fn time(t: &DateTime<Utc>) -> String {
    let Ok(year @ 0..=9999) = u32::try_from(t.year()) else {
        // Outside what four digits hold: the general (and rare) path.
        return t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    };
    let mut out = String::with_capacity(20);
    push_2(&mut out, year / 100);
    push_2(&mut out, year % 100);
    out.push('-');
    push_2(&mut out, t.month());
    out.push('-');
    push_2(&mut out, t.day());
    out.push('T');
    push_2(&mut out, t.hour());
    out.push(':');
    push_2(&mut out, t.minute());
    out.push(':');
    push_2(&mut out, t.second());
    out.push('Z');
    out
}

/// `yyyy-MM-ddTHH:mmZ`, UTC: the minute precision of instance times.
pub fn minute_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%MZ").to_string()
}

/// Two digits of `n` (< 100), zero-padded.
fn push_2(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// `{"Tag": [{"TagKey", "TagValue"}, …]}`.
pub fn tags(tags: &[Tag]) -> Node {
    Node::list(
        "Tag",
        tags.iter().map(|t| {
            Node::object()
                .str("TagKey", &t.key)
                .str("TagValue", &t.value)
                .build()
        }),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_matches_the_general_format() {
        for text in [
            "0001-01-01T00:00:00Z",
            "1999-12-31T23:59:59Z",
            "2024-02-29T09:05:07Z",
            "9999-12-31T23:59:59Z",
        ] {
            let t = chrono::DateTime::parse_from_rfc3339(text)
                .expect("time")
                .to_utc();
            assert_eq!(super::time(&t), text);
            assert_eq!(super::time(&t), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }

    #[test]
    fn time_is_whole_seconds_utc() {
        let t = chrono::DateTime::parse_from_rfc3339("2021-08-31T03:12:29.987+00:00")
            .expect("time")
            .to_utc();
        assert_eq!(super::time(&t), "2021-08-31T03:12:29Z");
        assert_eq!(super::minute_time(&t), "2021-08-31T03:12Z");
    }
}
