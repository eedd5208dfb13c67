//! Analyst marks: a star, tags and a note on an event, kept for the session and in the case
//! bundle, with the time each was made (for the case metrics' time to triage). Keyed by the
//! event's arrival number, which survives late events moving its position.

use crate::case_metrics::Origin;
use crate::model::Timestamp;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mark {
    pub star: bool,
    pub tags: Vec<String>,
    pub note: String,
    /// When the mark was first made (a star, a tag or a note), by the analyst's clock. Kept
    /// while the mark is edited; `None` for a mark from a bundle that did not record it.
    pub marked_at: Option<Timestamp>,
}

impl Mark {
    /// Nothing marked (the time alone is no mark).
    pub fn is_empty(&self) -> bool {
        !self.star && self.tags.is_empty() && self.note.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Marks {
    by_id: BTreeMap<u32, Mark>,
    /// Where the events being marked come from: marks on the demo or on a replayed bundle
    /// are made long after the events, and the case metrics say so.
    pub origin: Origin,
}

impl Marks {
    pub fn get(&self, id: u32) -> Option<&Mark> {
        self.by_id.get(&id)
    }

    /// Stars the event (again: unstars it), now.
    pub fn toggle_star(&mut self, id: u32) -> bool {
        self.toggle_star_at(id, Timestamp::now())
    }

    /// Stars the event (again: unstars it); a new mark is made at `at`.
    pub fn toggle_star_at(&mut self, id: u32, at: Timestamp) -> bool {
        let m = self.by_id.entry(id).or_default();
        m.star = !m.star;
        let now = m.star;
        m.marked_at.get_or_insert(at);
        self.forget_if_empty(id);
        now
    }

    /// Sets the note from what the analyst typed, now.
    pub fn set_note(&mut self, id: u32, text: &str) {
        self.set_note_at(id, text, Timestamp::now())
    }

    /// Sets the note from what the analyst typed: `#words` become tags, the rest is the note.
    /// A new mark is made at `at`.
    pub fn set_note_at(&mut self, id: u32, text: &str, at: Timestamp) {
        let m = self.by_id.entry(id).or_default();
        m.marked_at.get_or_insert(at);
        m.tags = text
            .split_whitespace()
            .filter_map(|w| w.strip_prefix('#'))
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        m.note = text
            .split_whitespace()
            .filter(|w| !w.starts_with('#'))
            .collect::<Vec<_>>()
            .join(" ");
        self.forget_if_empty(id);
    }

    /// The note as it was typed, to edit it again.
    pub fn note_text(&self, id: u32) -> String {
        match self.by_id.get(&id) {
            None => String::new(),
            Some(m) => {
                let mut parts: Vec<String> = m.tags.iter().map(|t| format!("#{t}")).collect();
                if !m.note.is_empty() {
                    parts.insert(0, m.note.clone());
                }
                parts.join(" ")
            }
        }
    }

    fn forget_if_empty(&mut self, id: u32) {
        if self.by_id.get(&id).is_some_and(Mark::is_empty) {
            self.by_id.remove(&id);
        }
    }

    /// Puts a mark back as it was (a replayed bundle's).
    pub fn restore(&mut self, id: u32, mark: Mark) {
        if mark.is_empty() {
            self.by_id.remove(&id);
        } else {
            self.by_id.insert(id, mark);
        }
    }

    /// Every mark with its event's arrival number.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Mark)> + '_ {
        self.by_id.iter().map(|(id, m)| (*id, m))
    }

    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.by_id.keys().copied()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_notes_and_tags() {
        let mut m = Marks::default();
        assert!(m.toggle_star(7));
        m.set_note(7, "miner started here #execution #T1059");
        let mark = m.get(7).unwrap();
        assert_eq!(mark.tags, ["execution", "T1059"]);
        assert_eq!(mark.note, "miner started here");
        assert_eq!(m.note_text(7), "miner started here #execution #T1059");
        assert!(!m.toggle_star(7));
        assert_eq!(m.len(), 1, "the note keeps the mark");
        m.set_note(7, "");
        assert!(m.is_empty(), "nothing left: forgotten");
    }

    #[test]
    fn a_mark_keeps_the_time_it_was_first_made() {
        let mut m = Marks::default();
        m.toggle_star_at(3, Timestamp(100));
        m.set_note_at(3, "seen #brute", Timestamp(200));
        assert_eq!(m.get(3).unwrap().marked_at, Some(Timestamp(100)));
        m.toggle_star_at(3, Timestamp(300));
        assert_eq!(m.get(3).unwrap().marked_at, Some(Timestamp(100)), "edited");
        m.set_note_at(3, "", Timestamp(400));
        assert!(m.get(3).is_none());
        // Made again after it was gone: a new mark.
        m.set_note_at(3, "back", Timestamp(500));
        assert_eq!(m.get(3).unwrap().marked_at, Some(Timestamp(500)));
        // Removing a note that was never there makes no mark.
        m.set_note_at(4, "", Timestamp(600));
        assert!(m.get(4).is_none());
    }
}
