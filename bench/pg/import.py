"""`jmapd import` of N generated cards (bench/scale/gen.py) into a new account on a
private PostgreSQL 15 (tests/protocol/pgharness.py), for each binary given, ROUNDS
rounds (2): wall time and jmapd's CPU. An import is one transaction; its cost should
grow with N, not N² (issue 15, issue 21 §0).
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
            p = subprocess.run([b, "import", "--user", "u", "--data", d, vcf], env=env,
                               capture_output=True, text=True)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
            print(f"{b}: {N} cards rc={p.returncode} wall {time.time() - t:.1f} s, "
                  f"jmapd CPU {cpu:.1f} s", flush=True)
finally:
    cl.stop()
    subprocess.run(["rm", "-rf", tmp])
