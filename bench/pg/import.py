"""`jmapd import` of N generated cards (bench/scale/gen.py) into a new account on a
private PostgreSQL 15 (tests/protocol/pgharness.py), for each binary given, ROUNDS
rounds (2): wall time, jmapd's CPU and PostgreSQL's (every process of the cluster, the
import's backend included once it has exited: the postmaster's reaped children). An
import is one transaction; its cost should grow with N, not N² (issue 15, issue 21 §0).
Usage: N=100000 /usr/bin/python3 bench/pg/import.py BIN [BIN ...]"""
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "protocol"))
import pgharness  # noqa: E402

N = int(os.environ.get("N", "20000"))
TICK = os.sysconf("SC_CLK_TCK")


def cluster_cpu(cluster):
    """CPU seconds of the cluster: the postmaster's own and its reaped children's, and
    its live children's."""
    with open(os.path.join(cluster.data, "postmaster.pid")) as f:
        master = int(f.readline())
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                v = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(d) == master:
            total += sum(int(x) for x in v[11:15])  # utime stime cutime cstime
        elif int(v[1]) == master:
            total += int(v[11]) + int(v[12])
    return total / TICK
bins = sys.argv[1:]
cl = pgharness.Cluster()
tmp = tempfile.mkdtemp()
try:
    vcf = os.path.join(tmp, f"cards{N}.vcf")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "scale", "gen.py"), "cards",
                    str(N), vcf], check=True)
    for _ in range(int(os.environ.get("ROUNDS", "2"))):
        for b in bins:
            d = tempfile.mkdtemp(dir=tmp)
            env = dict(os.environ, JMAPD_STORE=cl.url(cl.schema_for(d)))
            subprocess.run([b, "user", "add", "u", "--password-stdin", "--data", d], input="pw\n",
                           text=True, env=env, check=True, capture_output=True)
            t = time.time()
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            pg0 = cluster_cpu(cl)
            p = subprocess.run([b, "import", "--user", "u", "--data", d, vcf], env=env,
                               capture_output=True, text=True)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = time.time() - t
            time.sleep(1)  # the backend gone and reaped
            pg = cluster_cpu(cl) - pg0
            cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
            with open("/proc/loadavg") as f:
                load = f.read().split()[0]
            print(f"{b}: {N} cards rc={p.returncode} wall {wall:.1f} s, jmapd CPU {cpu:.1f} s, "
                  f"PostgreSQL CPU {pg:.1f} s (load {load})", flush=True)
finally:
    cl.stop()
    subprocess.run(["rm", "-rf", tmp])
