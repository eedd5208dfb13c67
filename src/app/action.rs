//! Every command a key can run, registered once with its name and description: the keymap
//! files, their validation and the help screen all come from this one list.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    Close,
    NextPane,
    Down,
    Up,
    PageDown,
    PageUp,
    HalfPageDown,
    HalfPageUp,
    Top,
    Bottom,
    OpenDetail,
    PivotMenu,
    Pivot,
    PivotAdd,
    PivotExclude,
    Back,
    Forward,
    ClearPivot,
    Search,
    SearchAccept,
    SearchCancel,
    CancelLoading,
    Freeze,
    EditQuery,
    QueryComplete,
    QueryRun,
    QueryCancel,
    LoadOlder,
    TreeToggle,
    WindowWider,
    WindowNarrower,
    JumpTo,
    Mark,
    Note,
    NoteSave,
    NoteCancel,
    MarkedOnly,
    ContextToggle,
    Chains,
    CategoryNext,
    Export,
    ExportStart,
    ExportScope,
    ExportCancel,
    ReplayFaster,
    ReplaySlower,
    ScrubBack,
    ScrubForward,
    CopyGrafanaLink,
    CopyKibanaLink,
    FoldToggle,
    FoldAll,
    Alerts,
    CaseMetrics,
}

/// `(action, name in keymap files, what it does)`.
pub const REGISTRY: &[(Action, &str, &str)] = &[
    (Action::Quit, "quit", "Quit casefile"),
    (Action::Help, "help", "Show the active keys"),
    (Action::Close, "close", "Close the detail or this overlay"),
    (
        Action::NextPane,
        "next_pane",
        "Switch between timeline and detail",
    ),
    (Action::Down, "down", "Next event, entity or line"),
    (Action::Up, "up", "Previous event, entity or line"),
    (Action::PageDown, "page_down", "One page down"),
    (Action::PageUp, "page_up", "One page up"),
    (Action::HalfPageDown, "half_page_down", "Half a page down"),
    (Action::HalfPageUp, "half_page_up", "Half a page up"),
    (Action::Top, "top", "First event"),
    (Action::Bottom, "bottom", "Last event"),
    (
        Action::OpenDetail,
        "open_detail",
        "Open the selected event's detail",
    ),
    (
        Action::PivotMenu,
        "pivot_menu",
        "Choose an entity of the selected event to pivot on",
    ),
    (
        Action::Pivot,
        "pivot",
        "Pivot on the chosen entity (show only its events)",
    ),
    (
        Action::PivotAdd,
        "pivot_add",
        "Add the chosen entity to the pivot (AND)",
    ),
    (
        Action::PivotExclude,
        "pivot_exclude",
        "Leave out the events with the chosen entity",
    ),
    (Action::Back, "back", "Back to the previous pivot"),
    (Action::Forward, "forward", "Forward again after going back"),
    (Action::ClearPivot, "clear_pivot", "Show all events again"),
    (Action::Search, "search", "Fuzzy search titles and messages"),
    (
        Action::SearchAccept,
        "search_accept",
        "Keep the search and return to the timeline",
    ),
    (Action::SearchCancel, "search_cancel", "Clear the search"),
    (
        Action::CancelLoading,
        "cancel_loading",
        "Stop loading sources (keeps what was read)",
    ),
    (
        Action::Freeze,
        "freeze",
        "Freeze the view while sources keep collecting (again: resume)",
    ),
    (
        Action::EditQuery,
        "edit_query",
        "Edit the Loki query and run it again",
    ),
    (
        Action::QueryComplete,
        "query_complete",
        "Complete a label name or value",
    ),
    (Action::QueryRun, "query_run", "Run the edited query"),
    (
        Action::QueryCancel,
        "query_cancel",
        "Leave the query unchanged",
    ),
    (
        Action::LoadOlder,
        "load_older",
        "Load the next part of a window too big to load at once",
    ),
    (
        Action::TreeToggle,
        "tree_toggle",
        "Hide or show the children of a process",
    ),
    (
        Action::WindowWider,
        "window_wider",
        "Correlate over twice the time around the event",
    ),
    (
        Action::WindowNarrower,
        "window_narrower",
        "Correlate over half the time around the event",
    ),
    (
        Action::JumpTo,
        "jump_to",
        "Select this event in the timeline",
    ),
    (
        Action::Mark,
        "mark",
        "Star the selected event (again: unstar)",
    ),
    (
        Action::Note,
        "note",
        "Annotate the selected event; #words become tags",
    ),
    (Action::NoteSave, "note_save", "Keep the note"),
    (
        Action::NoteCancel,
        "note_cancel",
        "Leave the note unchanged",
    ),
    (
        Action::MarkedOnly,
        "marked_only",
        "Show only the starred and annotated events (again: all)",
    ),
    (
        Action::ContextToggle,
        "context_toggle",
        "Switch between correlated events and the context (same source and stream)",
    ),
    (
        Action::Chains,
        "chains",
        "List the attack chains the rules find (again: close)",
    ),
    (
        Action::CategoryNext,
        "category_next",
        "Show only the next security-signal category (after the last: all)",
    ),
    (
        Action::Export,
        "export",
        "Export a case bundle: the events shown (or all), marks, chains, pivots",
    ),
    (
        Action::ExportStart,
        "export_start",
        "Write the bundle to this file",
    ),
    (
        Action::ExportScope,
        "export_scope",
        "Switch between the events shown and every event loaded",
    ),
    (
        Action::ExportCancel,
        "export_cancel",
        "Leave the export, or stop it while it is built",
    ),
    (
        Action::ReplayFaster,
        "replay_faster",
        "Replay twice as fast",
    ),
    (Action::ReplaySlower, "replay_slower", "Replay half as fast"),
    (
        Action::ScrubBack,
        "scrub_back",
        "Select the first event of the histogram's previous column",
    ),
    (
        Action::ScrubForward,
        "scrub_forward",
        "Select the first event of the histogram's next column",
    ),
    (
        Action::CopyGrafanaLink,
        "copy_grafana_link",
        "Copy a Grafana Explore link (Loki and Prometheus) for the pivot and window",
    ),
    (
        Action::CopyKibanaLink,
        "copy_kibana_link",
        "Copy a Kibana Discover link for the pivot and window",
    ),
    (
        Action::FoldToggle,
        "fold_toggle",
        "Unfold the selected row of repeated events, or fold them again",
    ),
    (
        Action::FoldAll,
        "fold_all",
        "Fold repeated events into one row each, or show every event",
    ),
    (
        Action::Alerts,
        "alerts",
        "List the alerts raised (Enter pivots on one's group; again: close)",
    ),
    (
        Action::CaseMetrics,
        "case_metrics",
        "Show the case metrics: time to detect, triage, export; counts (again: close)",
    ),
];

impl Action {
    pub fn name(self) -> &'static str {
        REGISTRY
            .iter()
            .find(|(a, _, _)| *a == self)
            .map_or("?", |(_, n, _)| n)
    }

    pub fn doc(self) -> &'static str {
        REGISTRY
            .iter()
            .find(|(a, _, _)| *a == self)
            .map_or("", |(_, _, d)| d)
    }

    pub fn from_name(name: &str) -> Option<Action> {
        REGISTRY
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(a, _, _)| *a)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for (a, name, doc) in REGISTRY {
            assert_eq!(Action::from_name(name), Some(*a));
            assert!(!doc.is_empty());
        }
        let mut names: Vec<&str> = REGISTRY.iter().map(|(_, n, _)| *n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len());
    }
}
