use casefile::app::{App, LiveSources};
use casefile::cli::{Cli, Command, FilterArgs, SourceArgs, UiArgs};
use casefile::config::Config;
use casefile::load::{self, Loaded};
use casefile::model::Timestamp;
use casefile::sources::runner;
use casefile::sources::spec::SourceSpec;
use casefile::sources::task::Cancel;
use casefile::store::Query;
use casefile::ui::keymap::Keymap;
use casefile::ui::theme::Theme;
use clap::Parser;
use std::process::ExitCode;

/// A line to stdout. A closed pipe (`casefile verify x | head`) is not an error to report,
/// and never a panic: the reader has what it wanted.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Text to stdout as it is, the same way.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    fix_malloc_threshold();
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Demo {
            live,
            speed,
            filters,
            ui,
            config,
        }) => {
            let sources = SourceArgs {
                demo: true,
                config: config.clone(),
                ..SourceArgs::default()
            };
            let speed = live.then(|| speed.unwrap_or(60.0));
            tui(&sources, filters, ui, speed)
        }
        // Filters are checked before any source is read: a typo must not wait for stdin.
        Some(Command::Query(args)) => args.filters.to_query(Timestamp::now()).and_then(|query| {
            let loaded = load_sources(
                &args.sources,
                &config(&args.sources).0,
                &query,
                &args.filters,
                Keep::Matching,
            )?;
            let failed = casefile::headless::run(args, &query, &loaded)?;
            // Output was written, but a source failed: say so to scripts.
            Ok(if failed {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            })
        }),
        Some(Command::Tree(args)) => {
            headless(&args.sources, &args.filters, |loaded, _, positions| {
                let forests = casefile::correlate::process_tree::build(&loaded.store, positions);
                say_raw!(
                    "{}",
                    casefile::correlate::process_tree::render_text(&forests)
                );
                Ok(())
            })
        }
        Some(Command::Chains(args)) => {
            headless(&args.sources, &args.filters, |loaded, _, positions| {
                let chains =
                    casefile::correlate::chains::find(&loaded.store, positions, &chain_rules()?);
                match args.format {
                    casefile::cli::ChainFormat::Text => say_raw!(
                        "{}",
                        casefile::correlate::chains::render_text(&loaded.store, &chains)
                    ),
                    casefile::cli::ChainFormat::Json => {
                        let json = casefile::correlate::chains::to_json(&loaded.store, &chains);
                        say!(
                            "{}",
                            serde_json::to_string_pretty(&json).unwrap_or_default()
                        )
                    }
                }
                Ok(())
            })
        }
        Some(Command::Watch(args)) => watch(args),
        Some(Command::Export(args)) => {
            let mut cancelled = false;
            headless(&args.sources, &args.filters, |loaded, query, positions| {
                match casefile::headless::case::export_bundle(
                    loaded,
                    query,
                    positions,
                    args,
                    &chain_rules()?,
                    &redact_rules()?,
                )? {
                    Some(summary) => say!("{summary}"),
                    None => cancelled = true,
                }
                Ok(())
            })
            .map(|code| {
                if cancelled {
                    eprintln!("casefile: export stopped; nothing was written");
                    ExitCode::from(130)
                } else {
                    code
                }
            })
        }
        Some(Command::Link(args)) => {
            let read = config(&args.sources).0;
            let tables = read.entity_tables().unwrap_or_default();
            let settings = read.links;
            headless(&args.sources, &args.filters, |loaded, query, _| {
                let kind = match args.target {
                    casefile::cli::LinkTarget::Grafana => {
                        casefile::case_links::LinkKind::GrafanaExplore
                    }
                    casefile::cli::LinkTarget::Kibana => {
                        casefile::case_links::LinkKind::KibanaDiscover
                    }
                };
                let input = casefile::case_links::LinkInput {
                    pivots: &query.pivots,
                    search: args.filters.search.as_deref(),
                    window: query.window,
                    data_span: loaded.store.time_span(),
                    reports: &loaded.reports,
                    tables: &tables,
                };
                let (url, note) = casefile::case_links::build(&settings, kind, &input)?;
                if let Some(note) = note {
                    eprintln!("casefile: {}", casefile::sanitize::line(&note));
                }
                say!("{}", casefile::sanitize::line(&url));
                Ok(())
            })
        }
        Some(Command::Keygen { name }) => casefile::bundle::sign::generate()
            .and_then(|key| casefile::bundle::sign::write_pair(&key, name))
            .map(|public| {
                say!("{public}");
                ExitCode::SUCCESS
            }),
        Some(Command::Verify { path, pubkey }) => {
            match casefile::headless::case::verify(path, pubkey.as_deref()) {
                Ok(summary) => {
                    say!("{summary}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(why) => {
                    say!("{why}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Some(Command::Replay { path, speed, ui }) => {
            let sources = SourceArgs {
                bundle: Some(path.clone()),
                ..SourceArgs::default()
            };
            tui(&sources, &FilterArgs::default(), ui, *speed)
        }
        Some(Command::Report(args)) => casefile::report::run(args).map(|text| {
            if let Some(text) = text {
                say_raw!("{text}");
            }
            ExitCode::SUCCESS
        }),
        None => {
            if cli.sources.is_empty() && config(&cli.sources).0.sources.is_empty() {
                eprintln!("casefile: no sources given.\nTry the built-in incident:  casefile demo\nOr read Falco alerts:       casefile --falco /var/log/falco/events.json\nOr Wazuh and audit logs:    casefile --wazuh alerts.json --k8s-audit audit.log\nSee `casefile --help` for every source.");
                return ExitCode::from(2);
            }
            tui(&cli.sources, &cli.filters, &cli.ui, None)
        }
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("casefile: {}", casefile::sanitize::line(&msg));
            ExitCode::FAILURE
        }
    }
}

/// A headless command over what the filters choose: the sources read (diagnostics on
/// stderr), the events picked by the pivots, window and search, then `run`. Exit 3 when a
/// source failed, though output was written.
fn headless(
    sources: &SourceArgs,
    filters: &FilterArgs,
    run: impl FnOnce(&Loaded, &Query, &[u32]) -> Result<(), String>,
) -> Result<ExitCode, String> {
    // Filters are checked before any source is read: a typo must not wait for stdin.
    let query = filters.to_query(Timestamp::now())?;
    let loaded = load_sources(sources, &config(sources).0, &query, filters, Keep::All)?;
    for report in &loaded.reports {
        for line in report.diagnostics() {
            eprintln!("{line}");
        }
    }
    let mut positions = loaded.store.select(&query);
    if let Some(text) = filters.search.as_deref().filter(|t| !t.is_empty()) {
        positions = casefile::store::SearchJob::new(text, positions).run_to_end(&loaded.store);
    }
    run(&loaded, &query, &positions)?;
    let failed = loaded.reports.iter().any(|r| r.error.is_some());
    Ok(if failed {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// The config file, or the defaults and a warning when it is broken: a typo in a config file
/// must not keep a responder out at 3 a.m.
fn config(sources: &SourceArgs) -> (Config, Option<String>) {
    match Config::load(
        sources.config.as_deref(),
        casefile::cli::config_dir().as_deref(),
    ) {
        Ok(c) => (c, None),
        Err(e) => {
            let warning = format!("{}; using the defaults", casefile::sanitize::line(&e));
            eprintln!("casefile: {warning}");
            (Config::default(), Some(warning))
        }
    }
}

/// The live sources named on the command line, else those of the config file.
fn live_specs(sources: &SourceArgs, config: &Config) -> Result<Vec<SourceSpec>, String> {
    if sources.is_empty() {
        config.source_specs(&env)
    } else {
        sources.live_specs(&env)
    }
}

/// What a headless command keeps of a Falco file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Every event: trees, chains and exports need the context around what the query picks.
    All,
    /// Only what the query's pivots and window pick: the answer of `casefile query`, with
    /// memory for the matches, not for the file.
    Matching,
}

/// Reads every source to the end, for the headless commands. Live sources are asked for the
/// pivots and the search already (pushed down), so the server does the filtering; what
/// arrives is filtered locally all the same.
fn load_sources(
    sources: &SourceArgs,
    config: &Config,
    query: &Query,
    filters: &FilterArgs,
    keep: Keep,
) -> Result<Loaded, String> {
    if sources.is_empty() && config.sources.is_empty() {
        return Err("no sources given (use --demo, --falco PATH|-, --wazuh, --sysdig, --k8s-audit, --loki, --es or --prom, or [[sources]] in the config file)".into());
    }
    let specs = live_specs(sources, config)?;
    if sources.falco_listen.is_some() {
        return Err("--falco-listen receives events for as long as it runs: use it with the TUI (`casefile --falco-listen ADDR`)".into());
    }
    if sources.stdin_readers() > 1 {
        return Err("stdin (`-`) can be read only once: give one input as `-`".into());
    }
    let tables = config.entity_tables().unwrap_or_default();
    let (rules, broken) = ingest_rules();
    if let Some(first) = broken.into_iter().next() {
        return Err(first);
    }
    let (mut loaded, _) = first_sources(sources, rules, &tables)?;
    for path in &sources.falco {
        let only = (keep == Keep::Matching).then_some(query);
        load::falco_input(&mut loaded, path, &tables.falco, only)?;
    }
    for (format, path) in sources.line_files() {
        let only = (keep == Keep::Matching).then_some(query);
        casefile::file_sources::read_into(&mut loaded, format, path, &tables, only)?;
    }
    if !specs.is_empty() {
        use casefile::sources::loki_client;
        use casefile::sources::pushdown::{self, LokiStreams};
        let options = runner::RunOptions {
            window: runner::resolve_window(query.window, Timestamp::now()),
            follow: false,
            budget: config.budget.unwrap_or(runner::DEFAULT_BUDGET),
        };
        let search = filters.search.as_deref();
        // Where a Loki pivot can go depends on the labels of the streams its query selects:
        // asked of every such source at once, before anything is read.
        let streams: Vec<Option<Result<LokiStreams, String>>> = std::thread::scope(|scope| {
            let asked: Vec<_> = specs
                .iter()
                .map(|spec| match spec {
                    SourceSpec::Loki { endpoint, query: q }
                        if pushdown::needs_streams(spec, &query.pivots, &tables) =>
                    {
                        let window = options.window;
                        Some(scope.spawn(move || {
                            loki_client::streams_blocking(endpoint, q, window, Cancel::default())
                        }))
                    }
                    _ => None,
                })
                .collect();
            asked
                .into_iter()
                .map(|h| {
                    h.map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err("the series request stopped".into()))
                    })
                })
                .collect()
        });
        let specs = specs
            .into_iter()
            .zip(streams)
            .map(|(spec, streams)| {
                let ctx = pushdown::Context::new(
                    &tables,
                    streams
                        .as_ref()
                        .map_or(pushdown::Streams::NotAsked, pushdown::Streams::from),
                );
                let narrowed = pushdown::narrow_with(&spec, &query.pivots, search, &ctx);
                let note =
                    pushdown::headless_note(&spec, narrowed.as_ref(), &query.pivots, search, &ctx);
                if let Some(note) = note {
                    eprintln!("casefile: {}", casefile::sanitize::line(&note));
                }
                narrowed.unwrap_or(spec)
            })
            .collect();
        loaded.read_live(specs, options, &tables, &Cancel::default());
    }
    Ok(loaded)
}

/// A rules file the user keeps in the config directory, with its path for messages.
fn user_rules(file: &str) -> Option<(String, String)> {
    let path = casefile::cli::config_dir()?.join(file);
    let text = std::fs::read_to_string(&path).ok()?;
    Some((path.display().to_string(), text))
}

/// The chain rules: the user's `chains.toml` in the config directory replaces the built-in.
fn chain_rules() -> Result<casefile::correlate::chains::Rules, String> {
    casefile::correlate::chains::Rules::user_or_default()
}

/// `casefile watch`: the sources live, the alert rules over what arrives, one JSON line per
/// alert or update. Exit 3 when a source failed, as `query`.
fn watch(args: &casefile::cli::WatchArgs) -> Result<ExitCode, String> {
    use casefile::alerts::{watch, AlertEngine, AlertRules, ChainSet};
    // Filters are checked before any source is read: a typo must not wait for stdin.
    let query = args.filters.to_query(Timestamp::now())?;
    if args.filters.search.is_some() {
        return Err("watch counts what its rules match, so it takes no --search: give the text in a rule (`where = { text = \"…\" }`)".into());
    }
    let sources = &args.sources;
    let config = config(sources).0;
    if sources.is_empty() && config.sources.is_empty() {
        return Err("no sources given (use --demo, --falco PATH|-, --falco-listen ADDR, --wazuh, --sysdig, --k8s-audit, --loki, --es or --prom, or [[sources]] in the config file)".into());
    }
    if sources.stdin_readers() > 1 {
        return Err("stdin (`-`) can be read only once: give one input as `-`".into());
    }
    let specs = live_specs(sources, &config)?;
    let rules = match &args.rules {
        Some(path) => AlertRules::read(path)?,
        None => AlertRules::load(casefile::cli::config_dir().as_deref())?,
    };
    let chains = match user_rules("chains.toml") {
        Some((label, text)) => ChainSet::parse(&label, &text)?,
        None => ChainSet::built_in(),
    };
    let tables = config.entity_tables().unwrap_or_default();
    let (ingest, broken) = ingest_rules();
    if let Some(first) = broken.into_iter().next() {
        return Err(first);
    }
    let (loaded, _) = first_sources(sources, ingest, &tables)?;
    let mut engine = AlertEngine::new(rules, chains);
    engine.set_filter(Some(query.clone()));
    let inputs = watch::WatchInputs {
        loaded,
        falco: sources.falco.clone(),
        line_files: sources
            .line_files()
            .into_iter()
            .map(|(format, path)| (format, path.to_string()))
            .collect(),
        falco_listen: sources.falco_listen.clone(),
        specs,
        // Live backends read the window, then follow what comes (Loki's tail).
        options: runner::RunOptions {
            window: runner::resolve_window(query.window, Timestamp::now()),
            follow: true,
            budget: config.budget.unwrap_or(runner::DEFAULT_BUDGET),
        },
        tables,
    };
    let ended = watch::run(inputs, engine, &mut std::io::stdout())?;
    Ok(if ended.failed {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// The sources read at once, before any task starts: a bundle (first, so its records keep
/// their numbers, and as exported: no rule runs on them again), then the demo.
fn first_sources(
    sources: &SourceArgs,
    rules: load::IngestRules,
    tables: &casefile::sources::EntityTables,
) -> Result<(Loaded, Option<casefile::bundle::open::Opened>), String> {
    let (mut loaded, case) = match &sources.bundle {
        Some(path) => {
            let (loaded, opened) = casefile::bundle::open::load(path)?;
            (loaded, Some(opened))
        }
        None => (Loaded::default(), None),
    };
    loaded.rules = std::sync::Arc::new(rules);
    if sources.demo {
        casefile::demo::load_into(&mut loaded, tables);
    }
    Ok((loaded, case))
}

/// The redaction rules: the built-in ones, and the user's `redact.toml` added to them.
fn redact_rules() -> Result<casefile::bundle::redact::Redactor, String> {
    let built_in = casefile::bundle::redact::Redactor::default();
    match user_rules("redact.toml") {
        Some((label, text)) => {
            Ok(built_in.extended(casefile::bundle::redact::Redactor::parse(&label, &text)?))
        }
        None => Ok(built_in),
    }
}

/// The rules applied as data loads: the user's `categories.toml` and `thresholds.toml` in the
/// config directory replace the built-in ones. A broken file is named (with the line) and
/// its built-in rules run instead; the caller decides whether that stops it.
fn ingest_rules() -> (load::IngestRules, Vec<String>) {
    use casefile::correlate::{categories::Classifier, thresholds::Thresholds};
    let mut broken = Vec::new();
    let categories = match user_rules("categories.toml") {
        Some((label, text)) => Classifier::parse(&label, &text).unwrap_or_else(|e| {
            broken.push(format!("{e}; using the built-in category rules"));
            Classifier::default()
        }),
        None => Classifier::default(),
    };
    let thresholds = match user_rules("thresholds.toml") {
        Some((label, text)) => Thresholds::parse(&label, &text).unwrap_or_else(|e| {
            broken.push(format!("{e}; using the built-in thresholds"));
            Thresholds::default()
        }),
        None => Thresholds::default(),
    };
    (
        load::IngestRules {
            categories,
            thresholds,
        },
        broken,
    )
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The TUI. With `speed`, what the bundle or the demo holds is played through the live view
/// at that many times its original pace instead of shown at once.
fn tui(
    sources: &SourceArgs,
    filters: &FilterArgs,
    ui: &UiArgs,
    speed: Option<f64>,
) -> Result<ExitCode, String> {
    if sources.falco.iter().any(|p| p == "-") {
        return Err("the TUI reads keys from the terminal, so it cannot read Falco from stdin; use `casefile query --falco -`".into());
    }
    let query = filters.to_query(Timestamp::now())?;
    let (config, config_warning) = config(sources);
    let specs = live_specs(sources, &config)?;
    let has_live_backends = !specs.is_empty();
    let tables = config.entity_tables().unwrap_or_default();
    // A broken rules file is a notice in the TUI (the built-in rules run instead).
    let (rules, rules_broken) = ingest_rules();
    let (mut loaded, case) = first_sources(sources, rules, &tables)?;
    // To play in time, what was read is taken back out and given to a player.
    let to_play = speed.map(|_| {
        let held = std::mem::take(&mut loaded);
        let events: Vec<casefile::model::Event> = (0..held.store.len() as u32)
            .filter_map(|p| held.store.get(p))
            .map(|e| e.to_event())
            .collect();
        let series = held.store.series().to_vec();
        loaded = Loaded {
            rules: std::sync::Arc::new(load::IngestRules::none()),
            reports: held.reports,
            ..Loaded::default()
        };
        (events, series)
    });
    // Files load on their own threads: the screen is up at once and shows their progress.
    let (tx, rx) = casefile::app::source_channel();
    let cancel = Cancel::default();
    let line_files: Vec<_> = sources
        .line_files()
        .into_iter()
        .map(|(format, path)| (format, path.to_string()))
        .collect();
    let followed = casefile::followed::Followed {
        falco: &sources.falco,
        line_files: &line_files,
        falco_listen: sources.falco_listen.as_deref(),
        stdin: false,
    };
    casefile::followed::spawn(&mut loaded, followed, &tables, &cancel, &tx)?;
    // An open window follows new data (Loki's tail); a closed one is read once.
    let options = runner::RunOptions {
        window: runner::resolve_window(query.window, Timestamp::now()),
        follow: query.window.end == Timestamp::MAX,
        budget: config.budget.unwrap_or(runner::DEFAULT_BUDGET),
    };
    let mut spawned = Vec::new();
    let mut cancels = Vec::new();
    for spec in specs {
        let index = loaded.reports.len();
        let tx = tx.clone();
        let send = move |m| tx.send(m).is_ok();
        // Each task can be stopped alone (its query replaced) or with all the others.
        let own = cancel.child();
        let report = runner::spawn(
            spec.clone(),
            index,
            options,
            tables.clone(),
            own.clone(),
            send,
        );
        loaded.reports.push(report);
        spawned.push((index, spec));
        cancels.push((index, own));
    }
    let player = match (to_play, speed) {
        (Some((events, series)), Some(x)) => {
            let index = loaded.reports.len();
            let tx = tx.clone();
            let player = casefile::sources::replay::Player {
                speed: casefile::sources::replay::Speed::new(x),
                clock: casefile::sources::replay::Clock::default(),
            };
            let report = casefile::sources::replay::spawn(
                index,
                "replay",
                events,
                series,
                player.clone(),
                cancel.clone(),
                move |m| tx.send(m).is_ok(),
            );
            loaded.reports.push(report);
            Some(player)
        }
        _ => None,
    };
    let config_dir = casefile::cli::config_dir();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let fallback_theme = if no_color { "mono" } else { "dark" };
    // Precedence: flag > config file > NO_COLOR > the dark default.
    let theme_name = ui.theme.clone().or(config.theme.clone());
    let (theme, theme_warnings) = Theme::load(
        theme_name.as_deref().unwrap_or(fallback_theme),
        config_dir.as_deref(),
        fallback_theme,
    );
    let theme = theme.for_depth(casefile::ui::color_depth::ColorDepth::from_env());
    let keymap_name = ui.keymap.clone().or(config.keymap.clone());
    let (keymap, keymap_warnings) = Keymap::load(
        keymap_name.as_deref().unwrap_or("default"),
        config_dir.as_deref(),
    );
    // A broken chains.toml is a notice in the TUI (the built-in rules run instead).
    let (rules, rules_warning) = match chain_rules() {
        Ok(rules) => (rules, None),
        Err(e) => (
            casefile::correlate::chains::Rules::default_rules(),
            Some(format!("{e}; using the built-in chain rules")),
        ),
    };
    // Shown in the status bar: stderr is hidden behind the alternate screen.
    let notices: Vec<String> = config_warning
        .into_iter()
        .chain(rules_warning)
        .chain(rules_broken)
        .chain(theme_warnings)
        .chain(keymap_warnings)
        .chain(
            loaded
                .reports
                .iter()
                .flat_map(|r| r.diagnostics().into_iter().take(1)),
        )
        .collect();
    let size = ratatui::crossterm::terminal::size().unwrap_or((80, 24));
    let mut app = App::new(loaded, keymap, theme, query, size);
    app.set_chain_rules(
        rules,
        config
            .chains_auto_limit
            .unwrap_or(casefile::app::chains::DEFAULT_AUTO_LIMIT),
    );
    match redact_rules() {
        Ok(r) => app.redactor = r,
        Err(e) => app.notice = Some(format!("{e}; exports use the built-in redaction rules")),
    }
    if let Some(key) = &config.sign_key {
        match casefile::bundle::sign::read_secret(key) {
            Ok(k) => app.signer = Some(k),
            Err(e) => app.notice = Some(format!("{e}; exports will not be signed")),
        }
    }
    // Folding: the user's fold.toml, on unless the flag or the config says otherwise.
    let fold_on = !ui.no_fold && config.fold.unwrap_or(true);
    match casefile::fold::FoldRules::load(config_dir.as_deref()) {
        Ok(rules) => app.set_fold_rules(rules, fold_on),
        Err(e) => {
            app.set_fold_rules(casefile::fold::FoldRules::default(), fold_on);
            app.notice = Some(format!("{e}; folding uses the built-in rules"));
        }
    }
    // Live alerts, where events keep coming: followed files, a receiver, live backends, a
    // replay in time. What is loaded once (the demo, a bundle) raises none.
    let live = speed.is_some()
        || !sources.falco.is_empty()
        || !sources.line_files().is_empty()
        || sources.falco_listen.is_some()
        || has_live_backends;
    if live {
        let alert_rules = casefile::alerts::AlertRules::load(config_dir.as_deref());
        let chain_set = match user_rules("chains.toml") {
            Some((label, text)) => casefile::alerts::ChainSet::parse(&label, &text),
            None => Ok(casefile::alerts::ChainSet::built_in()),
        };
        match (alert_rules, chain_set) {
            (Ok(rules), Ok(chains)) => {
                let engine = casefile::alerts::AlertEngine::new(rules, chains);
                app.alerts = Some(casefile::app::alerts::AlertState::new(
                    engine,
                    config.bell.unwrap_or(false),
                ));
            }
            (Err(e), _) | (_, Err(e)) => app.notice = Some(format!("{e}; no live alerts")),
        }
    }
    app.replay = player;
    app.link_settings = config.links.clone();
    app.tables = tables.clone();
    // A replayed bundle's marks, pivots and chains, as the responder left them.
    if let Some(opened) = &case {
        app.restore_case(opened);
    }
    // The demo's events keep their recorded times: marks made on it are not a response.
    if sources.demo {
        app.marks.origin = casefile::case_metrics::Origin::Demo;
    }
    if let Some(search) = filters.search.clone() {
        app.start_search(search);
    }
    if let Some(first) = notices.into_iter().next() {
        app.notice = Some(first);
    }
    if !spawned.is_empty() {
        let mut live = LiveSources::new(spawned, options, tables, cancel.clone(), tx.clone());
        for (index, own) in cancels {
            live.set_cancel(index, own);
        }
        app.live = Some(live);
    }
    app.cancel = cancel;
    // The tasks hold senders, and so does the live-source handle (it starts tasks later:
    // pushed-down pivots, re-runs); without live sources the channel closes when the last
    // file task finishes and the loop idles.
    drop(tx);
    match casefile::app::run(app, rx).map_err(|e| format!("terminal error: {e}"))? {
        casefile::app::Ended::Quit => Ok(ExitCode::SUCCESS),
        // As a shell reports a program a signal ended: 128 + its number.
        casefile::app::Ended::Signal(sig) => Ok(ExitCode::from((128 + sig).clamp(0, 255) as u8)),
    }
}

/// glibc raises its mmap threshold each time a large block is freed. After that, the 4 MiB
/// chunks and the batches that loaders hand between threads come from per-thread heaps, which
/// keep the memory: about 45 MB more at the peak of a million-event load. A fixed threshold
/// gives such blocks back as soon as they are freed (measured: TUI peak 434 -> 381 MB).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fix_malloc_threshold() {
    // SAFETY: mallopt only sets an allocator parameter, once, before any thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fix_malloc_threshold() {}
