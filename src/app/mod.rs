//! The interactive loop's state and how actions change it. Drawing lives in `ui/` and only
//! reads this state; the terminal loop lives in `run.rs`.

pub mod action;
pub mod alerts;
mod case;
mod category_filter;
pub mod chains;
mod copy_link;
pub mod correlated;
mod detail;
pub mod export;
pub mod fold;
mod history;
mod live;
pub mod marks;
mod pane_pivot;
pub mod query_editor;
mod run;
mod scrub;
mod search;
mod timeline;
mod tree;
mod view_cache;

pub use action::Action;
pub use detail::DetailState;
pub use history::PivotHistory;
pub use live::LiveSources;
pub use run::{run, source_channel, Ended};
pub use search::SearchState;
pub use timeline::TimelineState;
pub use tree::TreeState;
pub use view_cache::{MetricStrip, ViewCache};

use crate::load::Loaded;
use crate::model::TimeRange;
use crate::sources::task::{Cancel, SourceMessage};
use crate::store::Query;
use crate::ui::keymap::{Context, KeyPress, Keymap, Lookup};
use crate::ui::layout;
use crate::ui::theme::Theme;
use pane_pivot::PivotMode;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::time::{Duration, Instant};

/// Which pane has the keys (at 80 columns, which tab is shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Timeline,
    Detail,
    Tree,
    Correlated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    /// The attack chains list, with a cursor on one step.
    Chains {
        cursor: usize,
    },
    /// The alerts raised, with a cursor on one.
    Alerts {
        cursor: usize,
    },
    /// The case metrics (`ui::case_metrics`), scrolled down this many lines.
    CaseMetrics {
        scroll: u16,
    },
}

/// Everything the screen shows. Each part is its own small state; this only ties them together.
pub struct App {
    pub data: Loaded,
    pub keymap: Keymap,
    pub theme: Theme,
    pub history: PivotHistory,
    /// The time filter from the command line.
    pub window: TimeRange,
    /// The time axis shared by the histogram and metric strips.
    pub axis: Option<TimeRange>,
    pub timeline: TimelineState,
    /// Repeated events folded into one row each.
    pub fold: fold::FoldState,
    pub search: SearchState,
    pub detail: DetailState,
    pub tree: TreeState,
    pub correlated: correlated::CorrelatedState,
    pub marks: marks::Marks,
    pub chains: chains::ChainState,
    /// The alert rules over what live sources send (`None` for what is loaded once).
    pub alerts: Option<alerts::AlertState>,
    /// The case metrics, computed when `S` opens them (never while drawing).
    pub case_metrics: Option<crate::case_metrics::CaseMetrics>,
    /// An export being asked for, built or written.
    pub export: Option<export::ExportState>,
    /// A bundle or the demo playing in time: its speed and clock.
    pub replay: Option<crate::sources::replay::Player>,
    /// Signs what `e` exports, when the config names a key.
    pub signer: Option<ed25519_dalek::SigningKey>,
    /// What an export removes before writing.
    pub redactor: crate::bundle::redact::Redactor,
    /// The note being typed for the selected event.
    pub note_input: Option<String>,
    /// Only marked events are shown.
    pub marked_only: bool,
    /// What the right-hand pane shows (wide layout) when the timeline has the keys.
    pub right: Pane,
    pub focus: Pane,
    pub overlay: Option<Overlay>,
    pub cache: ViewCache,
    pub pending: Vec<KeyPress>,
    /// A message for the user (a broken theme file, nothing to pivot on), until the next key.
    pub notice: Option<String>,
    /// Where the links `y` and `Y` copy point (the config's `[links]`).
    pub link_settings: crate::case_links::LinkSettings,
    /// The entity tables in use (the config's on top of the built-in), for links.
    pub tables: crate::sources::EntityTables,
    /// Text to put on the clipboard; the loop copies it between frames, where it can write to
    /// the terminal (OSC 52).
    pub clipboard_request: Option<String>,
    pub size: (u16, u16),
    pub quit: bool,
    /// Stops the source tasks.
    pub cancel: Cancel,
    /// Live sources, to push pivots down to them.
    pub live: Option<LiveSources>,
    /// A Loki query being edited, with completion.
    pub query_editor: Option<query_editor::QueryEditor>,
    /// Events matching pivot and window, before the search.
    base: Vec<u32>,
    /// Events arrived since the view was last computed.
    stale: bool,
    /// While frozen, what sources send waits here; nothing is lost, the view holds still.
    pub frozen: Option<Vec<SourceMessage>>,
    last_refilter: Instant,
}

/// `60`, `0.5`, `1,000`: a replay speed as the status line shows it.
pub fn speed_text(x: f64) -> String {
    if x >= 1.0 && x.fract() == 0.0 {
        crate::ui::text::thousands(x as usize)
    } else {
        format!("{x}")
    }
}

/// How often the view follows a source that is still loading.
const REFILTER_EVERY: Duration = Duration::from_millis(150);

/// How many events one search slice examines between two looks at the keyboard.
pub const SEARCH_SLICE: usize = 20_000;

impl App {
    pub fn new(data: Loaded, keymap: Keymap, theme: Theme, query: Query, size: (u16, u16)) -> App {
        let mut app = App {
            data,
            keymap,
            theme,
            history: PivotHistory::new(query.pivots),
            window: query.window,
            axis: None,
            timeline: TimelineState::default(),
            fold: fold::FoldState::new(Default::default(), true),
            search: SearchState::default(),
            detail: DetailState::default(),
            tree: TreeState::default(),
            correlated: correlated::CorrelatedState::default(),
            marks: marks::Marks::default(),
            chains: chains::ChainState::default(),
            alerts: None,
            case_metrics: None,
            export: None,
            replay: None,
            signer: None,
            redactor: crate::bundle::redact::Redactor::default(),
            note_input: None,
            marked_only: false,
            link_settings: Default::default(),
            tables: Default::default(),
            clipboard_request: None,
            right: Pane::Detail,
            focus: Pane::Timeline,
            overlay: None,
            cache: ViewCache::default(),
            pending: Vec::new(),
            notice: None,
            size,
            quit: false,
            cancel: Cancel::default(),
            live: None,
            query_editor: None,
            base: Vec::new(),
            stale: false,
            frozen: None,
            last_refilter: Instant::now(),
        };
        app.refilter();
        app
    }

    pub fn query(&self) -> Query {
        Query {
            pivots: self.history.current().to_vec(),
            window: self.window,
        }
    }

    /// Events matching pivot and window (before the search).
    pub fn base_len(&self) -> usize {
        self.base.len()
    }

    /// After the pivot changed: the view, and the servers asked again where the local copy is
    /// partial.
    fn pivot_changed(&mut self) {
        self.push_down();
        self.refilter();
    }

    /// Asks the servers that kept part of the window for the current pivot, and says what
    /// went down.
    fn push_down(&mut self) {
        if let Some(live) = &mut self.live {
            let search = self
                .search
                .is_active()
                .then_some(self.search.input.as_str());
            let said = live.push_down(self.history.current(), search, &mut self.data);
            if !said.is_empty() {
                // Every source's answer: what went down, what stays local.
                self.notice = Some(said.join(" · "));
            }
        }
    }

    /// Late events moved others: every held position is stale now. `chosen` is the arrival
    /// number of the event the selection was on.
    fn positions_moved(&mut self, chosen: Option<u32>) {
        self.timeline
            .set_anchor(chosen.and_then(|id| self.data.store.pos_of(id)));
        self.detail.invalidate();
        self.tree.invalidate();
        self.correlated.invalidate();
        // The search's candidates and results are positions too: start it again.
        self.search.job = None;
        // The chains' steps are positions too: found again after the next refilter.
        self.chains.positions_moved();
        self.fold.positions_moved();
    }

    /// Recomputes the view after the pivot or window changed.
    fn refilter(&mut self) {
        self.stale = false;
        // New events: the alert rules look at them first (a raised alert is told, never
        // moving the selection or the focus).
        if let Some(told) = self
            .alerts
            .as_mut()
            .and_then(|a| a.observe(&self.data.store))
        {
            self.notice = Some(told);
        }
        self.last_refilter = Instant::now();
        self.axis = self.data.store.time_span().map(|span| {
            if self.window.is_all() {
                span
            } else {
                TimeRange::new(
                    self.window.start.max(span.start),
                    self.window.end.min(span.end),
                )
            }
        });
        let before = std::mem::take(&mut self.base);
        self.base = self.data.store.select(&self.query());
        // Events only appended (a live source): the running search takes the new ones on;
        // anything else starts it again.
        let appended = self.base.len() >= before.len() && self.base[..before.len()] == before[..];
        match &mut self.search.job {
            Some(job) if appended => job.extend(&self.base[before.len()..]),
            _ => self.search.restart(&self.base),
        }
        self.show_current();
    }

    /// Shows the base or the search results so far, and refreshes what derives from them.
    fn show_current(&mut self) {
        let mut shown = match &self.search.job {
            Some(job) => job.results().to_vec(),
            None => self.base.clone(),
        };
        let store = &self.data.store;
        let mut marked: Vec<u32> = self.marks.ids().filter_map(|id| store.pos_of(id)).collect();
        marked.sort_unstable();
        if self.marked_only {
            shown.retain(|p| marked.binary_search(p).is_ok());
        }
        // Folding never hides a chain step or a marked event: each stays a row of its own.
        if self.fold.pending(store) {
            self.fold.step(store);
        }
        let mut never = marked;
        never.extend(
            self.chains
                .found
                .iter()
                .flat_map(|c| c.steps.iter().map(|s| s.pos)),
        );
        never.sort_unstable();
        let events = shown.clone();
        let shown = self
            .fold
            .apply(store, shown, |p| never.binary_search(&p).is_ok());
        self.timeline
            .set_events((shown.len() < events.len()).then_some(events));
        let fold = &self.fold;
        self.timeline.replace_showing(shown, |p| fold.row_of(p));
        self.after_change();
    }

    /// Sets the folding rules (the user's `fold.toml`) and whether folding starts on.
    pub fn set_fold_rules(&mut self, rules: crate::fold::FoldRules, enabled: bool) {
        self.fold = fold::FoldState::new(std::sync::Arc::new(rules), enabled);
        self.show_current();
    }

    fn after_change(&mut self) {
        self.chains.refresh(&self.data.store, false);
        let rows = layout::timeline_rows(self.size);
        self.timeline.scroll_to_selection(rows);
        let t = &self.timeline;
        let in_view = &t.shown[t.offset.min(t.shown.len())..(t.offset + rows).min(t.shown.len())];
        self.fold.summarize(&self.data.store, in_view);
        self.detail
            .sync(&self.data.store, self.timeline.selected_pos());
        self.tree
            .sync(&self.data.store, self.timeline.selected_pos());
        self.correlated
            .sync(&self.data.store, self.timeline.selected_pos());
        let key = view_cache::BuiltFor::new(
            &self.data,
            self.timeline.generation(),
            self.query(),
            self.axis,
            layout::axis_width(self.size),
            !self.search.is_active(),
        );
        self.cache.rebuild(&self.data, self.timeline.events(), key);
    }

    pub fn resize(&mut self, size: (u16, u16)) {
        self.size = size;
        self.after_change();
    }

    /// Runs one slice of a running search; returns whether the screen changed.
    pub fn tick(&mut self) -> bool {
        if self.live.as_mut().is_some_and(|l| l.retry_due()) {
            self.push_down();
            return true;
        }
        if self.stale && self.last_refilter.elapsed() >= REFILTER_EVERY {
            self.refilter();
            return true;
        }
        if self.search.step(&self.data.store, SEARCH_SLICE) {
            self.show_current();
            return true;
        }
        if self.fold.pending(&self.data.store) {
            if self.fold.step(&self.data.store) {
                self.show_current();
            }
            return true;
        }
        if self.export.as_ref().is_some_and(|e| e.running()) {
            if let Some(state) = self.export.take() {
                match export::step(state, &self.data.store) {
                    export::Stepped::Working(state) => self.export = Some(state),
                    export::Stepped::Done(message) => self.notice = Some(message),
                }
            }
            return true;
        }
        let chains_open = matches!(self.overlay, Some(Overlay::Chains { .. }));
        if self.chains.step(&self.data.store, chains::CHAIN_SLICE) {
            // The steps found stay rows of their own.
            if self.fold.enabled && !self.chains.running() {
                self.show_current();
            }
            return true;
        }
        // The overlay shows the search's progress.
        chains_open && self.chains.running()
    }

    pub fn busy(&self) -> bool {
        self.search.running()
            || self.fold.pending(&self.data.store)
            || self.stale
            || self.chains.running()
            || self.export.as_ref().is_some_and(|e| e.running())
    }

    /// Whether any source is still loading.
    pub fn loading(&self) -> bool {
        self.data.reports.iter().any(|r| r.progress.is_some())
    }

    /// A message from a source task.
    pub fn on_source(&mut self, msg: SourceMessage) {
        if let Some(waiting) = &mut self.frozen {
            waiting.push(msg);
            return;
        }
        let mut finished = false;
        let mut data = false;
        match &msg {
            SourceMessage::Finished { report, .. } => {
                finished = true;
                if report.cancelled {
                    self.notice = Some(format!(
                        "{}: stopped, kept {} events",
                        crate::sanitize::line(&report.name),
                        crate::ui::text::thousands(report.events)
                    ));
                } else if let Some(first) = report.diagnostics().into_iter().next() {
                    self.notice = Some(first);
                }
            }
            SourceMessage::Batch { .. }
            | SourceMessage::Packed { .. }
            | SourceMessage::Series { .. }
            | SourceMessage::Counts { .. } => data = true,
            SourceMessage::Progress { .. } | SourceMessage::Update { .. } => {}
            SourceMessage::Labels {
                source,
                label,
                values,
            } => {
                if let Some(editor) = self.query_editor.as_mut().filter(|e| e.source == *source) {
                    match label {
                        None => editor.names = Some(values.clone()),
                        Some(l) => {
                            editor.values.insert(l.clone(), values.clone());
                        }
                    }
                    // Finish the Tab that asked.
                    editor.tab();
                }
            }
            SourceMessage::Live { .. } => finished = true,
        }
        let chosen = self
            .timeline
            .anchor()
            .and_then(|p| self.data.store.id_at(p));
        if self.data.apply(msg).is_some() {
            self.positions_moved(chosen);
            self.refilter();
        } else if finished {
            self.refilter();
        } else if data {
            self.stale = true;
        }
    }

    fn context(&self) -> Context {
        if self.export.is_some() {
            Context::Export
        } else if let Some(Overlay::Chains { .. } | Overlay::Alerts { .. }) = self.overlay {
            // The alerts list moves and closes with the same keys as the chains list.
            Context::Chains
        } else if self.overlay.is_some() {
            Context::Help
        } else if self.note_input.is_some() {
            Context::Note
        } else if self.query_editor.is_some() {
            Context::Query
        } else if self.search.editing {
            Context::Search
        } else {
            match self.focus {
                Pane::Timeline => Context::Timeline,
                Pane::Detail => Context::Detail,
                Pane::Tree => Context::Tree,
                Pane::Correlated => Context::Correlated,
            }
        }
    }

    pub fn handle_key(&mut self, ev: KeyEvent) {
        if ev.kind == KeyEventKind::Release {
            return;
        }
        self.notice = None;
        let Some(press) = KeyPress::from_event(&ev) else {
            return;
        };
        let ctx = self.context();
        self.pending.push(press);
        match self.keymap.lookup(ctx, &self.pending) {
            Lookup::Action(a) => {
                self.pending.clear();
                self.apply(a);
            }
            Lookup::Pending => {}
            Lookup::Unbound => {
                let was_sequence = self.pending.len() > 1;
                self.pending.clear();
                if ctx == Context::Note {
                    self.edit_note_text(ev);
                } else if ctx == Context::Export {
                    self.edit_export_path(ev);
                } else if ctx == Context::Query {
                    self.edit_query_text(ev);
                } else if ctx == Context::Search {
                    self.edit_search(ev);
                } else if was_sequence {
                    // `g x`: drop the `g`, try `x` alone.
                    self.handle_key(ev);
                }
            }
        }
    }

    fn edit_note_text(&mut self, ev: KeyEvent) {
        let Some(input) = &mut self.note_input else {
            return;
        };
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match ev.code {
            KeyCode::Char('u') if ctrl => input.clear(),
            KeyCode::Char(c) if !ctrl => input.push(c),
            KeyCode::Backspace => {
                input.pop();
            }
            _ => {}
        }
    }

    /// Chain rules other than the built-in ones, and up to how many events chains are found
    /// again on their own.
    pub fn set_chain_rules(&mut self, rules: crate::correlate::chains::Rules, auto_limit: usize) {
        self.chains = chains::ChainState::new(rules, auto_limit);
        self.chains.refresh(&self.data.store, false);
    }

    /// The chain the selected event is a step of, if any.
    pub fn selected_chain(&self) -> Option<&crate::correlate::chains::Chain> {
        self.chains.holding(self.timeline.selected_pos()?)
    }

    /// The arrival number of the selected event (what marks are keyed by).
    fn selected_id(&self) -> Option<u32> {
        self.timeline
            .selected_pos()
            .and_then(|p| self.data.store.id_at(p))
    }

    fn edit_query_text(&mut self, ev: KeyEvent) {
        let Some(editor) = &mut self.query_editor else {
            return;
        };
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match ev.code {
            KeyCode::Char('u') if ctrl => editor.input.clear(),
            KeyCode::Char(c) if !ctrl => editor.input.push(c),
            KeyCode::Backspace => {
                editor.input.pop();
            }
            _ => {}
        }
        editor.candidates.clear();
    }

    /// Selects the correlated event under the cursor in the timeline.
    /// Selects the event at `pos` in the timeline, when it is shown; says why not otherwise.
    fn jump_to(&mut self, pos: u32) -> bool {
        // An event inside a folded row: unfold that row.
        if self.fold.reveal(pos) {
            self.show_current();
        }
        match self.timeline.shown.binary_search(&pos) {
            Ok(i) => {
                self.timeline.selected = i;
                self.timeline.set_anchor(Some(pos));
                self.focus = Pane::Timeline;
                self.after_change();
                true
            }
            Err(_) => {
                self.notice =
                    Some("that event is outside the current pivot or search (x shows all)".into());
                false
            }
        }
    }

    /// Unfolds the selected row of repeated events, or folds the set of the selected event.
    fn fold_toggle(&mut self) {
        if !self.fold.enabled {
            self.notice = Some("folding is off (Z folds repeated events)".into());
            return;
        }
        let Some(pos) = self.timeline.selected_pos() else {
            return;
        };
        self.notice = Some(match self.fold.toggle(&self.data.store, pos) {
            Some((n, true)) => format!(
                "{} repeated events unfolded (z folds them again)",
                crate::ui::text::thousands(n)
            ),
            Some((n, false)) => format!("{} repeated events folded", crate::ui::text::thousands(n)),
            None => "this event repeats no other shown event".into(),
        });
        self.show_current();
    }

    /// Starts editing the first Loki source's query.
    fn open_query_editor(&mut self) {
        let found = self.live.as_ref().and_then(|l| l.loki_query());
        match found {
            Some((index, query)) => {
                self.query_editor = Some(query_editor::QueryEditor::new(index, &query))
            }
            None => {
                self.notice = Some("no Loki source to edit (give --loki URL --logql QUERY)".into())
            }
        }
    }

    fn query_tab(&mut self) {
        let (Some(editor), Some(live)) = (&mut self.query_editor, &mut self.live) else {
            return;
        };
        if let query_editor::Tab::Fetch { label } = editor.tab() {
            live.fetch_labels(editor.source, label);
        }
    }

    fn run_edited_query(&mut self) {
        let (Some(editor), Some(live)) = (self.query_editor.take(), &mut self.live) else {
            return;
        };
        match live.rerun(editor.source, &editor.input, &mut self.data) {
            Ok(said) => self.notice = Some(said),
            Err(e) => self.notice = Some(e),
        }
        // The store was rebuilt: arrival numbers start over.
        self.fold.rebuild();
        if let Some(a) = &mut self.alerts {
            a.rebase(&self.data.store);
        }
        self.chains.positions_moved();
        self.detail.invalidate();
        self.tree.invalidate();
        self.correlated.invalidate();
        self.timeline.set_anchor(None);
        self.refilter();
    }

    fn edit_search(&mut self, ev: KeyEvent) {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match ev.code {
            KeyCode::Char('u') if ctrl => self.search.input.clear(),
            KeyCode::Char(c) if !ctrl => self.search.input.push(c),
            KeyCode::Backspace => {
                self.search.input.pop();
            }
            _ => return,
        }
        self.search.restart(&self.base);
        self.show_current();
    }

    pub fn apply(&mut self, action: Action) {
        let page = layout::timeline_rows(self.size).max(1) as isize;
        match action {
            Action::Quit => {
                self.cancel.cancel();
                self.quit = true;
            }
            Action::Freeze => match self.frozen.take() {
                Some(waiting) => {
                    // Everything that waited goes into the store at once, then one refilter
                    // (not one per message).
                    let chosen = self
                        .timeline
                        .anchor()
                        .and_then(|p| self.data.store.id_at(p));
                    let mut moved = false;
                    for msg in waiting {
                        moved |= self.data.apply(msg).is_some();
                    }
                    if moved {
                        self.positions_moved(chosen);
                    }
                    self.refilter();
                }
                None => self.frozen = Some(Vec::new()),
            },
            Action::EditQuery => self.open_query_editor(),
            Action::TreeToggle => self.tree.toggle(),
            Action::ContextToggle => self.correlated.toggle_context(),
            Action::Mark => match self.selected_id() {
                Some(id) => {
                    let on = self.marks.toggle_star(id);
                    self.notice = Some(if on { "starred" } else { "star removed" }.into());
                    // A marked event leaves its folded row (and may join it again).
                    if self.marked_only || self.fold.enabled {
                        self.show_current();
                    }
                }
                None => self.notice = Some("no event selected".into()),
            },
            Action::Note => match self.selected_id() {
                Some(id) => self.note_input = Some(self.marks.note_text(id)),
                None => self.notice = Some("no event selected".into()),
            },
            Action::NoteSave => {
                if let (Some(text), Some(id)) = (self.note_input.take(), self.selected_id()) {
                    self.marks.set_note(id, &text);
                    if self.marked_only || self.fold.enabled {
                        self.show_current();
                    }
                }
            }
            Action::NoteCancel => self.note_input = None,
            Action::Export => self.export = Some(export::ExportState::ask()),
            Action::CopyGrafanaLink => self.copy_link(crate::case_links::LinkKind::GrafanaExplore),
            Action::CopyKibanaLink => self.copy_link(crate::case_links::LinkKind::KibanaDiscover),
            Action::ScrubBack => self.scrub(false),
            Action::ScrubForward => self.scrub(true),
            Action::ReplayFaster | Action::ReplaySlower => match &self.replay {
                Some(player) => {
                    let x = player.speed.get();
                    let x = if action == Action::ReplayFaster {
                        x * 2.0
                    } else {
                        x / 2.0
                    };
                    player.speed.set(x.max(0.25));
                    self.notice = Some(format!("replay at ×{}", speed_text(player.speed.get())));
                }
                None => {
                    self.notice = Some(
                        "nothing is replaying (casefile replay --speed N, or demo --live)".into(),
                    )
                }
            },
            Action::ExportScope => {
                if let Some(export::ExportState::Asking { all, .. }) = &mut self.export {
                    *all = !*all;
                }
            }
            Action::ExportStart => self.start_export(),
            Action::ExportCancel => match self.export.take() {
                Some(writing @ export::ExportState::Writing { .. }) => {
                    self.export = Some(writing);
                    self.notice =
                        Some("the bundle is being written; it cannot be stopped now".into());
                }
                Some(export::ExportState::Building { .. }) => {
                    self.notice = Some("export cancelled; nothing was written".into());
                }
                _ => {}
            },
            Action::FoldToggle => self.fold_toggle(),
            Action::FoldAll => {
                self.fold.enabled = !self.fold.enabled;
                self.notice = Some(
                    if self.fold.enabled {
                        "repeated events folded (z unfolds a row, Z shows every event)"
                    } else {
                        "every event shown (Z folds repeats again)"
                    }
                    .into(),
                );
                self.show_current();
            }
            Action::MarkedOnly => {
                self.marked_only = !self.marked_only;
                self.notice = Some(if self.marked_only {
                    format!(
                        "showing the {} marked events (M again: all)",
                        self.marks.len()
                    )
                } else {
                    "showing all events".into()
                });
                self.show_current();
            }
            Action::WindowWider | Action::WindowNarrower => {
                self.correlated.resize(action == Action::WindowWider);
                self.correlated
                    .sync(&self.data.store, self.timeline.selected_pos());
            }
            Action::JumpTo => match self.overlay {
                Some(Overlay::Alerts { cursor }) => {
                    let pivots = self
                        .alerts
                        .as_ref()
                        .and_then(|a| a.list().get(cursor).map(|a| alerts::pivots_of(a)));
                    match pivots {
                        Some(p) if !p.is_empty() => {
                            self.overlay = None;
                            self.history.push(p);
                            self.focus = Pane::Timeline;
                            self.pivot_changed();
                        }
                        Some(_) => {
                            self.notice =
                                Some("this alert's group has no entity to pivot on".into())
                        }
                        None => {}
                    }
                }
                Some(Overlay::Chains { cursor }) => {
                    let selected = self.timeline.selected_pos();
                    let step = self
                        .chains
                        .steps_in_list_order(selected)
                        .get(cursor)
                        .copied();
                    if let Some(pos) = step {
                        if self.jump_to(pos) {
                            self.overlay = None;
                        }
                    }
                }
                _ => {
                    if let Some(pos) = self.correlated.chosen() {
                        self.jump_to(pos);
                    }
                }
            },
            Action::LoadOlder => {
                self.notice = Some(match &mut self.live {
                    Some(live) => live.load_older(&mut self.data).join("; "),
                    None => "no live source to load from".into(),
                });
            }
            Action::QueryComplete => self.query_tab(),
            Action::QueryRun => self.run_edited_query(),
            Action::QueryCancel => self.query_editor = None,
            Action::CancelLoading => {
                if self.loading() {
                    self.cancel.cancel();
                }
            }
            Action::Help => {
                self.overlay = match self.overlay {
                    Some(Overlay::Help { .. }) => None,
                    _ => Some(Overlay::Help { scroll: 0 }),
                }
            }
            Action::CaseMetrics => {
                self.overlay = match self.overlay {
                    Some(Overlay::CaseMetrics { .. }) => None,
                    _ => {
                        self.case_metrics = Some(crate::ui::case_metrics::for_app(self));
                        Some(Overlay::CaseMetrics { scroll: 0 })
                    }
                }
            }
            Action::Alerts => {
                self.overlay = match self.overlay {
                    Some(Overlay::Alerts { .. }) => None,
                    _ => Some(Overlay::Alerts { cursor: 0 }),
                }
            }
            Action::Chains => {
                self.chains.refresh(&self.data.store, true);
                self.overlay = match self.overlay {
                    Some(Overlay::Chains { .. }) => None,
                    _ => Some(Overlay::Chains { cursor: 0 }),
                }
            }
            Action::Close => {
                if self.overlay.is_some() {
                    self.overlay = None;
                } else {
                    self.focus = Pane::Timeline;
                }
            }
            Action::NextPane => {
                self.focus = match self.focus {
                    Pane::Timeline => Pane::Detail,
                    Pane::Detail => Pane::Tree,
                    Pane::Tree => Pane::Correlated,
                    Pane::Correlated => Pane::Timeline,
                };
                if self.focus != Pane::Timeline {
                    self.right = self.focus;
                }
            }
            Action::Down
            | Action::Up
            | Action::PageDown
            | Action::PageUp
            | Action::HalfPageDown
            | Action::HalfPageUp
            | Action::Top
            | Action::Bottom => self.motion(action, page),
            Action::OpenDetail => {
                self.focus = Pane::Detail;
                self.right = Pane::Detail;
            }
            Action::PivotMenu => {
                self.focus = Pane::Detail;
                if self.detail.entities.is_empty() {
                    self.notice = Some("this event has no entities to pivot on".into());
                }
            }
            Action::Pivot => self.pivot_from_pane(PivotMode::Only),
            Action::PivotAdd => self.pivot_from_pane(PivotMode::Add),
            Action::PivotExclude => self.pivot_from_pane(PivotMode::Exclude),
            Action::Back => {
                if self.history.back() {
                    self.pivot_changed();
                } else {
                    self.notice = Some("already at the first pivot".into());
                }
            }
            Action::Forward => {
                if self.history.forward() {
                    self.pivot_changed();
                }
            }
            Action::CategoryNext => {
                let pivots =
                    category_filter::next(self.history.current(), self.window, &self.data.store);
                self.history.push(pivots);
                self.pivot_changed();
            }
            Action::ClearPivot => {
                if !self.history.current().is_empty() {
                    self.history.push(Vec::new());
                    self.refilter();
                }
            }
            Action::Search => self.search.editing = true,
            Action::SearchAccept => {
                self.search.editing = false;
                // A search narrows the window too: ask the servers that kept part of it.
                if self.search.is_active() && self.live.is_some() {
                    self.pivot_changed();
                }
            }
            Action::SearchCancel => {
                self.search.editing = false;
                self.search.input.clear();
                self.search.restart(&self.base);
                self.show_current();
            }
        }
    }

    fn motion(&mut self, action: Action, page: isize) {
        // The lists in overlays: a cursor over their rows.
        let rows = match self.overlay {
            Some(Overlay::Alerts { .. }) => {
                Some(self.alerts.as_ref().map_or(0, |a| a.list().len()))
            }
            Some(Overlay::Chains { .. }) => Some(
                self.chains
                    .steps_in_list_order(self.timeline.selected_pos())
                    .len(),
            ),
            _ => None,
        };
        if let (Some(rows), Some(Overlay::Alerts { cursor } | Overlay::Chains { cursor })) =
            (rows, &mut self.overlay)
        {
            let by = match action {
                Action::Down => 1,
                Action::Up => -1,
                Action::PageDown => 10,
                Action::PageUp => -10,
                _ => 0,
            };
            *cursor = (*cursor as isize + by).clamp(0, rows.saturating_sub(1) as isize) as usize;
            return;
        }
        if let Some(Overlay::Help { scroll } | Overlay::CaseMetrics { scroll }) = &mut self.overlay
        {
            *scroll = match action {
                Action::Down => scroll.saturating_add(1),
                Action::Up => scroll.saturating_sub(1),
                Action::PageDown => scroll.saturating_add(10),
                Action::PageUp => scroll.saturating_sub(10),
                _ => *scroll,
            };
            return;
        }
        // The list panes move a cursor by rows.
        let delta = match action {
            Action::Down => 1,
            Action::Up => -1,
            Action::PageDown | Action::HalfPageDown => page / 2 + 1,
            Action::PageUp | Action::HalfPageUp => -(page / 2 + 1),
            Action::Top => isize::MIN / 2,
            Action::Bottom => isize::MAX / 2,
            _ => 0,
        };
        match self.focus {
            Pane::Correlated => return self.correlated.move_cursor(delta),
            Pane::Tree => return self.tree.move_cursor(delta),
            _ => {}
        }
        if self.focus == Pane::Detail {
            match action {
                Action::Down => self.detail.move_cursor(1),
                Action::Up => self.detail.move_cursor(-1),
                Action::PageDown | Action::HalfPageDown => {
                    self.detail.scroll = self.detail.scroll.saturating_add(page as u16 / 2 + 1)
                }
                Action::PageUp | Action::HalfPageUp => {
                    self.detail.scroll = self.detail.scroll.saturating_sub(page as u16 / 2 + 1)
                }
                Action::Top => self.detail.scroll = 0,
                Action::Bottom => {
                    self.detail.scroll =
                        (self.detail.raw_pretty.lines().count() + self.detail.entities.len()) as u16
                }
                _ => {}
            }
            return;
        }
        match action {
            Action::Down => self.timeline.move_by(1),
            Action::Up => self.timeline.move_by(-1),
            Action::PageDown => self.timeline.move_by(page),
            Action::PageUp => self.timeline.move_by(-page),
            Action::HalfPageDown => self.timeline.move_by(page / 2),
            Action::HalfPageUp => self.timeline.move_by(-page / 2),
            Action::Top => self.timeline.top(),
            Action::Bottom => self.timeline.bottom(),
            _ => {}
        }
        self.after_change();
    }
}

impl App {
    /// Starts a search as if typed (for `--search` on the command line).
    pub fn start_search(&mut self, text: String) {
        self.search.input = text;
        self.search.restart(&self.base);
        self.show_current();
    }
}
