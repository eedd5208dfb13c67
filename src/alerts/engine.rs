//! The alert engine: fed the events that arrived in the store since its last call, it counts
//! them per rule and group and raises, updates and ends incidents (see `dedup` for the
//! policy). Its work is proportional to what arrived, never to what the store holds, and its
//! memory to the groups still counting and the incidents still open (the ended ones it keeps
//! for a list are capped at [`CLOSED_KEPT`]).
//!
//! Events are taken by arrival number ([`Store::id_at`], [`Store::pos_of`]): late events
//! merged into the store move positions, never arrival numbers, so "what arrived since the
//! last call" is every number from the last one seen to `store.len()`. Within one call they
//! are looked at in time order; across calls, in the order they arrived. An event older than
//! others already seen is put in its place: in its group's window (see `window`), and with
//! its incident when one is open (it never ends one). Incidents are closed, and idle groups
//! forgotten, only [`LATE_GRACE_NS`] after they could last have changed, so sources that
//! deliver with some delay still land in the same incident.

use super::alert::{Alert, AlertUpdate, Change};
use super::chain_watch::{ChainSet, ChainWatch};
use super::dedup::{alert_key, ends_incident, key_text, Told, LATE_GRACE_NS};
use super::rules::{AlertRule, AlertRules, GroupKey, Threshold, Watch};
use super::window::Window;
use crate::correlate::chains::Chain;
use crate::model::{Entities, EntityKey, Severity, Timestamp};
use crate::store::{EventRef, Query, Store};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Idle groups are forgotten, and quiet incidents closed, each time event time has moved on
/// this much.
const SWEEP_EVERY_NS: i64 = 60 * 1_000_000_000;

/// Ended alerts kept for [`AlertEngine::alerts`], the newest: an alert storm must not grow
/// memory without end.
pub const CLOSED_KEPT: usize = 1_000;

/// A group's values, by the rule's `by` keys.
type GroupValues = Vec<Option<Box<str>>>;

/// An open incident: its alert as it stands, and what its last line said.
#[derive(Debug)]
struct Incident {
    alert: Alert,
    told: Told,
    quiet_ns: i64,
}

/// One group of an event rule.
#[derive(Debug)]
struct Group {
    window: Window,
    newest: Timestamp,
    /// The most severe event counted since the window started.
    worst: Option<Severity>,
    /// Its open incident, by serial (it may have been closed since: see `open`).
    open: Option<u64>,
}

impl Default for Group {
    fn default() -> Self {
        Group {
            window: Window::default(),
            newest: Timestamp::MIN,
            worst: None,
            open: None,
        }
    }
}

/// One group of a chain rule: a chain and the values it joined on. Kept for the whole run
/// (chains found are few), so a chain found again is known.
#[derive(Debug)]
struct ChainGroup {
    open: Option<u64>,
    /// The latest last step seen: the same chain found again after its incident ended is not
    /// a new one.
    newest: Timestamp,
}

/// Open incidents by serial, and the newest ended alerts.
#[derive(Debug, Default)]
struct Incidents {
    open: HashMap<u64, Incident>,
    closed: VecDeque<Alert>,
    /// Incidents raised per alert key, for the ids.
    per_key: HashMap<u64, u32>,
    serial: u64,
}

impl Incidents {
    /// The open incident of this serial, if it is still open.
    fn get(&mut self, serial: Option<u64>) -> Option<&mut Incident> {
        serial.and_then(|s| self.open.get_mut(&s))
    }

    /// Raises a new incident: its serial, and the line that tells it.
    fn raise(
        &mut self,
        rule: &AlertRule,
        key: u64,
        now: Timestamp,
        make: impl FnOnce(String, String, u64) -> Alert,
    ) -> (u64, AlertUpdate) {
        let n = self.per_key.entry(key).or_insert(0);
        *n += 1;
        let key_text = key_text(key);
        let id = format!("{key_text}-{n}");
        self.serial += 1;
        let alert = make(id, key_text, self.serial);
        let line = AlertUpdate {
            change: Change::Raised,
            alert: alert.clone(),
        };
        self.open.insert(
            self.serial,
            Incident {
                told: Told {
                    count: alert.count,
                    at: now,
                },
                alert,
                quiet_ns: rule.quiet_ns,
            },
        );
        (self.serial, line)
    }

    /// Ends an incident; a count not yet told is told in `out`.
    fn close(&mut self, serial: u64, out: &mut Vec<AlertUpdate>) {
        let Some(mut inc) = self.open.remove(&serial) else {
            return;
        };
        inc.alert.open = false;
        if inc.told.owes(inc.alert.count) {
            out.push(AlertUpdate {
                change: Change::Updated,
                alert: inc.alert.clone(),
            });
        }
        self.closed.push_back(inc.alert);
        while self.closed.len() > CLOSED_KEPT {
            self.closed.pop_front();
        }
    }
}

/// Tells an incident's count when it is due, at event time `now`.
fn update_if_due(inc: &mut Incident, now: Timestamp, out: &mut Vec<AlertUpdate>) {
    if inc.told.update_due(inc.alert.count, now) {
        inc.told = Told {
            count: inc.alert.count,
            at: now,
        };
        out.push(AlertUpdate {
            change: Change::Updated,
            alert: inc.alert.clone(),
        });
    }
}

#[derive(Debug)]
pub struct AlertEngine {
    rules: Vec<AlertRule>,
    /// Per rule, its groups (empty for chain rules).
    groups: Vec<HashMap<GroupValues, Group>>,
    /// By (rule, alert key).
    chain_groups: HashMap<(usize, u64), ChainGroup>,
    chains: Option<ChainWatch>,
    incidents: Incidents,
    /// The next arrival number to look at.
    next_id: u32,
    /// The newest event time seen.
    watermark: Timestamp,
    swept_at: Timestamp,
    filter: Option<Query>,
}

impl AlertEngine {
    /// An engine for these rules; `chains` are the chain rules that `chain = …` rules watch.
    pub fn new(rules: AlertRules, chains: ChainSet) -> AlertEngine {
        let chains = rules.watches_chains().then(|| ChainWatch::new(chains));
        AlertEngine {
            groups: rules.rules.iter().map(|_| HashMap::new()).collect(),
            rules: rules.rules,
            chain_groups: HashMap::new(),
            chains,
            incidents: Incidents::default(),
            next_id: 0,
            watermark: Timestamp::MIN,
            swept_at: Timestamp::MIN,
            filter: None,
        }
    }

    /// Only events this query picks (its window and pivots) are counted.
    pub fn set_filter(&mut self, filter: Option<Query>) {
        self.filter = filter.filter(|q| *q != Query::default());
    }

    /// The chain search runs at most this often, in wall time (a busy stream brings events
    /// that may complete a chain in every batch); [`AlertEngine::flush`] runs a due one at
    /// once. Zero (the default) runs it in every call that needs it.
    pub fn set_chain_interval(&mut self, every: Duration) {
        if let Some(c) = &mut self.chains {
            c.every = every;
        }
    }

    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    /// The alerts as they stand now, in the order they were raised: every open one, and the
    /// newest [`CLOSED_KEPT`] that ended. The list the TUI shows.
    pub fn alerts(&self) -> Vec<&Alert> {
        let mut all: Vec<&Alert> = self
            .incidents
            .closed
            .iter()
            .chain(self.incidents.open.values().map(|i| &i.alert))
            .collect();
        all.sort_by_key(|a| a.seq);
        all
    }

    /// How many incidents are open.
    pub fn open_count(&self) -> usize {
        self.incidents.open.len()
    }

    /// Looks at every event that arrived in the store since the last call (all of them, the
    /// first time) and returns the alerts raised and updated, in order.
    pub fn observe(&mut self, store: &Store) -> Vec<AlertUpdate> {
        let end = store.len() as u32;
        let mut positions: Vec<u32> = (self.next_id.min(end)..end)
            .filter_map(|id| store.pos_of(id))
            .collect();
        self.next_id = end;
        positions.sort_unstable();
        let mut out = Vec::new();
        for pos in positions {
            let (Some(e), Some(id)) = (store.get(pos), store.id_at(pos)) else {
                continue;
            };
            self.on_event(&e, id, &mut out);
        }
        self.run_chains(store, false, &mut out);
        out
    }

    /// Takes the store as it is as already seen: after it was rebuilt (a source's events
    /// dropped, its arrival numbers given again), so nothing is counted twice.
    pub fn rebase(&mut self, store: &Store) {
        self.next_id = store.len() as u32;
        if let Some(c) = &mut self.chains {
            c.forget();
        }
    }

    /// Runs a due chain search now and tells every open incident's count not yet told: for
    /// the end of a watch, or a pause in the stream.
    pub fn flush(&mut self, store: &Store) -> Vec<AlertUpdate> {
        let mut out = Vec::new();
        self.run_chains(store, true, &mut out);
        let mut owed: Vec<&mut Incident> = self
            .incidents
            .open
            .values_mut()
            .filter(|i| i.told.owes(i.alert.count))
            .collect();
        // In the order the alerts were raised, so the output does not depend on hashing.
        owed.sort_by_key(|i| i.alert.seq);
        for inc in owed {
            inc.told = Told {
                count: inc.alert.count,
                at: self.watermark,
            };
            out.push(AlertUpdate {
                change: Change::Updated,
                alert: inc.alert.clone(),
            });
        }
        out
    }

    fn on_event(&mut self, e: &EventRef<'_>, id: u32, out: &mut Vec<AlertUpdate>) {
        let t = e.ts();
        if let Some(q) = &self.filter {
            if !q.admits(t, || e.entities()) {
                return;
            }
        }
        self.watermark = self.watermark.max(t);
        for r in 0..self.rules.len() {
            let Watch::Events {
                conditions,
                min_severity,
                threshold,
                by,
            } = &self.rules[r].watch
            else {
                continue;
            };
            // Severities sort most severe first.
            if min_severity.is_some_and(|m| e.severity() > m) || !conditions.holds(e) {
                continue;
            }
            let values: GroupValues = by.iter().map(|k| group_value(e, *k)).collect();
            let threshold = *threshold;
            self.count(r, values, threshold, e, out);
        }
        if let Some(c) = &mut self.chains {
            c.note(e, id);
        }
        if self.watermark.0 >= self.swept_at.0.saturating_add(SWEEP_EVERY_NS) {
            self.sweep(out);
        }
    }

    /// Counts one matching event in its group: with the open incident, or towards a new one.
    fn count(
        &mut self,
        r: usize,
        values: GroupValues,
        threshold: Option<Threshold>,
        e: &EventRef<'_>,
        out: &mut Vec<AlertUpdate>,
    ) {
        let t = e.ts();
        let now = self.watermark;
        let rule = &self.rules[r];
        let groups = &mut self.groups[r];
        // The values are copied only for a group's first event.
        if !groups.contains_key(&values) {
            groups.insert(values.clone(), Group::default());
        }
        let Some(g) = groups.get_mut(&values) else {
            return;
        };
        g.newest = g.newest.max(t);
        if let Some(inc) = self.incidents.get(g.open) {
            if !ends_incident(inc.alert.last, rule.quiet_ns, t) {
                let alert = &mut inc.alert;
                alert.count += 1;
                alert.first = alert.first.min(t);
                alert.last = alert.last.max(t);
                if rule.level.is_none() {
                    alert.severity = alert.severity.min(e.severity());
                }
                update_if_due(inc, now, out);
                return;
            }
        }
        if let Some(serial) = g.open.take() {
            self.incidents.close(serial, out);
        }
        g.worst = Some(g.worst.map_or(e.severity(), |w| w.min(e.severity())));
        let (first, last, count) = match threshold {
            None => (t, t, 1),
            Some(th) => match g.window.add(t, th) {
                Some(c) => (c.first, c.last, c.count),
                None => return,
            },
        };
        let severity = rule.level.or(g.worst).unwrap_or(e.severity());
        g.window.clear();
        g.worst = None;
        let Watch::Events { by, .. } = &rule.watch else {
            return;
        };
        let group: Vec<(String, Option<String>)> = by
            .iter()
            .zip(&values)
            .map(|(k, v)| (k.as_str().to_string(), v.as_deref().map(str::to_string)))
            .collect();
        let key = alert_key(
            &rule.name,
            group.iter().map(|(k, v)| (k.as_str(), v.as_deref())),
        );
        let (serial, line) = self.incidents.raise(rule, key, now, |id, key, seq| Alert {
            id,
            key,
            seq,
            rule: rule.name.clone(),
            chain: None,
            severity,
            first,
            last,
            count,
            group,
            entities: e
                .entities()
                .filter(|(k, _)| *k != EntityKey::Category)
                .map(|(k, v)| (k, v.to_string()))
                .collect(),
            title: e.title().to_string(),
            source: e.source(),
            source_name: e.source_name().to_string(),
            open: true,
        });
        g.open = Some(serial);
        out.push(line);
    }

    /// Closes incidents quiet for their rule's `quiet` (and the grace for late events),
    /// telling a count not yet told; tells counts due by time; forgets idle groups.
    fn sweep(&mut self, out: &mut Vec<AlertUpdate>) {
        let now = self.watermark;
        self.swept_at = now;
        let mut serials: Vec<u64> = self.incidents.open.keys().copied().collect();
        // In the order the alerts were raised, so the output does not depend on hashing.
        serials.sort_unstable();
        for serial in serials {
            let Some(inc) = self.incidents.open.get_mut(&serial) else {
                continue;
            };
            let until = inc
                .alert
                .last
                .0
                .saturating_add(inc.quiet_ns)
                .saturating_add(LATE_GRACE_NS);
            if now.0 > until {
                self.incidents.close(serial, out);
            } else {
                update_if_due(inc, now, out);
            }
        }
        let open = &self.incidents.open;
        for (rule, groups) in self.rules.iter().zip(self.groups.iter_mut()) {
            let span = match &rule.watch {
                Watch::Events {
                    threshold: Some(th),
                    ..
                } => th.within_ns.saturating_mul(2),
                _ => 0,
            };
            let horizon = now.0.saturating_sub(span.saturating_add(LATE_GRACE_NS));
            groups.retain(|_, g| {
                g.open = g.open.filter(|s| open.contains_key(s));
                g.open.is_some() || (!g.window.is_empty() && g.newest.0 >= horizon)
            });
        }
        for g in self.chain_groups.values_mut() {
            g.open = g.open.filter(|s| open.contains_key(s));
        }
        if let Some(c) = &mut self.chains {
            c.forget_before(now);
        }
    }

    fn run_chains(&mut self, store: &Store, force: bool, out: &mut Vec<AlertUpdate>) {
        let Some(found) = self.chains.as_mut().and_then(|c| c.search(store, force)) else {
            return;
        };
        for chain in &found {
            self.on_chain(store, chain, out);
        }
    }

    /// A chain the search found: a new incident, an update of an open one, or one already
    /// told.
    fn on_chain(&mut self, store: &Store, chain: &Chain, out: &mut Vec<AlertUpdate>) {
        let steps: Vec<EventRef<'_>> = chain
            .steps
            .iter()
            .filter_map(|s| store.get(s.pos))
            .collect();
        let Some(end) = steps.last() else {
            return;
        };
        let first = steps.iter().map(|e| e.ts()).min().unwrap_or(end.ts());
        let last = steps.iter().map(|e| e.ts()).max().unwrap_or(end.ts());
        let count: u64 = chain.steps.iter().map(|s| s.count as u64).sum();
        let worst = steps
            .iter()
            .map(|e| e.severity())
            .min()
            .unwrap_or(Severity::Info);
        let now = self.watermark;
        for (r, rule) in self.rules.iter().enumerate() {
            if !rule.watches_chain(&chain.rule) {
                continue;
            }
            let group: Vec<(String, Option<String>)> = chain
                .bound
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), Some(v.clone())))
                .collect();
            let key = alert_key(
                &rule.name,
                std::iter::once(("chain", Some(chain.rule.as_str())))
                    .chain(group.iter().map(|(k, v)| (k.as_str(), v.as_deref()))),
            );
            let g = self.chain_groups.entry((r, key)).or_insert(ChainGroup {
                open: None,
                newest: Timestamp::MIN,
            });
            let seen = g.newest;
            g.newest = g.newest.max(last);
            if let Some(inc) = self.incidents.get(g.open) {
                if !ends_incident(inc.alert.last, rule.quiet_ns, last) {
                    let alert = &mut inc.alert;
                    if count > alert.count || last > alert.last {
                        alert.count = alert.count.max(count);
                        alert.first = alert.first.min(first);
                        alert.last = alert.last.max(last);
                        if rule.level.is_none() {
                            alert.severity = alert.severity.min(worst);
                        }
                        update_if_due(inc, now, out);
                    }
                    continue;
                }
            }
            match g.open.take() {
                Some(serial) => self.incidents.close(serial, out),
                None if last <= seen => continue,
                None => {}
            }
            let mut entities: Entities = chain.bound.iter().map(|(k, v)| (*k, v.clone())).collect();
            for (k, v) in end.entities().filter(|(k, _)| *k != EntityKey::Category) {
                entities.add(k, v);
            }
            let (serial, line) = self.incidents.raise(rule, key, now, |id, key, seq| Alert {
                id,
                key,
                seq,
                rule: rule.name.clone(),
                chain: Some(chain.rule.clone()),
                severity: rule.level.unwrap_or(worst),
                first,
                last,
                count,
                group,
                entities,
                title: end.title().to_string(),
                source: end.source(),
                source_name: end.source_name().to_string(),
                open: true,
            });
            g.open = Some(serial);
            out.push(line);
        }
    }
}

/// An event's value for a group key: its first value of an entity key, its title, or its
/// source's name.
fn group_value(e: &EventRef<'_>, key: GroupKey) -> Option<Box<str>> {
    match key {
        GroupKey::Entity(k) => e.entities().find(|(ek, _)| *ek == k).map(|(_, v)| v.into()),
        GroupKey::Title => Some(e.title().into()),
        GroupKey::Source => Some(e.source_name().into()),
    }
}
