#!/usr/bin/env python3
"""bench/run's driver: what a secure request costs, against the same server's ceiling, in one run.

For each database (SQLite, then PostgreSQL on the throwaway cluster bench/run started), it fills a
fresh data directory with synthetic clinics (`clinickeep demo`, one clinic per size), starts the
release server, signs in as each clinic's owner and drives the workloads of issue 9 with wrk
(bench/wrk/clinic.lua), sampling the server's resident memory while each runs. Prints one table and
writes one JSON file. Standard library only, so it runs on a fresh machine without a virtualenv.
"""
import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "wrk", "clinic.lua")

# (name, wrk workload, connections, what it is)
WORKLOADS = [
    ("W0", "healthz", 32, "GET /healthz, same TLS keep-alive connections"),
    ("W1", "read", 32, "read one patient (authorised, unsealed, audited)"),
    ("W4", "create", 32, "create a patient (seal, index, audit)"),
    ("W5", "signin", 8, "sign in with a password (bcrypt)"),
    ("W6", "mixed", 8, "a mixed clinic day"),
    ("W6", "mixed", 32, "a mixed clinic day"),
    ("W7", "kpis", 8, "the practice's figures for a year of history (issue 27)"),
]
SEARCHES = [("W2", "phone", 32, "search by phone"), ("W3", "name", 32, "search by a name token")]


def say(line):
    print(line, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The release binary on a data directory of its own; stdout and stderr go to a log file."""

    def __init__(self, binary, data_dir, env):
        self.binary, self.data_dir, self.env = binary, data_dir, env
        self.port = free_port()
        self.process = None
        self.log_path = os.path.join(data_dir, "server.log")

    def command(self, *args):
        """Runs another clinickeep command on the same data directory and database; returns its stdout."""
        done = subprocess.run([self.binary, *args, "--data-dir", self.data_dir], env=self.env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"clinickeep {args[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return done.stdout

    def argv(self):
        return [self.binary, "serve", "--hostname", "127.0.0.1", "--port", str(self.port), "--data-dir", self.data_dir]

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.argv(), env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.binary} exited at start; see {self.log_path}")
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.binary} did not answer /healthz within 120 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def request(self, method, path, body=None, headers=None):
        # Loopback to the certificate the server generated for itself a moment ago, as wrk does.
        context = ssl._create_unverified_context()
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=60)
        try:
            data = json.dumps(body).encode() if body is not None else None
            all_headers = {"Content-Type": "application/json"} if data else {}
            all_headers.update(headers or {})
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def rss_kib(self, field="VmRSS"):
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except OSError:
            return 0
        return 0


class BareServer(Server):
    """W0′: clinickeep-bench's bare Vapor /healthz, with the ClinicKeep server's certificate and
    TLS settings and nothing else (no middleware, no database)."""

    def __init__(self, bench_binary, data_dir, env):
        super().__init__(bench_binary, data_dir, env)
        self.log_path = os.path.join(data_dir, "bare.log")

    def argv(self):
        return [self.binary, "bare-healthz", "--data-dir", self.data_dir, "--port", str(self.port)]


class Clinic:
    def __init__(self, size, clinic_id, owner_email, password):
        self.size, self.id, self.owner_email, self.password = size, clinic_id, owner_email, password
        self.cookie = self.csrf = None
        self.sample_path = None
        self.history = None

    def sign_in(self, server):
        status, headers, body = server.request("POST", "/api/v1/auth/login",
                                               {"email": self.owner_email, "password": self.password})
        if status != 200:
            raise SystemExit(f"the owner of the {self.size}-patient clinic could not sign in: {status} {body[:200]!r}")
        answer = json.loads(body)
        if answer.get("next") != "done":
            raise SystemExit(f"sign-in asked for {answer.get('next')}; the benchmark needs a password-only owner")
        self.csrf = answer["csrfToken"]
        cookies = [value.split(";", 1)[0] for name, value in headers if name.lower() == "set-cookie"]
        self.cookie = "; ".join(cookies)

    def sample_patients(self, server, directory, count=1000):
        """Existing patients for reads and searches, through the API as a client would find them."""
        rows = []
        while len(rows) < min(count, self.size):
            status, _, body = server.request("GET", f"/api/v1/clinics/{self.id}/patients?limit=200&offset={len(rows)}",
                                             headers={"Cookie": self.cookie})
            if status != 200:
                raise SystemExit(f"listing patients answered {status}")
            page = json.loads(body)["patients"]
            if not page:
                break
            rows += [(p["id"], p.get("phone") or "", p["familyName"]) for p in page]
        self.sample_path = os.path.join(directory, f"patients-{self.size}.tsv")
        with open(self.sample_path, "w") as out:
            for row in rows:
                out.write("\t".join(row) + "\n")


def fill(server, size):
    """One synthetic clinic of `size` patients through `clinickeep demo`, with a progress line."""
    say(f"    demo: 1 clinic of {size} patients (--patients-only)")
    started = time.time()
    process = subprocess.Popen([server.binary, "demo", "--clinics", "1", "--patients", str(size), "--patients-only",
                                "--data-dir", server.data_dir],
                               env=server.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    password = clinic_id = email = None
    step = max(size // 10, 100)
    for line in process.stdout:
        if m := re.search(r"password is (\S+)", line):
            password = m.group(1)
        elif m := re.search(r"clinic 1/1 ([0-9a-fA-F-]{36}) .* owner (\S+)", line):
            clinic_id, email = m.group(1), m.group(2)
        elif m := re.search(r": (\d+)/\d+ patients", line):
            done = int(m.group(1))
            if done % step == 0 or done == size:
                say(f"      {done}/{size} patients, {time.time() - started:.0f} s")
    if process.wait() != 0 or not (password and clinic_id and email):
        raise SystemExit(f"clinickeep demo failed (exit {process.returncode})")
    say(f"    filled in {time.time() - started:.0f} s ({size / (time.time() - started):.0f} patients/s)")
    return Clinic(size, clinic_id, email, password)


def fill_history(server, clinic, appointments, invoices):
    """W7's fixture: a year of diary and billing in the smallest clinic (clinickeep-bench history)."""
    say(f"    history: {appointments} appointments and {invoices} invoices in the {clinic.size}-patient clinic")
    bench = os.path.join(os.path.dirname(server.binary), "clinickeep-bench")
    process = subprocess.Popen([bench, "history", "--data-dir", server.data_dir, "--clinic", clinic.id,
                                "--appointments", str(appointments), "--invoices", str(invoices)],
                               env=server.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    report, tail = None, []
    for line in process.stdout:
        tail = (tail + [line])[-20:]
        if line.startswith("history: "):
            say("      " + line[len("history: "):].rstrip())
        elif line.startswith("{"):
            report = json.loads(line)
    if process.wait() != 0 or report is None:
        raise SystemExit(f"clinickeep-bench history failed (exit {process.returncode}): {''.join(tail)[-2000:]}")
    say(f"    history written in {report['seconds']:.0f} s")
    clinic.history = report
    return report


def drive(server, clinic, workload, connections, seconds, directory):
    """One wrk run; the server's peak resident memory sampled every 50 ms while it runs."""
    report = os.path.join(directory, f"wrk-{workload}-{connections}-{clinic.size}.json")
    env = dict(os.environ, BENCH_COOKIE=clinic.cookie or "", BENCH_CSRF=clinic.csrf or "", BENCH_CLINIC=clinic.id,
               BENCH_PATIENTS=clinic.sample_path or "", BENCH_EMAIL=clinic.owner_email, BENCH_PASSWORD=clinic.password,
               BENCH_REPORT=report, BENCH_KPI_FROM=(clinic.history or {}).get("from", ""),
               BENCH_KPI_TO=(clinic.history or {}).get("to", ""))
    threads = min(2, connections)
    peak = [server.rss_kib()]
    running = threading.Event()
    running.set()

    def sample():
        while running.is_set():
            peak[0] = max(peak[0], server.rss_kib())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
                           "-s", LUA, f"https://127.0.0.1:{server.port}", "--", workload],
                          env=env, capture_output=True, text=True)
    running.clear()
    sampler.join()
    if done.returncode != 0 or not os.path.exists(report):
        raise SystemExit(f"wrk failed for {workload}: {done.stderr.strip() or done.stdout.strip()}")
    with open(report) as f:
        figures = json.load(f)
    os.unlink(report)
    seconds_run = figures["durationMicros"] / 1e6
    errors = sum(figures["errors"].values())
    return {
        "requestsPerSecond": figures["requests"] / seconds_run,
        "requests": figures["requests"],
        "errors": errors,
        "errorKinds": figures["errors"],
        "p50Ms": figures["latencyMicros"]["p50"] / 1000,
        "p90Ms": figures["latencyMicros"]["p90"] / 1000,
        "p99Ms": figures["latencyMicros"]["p99"] / 1000,
        "maxMs": figures["latencyMicros"]["max"] / 1000,
        "peakRssMiB": peak[0] / 1024,
    }


def reencrypt_under_load(server, clinic, directory):
    """`keys rotate`, then `keys reencrypt` of the clinic while wrk drives a mixed day at it in
    5-second slices until the job ends: the job's rate in sealed values and rows per second, and
    what the clinic's users saw meanwhile (no error is the promise)."""
    status = server.command("keys", "status", "--clinic", clinic.id)
    values = int(re.search(r"v1: current; (\d+) sealed values", status).group(1))
    server.command("keys", "rotate", "--clinic", clinic.id)
    time.sleep(5)  # the job waits this long after a rotation for every server to hold the new key; not part of the rate
    slices, done = [], threading.Event()

    def load():
        while not done.is_set():
            slices.append(drive(server, clinic, "mixed", 8, 5, directory))

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    time.sleep(1)
    output = server.command("keys", "reencrypt", "--clinic", clinic.id)
    done.set()
    loader.join()
    m = re.search(r"(\d+) rows checked, (\d+) re-sealed in ([\d.]+) s", output)
    seconds, resealed = float(m.group(3)), int(m.group(2))
    after = server.command("keys", "status", "--clinic", clinic.id)
    if not re.search(r"v1: unused, can be retired; 0 sealed values", after):
        raise SystemExit("keys reencrypt left values under v1:\n" + after)
    requests = sum(s["requests"] for s in slices)
    return {"patients": clinic.size, "sealedValues": values, "rowsResealed": resealed, "seconds": seconds,
            "valuesPerSecond": values / seconds, "rowsPerSecond": resealed / seconds,
            "loadRequests": requests, "loadErrors": sum(s["errors"] for s in slices),
            "loadErrorKinds": [s["errorKinds"] for s in slices if s["errors"]],
            "loadRequestsPerSecond": requests / max(1e-9, sum(s["requests"] / s["requestsPerSecond"] for s in slices if s["requestsPerSecond"]))}


def bcrypt_rate(bench_binary, seconds, cost):
    done = subprocess.run([bench_binary, "bcrypt", "--seconds", str(seconds), "--cost", str(cost)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"clinickeep-bench bcrypt failed: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_database(name, binary, env, sizes, seconds, scratch, history):
    say(f"==> {name}")
    data_dir = tempfile.mkdtemp(prefix=f"clinickeep-bench-{name}-", dir=scratch)
    server = Server(binary, data_dir, env)
    server.command("migrate")
    clinics = [fill(server, size) for size in sizes]
    fill_history(server, clinics[0], *history)
    server.start()
    results = []
    try:
        for clinic in clinics:
            clinic.sign_in(server)
            clinic.sample_patients(server, data_dir)
        smallest = clinics[0]
        # W7 asks for the period the history fills: every appointment of it must be counted, or
        # the figures measured would be of an empty clinic.
        h = smallest.history
        status, _, body = server.request("GET", f"/api/v1/clinics/{smallest.id}/kpis?from={h['from']}&to={h['to']}",
                                         headers={"Cookie": smallest.cookie})
        booked = json.loads(body).get("appointments", {}).get("booked") if status == 200 else None
        if booked != h["appointments"]:
            raise SystemExit(f"the KPI request over the history answered {status}, {booked} appointments booked, not {h['appointments']}")

        def record(label, workload, connections, what, clinic):
            figures = drive(server, clinic, workload, connections, seconds, data_dir)
            row = {"workload": label, "kind": workload, "connections": connections, "patients": clinic.size,
                   "description": what, **figures}
            results.append(row)
            say(f"    {label} {workload:<7} c={connections:<3} {clinic.size:>6} patients  {row['requestsPerSecond']:9.0f} req/s"
                f"  p50 {row['p50Ms']:7.2f} ms  p99 {row['p99Ms']:7.2f} ms  rss {row['peakRssMiB']:6.1f} MiB"
                + (f"  ERRORS {row['errors']} {row['errorKinds']}" if row["errors"] else ""))

        for label, workload, connections, what in WORKLOADS[:1]:
            record(label, workload, connections, what, smallest)
        # W0′ beside W0, in the same minute: the server idles while the bare one is driven.
        bare = BareServer(os.path.join(os.path.dirname(binary), "clinickeep-bench"), data_dir, env)
        bare.start()
        try:
            figures = drive(bare, smallest, "healthz", 32, seconds, data_dir)
        finally:
            bare.stop()
        results.append({"workload": "W0'", "kind": "healthz", "connections": 32, "patients": smallest.size,
                        "description": "GET /healthz on a bare Vapor app with the same TLS, no middleware", **figures})
        say(f"    W0' healthz c=32  bare Vapor          {figures['requestsPerSecond']:9.0f} req/s  p50 {figures['p50Ms']:7.2f} ms"
            f"  p99 {figures['p99Ms']:7.2f} ms")
        for clinic in clinics:
            for label, workload, connections, what in SEARCHES:
                record(label, workload, connections, what, clinic)
        for label, workload, connections, what in WORKLOADS[1:]:
            record(label, workload, connections, what, smallest)
        # Last: it moves the largest clinic to a new key version under a mixed load.
        rekey = reencrypt_under_load(server, clinics[-1], data_dir)
        say(f"    R  reencrypt {rekey['patients']:>6} patients  {rekey['valuesPerSecond']:9.0f} sealed values/s"
            f"  {rekey['rowsPerSecond']:7.0f} rows/s  under load {rekey['loadRequestsPerSecond']:6.0f} req/s, {rekey['loadErrors']} errors")
        peak = server.rss_kib("VmHWM")
    finally:
        server.stop()
    # Every answer the server logged, by status, so an error a workload counted can be named.
    statuses = {}
    with open(server.log_path, errors="replace") as log:
        for line in log:
            if m := re.search(r" status=(\d{3})", line):
                statuses[m.group(1)] = statuses.get(m.group(1), 0) + 1
    say(f"    answers by status: {dict(sorted(statuses.items()))}")
    shutil.rmtree(data_dir, ignore_errors=True)
    return {"database": name, "figures": results, "reencryption": rekey, "statuses": statuses, "serverPeakRssMiB": peak / 1024,
            "history": clinics[0].history}


def find(rows, label, patients=None):
    for row in rows:
        if row["workload"] == label and (patients is None or row["patients"] == patients):
            return row
    return None


def ratios(report, sizes, bcrypt):
    rows = report["figures"]
    w0 = find(rows, "W0")["requestsPerSecond"]
    out = {
        "W0/W0'": w0 / find(rows, "W0'")["requestsPerSecond"],
        "W1/W0": find(rows, "W1")["requestsPerSecond"] / w0,
        "W4/W0": find(rows, "W4")["requestsPerSecond"] / w0,
        "W5/bcrypt": find(rows, "W5")["requestsPerSecond"] / bcrypt["hashesPerSecond"],
        "W7/W0": find(rows, "W7")["requestsPerSecond"] / w0,
        # Re-sealing a patient row against writing one through the API (W4), both measured in this run.
        "reencrypt rows/W4": report["reencryption"]["rowsPerSecond"] / find(rows, "W4")["requestsPerSecond"],
    }
    if len(sizes) > 1:
        for label in ("W2", "W3"):
            small, large = find(rows, label, sizes[0]), find(rows, label, sizes[-1])
            # Throughput falls as a search slows: the factor is how much slower the large clinic is.
            out[f"{label}@{sizes[-1]}/{label}@{sizes[0]} slowdown"] = small["requestsPerSecond"] / large["requestsPerSecond"]
            out[f"{label}@{sizes[-1]}/{label}@{sizes[0]} p50"] = large["p50Ms"] / small["p50Ms"]
    return out


def print_table(result):
    say("")
    say(f"{'database':<10} {'load':<4} {'kind':<8} {'conns':>5} {'patients':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'rss MiB':>8} {'errors':>6}")
    for report in result["databases"]:
        for row in report["figures"]:
            say(f"{report['database']:<10} {row['workload']:<4} {row['kind']:<8} {row['connections']:>5} {row['patients']:>8}"
                f" {row['requestsPerSecond']:>9.0f} {row['p50Ms']:>8.2f} {row['p99Ms']:>8.2f} {row['peakRssMiB']:>8.1f} {row['errors']:>6}")
    say("")
    for report in result["databases"]:
        h = report["history"]
        say(f"{report['database']:<10} W7   history: {h['appointments']} appointments, {h['invoices']} invoices from {h['from']} to {h['to']}"
            f" (written in {h['seconds']:.0f} s); the KPI request asks for that period")
    for report in result["databases"]:
        r = report["reencryption"]
        say(f"{report['database']:<10} R    reencrypt {r['patients']:>8} patients: {r['sealedValues']} sealed values in {r['seconds']:.1f} s"
            f" ({r['valuesPerSecond']:.0f}/s, {r['rowsPerSecond']:.0f} rows/s); {r['loadRequests']} requests meanwhile, {r['loadErrors']} errors")
    say(f"bcrypt cost {result['bcrypt']['cost']}, in process on {result['bcrypt']['threads']} threads: "
        f"{result['bcrypt']['hashesPerSecond']:.1f} hashes/s")
    for report in result["databases"]:
        for name, value in report["ratios"].items():
            say(f"{report['database']:<10} {name:<28} {value:6.2f}")
    for name, value in result.get("microRatios", {}).items():
        say(f"{'micro':<10} {name:<28} {value:6.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--sizes", help="clinic sizes in patients, comma-separated (default 1000, or 1000,10000,100000)")
    parser.add_argument("--bcrypt-cost", type=int, default=12, help="the server's bcrypt cost (default 12, its own default)")
    parser.add_argument("--bcrypt-seconds", type=float)
    parser.add_argument("--kpi-appointments", type=int, default=100_000, help="W7's history: appointments (default 100000)")
    parser.add_argument("--kpi-invoices", type=int, default=20_000, help="W7's history: invoices (default 20000)")
    parser.add_argument("--micro", help="JSON from the micro-benchmarks, folded into the report")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else [1000] if args.quick else [1000, 10000, 100000]
    seconds = args.seconds or (5 if args.quick else 15)
    binary = os.path.join(args.bin_dir, "clinickeep")
    scratch = tempfile.mkdtemp(prefix="clinickeep-bench-")
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "CLINICKEEP_MIGRATION_DATABASE_URL") and not k.startswith("CLINICKEEP_")}
    base_env["CLINICKEEP_SIGNUP"] = "closed"
    base_env["CLINICKEEP_BCRYPT_COST"] = str(args.bcrypt_cost)
    result = {"benchmark": "http", "quick": args.quick, "seconds": seconds, "sizes": sizes,
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
              "machine": {"cpus": os.cpu_count(), "system": platform.platform()}, "databases": []}
    say("==> bcrypt in process")
    result["bcrypt"] = bcrypt_rate(os.path.join(args.bin_dir, "clinickeep-bench"),
                                   args.bcrypt_seconds or (3 if args.quick else 10), args.bcrypt_cost)
    try:
        for name in args.databases.split(","):
            env = dict(base_env)
            if name == "postgres":
                env["DATABASE_URL"] = os.environ["CLINICKEEP_E2E_POSTGRES_APP_URL"]
                env["CLINICKEEP_MIGRATION_DATABASE_URL"] = os.environ["CLINICKEEP_E2E_POSTGRES_OWNER_URL"]
            report = run_database(name, binary, env, sizes, seconds, scratch, (args.kpi_appointments, args.kpi_invoices))
            report["ratios"] = ratios(report, sizes, result["bcrypt"])
            result["databases"].append(report)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.micro and os.path.exists(args.micro):
        with open(args.micro) as f:
            micro = json.load(f)
        result["micro"] = micro
        result["microRatios"] = micro.get("ratios", {})
    print_table(result)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    say(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
