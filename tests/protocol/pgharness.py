"""A private PostgreSQL 15 for the protocol tests (issue 15): initdb in a temporary
directory, listening only on a Unix socket there (no TCP), stopped at the end. Debian's
binaries are in /usr/lib/postgresql/15/bin. initdb refuses to run as root, so as root
the cluster runs as the unprivileged user `nobody` (runuser); the socket directory is
reachable by root's jmapd. Authentication is trust on that socket only.

Cluster.route_jmapd() makes every jmapd started with `--data DIR` (through
subprocess) use a schema of its own, created on first sight of DIR, by setting
JMAPD_STORE in its environment: the tests stay written against data directories."""
import hashlib
import os
import shutil
import subprocess
import tempfile
import urllib.parse

PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
USER = "jmapd"
DB = "jmapd"


class Cluster:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="jmapd-pg-")
        os.chmod(self.root, 0o755)
        self.data = os.path.join(self.root, "data")
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "nobody", "nogroup")
            self.as_user = ["runuser", "-u", "nobody", "--"]
        self.port = 54000 + os.getpid() % 1000
        self._run([os.path.join(PGBIN, "initdb"), "-D", self.data, "-U", USER, "-A", "trust",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        self.start_server()
        self.psql("postgres", f"CREATE DATABASE {DB}")
        self.psql(DB, "CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        self.schemas = set()

    def start_server(self):
        opts = (f"-k {self.root} -c listen_addresses='' -p {self.port} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        self._run([os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-l",
                   os.path.join(self.root, "log"), "-w", "-o", opts, "start"])

    def stop_server(self, mode="fast"):
        """Stops PostgreSQL (the failure tests: the database goes away under load)."""
        self._run([os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"])

    def _run(self, cmd):
        r = subprocess.run(self.as_user + cmd, capture_output=True, text=True, cwd=self.root)
        if r.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {r.stdout}{r.stderr}")

    def psql(self, db, sql):
        r = subprocess.run([os.path.join(PGBIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                            "-h", self.root, "-p", str(self.port), "-U", USER, "-d", db,
                            "-c", sql], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql: {r.stderr}")
        return r.stdout

    def url(self, schema=None):
        q = {"host": self.root, "port": str(self.port)}
        if schema:
            q["options"] = f"-csearch_path={schema},public"
        return f"postgresql://{USER}@/{DB}?" + urllib.parse.urlencode(q)

    def schema_for(self, data_dir):
        """A new schema for each data directory, created on first use."""
        name = "d_" + hashlib.sha1(os.path.abspath(data_dir).encode()).hexdigest()[:20]
        if name not in self.schemas:
            self.psql(DB, f"CREATE SCHEMA IF NOT EXISTS {name}")
            self.schemas.add(name)
        return name

    def hold_write_lock(self, data_dir):
        """Takes the writers' lock of data_dir's schema (postgres.c: an advisory lock)
        from another session, as another front end in a long write would hold it."""
        return WriteLock(self.url(self.schema_for(data_dir)))

    def route_jmapd(self, binary_name):
        cluster = self
        original = subprocess.Popen.__init__

        def init(self, args, *a, **kw):
            if isinstance(args, (list, tuple)) and args and \
                    os.path.basename(str(args[0])) == binary_name:
                argv = [str(x) for x in args]
                if "--data" in argv[:-1]:
                    data = argv[argv.index("--data") + 1]
                    env = dict(kw.get("env") or os.environ)
                    env.setdefault("JMAPD_STORE", cluster.url(cluster.schema_for(data)))
                    kw["env"] = env
            original(self, args, *a, **kw)

        subprocess.Popen.__init__ = init

    def stop(self):
        subprocess.run(self.as_user + [os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-m",
                                       "immediate", "-w", "stop"], capture_output=True,
                       cwd=self.root)
        shutil.rmtree(self.root, ignore_errors=True)


class WriteLock:
    """A psql session holding the writers' advisory lock until close(). execute()
    takes the SQLite lock holder's calls (BEGIN/ROLLBACK) and ignores them."""

    def __init__(self, url):
        self.p = subprocess.Popen([os.path.join(PGBIN, "psql"), "-X", "-q", "-A", "-t",
                                   "-d", url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        self.p.stdin.write("SELECT pg_advisory_lock(7428301, hashtext(current_schema()));\n"
                           "\\echo locked\n")
        self.p.stdin.flush()
        while self.p.stdout.readline().strip() != "locked":
            pass

    def execute(self, sql):
        pass

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=10)
