//! De-duplication: one ongoing incident is one alert plus a few updates. An incident has a
//! stable key (the rule and its group's values); its first line is the alert, and later
//! events make an update only when the count has doubled since the last line, or when
//! [`UPDATE_EVERY_NS`] of event time has passed since it and the count grew. When the incident
//! ends (its group quiet for the rule's `quiet`) or the watch stops, a count not yet told is
//! told in one last update. Time here is always event time, so a replayed file gives the
//! same lines as the live stream did.

use crate::model::Timestamp;
use sha2::{Digest, Sha256};

/// At most one update per incident in this much event time (unless the count doubles).
pub const UPDATE_EVERY_NS: i64 = 5 * 60 * 1_000_000_000;

/// How far behind the newest event seen (from any source) an event may arrive and still be
/// put with its incident. Sources run side by side and deliver with their own delays (a Loki
/// tail, Falco's buffers); an incident is closed, and a group's counts forgotten, only this
/// long after they could have changed.
pub const LATE_GRACE_NS: i64 = 5 * 60 * 1_000_000_000;

/// What the last line of an open incident said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Told {
    pub count: u64,
    /// The event time at which it was said.
    pub at: Timestamp,
}

impl Told {
    /// Whether an incident now at `count`, at event time `now`, is due an update line.
    pub fn update_due(&self, count: u64, now: Timestamp) -> bool {
        count > self.count
            && (count >= self.count.saturating_mul(2)
                || now.0 >= self.at.0.saturating_add(UPDATE_EVERY_NS))
    }

    /// Whether the count has grown since the last line (a final update is owed).
    pub fn owes(&self, count: u64) -> bool {
        count > self.count
    }
}

/// Whether an event at `t` comes after an incident whose last event was at `last` has ended:
/// its group was quiet for longer than `quiet`. An event from before `last` (a late one) never
/// ends it.
pub fn ends_incident(last: Timestamp, quiet_ns: i64, t: Timestamp) -> bool {
    t.0 > last.0.saturating_add(quiet_ns)
}

/// A stable key for an alert: the rule and the group's values, hashed. The same rule and
/// values give the same key in every run and on every machine; it is written as 16 hex
/// digits ([`key_text`]).
pub fn alert_key<'a>(
    rule: &str,
    group: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> u64 {
    // Each string with its length before it, so no value can pass for two.
    fn put(h: &mut Sha256, s: &str) {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    }
    let mut h = Sha256::new();
    put(&mut h, rule);
    for (k, v) in group {
        put(&mut h, k);
        match v {
            Some(v) => {
                h.update([1]);
                put(&mut h, v);
            }
            None => h.update([0]),
        }
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// A key as it is written: 16 hex digits.
pub fn key_text(key: u64) -> String {
    format!("{key:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn updates_when_doubled_or_after_a_while_and_only_when_grown() {
        let told = Told {
            count: 21,
            at: Timestamp(1_000 * S),
        };
        assert!(!told.update_due(21, Timestamp(100_000 * S)), "nothing new");
        assert!(!told.update_due(41, Timestamp(1_010 * S)));
        assert!(told.update_due(42, Timestamp(1_010 * S)), "doubled");
        assert!(!told.update_due(22, Timestamp(1_000 * S + UPDATE_EVERY_NS - 1)));
        assert!(told.update_due(22, Timestamp(1_000 * S + UPDATE_EVERY_NS)));
        assert!(told.owes(22) && !told.owes(21));
    }

    #[test]
    fn quiet_ends_an_incident_but_a_late_event_does_not() {
        let last = Timestamp(1_000 * S);
        assert!(!ends_incident(last, 300 * S, Timestamp(1_300 * S)));
        assert!(ends_incident(last, 300 * S, Timestamp(1_300 * S + 1)));
        assert!(!ends_incident(last, 300 * S, Timestamp(0)));
    }

    #[test]
    fn keys_are_stable_and_tell_values_apart() {
        let a = alert_key("SSH brute force", [("user", Some("root"))]);
        assert_eq!(key_text(a).len(), 16);
        assert_eq!(key_text(1), "0000000000000001");
        assert_eq!(a, alert_key("SSH brute force", [("user", Some("root"))]));
        assert_ne!(a, alert_key("SSH brute force", [("user", Some("admin"))]));
        assert_ne!(a, alert_key("SSH brute force", [("user", None)]));
        assert_ne!(a, alert_key("Other", [("user", Some("root"))]));
        // No value can be made to look like two.
        assert_ne!(
            alert_key("r", [("a", Some("x")), ("b", None)]),
            alert_key("r", [("a", Some("x\u{1}\u{0}b\u{0}"))])
        );
    }
}
