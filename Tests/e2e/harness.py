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
