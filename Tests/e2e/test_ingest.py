#!/usr/bin/env python3
"""test_ingest.py -- rbld ingest end to end: swaks over LMTP, a watched Maildir, stdin.

Starts `rbld ingest --watch --lmtp 127.0.0.1:PORT --maildir DIR` and talks to it with swaks
(`--protocol LMTP`, as a trap MX's lmtp: transport would), drops files into the Maildir as an
MDA does, and checks the store with sqlite3. Loopback only; every wait is bounded.
Source addresses in the messages are public-looking text only: nothing is sent to them.
"""
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Process, Suite, dsn_bounce, expect, free_port, have, rbld_binary, run, tempdir, wait_for  # noqa: E402

ZONE = "bl.example.org"


def dsn(source, ident):
    """A Postfix-style DSN as an LMTP client delivers it (no Return-Path: the envelope has it)."""
    return f"""Received: from mx.bouncer.example (mx.bouncer.example [{source}])
\tby mx.trap.example.net (Postfix) with ESMTP id {ident}
\tfor <trap.one@trap.example.net>; Tue, 11 Mar 2025 09:14:02 +0100 (CET)
""" + dsn_bounce(ident, dot_line=True)


def hits(db, source=None):
    con = sqlite3.connect(db, timeout=30)
    try:
        if source is None:
            return con.execute("SELECT count(*) FROM hits").fetchone()[0]
        parts = bytes(int(p) for p in source.split("."))
        return con.execute("SELECT count(*) FROM hits WHERE family = 4 AND addr = ?", (parts,)).fetchone()[0]
    finally:
        con.close()


def swaks(port, recipients, sender, data_path, *extra):
    argv = ["swaks", "--protocol", "LMTP", "--server", "127.0.0.1", "--port", str(port), "--helo", "mx.trap.example.net",
            "--from", sender, "--to", ",".join(recipients), "--data", "@" + data_path, "--timeout", "40", *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=90)


def final_replies(transcript):
    """The server's replies after the end of DATA (swaks prints ' -> .', then '<-  250 ...' or '<** 451 ...')."""
    lines = transcript.splitlines()
    ends = [i for i, line in enumerate(lines) if line.strip() == "-> ."]
    if not ends:
        return []
    replies = []
    for line in lines[ends[-1] + 1:]:
        if line.startswith(" -> "):
            break
        if line.startswith("<-") or line.startswith("<**"):
            replies.append(line.split(None, 1)[1])
    return replies


def main():
    rbld = rbld_binary()
    suite = Suite("e2e ingest")
    if not have("swaks"):
        suite.check("swaks installed", lambda: expect(False, "swaks missing (scripts/bootstrap)"))
        return suite.finish()
    work = tempdir("rbld-e2e-ingest-")
    db = os.path.join(work, "rbld.sqlite")
    maildir = os.path.join(work, "trap")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
    port = free_port(kind=__import__("socket").SOCK_STREAM)
    log = os.path.join(work, "ingest.log")
    daemon = Process([rbld, "ingest", "--db", db, "--zone", ZONE, "--watch", "--maildir", maildir,
                      "--lmtp", f"127.0.0.1:{port}", "--lmtp-hostname", "trap.test", "--verbose"], log)
    try:
        up = wait_for(lambda: "LMTP listening" in open(log).read(), 30)
        if not up:
            print(open(log).read())
            raise SystemExit("rbld ingest did not come up")

        def lmtp_two_recipients():
            path = os.path.join(work, "dsn1.eml")
            with open(path, "w") as f:
                f.write(dsn("81.2.69.70", "E2E1"))
            result = swaks(port, ["trap.one@trap.example.net", "trap.two@trap.example.net"], "<>", path)
            expect(result.returncode == 0, f"swaks exit {result.returncode}:\n{result.stdout}\n{result.stderr}")
            replies = final_replies(result.stdout)
            expect(len(replies) == 2 and all(r.startswith("250 2.0.0 <trap.") for r in replies),
                   f"one 250 per recipient after DATA: {replies}\n{result.stdout}")
            expect(hits(db, "81.2.69.70") == 1, "the hit is committed when the 250 arrives")

        def lmtp_duplicate():
            path = os.path.join(work, "dsn1.eml")
            result = swaks(port, ["trap.one@trap.example.net"], "<>", path)
            expect(result.returncode == 0, result.stdout)
            expect(any("duplicate" in r for r in final_replies(result.stdout)), result.stdout)
            expect(hits(db, "81.2.69.70") == 1, "the same message twice counts once")

        def lmtp_pipelining():
            path = os.path.join(work, "dsn2.eml")
            with open(path, "w") as f:
                f.write(dsn("81.2.69.71", "E2E2"))
            result = swaks(port, ["trap.one@trap.example.net"], "<>", path, "--pipeline")
            expect(result.returncode == 0, result.stdout)
            expect(hits(db, "81.2.69.71") == 1, result.stdout)

        def lmtp_store_locked():
            path = os.path.join(work, "dsn3.eml")
            with open(path, "w") as f:
                f.write(dsn("81.2.69.72", "E2E3"))
            locker = sqlite3.connect(db, timeout=5, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")
            try:
                # The store's busy timeout (10 s) passes, then every recipient gets 451.
                result = swaks(port, ["trap.one@trap.example.net", "trap.two@trap.example.net"], "<>", path)
            finally:
                locker.execute("ROLLBACK")
                locker.close()
            replies = final_replies(result.stdout)
            expect(len(replies) == 2 and all(r.startswith("451 4.3.0") for r in replies),
                   f"451 per recipient when the store is locked: {replies}\n{result.stdout}")
            expect(hits(db, "81.2.69.72") == 0, "nothing stored")
            # The MTA retries later: now it is stored.
            again = swaks(port, ["trap.one@trap.example.net"], "<>", path)
            expect(again.returncode == 0 and hits(db, "81.2.69.72") == 1, again.stdout)

        def maildir_delivery():
            name = f"{int(time.time())}.M1P1.e2e"
            tmp = os.path.join(maildir, "tmp", name)
            with open(tmp, "w") as f:
                f.write("Return-Path: <>\n" + dsn("81.2.69.73", "E2E4"))
            os.rename(tmp, os.path.join(maildir, "new", name))
            moved = wait_for(lambda: os.path.exists(os.path.join(maildir, "cur", name + ":2,S")), 5)
            expect(moved, "moved to cur/ with :2,S within 5 s: " + open(log).read()[-2000:])
            expect(hits(db, "81.2.69.73") == 1, "recorded before the move")

        def maildir_garbage_quarantined():
            name = f"{int(time.time())}.M2P1.e2e"
            tmp = os.path.join(maildir, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(bytes((i * 37 + 11) % 256 | 0x80 for i in range(3000)))
            os.rename(tmp, os.path.join(maildir, "new", name))
            kept = os.path.join(maildir, ".quarantine", "new", name)
            expect(wait_for(lambda: os.path.exists(kept), 5), "quarantined within 5 s")
            reason = open(os.path.join(maildir, ".quarantine", "reasons", name)).read()
            expect("not a mail message" in reason, reason)
            expect(daemon.alive(), "the daemon keeps running after a bad message")

        def maildir_damaged_copied():
            name = f"{int(time.time())}.M3P1.e2e"
            tmp = os.path.join(maildir, "tmp", name)
            text = "Return-Path: <>\n" + dsn("81.2.69.75", "E2E6").replace("be delivered", "be deliv\0ered", 1)
            with open(tmp, "w") as f:
                f.write(text)
            os.rename(tmp, os.path.join(maildir, "new", name))
            moved = wait_for(lambda: os.path.exists(os.path.join(maildir, "cur", name + ":2,S")), 5)
            expect(moved, "a damaged message is processed and moved to cur/: " + open(log).read()[-2000:])
            expect(hits(db, "81.2.69.75") == 1, "its hit is recorded")
            copy = os.path.join(maildir, ".quarantine", "new", name)
            expect(os.path.exists(copy) and open(copy).read() == text, "a copy in quarantine, byte for byte")
            reason = open(os.path.join(maildir, ".quarantine", "reasons", name)).read()
            expect("damaged input (NUL bytes)" in reason, reason)
            expect("damaged input" in open(log).read(), "a warning in the log")

        def stdin_pipe():
            path = os.path.join(work, "dsn5.eml")
            with open(path, "w") as f:
                f.write("Return-Path: <>\n" + dsn("81.2.69.74", "E2E5"))
            with open(path) as f:
                result = subprocess.run([rbld, "ingest", "--db", db, "--zone", ZONE, "-"], stdin=f, capture_output=True,
                                        text=True, timeout=60)
            expect(result.returncode == 0, f"exit {result.returncode}: {result.stderr}")
            expect(hits(db, "81.2.69.74") == 1, "recorded from stdin")
            with open(path) as f:
                result = subprocess.run([rbld, "ingest", "--db", os.path.join(work, "missing", "x.sqlite"), "-"], stdin=f,
                                        capture_output=True, text=True, timeout=60)
            expect(result.returncode == 75, f"store unavailable: EX_TEMPFAIL, got {result.returncode}")

        suite.check("LMTP (swaks): two recipients, one 250 each after the commit", lmtp_two_recipients)
        suite.check("LMTP (swaks): the same message again counts once", lmtp_duplicate)
        suite.check("LMTP (swaks --pipeline)", lmtp_pipelining)
        suite.check("LMTP (swaks): store locked -> 451 per recipient, retry stores it", lmtp_store_locked)
        suite.check("Maildir: new/ -> store -> cur/:2,S", maildir_delivery)
        suite.check("Maildir: garbage goes to quarantine with its reason", maildir_garbage_quarantined)
        suite.check("Maildir: damaged input (NUL) is stored, moved to cur/ and copied to quarantine", maildir_damaged_copied)
        suite.check("stdin pipe: 0 stored, 75 store unavailable", stdin_pipe)
        suite.check("daemon still alive", lambda: expect(daemon.alive(), "rbld ingest exited"))
    finally:
        code = daemon.stop()
        suite.check("SIGTERM stops cleanly (exit 0)", lambda: expect(code == 0, f"exit code {code}: " + open(log).read()[-2000:]))
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
