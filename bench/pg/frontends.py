"""Two front ends on one PostgreSQL (issue 15 §2: W2 at >= 1.6x one front end), measured
for what this machine can show. Its 2 cores carry PostgreSQL, the front ends and wrk,
so requests per second cannot grow with a second front end here; what can be seen is
whether a second front end makes each request dearer or makes requests wait for each
other. W2 (CalendarEvent/get of 100 ids) with wrk, CONNS (4) connections per front end,
for SECONDS (10): one front end, then two on the same database. For each front end, the
requests it answered and its jmapd CPU per request (/proc/PID/stat); PostgreSQL's
client backends' CPU per request; what the active backends were waiting on, sampled
every 50 ms by a psql session of its own (pg_stat_activity: Lock and LWLock are
requests serialised in PostgreSQL, none is running or waiting for a core); and the
lock waits longer than 10 ms PostgreSQL logged (log_lock_waits, deadlock_timeout 10ms).

    EVENTS=10000 /usr/bin/python3 bench/pg/frontends.py [BIN]     # build/jmapd
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path[:0] = [HERE, os.path.join(ROOT, "bench", "events"), os.path.join(ROOT, "tests", "protocol")]
import bench_pg as bp  # noqa: E402
import cost  # noqa: E402
import pgharness  # noqa: E402

CONNS = int(os.environ.get("CONNS", "4"))
SECONDS = int(os.environ.get("SECONDS", "10"))


class Sampler(threading.Thread):
    """What pg_stat_activity says the active client backends wait on, every 50 ms."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.p = subprocess.Popen([os.path.join(pgharness.PGBIN, "psql"), "-X", "-q", "-A", "-t",
                                   "-d", cluster.url()], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.pid = int(self.ask("SELECT pg_backend_pid()")[0])
        self.counts, self.samples, self.stop = Counter(), 0, threading.Event()

    def ask(self, sql):
        self.p.stdin.write(sql + ";\n\\echo --end--\n")
        self.p.stdin.flush()
        out = []
        while (line := self.p.stdout.readline().strip()) != "--end--":
            if line:
                out.append(line)
        return out

    def run(self):
        while not self.stop.is_set():
            rows = self.ask("SELECT coalesce(wait_event_type, 'running') || ':' || "
                            "coalesce(wait_event, '') FROM pg_stat_activity WHERE state = "
                            f"'active' AND backend_type = 'client backend' AND pid <> {self.pid}")
            self.counts.update(rows)
            self.samples += 1
            time.sleep(0.05)

    def finish(self):
        self.stop.set()
        self.join()
        self.p.stdin.close()
        self.p.wait()
        return self.counts, self.samples


def wrk(front, lua):
    return subprocess.Popen(["wrk", "-t1", f"-c{CONNS}", f"-d{SECONDS}s", "-s", lua, front.base],
                            stdout=subprocess.PIPE, text=True)


def script(acct, ids):
    import base64
    import json
    body = json.dumps({"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"],
                       "methodCalls": [["CalendarEvent/get",
                                        {"accountId": acct, "ids": ids[:100]}, "0"]]})
    auth = "Basic " + base64.b64encode(b"bench:bench-pw").decode()
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    f.write(f'wrk.method = "POST"\nwrk.headers["Authorization"] = "{auth}"\n'
            f'wrk.headers["Content-Type"] = "application/json"\nlocal r\n'
            f'init = function(args) r = wrk.format(nil, "/jmap/api/", nil, '
            f'{json.dumps(body)}) end\nrequest = function() return r end\n')
    f.close()
    return f.name


def lock_waits(cluster, mark):
    with open(os.path.join(cluster.root, "log"), errors="replace") as f:
        f.seek(mark)
        return len(re.findall(r"still waiting for", f.read()))


def run(label, cluster, fronts, lua):
    sampler = Sampler(cluster)
    pg = [p for p in bp.postgres_pids(cluster)[1:] if p != sampler.pid]
    log = os.path.join(cluster.root, "log")
    mark = os.path.getsize(log)
    cpu0 = [bp.proc_cpu(f.proc.pid) for f in fronts]
    pg0, busy0, t0 = sum(bp.proc_cpu(p) for p in pg), bp.machine_busy(), time.time()
    sampler.start()
    procs = [wrk(f, lua) for f in fronts]
    outs = [p.communicate()[0] for p in procs]
    counts, samples = sampler.finish()
    wall = time.time() - t0
    busy1 = bp.machine_busy()
    cpu1 = [bp.proc_cpu(f.proc.pid) for f in fronts]
    # and the backends that connected during the run (a front end's first use)
    pg1 = sum(bp.proc_cpu(p) for p in set(pg) | set(bp.postgres_pids(cluster)[1:]) - {sampler.pid})
    reqs = [int(re.search(r"(\d+) requests in", o).group(1)) for o in outs]
    bad = [re.search(r"Non-2xx or 3xx responses: (\d+)", o) for o in outs]
    total = sum(reqs)
    busy = (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"{label}: {total} requests in {wall:.1f} s ({total / wall:.0f} req/s), machine busy "
          f"{busy * 100:.0f}% of {os.cpu_count()} cores, load {load}")
    for f, n, a, b, x in zip(fronts, reqs, cpu0, cpu1, bad):
        print(f"  front end {f.base}: {n} requests, jmapd {(b - a) / max(n, 1) * 1e6:.0f} us CPU per "
              f"request{f' ({x.group(1)} not 200)' if x else ''}")
    print(f"  PostgreSQL client backends: {(pg1 - pg0) / max(total, 1) * 1e6:.0f} us CPU per request")
    active = sum(counts.values())
    kinds = Counter()
    for k, v in counts.items():
        kinds[k.split(":")[0]] += v
    print(f"  {samples} samples of pg_stat_activity, {active / max(samples, 1):.2f} active "
          f"backends on average; of them: " + ", ".join(
              f"{k} {v / max(active, 1) * 100:.1f}%" for k, v in kinds.most_common()))
    detail = [f"{k} {v}" for k, v in counts.most_common() if not k.startswith("running")]
    print(f"  waits seen: {', '.join(detail) if detail else 'none'}; lock waits > 10 ms logged: "
          f"{lock_waits(cluster, mark)}")


def main():
    binary = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else bp.BIN
    bp.BIN = binary
    tmp = tempfile.mkdtemp(prefix="bench-fronts-")
    cluster = pgharness.Cluster()
    try:
        cluster.psql("jmapd", "ALTER SYSTEM SET log_lock_waits = on")
        cluster.psql("jmapd", "ALTER SYSTEM SET deadlock_timeout = '10ms'")
        cluster.psql("jmapd", "SELECT pg_reload_conf()")
        url = cluster.url(cluster.schema_for(os.path.join(tmp, "pg")))
        bp.add_user(os.path.join(tmp, "pg"), url)
        a = bp.Front(tmp, "pg", url)
        b = None
        try:
            _, acct, _, ids = cost.loaded(a, "bench")
            lua = script(acct, ids)
            print(f"{binary}: W2 (get 100 ids) at {cost.EVENTS} events, wrk {CONNS} connections "
                  f"per front end, {SECONDS} s")
            b = bp.Front(tmp, "pg-b", url)
            run("warm-up, front end A", cluster, [a], lua)
            run("warm-up, front end B", cluster, [b], lua)
            run("one front end (A)", cluster, [a], lua)
            run("two front ends (A and B)", cluster, [a, b], lua)
            run("one front end again", cluster, [a], lua)
            os.unlink(lua)
        finally:
            if b:
                b.stop()
            a.stop()
    finally:
        cluster.stop()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
