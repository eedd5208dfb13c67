use crate::model::EntityKey;
use crate::store::Store;

/// The detail of the selected event, prepared once when the selection changes so that drawing
/// only reads it.
#[derive(Debug, Clone, Default)]
pub struct DetailState {
    pub pos: Option<u32>,
    /// The event's entities with how many events carry each.
    pub entities: Vec<(EntityKey, String, usize)>,
    pub cursor: usize,
    pub scroll: u16,
    /// The raw record pretty-printed (still untrusted: sanitized when drawn).
    pub raw_pretty: String,
}

impl DetailState {
    pub fn sync(&mut self, store: &Store, pos: Option<u32>) {
        if pos == self.pos {
            return;
        }
        self.pos = pos;
        self.cursor = 0;
        self.scroll = 0;
        self.entities.clear();
        self.raw_pretty.clear();
        let Some(e) = pos.and_then(|p| store.get(p)) else {
            return;
        };
        self.entities = e
            .entities()
            .map(|(k, v)| (k, v.to_string(), store.entity_count(k, v)))
            .collect();
        self.raw_pretty = match serde_json::from_str::<serde_json::Value>(e.raw()) {
            Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| e.raw().to_string()),
            Err(_) => e.raw().to_string(),
        };
    }

    pub fn chosen(&self) -> Option<(EntityKey, &str)> {
        self.entities
            .get(self.cursor)
            .map(|(k, v, _)| (*k, v.as_str()))
    }

    pub fn move_cursor(&mut self, delta: isize) {
        if self.entities.is_empty() {
            return;
        }
        let last = self.entities.len() as isize - 1;
        self.cursor = (self.cursor as isize + delta).clamp(0, last) as usize;
    }
}
