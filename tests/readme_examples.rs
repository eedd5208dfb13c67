//! The README's shell examples run as written: each `$ casefile …` line whose output the
//! README shows is run through `bash` (with this build's `casefile` first on PATH, in one
//! scratch directory per code block, so an export and its verify share files), and its output
//! must be the lines shown. A last line `…` means the output goes on. Commands the README
//! shows no output for (the TUI, a report to a file, a server that is not here) are not run.
//! Pipelines use jq, which CI installs; without it, they are skipped with a notice.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Example {
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The examples of one ```sh block, in order.
fn blocks(readme: &str) -> Vec<Vec<Example>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<Example>> = None;
    for (i, line) in readme.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => out.push(block),
                None if line.trim() == "```sh" => current = Some(Vec::new()),
                None => {}
            }
            continue;
        }
        let Some(block) = current.as_mut() else {
            continue;
        };
        if let Some(cmd) = line.strip_prefix("$ ") {
            block.push(Example {
                line: i + 1,
                command: cmd.to_string(),
                expected: Vec::new(),
            });
        } else if let Some(last) = block.last_mut() {
            let continued =
                last.command.trim_end().ends_with('|') || last.command.trim_end().ends_with('\\');
            if continued && last.expected.is_empty() {
                last.command.push('\n');
                last.command.push_str(line);
            } else {
                last.expected.push(line.to_string());
            }
        }
    }
    out
}

/// The command without a trailing `# comment`.
fn without_comment(cmd: &str) -> &str {
    match cmd.find("  #") {
        Some(i) => cmd[..i].trim_end(),
        None => cmd,
    }
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_casefile"))
        .parent()
        .expect("the binary's directory")
        .to_path_buf()
}

fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_readme_examples_print_what_the_readme_shows() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let jq = has("jq");
    if !jq && std::env::var_os("CI").is_some() {
        panic!("jq is missing under CI: .ci/run installs it");
    }
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (mut ran, mut skipped) = (0, Vec::new());
    for (b, block) in blocks(&readme).into_iter().enumerate() {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("readme-block-{b}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("config")).unwrap();
        for ex in block {
            if ex.expected.is_empty() || !ex.command.contains("casefile ") {
                continue;
            }
            if ex.command.contains("jq ") && !jq {
                skipped.push(ex.line);
                continue;
            }
            let out = Command::new("bash")
                .args(["-o", "pipefail", "-c", without_comment(&ex.command)])
                .current_dir(&dir)
                .env("PATH", &path)
                .env("XDG_CONFIG_HOME", dir.join("config"))
                .env_remove("SOURCE_DATE_EPOCH")
                .output()
                .expect("run bash");
            let text = String::from_utf8_lossy(&out.stdout);
            let got: Vec<&str> = text.lines().collect();
            let (shown, goes_on) = match ex.expected.split_last() {
                Some((last, rest)) if last.trim() == "…" => (rest, true),
                _ => (&ex.expected[..], false),
            };
            let compared = if goes_on {
                &got[..shown.len().min(got.len())]
            } else {
                &got[..]
            };
            assert_eq!(
                compared,
                shown,
                "README.md line {}: `{}` printed otherwise (stderr: {})",
                ex.line,
                ex.command,
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    if !skipped.is_empty() {
        eprintln!("notice: jq is not installed; README examples at lines {skipped:?} not run");
    }
    assert!(
        ran >= 4,
        "only {ran} README examples ran: the parser lost them"
    );
}
