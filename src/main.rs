use casefile::app::App;
use casefile::cli::{Cli, Command, FilterArgs, SourceArgs, UiArgs};
use casefile::load::{self, Loaded};
use casefile::model::Timestamp;
use casefile::ui::keymap::Keymap;
use casefile::ui::theme::Theme;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Demo { filters, ui }) => {
            let sources = SourceArgs {
                demo: true,
                ..SourceArgs::default()
            };
            tui(&sources, filters, ui)
        }
        Some(Command::Query(args)) => {
            load_sources(&args.sources).and_then(|loaded| casefile::headless::run(args, &loaded))
        }
        None => {
            if cli.sources.is_empty() {
                eprintln!("casefile: no sources given.\nTry the built-in incident:  casefile demo\nOr read Falco alerts:       casefile --falco /var/log/falco/events.json\nSee `casefile --help` for every source.");
                return ExitCode::from(2);
            }
            tui(&cli.sources, &cli.filters, &cli.ui)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("casefile: {}", casefile::sanitize::line(&msg));
            ExitCode::FAILURE
        }
    }
}

fn load_sources(sources: &SourceArgs) -> Result<Loaded, String> {
    if sources.is_empty() {
        return Err("no sources given (use --demo or --falco PATH|-)".into());
    }
    if sources.falco.iter().filter(|p| p.as_str() == "-").count() > 1 {
        return Err("stdin (`--falco -`) can be read only once".into());
    }
    let mut loaded = if sources.demo {
        casefile::demo::load()
    } else {
        Loaded::default()
    };
    for path in &sources.falco {
        load::falco_input(&mut loaded, path)?;
    }
    Ok(loaded)
}

fn tui(sources: &SourceArgs, filters: &FilterArgs, ui: &UiArgs) -> Result<(), String> {
    if sources.falco.iter().any(|p| p == "-") {
        return Err("the TUI reads keys from the terminal, so it cannot read Falco from stdin; use `casefile query --falco -`".into());
    }
    let query = filters.to_query(Timestamp::now())?;
    let loaded = load_sources(sources)?;
    for report in &loaded.reports {
        for line in report.diagnostics() {
            eprintln!("{line}");
        }
    }
    let config_dir = casefile::cli::config_dir();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme_name = ui.theme.clone().unwrap_or_else(|| {
        if no_color {
            "mono".into()
        } else {
            "dark".into()
        }
    });
    let (theme, mut notices) = Theme::load(
        &theme_name,
        config_dir.as_deref(),
        if no_color { "mono" } else { "dark" },
    );
    let (keymap, keymap_notices) = Keymap::load(
        ui.keymap.as_deref().unwrap_or("default"),
        config_dir.as_deref(),
    );
    notices.extend(keymap_notices);
    let size = ratatui::crossterm::terminal::size().unwrap_or((80, 24));
    let mut app = App::new(loaded, keymap, theme, query, size);
    if let Some(search) = filters.search.clone() {
        app.start_search(search);
    }
    app.notice = notices.into_iter().next();
    casefile::app::run(app).map_err(|e| format!("terminal error: {e}"))
}
