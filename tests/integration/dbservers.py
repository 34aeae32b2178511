"""
Real database servers for the SQL source tests (issue 12): each runs
from a temporary directory, listening on a unix socket there only (no
TCP, no system service), and is stopped at exit whatever happened (the
harness's stop_all).  Servers refuse to run as root: as root, the
directory is given to the servers' own system user and every server
command runs as that user.

  pg = PostgresServer(); pg.start()
  pg.sql("CREATE TABLE …")              # psql as the superuser
  pg.conninfo(user, dbname)             # for a [database] section
  pg.kill(); pg.start()                 # a crash and a restart
  pg.stop()

  my = MariaDBServer(); my.start()      # the same for MariaDB
  my.sql("…"); my.batch(query); my.kill(); my.stop()
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import harness

PG_SUPERUSER = "postgres"
PG_DB = "quarry_test"


def _pg_bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(d.split("/")[-2]))
    if not dirs:
        raise RuntimeError("no PostgreSQL server found (make deps installs "
                           "the postgresql package)")
    return dirs[-1]


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory."""

    def __init__(self):
        self.bindir = _pg_bindir()
        self.dir = tempfile.mkdtemp(prefix="quarry-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.log = os.path.join(self.dir, "server.log")
        os.mkdir(self.sock)
        self.user = None
        if os.getuid() == 0:
            # postgres will not run as root: its own system user owns
            # the directory and runs every server command.
            self.user = "postgres"
            pw = pwd.getpwnam(self.user)
            for p in (self.dir, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self.running = False
        harness._live_stacks.append(self)

    def _run(self, argv, check=True, timeout=120, stdin=None):
        if self.user is not None:
            argv = ["runuser", "-u", self.user, "--"] + argv
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout,
                           cwd=self.dir)
        out = p.stdout.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise RuntimeError("%s exited %d:\n%s" % (
                " ".join(argv), p.returncode, out))
        return out

    def start(self):
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            self._run([os.path.join(self.bindir, "initdb"), "-D", self.data,
                       "-U", PG_SUPERUSER, "--auth=trust",
                       "--encoding=UTF8", "--locale=C.UTF-8"])
            # the superuser over the socket without a password; every
            # other role with one (scram)
            with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
                f.write("local all %s trust\n"
                        "local all all scram-sha-256\n" % PG_SUPERUSER)
            fresh = True
        else:
            fresh = False
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data,
                   "-l", self.log, "-w", "-t", "60", "-o",
                   "-k %s -c listen_addresses='' -c fsync=off" % self.sock,
                   "start"])
        self.running = True
        if fresh:
            self.sql("CREATE DATABASE %s" % PG_DB, db="postgres")

    def sql(self, text, db=PG_DB, user=PG_SUPERUSER):
        """Runs SQL with psql; returns its output (unaligned, no header)."""
        return self._run([os.path.join(self.bindir, "psql"), "-X", "-q",
                          "-h", self.sock, "-U", user, "-d", db,
                          "-v", "ON_ERROR_STOP=1", "-At", "-f", "-"],
                         stdin=text.encode("utf-8"))

    def psql_csv(self, query, db=PG_DB):
        """What psql --csv prints for a query (the values' text form)."""
        return self._run([os.path.join(self.bindir, "psql"), "-X", "-q",
                          "-h", self.sock, "-U", PG_SUPERUSER, "-d", db,
                          "--csv", "-c", query])

    def conninfo(self, user, db=PG_DB):
        return "host=%s user=%s dbname=%s" % (self.sock, user, db)

    def kill(self):
        """Stops the server at once, as a crash would (no checkpoint)."""
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data,
                   "-m", "immediate", "-w", "stop"], check=False)
        self.running = False

    def stop(self):
        try:
            if self.running and os.path.isdir(self.data):
                self._run([os.path.join(self.bindir, "pg_ctl"), "-D",
                           self.data, "-m", "fast", "-w", "-t", "60",
                           "stop"], check=False)
        finally:
            self.running = False
            if self in harness._live_stacks:
                harness._live_stacks.remove(self)
            if not os.environ.get("QUARRY_KEEP_TMP"):
                shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=30):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


MY_DB = "quarry_test"


class MariaDBServer:
    """A MariaDB server in a temporary directory, on a unix socket only."""

    def __init__(self):
        for b in ("/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db",
                  "/usr/bin/mariadb"):
            if not os.path.exists(b):
                raise RuntimeError("no %s (make deps installs "
                                   "mariadb-server and mariadb-client)" % b)
        self.dir = tempfile.mkdtemp(prefix="quarry-my-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        self.log = os.path.join(self.dir, "server.log")
        self.pidfile = os.path.join(self.dir, "mysqld.pid")
        self.user = None
        if os.getuid() == 0:
            # mariadbd will not run as root: --user=mysql, which owns
            # the directory
            self.user = "mysql"
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.proc = None
        harness._live_stacks.append(self)

    def _user_args(self):
        return ["--user=%s" % self.user] if self.user else []

    def start(self):
        fresh = not os.path.isdir(os.path.join(self.data, "mysql"))
        if fresh:
            p = subprocess.run(
                ["mariadb-install-db", "--no-defaults"] + self._user_args() +
                ["--datadir=%s" % self.data,
                 "--auth-root-authentication-method=normal",
                 "--skip-test-db"], stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, timeout=180)
            if p.returncode != 0:
                raise RuntimeError("mariadb-install-db exited %d:\n%s" % (
                    p.returncode, p.stdout.decode("utf-8", "replace")))
        self.proc = subprocess.Popen(
            ["/usr/sbin/mariadbd", "--no-defaults"] + self._user_args() +
            ["--datadir=%s" % self.data, "--socket=%s" % self.socket,
             "--pid-file=%s" % self.pidfile, "--skip-networking",
             "--log-error=%s" % self.log, "--innodb-buffer-pool-size=32M",
             "--character-set-server=utf8mb4",
             "--collation-server=utf8mb4_general_ci"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        if not wait_for(self._answers, 60, 0.2):
            raise RuntimeError("mariadbd did not start:\n" + self.log_tail())
        if fresh:
            self.sql("CREATE DATABASE %s CHARACTER SET utf8mb4" % MY_DB,
                     db=None)

    def _answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError("mariadbd exited %d:\n%s" % (
                self.proc.returncode, self.log_tail()))
        p = subprocess.run(["mariadb", "--no-defaults", "-S", self.socket,
                            "-u", "root", "-e", "SELECT 1"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return p.returncode == 0

    def _client(self, args, stdin=None, db=MY_DB):
        argv = ["mariadb", "--no-defaults", "-S", self.socket, "-u", "root",
                "--default-character-set=utf8mb4"] + args
        if db:
            argv.append(db)
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            raise RuntimeError("mariadb exited %d:\n%s" % (p.returncode,
                                                            out))
        return out

    def sql(self, text, db=MY_DB):
        """Runs SQL as root; returns the output (tab-separated, no
        header)."""
        return self._client(["-N", "-B"], text.encode("utf-8"), db)

    def batch(self, query, db=MY_DB):
        """What mariadb --batch prints for a query (header included)."""
        return self._client(["--batch", "-e", query], None, db)

    def kill(self):
        """SIGKILL: a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def stop(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(60)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(30)
        finally:
            self.proc = None
            if self in harness._live_stacks:
                harness._live_stacks.remove(self)
            if not os.environ.get("QUARRY_KEEP_TMP"):
                shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=30):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


def wait_for(pred, timeout=30, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()
