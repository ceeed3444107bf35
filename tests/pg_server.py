#!/usr/bin/env python3
"""A throw-away PostgreSQL server for tests and benchmarks: initdb into a folder, pg_ctl start on a
port of its own on 127.0.0.1 (password authentication over TCP), psql for queries, stop.

As root the server runs as the postgres user (PostgreSQL refuses to run as root). The binaries come from
Debian's postgresql-15 (/usr/lib/postgresql/15/bin), installed by scripts/install-deps.sh.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile

PASSWORD = "s3cret-Tf-pw"
USER = "tickforge"


def fail(msg):
    sys.exit("FAIL " + msg)


def pg_bin(name):
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    path = shutil.which(name)
    if path is None:
        fail(f"{name} not found: install postgresql-15 (scripts/install-deps.sh)")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reachable_by(uid, path):
    """Whether every folder above path lets the other users through (the server runs as postgres)."""
    path = os.path.abspath(path)
    while True:
        st = os.stat(path)
        if st.st_uid != uid and not st.st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def make_root(prefix):
    """A fresh folder for a server. As root, one the postgres user can reach: TMPDIR may sit in a private
    folder (CI's did: initdb could not read its password file), so /tmp and /var/tmp are tried after it."""
    if os.geteuid() != 0:
        return tempfile.mkdtemp(prefix=prefix)
    uid = pwd.getpwnam("postgres").pw_uid
    for base in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
        if os.path.isdir(base) and _reachable_by(uid, base):
            root = tempfile.mkdtemp(prefix=prefix, dir=base)
            os.chmod(root, 0o755)
            return root
    fail("no temporary folder the postgres user can reach (tried TMPDIR, /tmp, /var/tmp)")


class Server:
    """A throw-away PostgreSQL server. As root, the server runs as the postgres user (it refuses root)."""

    def __init__(self, root):
        self.root = root
        self.data = os.path.join(root, "data")
        self.sock = os.path.join(root, "sock")
        self.log = os.path.join(root, "server.log")
        os.makedirs(self.sock)
        # The C locale whatever the caller's: initdb refuses a LANG the machine has not generated
        # ("invalid locale settings"), and the tests read the server's messages in English.
        self.env = dict(os.environ, LC_ALL="C", LANG="C")
        self.user = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for p in (root, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            # setuid in the child (no PAM session, unlike runuser), without root's groups.
            self.user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
            self.env["HOME"] = pw.pw_dir
        pwfile = os.path.join(root, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        if self.user:
            os.chown(pwfile, self.user["user"], -1)
        self.run([pg_bin("initdb"), "-D", self.data, "-U", USER, "--auth-local=trust", "--auth-host=scram-sha-256",
                  "--pwfile", pwfile, "-E", "UTF8", "--locale=C", "--no-instructions"])
        self.port = None
        self.start()

    def run(self, cmd, check=True):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=self.env, cwd=self.root, **self.user)
        if check and r.returncode != 0:
            log = open(self.log).read() if os.path.exists(self.log) else ""
            fail(f"{' '.join(cmd)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}\n{log}")
        return r

    def start(self):
        if self.port is None:
            self.port = free_port()
        # -w waits until the server accepts connections (readiness, not a sleep).
        self.run([pg_bin("pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "120", "-o",
                  f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])

    def stop(self):
        self.run([pg_bin("pg_ctl"), "-D", self.data, "-w", "-t", "120", "-m", "fast", "stop"], check=False)

    def url(self, db="tickforge_test", password=False):
        cred = f"{USER}:{PASSWORD}" if password else USER
        return f"postgresql://{cred}@127.0.0.1:{self.port}/{db}"

    def sql(self, query, db="tickforge_test"):
        env = dict(os.environ, PGPASSWORD=PASSWORD, LC_ALL="C", LANG="C")
        r = subprocess.run(["psql", self.url(db), "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query],
                           capture_output=True, text=True, env=env, timeout=120)
        if r.returncode != 0:
            fail(f"psql {query!r}: {r.stderr}")
        return [line.split("\t") for line in r.stdout.splitlines() if line != ""]
