"""harness.py -- shared helpers for rbld's end-to-end tests with real programs.

Every process these tests start listens on loopback only and is stopped by the test; every
query loop is bounded. Standard library only.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rbld_binary():
    for candidate in (os.environ.get("RBLD"), os.path.join(ROOT, ".build/release/rbld"),
                      os.path.join(ROOT, ".build/debug/rbld")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit("e2e: no rbld binary (build first or set RBLD)")


def free_port(kind=socket.SOCK_DGRAM):
    """A port free for both UDP and TCP on 127.0.0.1 and ::1 (checked, then released)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                for k in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    with socket.socket(family, k) as t:
                        t.bind((addr, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


class Process:
    """A child process on loopback, stopped (TERM, then KILL) by stop()."""

    def __init__(self, argv, log_path, env=None):
        self.argv = argv
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def alive(self):
        return self.proc.poll() is None


def run(argv, check=True, timeout=120, input=None):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


class Dig:
    """One dig answer, parsed: status, flags, sections as lists of (name, ttl, class, type, data)."""

    def __init__(self, text):
        self.text = text
        m = re.search(r"status: (\w+)", text)
        self.status = m.group(1) if m else None
        m = re.search(r";; flags: ([a-z ]*);", text)
        self.flags = set(m.group(1).split()) if m else set()
        self.opt_udp = None
        m = re.search(r"; EDNS: version: (\d+), flags:[^;]*; udp: (\d+)", text)
        if m:
            self.edns_version, self.opt_udp = int(m.group(1)), int(m.group(2))
        self.question = re.findall(r"^;(\S+)\s+IN\s+(\S+)\s*$", text, re.M)
        self.answer = self._section("ANSWER")
        self.authority = self._section("AUTHORITY")
        self.additional = self._section("ADDITIONAL")

    def _section(self, name):
        m = re.search(rf";; {name} SECTION:\n(.*?)(?:\n\n|\Z)", self.text, re.S)
        rows = []
        if m:
            for line in m.group(1).splitlines():
                f = line.split(None, 4)
                if len(f) == 5:
                    rows.append((f[0], int(f[1]), f[2], f[3], f[4]))
        return rows

    def txt(self):
        return ["".join(re.findall(r'"((?:[^"\\]|\\.)*)"', r[4])) for r in self.answer if r[3] == "TXT"]

    def __repr__(self):
        return self.text


def dig(port, name, qtype="A", *options, server="127.0.0.1"):
    argv = ["dig", f"@{server}", "-p", str(port), "+tries=1", "+time=3", "+norecurse", name, qtype, *options]
    return Dig(run(argv, check=False, timeout=30).stdout)


def wait_for(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Suite:
    """Runs named test functions and prints 'N passed, N failed' at the end."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, label, fn, *args):
        try:
            fn(*args)
            self.passed += 1
            print(f"ok   {label}", flush=True)
        except Exception as error:  # a failed expectation or a crash: both are failures
            self.failed += 1
            print(f"FAIL {label}: {error}", flush=True)
            if os.environ.get("E2E_VERBOSE"):
                traceback.print_exc()

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def tempdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def have(program):
    return shutil.which(program) is not None


# ---------------------------------------------------------------------------------------
# Mail stack helpers (test_mail.py): Postfix instances, unbound, private mount namespaces.
# ---------------------------------------------------------------------------------------

def free_tcp_port(host="127.0.0.1"):
    """A TCP port free on `host` (checked, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def can_bind(host, port, kind=socket.SOCK_DGRAM):
    try:
        with socket.socket(socket.AF_INET, kind) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
        return True
    except OSError:
        return False


def smtp_greets(host, port, timeout=2):
    """Whether an SMTP/LMTP server on host:port answers with a 220 greeting."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            greeting = s.recv(512)
            try:
                s.sendall(b"QUIT\r\n")
            except OSError:
                pass
            return greeting.startswith(b"220")
    except OSError:
        return False


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1]


def process_group_members(pgid):
    """PIDs whose process group is `pgid` (from /proc; Linux)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


# The services a Postfix instance needs to receive mail over SMTP and relay it over LMTP/SMTP,
# none chrooted (the instance lives in a temporary directory, not /var/spool/postfix), with
# logging through postlogd to maillog_file (no syslog needed).
POSTFIX_MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
{listen} inet  n       -       n       -       -       smtpd{smtpd_args}
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PostfixInstance:
    """A private Postfix (config, queue, data and log under `root`) listening on host:port.

    The master runs in the foreground as this test's child (`master -c DIR -s`), optionally
    inside `unshare --mount` with a private file bind-mounted over /etc/resolv.conf, so that
    its smtpd resolves through a resolver of the test's choosing; the host's file is never
    touched. stop() ends the master and waits for its process group (every Postfix daemon
    it started) to be gone.
    """

    def __init__(self, root, name, host, port, settings, smtpd_args="", master_cf_extra=""):
        self.root = os.path.join(root, name)
        self.name = name
        self.host, self.port = host, port
        self.config_dir = os.path.join(self.root, "etc")
        self.queue_dir = os.path.join(self.root, "queue")
        self.data_dir = os.path.join(self.root, "data")
        self.maillog = os.path.join(self.root, "maillog")
        self.process = None
        for d in (self.config_dir, self.queue_dir, self.data_dir):
            os.makedirs(d)
        for d in (root, self.root):  # Postfix daemons drop to the postfix user: let it traverse.
            os.chmod(d, 0o755)
        shutil.chown(self.data_dir, user="postfix")
        main = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.1/32",
            "mydestination": "",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "smtputf8_enable": "no",
            "biff": "no",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.root,
        }
        main.update(settings)
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            for key, value in main.items():
                f.write(f"{key} = {value}\n")
        with open(os.path.join(self.config_dir, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER_CF.format(listen=f"{host}:{port}", smtpd_args=smtpd_args))
            f.write(master_cf_extra)

    def path(self, name):
        return os.path.join(self.config_dir, name)

    def check(self):
        """`postfix check`: creates the queue directories with their owners; fails on errors."""
        result = run(["postfix", "-c", self.config_dir, "check"], check=False, timeout=60)
        if result.returncode != 0:
            raise AssertionError(f"postfix check ({self.name}): {result.stdout}{result.stderr}")

    def start(self, resolv_conf=None, timeout=30):
        self.check()
        master = os.path.join(run(["postconf", "-c", self.config_dir, "-h", "daemon_directory"]).stdout.strip(), "master")
        argv = [master, "-c", self.config_dir, "-s"]
        if resolv_conf:
            # unshare execs sh, sh execs master: the child's pid is the master's.
            argv = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                    'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv_conf, *argv]
        self.process = Process(argv, os.path.join(self.root, "master.out"))
        if not wait_for(lambda: smtp_greets(self.host, self.port) or not self.process.alive(), timeout, 0.1) \
                or not self.process.alive():
            raise AssertionError(f"postfix {self.name} did not start:\n{self.log_tail()}")

    @property
    def pid(self):
        return self.process.proc.pid if self.process else None

    def log(self):
        parts = []
        for path in (os.path.join(self.root, "master.out"), self.maillog):
            try:
                with open(path, errors="replace") as f:
                    parts.append(f.read())
            except OSError:
                pass
        return "".join(parts)

    def log_tail(self, n=3000):
        return self.log()[-n:]

    def wait_log(self, pattern, timeout):
        """The first match of `pattern` in the mail log within `timeout` seconds, else None."""
        found = []

        def look():
            m = re.search(pattern, self.log(), re.M)
            if m:
                found.append(m)
            return bool(m)
        wait_for(look, timeout, 0.02)
        return found[0] if found else None

    def stop(self, timeout=15):
        if self.process is None:
            return None
        pgid = self.process.proc.pid  # the master is a session and process group leader
        code = self.process.stop(timeout)
        if not wait_for(lambda: not process_group_members(pgid), timeout, 0.1):
            for pid in process_group_members(pgid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            wait_for(lambda: not process_group_members(pgid), 5, 0.1)
        return code


class Unbound:
    """unbound in the foreground on host:53 with stub zones pointing at rbld, short caches."""

    def __init__(self, root, host, stubs, port=53):
        self.root = os.path.join(root, "unbound")
        os.makedirs(self.root)
        self.host, self.port = host, port
        self.conf = os.path.join(self.root, "unbound.conf")
        lines = ["server:",
                 f"    interface: {host}", f"    port: {port}", "    do-ip6: no", "    do-daemonize: no",
                 '    chroot: ""', '    username: ""', f'    directory: "{self.root}"', '    pidfile: ""',
                 '    logfile: ""', "    use-syslog: no", "    verbosity: 1", "    num-threads: 1",
                 "    access-control: 127.0.0.0/8 allow", "    do-not-query-localhost: no",
                 '    module-config: "iterator"', "    qname-minimisation: no",
                 "    cache-max-ttl: 1", "    cache-max-negative-ttl: 1", "    prefetch: no"]
        for zone in stubs:
            lines.append(f'    domain-insecure: "{zone}"')
        for zone, (addr, zport) in stubs.items():
            lines += ["stub-zone:", f'    name: "{zone}"', f"    stub-addr: {addr}@{zport}"]
        lines += ["remote-control:", "    control-enable: yes",
                  f'    control-interface: "{os.path.join(self.root, "control.sock")}"', "    control-use-cert: no"]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.process = None

    def start(self, timeout=20):
        run(["unbound-checkconf", self.conf])
        self.process = Process(["unbound", "-d", "-c", self.conf], os.path.join(self.root, "unbound.out"))
        up = wait_for(lambda: not self.process.alive() or
                      dig(self.port, "localhost", "A", server=self.host).status == "NOERROR", timeout, 0.1)
        if not up or not self.process.alive():
            raise AssertionError("unbound did not start: " + open(os.path.join(self.root, "unbound.out")).read()[-2000:])

    def control(self, *args):
        return run(["unbound-control", "-c", self.conf, *args], check=False, timeout=30)

    def stop(self):
        return self.process.stop() if self.process else None


def dsn_bounce(ident, trap="trap.one@trap.example.net", dot_line=False):
    """A Postfix-style DSN (RFC 3464) for `trap`, headers from Date: on; callers add the
    Received header a trap MX writes, or let a real one write it. `dot_line` adds a body
    line starting with a dot (SMTP/LMTP clients stuff it, rbld must unstuff it)."""
    dot = ".a line that starts with a dot (swaks stuffs it, rbld unstuffs it)\n" if dot_line else ""
    return f"""Date: Tue, 11 Mar 2025 09:14:01 +0100
From: MAILER-DAEMON@bouncer.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {trap}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b-{ident}"
Message-Id: <{ident}@bouncer.example>

--b-{ident}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.bouncer.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.
{dot}
--b-{ident}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.bouncer.example

Final-Recipient: rfc822; nobody@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: User unknown

--b-{ident}
Content-Type: text/rfc822-headers

From: {trap}
To: nobody@example.org
Subject: cheap watches {ident}

--b-{ident}--
"""
