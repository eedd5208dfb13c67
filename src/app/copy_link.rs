//! `y` and `Y`: a Grafana Explore or Kibana Discover link for what is on screen, put on the
//! clipboard by the loop (it owns the terminal, which OSC 52 writes to).

use super::App;
use crate::case_links::{self, LinkInput, LinkKind};

impl App {
    pub(super) fn copy_link(&mut self, kind: LinkKind) {
        let search = self
            .search
            .is_active()
            .then_some(self.search.input.as_str());
        let input = LinkInput {
            pivots: self.history.current(),
            search,
            window: self.window,
            data_span: self.data.store.time_span(),
            reports: &self.data.reports,
            tables: &self.tables,
        };
        match case_links::build(&self.link_settings, kind, &input) {
            Ok((url, note)) => {
                self.clipboard_request = Some(url);
                self.notice = note;
            }
            Err(e) => self.notice = Some(e),
        }
    }

    /// Called by the loop with the outcome of a copy: what the status line says.
    pub fn copied(&mut self, outcome: Result<crate::ui::clipboard::Copied, String>) {
        let said = match outcome {
            Ok(c) => c.to_string(),
            Err(e) => format!("not copied: {e}"),
        };
        self.notice = Some(match self.notice.take() {
            Some(before) => format!("{said}; {before}"),
            None => said,
        });
    }
}
