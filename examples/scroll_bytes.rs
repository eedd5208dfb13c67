//! Counts the bytes the real binary writes to its terminal for each one-line step (`j`) in the
//! timeline, at 200x50 in a pseudo-terminal, as a user on a slow SSH link would receive them.
//!
//! `cargo build --release && cargo run --release --example scroll_bytes -- [STEPS] [casefile args…]`
//! (default: 200 steps on `demo`). Prints the bytes of each step: the first steps (the cursor
//! moves down the screen) and the rest (the list scrolls under a cursor at the bottom).

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Output is read as a step's answer once the terminal has been quiet this long.
const QUIET: Duration = Duration::from_millis(80);

struct Seen {
    bytes: usize,
    last: Instant,
}

fn wait_quiet(seen: &Mutex<Seen>, quiet: Duration, limit: Duration) -> usize {
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(10));
        let s = seen.lock().expect("lock");
        if (s.last.elapsed() >= quiet && s.bytes > 0) || start.elapsed() > limit {
            return s.bytes;
        }
    }
}

fn percentile(sorted: &[usize], p: f64) -> usize {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn summary(label: &str, steps: &[usize]) {
    if steps.is_empty() {
        return;
    }
    let mut s = steps.to_vec();
    s.sort_unstable();
    println!(
        "{label:<34} steps {:>4}  median {:>6} B  p90 {:>6} B  max {:>6} B",
        s.len(),
        percentile(&s, 0.5),
        percentile(&s, 0.9),
        s[s.len() - 1]
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let steps: usize = match args.first().and_then(|a| a.parse().ok()) {
        Some(n) => {
            args.remove(0);
            n
        }
        None => 200,
    };
    if args.is_empty() {
        args.push("demo".into());
    }
    let binary = std::env::var("CASEFILE_BIN").unwrap_or_else(|_| "target/release/casefile".into());
    // The pty's spawner looks a relative name up in PATH: make it absolute.
    let binary = std::env::current_dir()?.join(binary).display().to_string();
    let home = std::env::temp_dir().join(format!("casefile-scroll-{}", std::process::id()));
    std::fs::create_dir_all(home.join("config"))?;

    let pty = native_pty_system().openpty(PtySize {
        rows: 50,
        cols: 200,
        pixel_width: 0,
        pixel_height: 0,
    })?;
    let mut cmd = CommandBuilder::new(&binary);
    cmd.args(&args);
    cmd.env("HOME", &home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(cmd)?;
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader()?;
    let mut writer = pty.master.take_writer()?;
    let seen = Arc::new(Mutex::new(Seen {
        bytes: 0,
        last: Instant::now(),
    }));
    let counter = seen.clone();
    // SCROLL_BYTES_DUMP=FILE keeps every byte written, to see what a step is made of.
    let mut dump = match std::env::var_os("SCROLL_BYTES_DUMP") {
        Some(path) => Some(std::fs::File::create(path)?),
        None => None,
    };
    std::thread::spawn(move || {
        let mut buf = [0u8; 1 << 16];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Some(f) = dump.as_mut() {
                let _ = f.write_all(&buf[..n]);
            }
            let mut s = counter.lock().expect("lock");
            s.bytes += n;
            s.last = Instant::now();
        }
    });

    // The first screen, and whatever loading draws, before any step is counted.
    let first = wait_quiet(&seen, Duration::from_millis(1500), Duration::from_secs(120));
    println!(
        "{binary} {}: first screen and loading {first} B",
        args.join(" ")
    );
    let mut per_step = Vec::with_capacity(steps);
    let mut before = first;
    for _ in 0..steps {
        writer.write_all(b"j")?;
        writer.flush()?;
        let after = wait_quiet(&seen, QUIET, Duration::from_secs(5));
        per_step.push(after - before);
        before = after;
    }
    writer.write_all(b"q")?;
    writer.flush()?;
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&home);

    // The timeline shows about 40 rows at 200x50: the cursor walks down them first.
    let (down, scrolling) = per_step.split_at(per_step.len().min(35));
    summary("cursor moving down the screen", down);
    summary("list scrolling under the cursor", scrolling);
    summary("all steps", &per_step);
    Ok(())
}
