//! Realistic Falco `json_output` lines with known needles, shared by `examples/gen_falco.rs`
//! and the benchmarks: user `needle` in about 0.1% of events, container `c0ffee000001` in
//! about 0.5%, and image tag (commit) `9f1c2ab` in about 1%. Deterministic (a fixed seed).

const RULES: &[(&str, &str, &str)] = &[
    (
        "Terminal shell in container",
        "Notice",
        "A shell was spawned in a container with an attached terminal",
    ),
    (
        "Read sensitive file untrusted",
        "Warning",
        "Sensitive file opened for reading by non-trusted program",
    ),
    (
        "Contact K8S API Server From Container",
        "Notice",
        "Unexpected connection to K8s API Server from container",
    ),
    (
        "Unexpected outbound connection destination",
        "Notice",
        "Disallowed outbound connection destination",
    ),
    (
        "Drop and execute new binary in container",
        "Critical",
        "Executing binary not part of base image",
    ),
    (
        "Write below etc",
        "Error",
        "File below /etc opened for writing",
    ),
    (
        "Run shell untrusted",
        "Notice",
        "Shell spawned by untrusted binary",
    ),
    (
        "System user interactive",
        "Informational",
        "System user ran an interactive command",
    ),
];
const USERS: &[&str] = &[
    "root", "nobody", "www-data", "postgres", "daemon", "app", "alice", "bob",
];
const NAMESPACES: &[&str] = &[
    "prod",
    "staging",
    "kube-system",
    "monitoring",
    "ci",
    "payments",
];
const PROCS: &[(&str, &str)] = &[
    ("bash", "bash -i"),
    ("sh", "sh -c 'curl -s http://10.0.3.4/health'"),
    ("cat", "cat /etc/shadow"),
    ("curl", "curl -sS https://api.internal/v1/status"),
    ("python3", "python3 /app/worker.py --queue default"),
    ("node", "node /srv/server.js"),
    ("java", "java -jar /opt/app/app.jar"),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// The lines of `n` events spread over about a day from 2026-11-20T12:00:00Z, in time order.
pub struct Lines {
    rng: Rng,
    n: u64,
    i: u64,
    start_ns: i64,
    step: i64,
}

pub fn lines(n: u64) -> Lines {
    Lines {
        rng: Rng(0x2545f4914f6cdd1d),
        n,
        i: 0,
        start_ns: 1_795_176_000_000_000_000,
        step: 86_400_000_000_000 / n.max(1) as i64,
    }
}

impl Iterator for Lines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.i >= self.n {
            return None;
        }
        let (rng, i) = (&mut self.rng, self.i);
        self.i += 1;
        let ts = self.start_ns + i as i64 * self.step + (rng.next() % 1_000_000) as i64;
        let (rule, priority, text) = *rng.pick(RULES);
        let r = rng.next() % 1000;
        let user = if r == 0 { "needle" } else { *rng.pick(USERS) };
        let container = if r < 5 {
            "c0ffee000001".to_string()
        } else {
            format!("{:012x}", rng.next() % 0xffff_ffff_ffff)
        };
        let tag = if r < 10 {
            "9f1c2ab".to_string()
        } else {
            format!("v1.{}.{}", rng.next() % 40, rng.next() % 10)
        };
        let ns = rng.pick(NAMESPACES);
        let pod = format!("svc-{}-{:05x}", rng.next() % 50, rng.next() % 0xfffff);
        let (proc_name, cmdline) = *rng.pick(PROCS);
        let pid = 1000 + rng.next() % 60000;
        let host = format!("node-{:02}", rng.next() % 40);
        let secs = ts / 1_000_000_000;
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let frac = ts % 1_000_000_000;
        let time = format!(
            "2026-11-{:02}T{h:02}:{m:02}:{s:02}.{frac:09}Z",
            20 + (secs - 1_795_132_800) / 86_400
        );
        let line = serde_json::json!({
            "hostname": host,
            "output": format!("{h:02}:{m:02}:{s:02}.{frac:09}: {priority} {text} | user={user} process={proc_name} command={cmdline} container_id={container} k8s_ns_name={ns} k8s_pod_name={pod}"),
            "priority": priority,
            "rule": rule,
            "source": "syscall",
            "tags": ["container", "mitre_execution"],
            "time": time,
            "output_fields": {
                "container.id": container,
                "container.image.repository": "ghcr.io/acme/svc",
                "container.image.tag": tag,
                "evt.time": ts,
                "evt.type": "execve",
                "k8s.ns.name": ns,
                "k8s.pod.name": pod,
                "proc.cmdline": cmdline,
                "proc.name": proc_name,
                "proc.pid": pid,
                "proc.ppid": pid - 1,
                "user.name": user,
            }
        });
        Some(line.to_string())
    }
}
