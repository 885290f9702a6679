"""Benchmark: the busy-time import scaled out over OCA queue_job and Odoo servers.

Why this file exists: ``m365_sync_queue`` turns m365_sync's units of work into
queue_job jobs so that a large tenant is spread over several Odoo servers sharing
one database. This measures what that buys on the initial busy-time import of
2,000 mailboxes x 40 appointments (2,000 matching Odoo users), in three modes:

- ``cron``: m365_sync alone (no queue_job), one Odoo server; its cron runs the
  tenant's unit inline, chunk after chunk;
- ``queue1``: m365_sync_queue, one Odoo server whose job runner runs the shards
  (``busy:<tenant>:<k>/<n>``) as jobs;
- ``queue2``: the same with two Odoo server processes sharing the database, the
  runner dispatching through a small round-robin balancer (what a load balancer
  in front of several servers does).

Everything runs as real processes: the sandbox (``python -m m365_sandbox``, its
own process, with the latency of the run), each Odoo server (``odoo-bin``,
``--workers=0``: one process, its jobs in HTTP threads), PostgreSQL. The import
is triggered by waking the busy-time cron (``NOTIFY cron_trigger``); it is done
when no busy run is running and no m365 job waits. From the cron, the import
stops after Odoo's cron time slice (``MIN_TIME_PER_JOB``, 10 s, and up to 10
calls) with its run still running, to resume at the next call, which Odoo's cron
thread makes at its next poll (up to 60 s later): the benchmark calls the cron
again at once each time (what the dispatcher intends), so that ``cron`` measures
the import, not the scheduler's idle time. Printed per latency and mode:
busy slots and workload days stored (and a digest of their content, which must be
the same in every mode: nothing lost, nothing twice), Graph round trips (the
sandbox's own request log; a ``$batch`` counts once) and token requests, sync
runs, CPU seconds of the Odoo servers and of the sandbox, how many of the
machine's cores were busy, wall time, speed-up against ``cron``. Every wait is
bounded (``--timeout``).

    python -m bench.odoo_scaleout                       # 2,000 x 40 at 30 and 200 ms
    python -m bench.odoo_scaleout --latencies 0.2 --modes cron,queue2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, closing, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

from m365_sandbox import Sandbox, bulk_seed

from .odoo_busy import _make_users
from .odoosupport import ODOO_SRC, REPO, addons_path, odoo_env, point_tenant_at

MODES = ("cron", "queue1", "queue2")
#: Ports of this benchmark (HTTP of the Odoo servers, the balancer, the sandbox).
PORT_SERVER_1, PORT_SERVER_2, PORT_BALANCER, PORT_SANDBOX = 8862, 8863, 8864, 8869
PG = {
    "host": os.environ.get("PGHOST", "127.0.0.1"),
    "port": os.environ.get("PGPORT", "5432"),
    "user": os.environ.get("ODOO_DB_USER", "odoo"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_scaleout", description=__doc__)
    parser.add_argument("--mailboxes", type=int, default=2000, help="mailboxes and users (2000)")
    parser.add_argument("--events", type=int, default=40, help="appointments per mailbox (40)")
    parser.add_argument(
        "--latencies", default="0.03,0.2", help="sandbox seconds per request, comma-separated"
    )
    parser.add_argument("--modes", default=",".join(MODES), help="cron,queue1,queue2")
    parser.add_argument("--capacity", type=int, default=8, help="app-wide cap: units at once (8)")
    parser.add_argument("--shards", type=int, default=8, help="busy-time shards per tenant (8)")
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds one import may take (900)"
    )
    parser.add_argument(
        "--db", default="m365_bench_scaleout", help="prefix of the scratch databases (dropped)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    return parser.parse_args(argv)


# ----------------------------------------------------------------------
# PostgreSQL
# ----------------------------------------------------------------------
def _pg(dbname="postgres"):
    import psycopg2

    conn = psycopg2.connect(dbname=dbname, **PG)
    conn.autocommit = True
    return conn


def _query(dbname, sql, args=()):
    with closing(_pg(dbname)) as conn, conn.cursor() as cr:
        cr.execute(sql, args)
        return cr.fetchall() if cr.description else None


def _drop(dbname):
    _query("postgres", f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _copy(template, dbname):
    _drop(dbname)
    _query("postgres", f'CREATE DATABASE "{dbname}" TEMPLATE "{template}"')


# ----------------------------------------------------------------------
# Processes: the sandbox, Odoo servers, a round-robin balancer
# ----------------------------------------------------------------------
def _wait_port(port, timeout, proc=None, what="server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} stopped at start (exit {proc.returncode})")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not listen on port {port} within {timeout:.0f} s")


def _stop(proc, name):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT if name == "sandbox" else signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def sandbox_process(seed_path, latency, workdir):
    """``python -m m365_sandbox`` in its own process; yields (info, request log path)."""
    info_path = workdir / "sandbox-info.json"
    info_path.unlink(missing_ok=True)
    log_path = workdir / f"sandbox-{latency * 1000:.0f}ms.log"
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [
                sys.executable,
                "-m",
                "m365_sandbox",
                "--seed",
                str(seed_path),
                "--latency",
                str(latency),
                "--port",
                str(PORT_SANDBOX),
                "--tls-dir",
                str(workdir / "tls"),
                "--info-file",
                str(info_path),
                "--non-interactive",
                "-v",
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 120
        while not info_path.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the sandbox did not start (see {log_path})")
            time.sleep(0.2)
        yield json.loads(info_path.read_text(encoding="utf-8")), log_path, proc.pid
    finally:
        _stop(proc, "sandbox")


def sandbox_requests(log_path):
    """What the sandbox's log (``-v``) shows of the import: (``$batch`` round trips,
    directory pages, requests inside the batches). Each Graph request is logged once
    with its method and path, a ``$batch``'s items too."""
    batches = pages = inside = 0
    with open(log_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            head, sep, request = line.rstrip().rpartition(" on ")
            if not sep or "Prefer IdType" not in head:
                continue
            method, _sp, path = request.partition(" ")
            if (method, path) == ("POST", "/$batch"):
                batches += 1
            elif method == "GET" and path in ("/users", "/users/delta"):
                pages += 1
            else:
                inside += 1
    return batches, pages, inside


def channels(capacity):
    """The runner's channels for an app-wide cap (as Settings → Microsoft 365 shows)."""
    return f"root:{capacity + 2},root.m365:{capacity},root.m365.contacts:1"


def odoo_server(dbname, port, workdir, name, *, queue, capacity):
    """One ``odoo-bin`` server process (threaded, one cron thread) on ``dbname``."""
    env = dict(os.environ)
    args = [
        sys.executable,
        str(ODOO_SRC / "odoo-bin"),
        f"--addons-path={addons_path()}",
        f"--db_host={PG['host']}",
        f"--db_port={PG['port']}",
        f"--db_user={PG['user']}",
        f"--database={dbname}",
        f"--db-filter=^{dbname}$",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        "--workers=0",
        "--max-cron-threads=1",
        "--limit-time-real-cron=0",
        "--log-level=warn",
        f"--logfile={workdir / f'{name}.log'}",
    ]
    if queue:
        args.append("--load=base,rpc,web,queue_job")
        env["ODOO_QUEUE_JOB_CHANNELS"] = channels(capacity)
        # The runner asks the balancer (two servers) or its own server to run a job.
        env["ODOO_QUEUE_JOB_HOST"] = "127.0.0.1"
        env["ODOO_QUEUE_JOB_PORT"] = str(queue)
    return subprocess.Popen(  # noqa: S603 - our own odoo-bin, fixed arguments
        args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


class _Pipe(socketserver.BaseRequestHandler):
    def handle(self):
        backend = self.server.next_backend()
        try:
            upstream = socket.create_connection(("127.0.0.1", backend), timeout=10)
        except OSError:
            return
        done = threading.Event()

        def pump(src, dst):
            try:
                while chunk := src.recv(65536):
                    dst.sendall(chunk)
            except OSError:
                pass
            finally:
                done.set()

        threading.Thread(target=pump, args=(upstream, self.request), daemon=True).start()
        pump(self.request, upstream)
        done.wait(timeout=600)
        upstream.close()


class Balancer(socketserver.ThreadingTCPServer):
    """Round-robin TCP balancer: each connection to the next backend in turn (the
    runner opens one connection per job it asks to run)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, backends):
        super().__init__(("127.0.0.1", port), _Pipe)
        self.backends = backends
        self.count = 0
        self.lock = threading.Lock()
        self.per_backend = dict.fromkeys(backends, 0)

    def next_backend(self):
        with self.lock:
            backend = self.backends[self.count % len(self.backends)]
            self.count += 1
            self.per_backend[backend] += 1
            return backend


# ----------------------------------------------------------------------
# Databases: a template with users and tenant, one copy per run
# ----------------------------------------------------------------------
def prepare_templates(args, seed, workdir):
    """Template ``<db>_cron`` (m365_sync, users, tenant) and ``<db>_queue`` (+ queue)."""
    cron_db, queue_db = f"{args.db}_cron", f"{args.db}_queue"
    offline = Sandbox(seed=seed)  # not served: its directory names the Odoo users
    with sandbox_process(workdir / "seed.json", 0.0, workdir) as (info, _log, _pid):
        sb = SimpleNamespace(
            state=offline.state,
            tenant_id=info["tenant_id"],
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            url=info["url"],
            graph_url=info["graph_url"],
            ca_path=info["ca_path"],
        )
        with odoo_env(cron_db) as env:
            point_tenant_at(env, sb, busy_sync=True)
            _make_users(env, sb, args.mailboxes)
            env.cr.commit()
        import odoo.sql_db

        odoo.sql_db.close_db(cron_db)  # a template must have no connection
    _copy(cron_db, queue_db)
    began = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own odoo-bin with fixed arguments
        [
            sys.executable,
            str(ODOO_SRC / "odoo-bin"),
            f"--addons-path={addons_path()}",
            f"--db_host={PG['host']}",
            f"--db_port={PG['port']}",
            f"--db_user={PG['user']}",
            f"--database={queue_db}",
            "--init=m365_sync_queue",
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.stderr.write(done.stderr[-5000:])
        raise SystemExit(f"installing m365_sync_queue in {queue_db} failed")
    params = {"m365_sync_queue.capacity": args.capacity, "m365_sync.busy_shards": args.shards}
    for key, value in params.items():
        _query(
            queue_db,
            "INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, str(value)),
        )
    print(
        f"  database {queue_db} with m365_sync_queue ready in {time.perf_counter() - began:.0f} s"
    )
    return cron_db, queue_db


# ----------------------------------------------------------------------
# One run
# ----------------------------------------------------------------------
def _cpu_seconds(pids):
    """CPU seconds (user + system) the processes ``pids`` used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _machine_cpu():
    """(busy, total) CPU seconds of the whole machine so far (all cores)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = values[3] + values[4]  # idle, iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


def _warm_up(port, dbname):
    """Load the server's registry of ``dbname`` (a first request does), so that
    neither the cron nor the first job pays for it."""
    import urllib.request

    url = f"http://127.0.0.1:{port}/web/login?db={dbname}"
    with urllib.request.urlopen(url, timeout=120) as answer:
        answer.read()


def _retrigger(dbname, cron_id):
    """The cron stopped mid-import (its run still running) and is idle: call it again
    now, as m365_sync's dispatcher intends ("the cron comes back at once").

    Odoo 19 runs a cron job for at least 10 s and 10 calls, then reschedules it
    (ASAP when it reported work left); its cron thread only looks again at its next
    poll, up to 60 s later, unless notified. Skipped while the cron runs (its row is
    locked), so the measured time is the import's, not the scheduler's idle time.
    """
    import psycopg2

    with closing(_pg(dbname)) as conn, conn.cursor() as cr:
        cr.execute("SET lock_timeout = '200ms'")
        try:
            cr.execute(
                "UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'utc' WHERE id = %s",
                (cron_id,),
            )
        except psycopg2.errors.LockNotAvailable:
            return
    _query("postgres", f"NOTIFY cron_trigger, '{dbname}'")


def _busy_cron_id(dbname):
    rows = _query(
        dbname,
        "SELECT res_id FROM ir_model_data "
        "WHERE module = 'm365_sync' AND name = 'ir_cron_m365_busy'",
    )
    return rows[0][0]


def _state(dbname, queue):
    ((running, finished, failed, requests),) = _query(
        dbname,
        "SELECT count(*) FILTER (WHERE state = 'running'), "
        "count(*) FILTER (WHERE state IN ('done', 'failed')), "
        "count(*) FILTER (WHERE state = 'failed'), coalesce(sum(http_requests), 0) "
        "FROM m365_sync_run WHERE kind = 'busy'",
    )
    waiting = 0
    if queue:
        waiting = _query(
            dbname,
            "SELECT count(*) FROM queue_job WHERE channel LIKE 'root.m365%%' "
            "AND state IN ('wait_dependencies', 'pending', 'enqueued', 'started')",
        )[0][0]
    return running, finished, failed, requests, waiting


def _totals(dbname):
    ((slots, digest),) = _query(
        dbname,
        "SELECT count(*), md5(coalesce(string_agg(u.login || '|' || s.event_id || '|' || "
        "s.start::text || '|' || s.stop::text || '|' || s.show_as, ',' "
        "ORDER BY u.login, s.event_id), '')) "
        "FROM m365_busy_slot s JOIN res_users u ON u.id = s.user_id",
    )
    ((days, day_digest),) = _query(
        dbname,
        "SELECT count(*), md5(coalesce(string_agg(u.login || '|' || d.date::text || '|' || "
        "round(d.busy_hours::numeric, 4)::text || '|' || "
        "round(d.capacity_hours::numeric, 4)::text, "
        "',' ORDER BY u.login, d.date), '')) "
        "FROM m365_workload_day d JOIN res_users u ON u.id = d.user_id",
    )
    return {"slots": slots, "days": days, "digest": f"{digest[:8]}/{day_digest[:8]}"}


def run_mode(args, mode, latency, templates, workdir):
    queue = mode != "cron"
    template = templates[1] if queue else templates[0]
    dbname = f"{args.db}_run"
    _copy(template, dbname)
    cron_id = _busy_cron_id(dbname)
    # Only the busy-time cron is due now; the others keep their schedule.
    _query(
        dbname,
        "UPDATE ir_cron SET nextcall = (now() AT TIME ZONE 'utc') + interval '1 day' "
        "WHERE id != %s",
        (cron_id,),
    )
    seed_path = workdir / "seed.json"
    with ExitStack() as stack:
        _info, log_path, pid = stack.enter_context(sandbox_process(seed_path, latency, workdir))
        stack_pids = {"sandbox": pid}
        servers = [PORT_SERVER_1] if mode != "queue2" else [PORT_SERVER_1, PORT_SERVER_2]
        balancer = None
        runner_port = PORT_SERVER_1
        if mode == "queue2":
            balancer = Balancer(PORT_BALANCER, servers)
            threading.Thread(target=balancer.serve_forever, daemon=True).start()
            stack.callback(balancer.server_close)
            stack.callback(balancer.shutdown)
            runner_port = PORT_BALANCER
        procs = []
        for index, port in enumerate(servers):
            name = f"odoo-{mode}-{latency * 1000:.0f}ms-{index + 1}"
            proc = odoo_server(
                dbname,
                port,
                workdir,
                name,
                queue=runner_port if queue else None,
                capacity=args.capacity,
            )
            stack.callback(_stop, proc, name)
            procs.append(proc)
        for proc, port in zip(procs, servers, strict=True):
            _wait_port(port, 120, proc, "Odoo")
            _warm_up(port, dbname)
        if queue:
            time.sleep(6)  # the job runner starts 5 s after its server
        _query(
            dbname,
            "UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'utc' WHERE id = %s",
            (cron_id,),
        )
        sandbox_pid = stack_pids["sandbox"]
        cpu_before = (_cpu_seconds([p.pid for p in procs]), _cpu_seconds([sandbox_pid]))
        machine_before = _machine_cpu()
        began = time.monotonic()
        _query("postgres", f"NOTIFY cron_trigger, '{dbname}'")  # Odoo listens there
        deadline = began + args.timeout
        notified = began
        finished_at = None
        while time.monotonic() < deadline:
            running, finished, failed, requests, waiting = _state(dbname, queue)
            if finished and not running and not waiting:
                finished_at = time.monotonic()
                break
            if not queue and running and time.monotonic() - notified > 1:
                _retrigger(dbname, cron_id)
                notified = time.monotonic()
            if not finished and not running and time.monotonic() - notified > 5:
                _query("postgres", f"NOTIFY cron_trigger, '{dbname}'")  # not picked up yet
                notified = time.monotonic()
            for proc in procs:
                if proc.poll() is not None:
                    raise SystemExit(f"an Odoo server of {mode} stopped (logs in {workdir})")
            time.sleep(0.25)
        took = (finished_at or time.monotonic()) - began
        odoo_cpu = _cpu_seconds([p.pid for p in procs]) - cpu_before[0]
        sandbox_cpu = _cpu_seconds([sandbox_pid]) - cpu_before[1]
        machine_after = _machine_cpu()
        busy = machine_after[0] - machine_before[0]
        cores_busy = busy / took if took else 0.0
        running, finished, failed, requests, waiting = _state(dbname, queue)
        totals = _totals(dbname)
        per_server = dict(balancer.per_backend) if balancer else None
    batches, pages, inside = sandbox_requests(log_path)
    if not args.keep:
        _drop(dbname)
    return {
        "mode": mode,
        "latency": latency,
        "seconds": took,
        "complete": finished_at is not None,
        "runs": finished,
        "failed": failed,
        "round_trips": requests,
        "batches": batches,
        "pages": pages,
        "inside": inside,
        "per_server": per_server,
        "odoo_cpu": odoo_cpu,
        "sandbox_cpu": sandbox_cpu,
        "cores_busy": cores_busy,
        **totals,
    }


def _print_table(results):
    print()
    print(
        "| latency | mode | busy slots | workload days | content digest | Graph round trips "
        "($batch + directory pages) | sync runs | Odoo / sandbox CPU | cores busy | wall time | "
        "speed-up |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        base = next(
            (r for r in results if r["latency"] == result["latency"] and r["mode"] == "cron"),
            None,
        )
        speedup = f"{base['seconds'] / result['seconds']:.2f}x" if base else "-"
        note = "" if result["complete"] else " (TIMED OUT)"
        print(
            f"| {result['latency'] * 1000:.0f} ms | {result['mode']} | {result['slots']:,} | "
            f"{result['days']:,} | {result['digest']} | {result['round_trips']} "
            f"({result['batches']} + {result['pages']}) | "
            f"{result['runs']} ({result['failed']} failed) | "
            f"{result['odoo_cpu']:.0f} s / {result['sandbox_cpu']:.0f} s | "
            f"{result['cores_busy']:.2f} | "
            f"{result['seconds']:.1f} s{note} | {speedup} |"
        )


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    latencies = [float(x) for x in args.latencies.split(",") if x]
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        raise SystemExit(f"unknown modes: {', '.join(sorted(unknown))}")
    print(
        f"busy-time scale-out: {args.mailboxes} mailboxes x {args.events} appointments, "
        f"modes {', '.join(modes)}, latencies "
        f"{', '.join(f'{lat * 1000:.0f} ms' for lat in latencies)}; cap {args.capacity} units, "
        f"{args.shards} shards; {os.cpu_count()} CPU cores"
    )
    workdir = Path(tempfile.mkdtemp(prefix="m365-scaleout-"))
    today = datetime.now(timezone.utc).date()
    first = datetime.combine(today - timedelta(days=7), datetime.min.time(), timezone.utc)
    seed = bulk_seed(args.mailboxes, args.events, first, 98, mailboxes=args.mailboxes)
    (workdir / "seed.json").write_text(json.dumps(seed), encoding="utf-8")
    results = []
    try:
        templates = prepare_templates(args, seed, workdir)
        for latency in latencies:
            for mode in modes:
                result = run_mode(args, mode, latency, templates, workdir)
                results.append(result)
                spread = (
                    f", jobs per server {list(result['per_server'].values())}"
                    if result["per_server"]
                    else ""
                )
                print(
                    f"  {latency * 1000:.0f} ms {mode}: {result['seconds']:.1f} s, "
                    f"{result['slots']} slots, {result['days']} workload days "
                    f"({result['digest']}), {result['round_trips']} Graph round trips "
                    f"(sandbox: {result['batches']} $batch + {result['pages']} directory "
                    f"pages, {result['inside']} calendar reads inside), "
                    f"{result['runs']} sync runs; "
                    f"CPU: Odoo {result['odoo_cpu']:.0f} s, sandbox {result['sandbox_cpu']:.0f} s, "
                    f"machine {result['cores_busy']:.2f} of {os.cpu_count()} cores busy"
                    f"{spread}" + ("" if result["complete"] else " — TIMED OUT"),
                    flush=True,
                )
        _print_table(results)
        same = {(r["slots"], r["days"], r["digest"]) for r in results}
        expected = args.mailboxes * args.events
        verdict = (
            "identical in every run"
            if len(same) == 1 and results and results[0]["slots"] == expected
            else "DIFFERENT"
        )
        print(f"  totals ({expected:,} slots expected): {verdict}")
        for latency in latencies:
            base = next(
                (r for r in results if r["latency"] == latency and r["mode"] == "cron"), None
            )
            two = next(
                (r for r in results if r["latency"] == latency and r["mode"] == "queue2"), None
            )
            one = next(
                (r for r in results if r["latency"] == latency and r["mode"] == "queue1"), None
            )
            if base and two:
                against_one = f", {one['seconds'] / two['seconds']:.2f}x one server" if one else ""
                print(
                    f"  two servers at {latency * 1000:.0f} ms: "
                    f"{base['seconds'] / two['seconds']:.2f}x the cron alone{against_one} "
                    "(aim: 1.7x at 200 ms)"
                )
        if verdict != "identical in every run" or not all(r["complete"] for r in results):
            raise SystemExit("scale-out benchmark: totals differ or a run timed out")
    finally:
        if not args.keep:
            for name in (f"{args.db}_cron", f"{args.db}_queue", f"{args.db}_run"):
                _drop(name)
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"  logs and seed kept in {workdir}")
    return results


if __name__ == "__main__":
    main()
