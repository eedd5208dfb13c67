//! Context: the events just before and after one, from the same source and the same stream
//! (its host, else its container, else its pod), like Grafana's log context.

use crate::model::EntityKey;
use crate::model::TimeRange;
use crate::store::{Pivot, Query, Store};

/// Up to `n` events before and `n` after `pos` from its source and stream, in time order,
/// with the index of `pos` in the result.
pub fn context(store: &Store, pos: u32, n: usize) -> (Vec<u32>, usize) {
    let Some(e) = store.get(pos) else {
        return (Vec::new(), 0);
    };
    let stream = [EntityKey::Host, EntityKey::Container, EntityKey::Pod]
        .into_iter()
        .find_map(|k| {
            e.entities()
                .find(|(ek, _)| *ek == k)
                .map(|(k, v)| Pivot::new(k, v))
        });
    let same_stream = match stream {
        Some(p) => store.select(&Query {
            pivots: vec![p],
            window: TimeRange::ALL,
        }),
        None => (0..store.len() as u32).collect(),
    };
    let source = e.source();
    let name = e.source_name();
    let at = same_stream.partition_point(|&p| p < pos);
    let same = |p: &u32| {
        store
            .get(*p)
            .is_some_and(|o| o.source() == source && o.source_name() == name)
    };
    let mut before: Vec<u32> = same_stream[..at]
        .iter()
        .rev()
        .filter(|p| same(p))
        .take(n)
        .copied()
        .collect();
    before.reverse();
    let after: Vec<u32> = same_stream[at..]
        .iter()
        .filter(|p| **p != pos && same(p))
        .take(n)
        .copied()
        .collect();
    let index = before.len();
    let mut out = before;
    out.push(pos);
    out.extend(after);
    (out, index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entities, Event, EventKind, Severity, SourceKind, Timestamp};

    fn ev(secs: i64, source: SourceKind, host: &str) -> Event {
        let mut entities = Entities::new();
        entities.add(EntityKey::Host, host);
        Event {
            ts: Timestamp(secs),
            source,
            source_name: source.as_str().into(),
            kind: EventKind::Log,
            severity: Severity::Info,
            title: format!("{secs}"),
            message: String::new(),
            entities,
            process: None,
            tags: vec![],
            raw: "{}".into(),
        }
    }

    #[test]
    fn same_source_and_host_around_the_event() {
        let mut store = Store::new();
        store.ingest(vec![
            ev(1, SourceKind::Loki, "a"),
            ev(2, SourceKind::Loki, "b"),
            ev(3, SourceKind::Falco, "a"),
            ev(4, SourceKind::Loki, "a"),
            ev(5, SourceKind::Loki, "a"),
            ev(6, SourceKind::Loki, "a"),
            ev(7, SourceKind::Loki, "a"),
        ]);
        let (ctx, at) = context(&store, 4, 2);
        let titles: Vec<String> = ctx
            .iter()
            .map(|&p| store.get(p).unwrap().title().to_string())
            .collect();
        assert_eq!(titles, ["1", "4", "5", "6", "7"]);
        assert_eq!(at, 2);
    }
}
