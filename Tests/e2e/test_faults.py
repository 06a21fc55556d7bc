#!/usr/bin/env python3
"""test_faults.py -- rbld when its store fails under it: a full disk, a lock held by another
process, a corrupt file, a file deleted or restored under a running server, and kill -9
during publication and snapshot-cache writes.

Real processes on loopback (rbld serve, rbld ingest with LMTP, the CLI, swaks). The full
disk is a small tmpfs mounted for the test (root needed; the case is skipped, saying so,
when mount is not permitted) and unmounted at the end. Every loop and wait is bounded.
docs/FAULTS.md describes the behaviour these cases check.
"""
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Process, Suite, dig, expect, free_port, have, rbld_binary, run, tempdir, wait_for  # noqa: E402
from test_ingest import dsn, final_replies, hits, swaks  # noqa: E402

ZONE = "bl.example.org"
LISTED = "198.51.100.7"
DATA = """$SOA 3600 ns1.example.org hostmaster.example.org 0 600 300 86400 60
$NS 3600 ns1.example.org
:127.0.0.2:Backscatter from $
198.51.100.7
"""


def rev4(ip):
    return ".".join(reversed(ip.split("."))) + "." + ZONE


def answer(port, ip):
    """'listed' when `ip` gets a listing code (127.0.0.x), None for NXDOMAIN, else 'error'."""
    reply = dig(port, rev4(ip))
    if reply.status == "NOERROR" and reply.answer:
        return "listed" if reply.answer[0][4].startswith("127.0.0.") else reply.answer[0][4]
    return None if reply.status == "NXDOMAIN" else "error"


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def serve(rbld, work, name, db, extra_yaml="", flags_only=False):
    """rbld serve with a configuration file of its own: DNS and metrics ports, 100 ms polls.
    `flags_only`: the same with flags and no file, so that no zone settings are written to
    the store at start (a snapshot cache made by `rbld import` stays current)."""
    port, metrics_port = free_port(), free_port(socket.SOCK_STREAM)
    config = write(os.path.join(work, f"{name}.yaml"), f"""db: {db}
log-level: info
dns:
  listen: ["127.0.0.1:{port}"]
  poll-interval: 100ms
{extra_yaml}metrics:
  listen: 127.0.0.1:{metrics_port}
zones:
  - name: {ZONE}
""")
    log = os.path.join(work, f"{name}.log")
    argv = [rbld, "serve", "--config", config, "--db", db]
    if flags_only:
        argv = [rbld, "serve", "--db", db, "--zone", ZONE, "--listen", f"127.0.0.1:{port}",
                "--metrics", f"127.0.0.1:{metrics_port}", "--poll-interval", "0.1"]
    server = Process(argv, log)
    server.port, server.metrics_port, server.log_path, server.config = port, metrics_port, log, config
    if not wait_for(lambda: not server.alive() or answer(port, "127.0.0.2") == "listed", 60, 0.1) or not server.alive():
        server.stop()
        raise AssertionError(f"rbld serve ({name}) did not come up: {read(log)[-2000:]}")
    return server


def rbld_cli(rbld, *args, db, stdin=None, timeout=120):
    argv = [rbld, *args[:1], "--db", db, "--zone", ZONE, *args[1:]]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=stdin)


def make_store(rbld, work, db):
    run([rbld, "import", "--format", "rbldnsd", "--db", db, "--zone", ZONE, write(os.path.join(work, "base.zone"), DATA)])


def listed_count(rbld, db):
    """Entries the zone serves, as `rbld export --format plain` to standard output lists them."""
    result = rbld_cli(rbld, "export", "--format", "csv", "-", db=db)
    expect(result.returncode == 0, f"export: {result.returncode} {result.stderr}")
    return len([line for line in result.stdout.splitlines() if line and line[0].isdigit()])


def intact(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def message(work, name, source, ident):
    return write(os.path.join(work, name), "Return-Path: <>\n" + dsn(source, ident))


# ---------------------------------------------------------------------------------------
# 1. Disk full
# ---------------------------------------------------------------------------------------

def free_bytes(path):
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def fill(mount, leave=0):
    """A filler file that leaves about `leave` bytes free on the tmpfs at `mount`. None by
    default: the snapshot cache of a small zone is one page, and a few KB would take it."""
    filler = os.path.join(mount, "filler")
    size = free_bytes(mount) - leave
    run(["fallocate", "-l", str(max(0, size)), filler])
    # What fallocate could not take (block rounding), dd takes.
    if free_bytes(mount) > leave + 4096:
        run(["dd", "if=/dev/zero", f"of={filler}", "bs=1024", f"seek={size // 1024}",
             f"count={(free_bytes(mount) - leave) // 1024}", "conv=notrunc"], check=False)
    return filler


def disk_full(rbld, work):
    mount = os.path.join(work, "tmpfs")
    os.makedirs(mount)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mount], capture_output=True, text=True)
    if mounted.returncode != 0:
        # CI runs as root: there a missing mount is a failure, not a case passed unseen.
        expect(os.environ.get("CI") != "true", f"cannot mount a tmpfs in CI: {mounted.stderr.strip()}")
        print(f"     SKIPPED: cannot mount a tmpfs ({mounted.stderr.strip()}); the disk-full case needs root", flush=True)
        return
    daemons = []
    try:
        db = os.path.join(mount, "rbld.sqlite")
        make_store(rbld, work, db)
        maildir = os.path.join(mount, "trap")
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(maildir, sub))
        lmtp_port = free_port(socket.SOCK_STREAM)
        lmtp_log = os.path.join(work, "full-lmtp.log")
        lmtp = Process([rbld, "ingest", "--db", db, "--zone", ZONE, "--lmtp", f"127.0.0.1:{lmtp_port}",
                        "--lmtp-hostname", "trap.test"], lmtp_log)
        daemons.append(lmtp)
        expect(wait_for(lambda: "LMTP listening" in read(lmtp_log), 30), f"LMTP did not start: {read(lmtp_log)}")
        server = serve(rbld, work, "full-serve", db, "  snapshot-cache-interval: 2s\n")
        daemons.append(server)
        stdin_msg = message(work, "full-stdin.eml", "81.2.69.80", "FULL1")
        lmtp_msg = message(work, "full-lmtp.eml", "81.2.69.81", "FULL2")
        maildir_name = "1700000000.M1P1.full"
        message(os.path.join(maildir, "new"), maildir_name, "81.2.69.82", "FULL3")
        import_file = write(os.path.join(work, "full-import.txt"),
                            "".join(f"81.3.0.{n}\n" for n in range(1, 200)) + "".join(f"2a01:4f8:{n:x}::/48\n" for n in range(3000)))
        export_path = os.path.join(mount, "export.zone")
        served_before = listed_count(rbld, db)

        # A change the server must write to its snapshot cache, then the disk fills before
        # the next cache write (every 2 s). Retried when the cache write won the race.
        for attempt in range(3):
            run([rbld, "list", "--db", db, "--zone", ZONE, f"81.2.70.{10 + attempt}", "--reason", "fault test"])
            filler = fill(mount)
            if wait_for(lambda: "snapshot cache not saved" in read(server.log_path), 6, 0.1):
                break
            os.unlink(filler)
        expect("snapshot cache not saved" in read(server.log_path),
               f"the server logs a failed snapshot-cache write: {read(server.log_path)[-2000:]}")
        print(f"     {free_bytes(mount)} bytes free on the tmpfs", flush=True)
        expect(answer(server.port, f"81.2.70.{10 + attempt}") == "listed" and answer(server.port, LISTED) == "listed",
               "the server keeps serving with the disk full")

        with open(stdin_msg) as f:
            piped = rbld_cli(rbld, "ingest", "-", db=db, stdin=f)
        expect(piped.returncode == 75, f"stdin ingest on a full disk: exit 75, got {piped.returncode}: {piped.stderr}")
        expect(db in piped.stderr, f"the error names the store: {piped.stderr}")
        expect(hits(db, "81.2.69.80") == 0, "nothing stored from stdin")

        walked = rbld_cli(rbld, "ingest", "--maildir", maildir, db=db)
        expect(walked.returncode != 0, f"Maildir ingest on a full disk fails: {walked.returncode} {walked.stderr}")
        expect(os.path.exists(os.path.join(maildir, "new", maildir_name)), "the message stays in new/")
        expect(not os.listdir(os.path.join(maildir, "cur")), f"nothing in cur/: {os.listdir(os.path.join(maildir, 'cur'))}")

        sent = swaks(lmtp_port, ["trap.one@trap.example.net"], "<>", lmtp_msg)
        replies = final_replies(sent.stdout)
        expect(len(replies) == 1 and replies[0].startswith("4"), f"LMTP answers 4xx on a full disk: {replies}\n{sent.stdout[-1500:]}")

        imported = rbld_cli(rbld, "import", "--merge", import_file, db=db)
        expect(imported.returncode in (74, 75), f"import on a full disk: exit 74 or 75, got {imported.returncode}: {imported.stderr}")
        expect(db in imported.stderr, f"the import error names the store: {imported.stderr}")
        expect(listed_count(rbld, db) == served_before + attempt + 1, "no part of the import is stored")

        exported = rbld_cli(rbld, "export", "--format", "rbldnsd", export_path, db=db)
        expect(exported.returncode != 0, f"export to a full disk fails: {exported.returncode}")
        expect(export_path in exported.stderr or "export.zone" in exported.stderr, f"names the file: {exported.stderr}")
        leftovers = [name for name in os.listdir(mount) if name.startswith("export.zone")]
        expect(not leftovers, f"no partial export left: {leftovers}")

        # Space again: every retry is processed, each message exactly once.
        os.unlink(filler)
        with open(stdin_msg) as f:
            piped = rbld_cli(rbld, "ingest", "-", db=db, stdin=f)
        expect(piped.returncode == 0, f"stdin ingest with space: {piped.returncode} {piped.stderr}")
        walked = rbld_cli(rbld, "ingest", "--maildir", maildir, db=db)
        expect(walked.returncode == 0, f"Maildir ingest with space: {walked.returncode} {walked.stderr}")
        expect(os.listdir(os.path.join(maildir, "cur")) == [maildir_name + ":2,S"], os.listdir(os.path.join(maildir, "cur")))
        sent = swaks(lmtp_port, ["trap.one@trap.example.net"], "<>", lmtp_msg)
        expect([r[:3] for r in final_replies(sent.stdout)] == ["250"], sent.stdout[-1500:])
        sent = swaks(lmtp_port, ["trap.one@trap.example.net"], "<>", lmtp_msg)  # the MTA's retry
        imported = rbld_cli(rbld, "import", "--merge", import_file, db=db)
        expect(imported.returncode == 0, f"import with space: {imported.stderr}")
        after = listed_count(rbld, db)
        # The entries before, the listings of the cache attempts, the three sources of the
        # messages (one hit lists), and the whole file.
        expect(after == served_before + attempt + 1 + 3 + 199 + 3000, f"the whole import is stored: {served_before} -> {after}")
        exported = rbld_cli(rbld, "export", "--format", "rbldnsd", export_path, db=db)
        expect(exported.returncode == 0 and os.path.getsize(export_path) > 0, exported.stderr)
        counts = [hits(db, source) for source in ("81.2.69.80", "81.2.69.81", "81.2.69.82")]
        expect(counts == [1, 1, 1], f"each message counted once (stdin, LMTP, Maildir): {counts}")
        expect(wait_for(lambda: "snapshot cache saved" in read(server.log_path).split("snapshot cache not saved", 1)[-1], 6, 0.1),
               "the server writes its snapshot cache once there is space")
        expect(wait_for(lambda: answer(server.port, "81.3.0.7") == "listed", 5), "the import is served")
        for daemon in daemons:
            expect(daemon.alive(), f"{daemon.argv[1]} exited")
    finally:
        codes = [daemon.stop() for daemon in daemons]
        subprocess.run(["umount", "-l", mount], capture_output=True)
    expect(codes == [0, 0], f"SIGTERM stops both cleanly: {codes}")


# ---------------------------------------------------------------------------------------
# 2. A lock held longer than the busy timeout
# ---------------------------------------------------------------------------------------

def store_locked(rbld, work):
    db = os.path.join(work, "locked.sqlite")
    make_store(rbld, work, db)
    server = serve(rbld, work, "locked-serve", db)
    try:
        locker = sqlite3.connect(db, timeout=5, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        locked_at = time.monotonic()
        try:
            listing = subprocess.Popen([rbld, "list", "--db", db, "--zone", ZONE, "81.2.70.20", "--reason", "locked"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            importing = subprocess.Popen([rbld, "import", "--merge", "--db", db, "--zone", ZONE,
                                          write(os.path.join(work, "locked.txt"), "81.3.1.44\n")],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            asked = answered = 0
            while listing.poll() is None and time.monotonic() - locked_at < 30:
                asked += 1
                answered += answer(server.port, LISTED) == "listed"
                time.sleep(0.2)
            _, list_err = listing.communicate(timeout=30)
            _, import_err = importing.communicate(timeout=30)
            print(f"     lock held {time.monotonic() - locked_at:.1f} s; server answered {answered}/{asked}", flush=True)
            expect(listing.returncode == 75 and db in list_err and "locked" in list_err,
                   f"rbld list: exit 75 naming the store, got {listing.returncode}: {list_err}")
            expect(importing.returncode == 75 and db in import_err,
                   f"rbld import: exit 75 naming the store, got {importing.returncode}: {import_err}")
            expect(asked > 10 and answered == asked, f"the server answered {answered} of {asked} while the store was locked")
            # WAL readers are not blocked by a writer's lock: publication reads on.
            expect(metric(server.metrics_port, "rbld_publication_last_read_timestamp_seconds") >= time.time() - 3,
                   "publication still reads the store")
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        run([rbld, "list", "--db", db, "--zone", ZONE, "81.2.70.21", "--reason", "after the lock"])
        expect(wait_for(lambda: answer(server.port, "81.2.70.21") == "listed", 3), "a change after the lock is served")
        expect(server.alive(), "rbld serve exited")
    finally:
        code = server.stop()
    expect(code == 0, f"rbld serve exit {code}")


# ---------------------------------------------------------------------------------------
# 3. A corrupt store
# ---------------------------------------------------------------------------------------

def corrupt_store(rbld, work):
    db = os.path.join(work, "corrupt.sqlite")
    make_store(rbld, work, db)
    # Started from the cache `rbld import` wrote, the server writes nothing: every page it
    # reads comes from the main file (none from the write-ahead log).
    server = serve(rbld, work, "corrupt-serve", db, flags_only=True)
    try:
        errors_before = metric(server.metrics_port, "rbld_publication_store_errors_total")
        page = 4096
        size = os.path.getsize(db)
        rng = random.Random(3)
        with open(db, "r+b") as f:  # every page but the first (the header stays: an SQLite file)
            for offset in range(page, size, page):
                f.seek(offset)
                f.write(bytes(rng.randrange(256) for _ in range(page)))
        # Another process commits a change to page 1 only (the header): the server's page
        # cache is invalidated, and its next look at the store reads damaged pages.
        other = sqlite3.connect(db, isolation_level=None)
        version = other.execute("PRAGMA user_version").fetchone()[0]
        other.execute(f"PRAGMA user_version = {version}")
        other.close()
        for argv in (["show", LISTED], ["list", "81.2.70.30", "--reason", "corrupt"]):
            result = rbld_cli(rbld, *argv, db=db)
            expect(result.returncode in (65, 74) and db in result.stderr and
                   re.search(r"corrupt|malformed|not an SQLite", result.stderr),
                   f"rbld {argv[0]} on a corrupt store: {result.returncode} {result.stderr}")
        expect(wait_for(lambda: metric(server.metrics_port, "rbld_publication_store_errors_total") > errors_before, 5),
               f"the server counts the failed reads: {read(server.log_path)[-1500:]}")
        expect("still serving the last good snapshot" in read(server.log_path), read(server.log_path)[-1500:])
        expect(answer(server.port, LISTED) == "listed", "the last good snapshot is served")
        expect(server.alive(), "rbld serve exited")
    finally:
        code = server.stop()
    expect(code == 0, f"rbld serve exit {code}")
    started = subprocess.run([rbld, "serve", "--db", db, "--zone", ZONE, "--listen", f"127.0.0.1:{free_port()}"],
                             capture_output=True, text=True, timeout=60)
    expect(started.returncode in (65, 74) and db in started.stderr and re.search(r"corrupt|malformed", started.stderr),
           f"a restart on the corrupt store fails clearly: {started.returncode} {started.stderr[-1000:]}")


# ---------------------------------------------------------------------------------------
# 4. The store deleted, then restored, under a running server
# ---------------------------------------------------------------------------------------

def backup(source_path, target_path):
    """An online backup, both connections closed after (an open one would keep the old
    file's -wal and -shm files in use: docs/FAULTS.md)."""
    source, target = sqlite3.connect(source_path), sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def store_replaced(rbld, work):
    db = os.path.join(work, "replaced.sqlite")
    make_store(rbld, work, db)
    saved = os.path.join(work, "backup.sqlite")
    backup(db, saved)
    run([rbld, "list", "--db", db, "--zone", ZONE, "81.2.70.40", "--reason", "after the backup"])
    server = serve(rbld, work, "replaced-serve", db)
    try:
        expect(answer(server.port, "81.2.70.40") == "listed", "listed before the deletion")
        errors_before = metric(server.metrics_port, "rbld_publication_store_errors_total")
        os.unlink(db)
        expect(wait_for(lambda: metric(server.metrics_port, "rbld_publication_store_errors_total") > errors_before, 3),
               f"the missing store is counted as a failed read: {read(server.log_path)[-1500:]}")
        expect("still serving the last good snapshot" in read(server.log_path), read(server.log_path)[-1500:])
        expect(answer(server.port, "81.2.70.40") == "listed" and answer(server.port, LISTED) == "listed",
               "the last good snapshot is served while the store is gone")
        expect(not os.path.exists(db), "the server does not create an empty store at the path")
        # Restore from the backup as an operator would: copy beside it, rename into place.
        shutil.copyfile(saved, db + ".restore")
        os.rename(db + ".restore", db)
        expect(wait_for(lambda: answer(server.port, "81.2.70.40") is None, 5),
               f"the restored store (without the later listing) is served: {read(server.log_path)[-1500:]}")
        expect(answer(server.port, LISTED) == "listed", "the backup's listings are served")
        run([rbld, "list", "--db", db, "--zone", ZONE, "81.2.70.41", "--reason", "after the restore"])
        expect(wait_for(lambda: answer(server.port, "81.2.70.41") == "listed", 3), "changes to the restored store are served")
        # Replaced by rename, without a deletion first.
        backup(db, saved)
        run([rbld, "list", "--db", saved, "--zone", ZONE, "81.2.70.42", "--reason", "in the new file"])
        os.rename(saved, db)
        expect(wait_for(lambda: answer(server.port, "81.2.70.42") == "listed", 5),
               f"a store renamed over the path is picked up: {read(server.log_path)[-1500:]}")
        expect(re.search(r"opened again", read(server.log_path)), "the log says the store was opened again")
        expect(server.alive(), "rbld serve exited")
    finally:
        code = server.stop()
    expect(code == 0, f"rbld serve exit {code}: {read(server.log_path)[-1500:]}")
    expect(intact(db), "the restored store is intact")


def lookup_status(port, ip):
    """The HTTP status of the web side's API lookup of `ip` (0 when it cannot be reached)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/lookup/{ip}", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def lmtp_delivered(port, path):
    """Delivers `path` over LMTP until it is accepted (250), at most 10 tries a second apart;
    the replies seen on the way (4xx while the store is unavailable)."""
    replies = []
    for _ in range(10):
        result = swaks(port, ["trap.one@trap.example.net"], "", path)
        replies.append(" ".join(final_replies(result.stdout)) or f"swaks exit {result.returncode}")
        if replies[-1].startswith("250"):
            break
        time.sleep(1)
    return replies


def run_store_replaced(rbld, work):
    """`rbld run` with LMTP, a Maildir and the web side: a store restored under it gets the
    hits that arrive after the restore, none of them goes into the old file."""
    db = os.path.join(work, "run-replaced.sqlite")
    make_store(rbld, work, db)
    saved = os.path.join(work, "run-backup.sqlite")
    backup(db, saved)
    maildir = os.path.join(work, "run-trap")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
    dns_port, lmtp_port, web_port = free_port(), free_port(socket.SOCK_STREAM), free_port(socket.SOCK_STREAM)
    config = write(os.path.join(work, "run-replaced.yaml"), f"""db: {db}
log-level: info
dns:
  listen: ["127.0.0.1:{dns_port}"]
  poll-interval: 100ms
ingest:
  maildirs: ["{maildir}"]
  lmtp: 127.0.0.1:{lmtp_port}
  trust-loopback: true
web:
  listen: 127.0.0.1:{web_port}
zones:
  - name: {ZONE}
""")
    log = os.path.join(work, "run-replaced.log")
    server = Process([rbld, "run", "--config", config], log)
    try:
        expect(wait_for(lambda: not server.alive() or (answer(dns_port, LISTED) == "listed"
                                                        and lookup_status(web_port, LISTED) == 200), 60, 0.2),
               f"rbld run did not come up: {read(log)[-2000:]}")
        before = lmtp_delivered(lmtp_port, message(work, "run-before.eml", "81.2.69.90", "RUN1"))
        expect(before[-1].startswith("250") and hits(db, "81.2.69.90") == 1, f"LMTP before the restore: {before}")

        shutil.copyfile(saved, db + ".restore")
        os.rename(db + ".restore", db)
        after = lmtp_delivered(lmtp_port, message(work, "run-after.eml", "81.2.69.91", "RUN2"))
        expect(after[-1].startswith("250"), f"LMTP after the restore is accepted once the new file is open: {after}; "
               f"{read(log)[-2000:]}")
        expect(all(reply.startswith(("250", "4")) for reply in after), f"only 4xx (retry) before it: {after}")
        expect(hits(db, "81.2.69.91") == 1, "the LMTP hit is in the restored file")
        expect(hits(db, "81.2.69.90") == 0, "the restored file is the backup, without the hit made before")

        # Delivered as an MDA does: written in tmp/, then renamed into new/ whole.
        os.rename(message(os.path.join(maildir, "tmp"), "1700000001.M1P1.run", "81.2.69.92", "RUN3"),
                  os.path.join(maildir, "new", "1700000001.M1P1.run"))
        expect(wait_for(lambda: hits(db, "81.2.69.92") == 1, 15, 0.2),
               f"the Maildir hit is in the restored file: {read(log)[-2000:]}")
        expect(not os.listdir(os.path.join(maildir, "new")), "the Maildir message was taken from new/")
        expect(wait_for(lambda: lookup_status(web_port, "81.2.69.91") == 200, 10, 0.2),
               "the web side answers from the restored file")
        expect(wait_for(lambda: answer(dns_port, "81.2.69.91") == "listed", 10, 0.1),
               f"the hit in the restored file is served: {read(log)[-2000:]}")
        expect(server.alive(), "rbld run exited")
    finally:
        code = server.stop()
    expect(code == 0, f"rbld run exit {code}: {read(log)[-1500:]}")
    expect(intact(db), "the restored store is intact")


# ---------------------------------------------------------------------------------------
# 5. kill -9 during publication and snapshot-cache writes
# ---------------------------------------------------------------------------------------

def addresses(first_octet, count, start=0):
    return [f"{first_octet}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}" for n in range(start, start + count)]


def cache_serial(db):
    con = sqlite3.connect(db, timeout=30)
    try:
        row = con.execute("SELECT max(serial) FROM snapshot_cache").fetchone()
        return row[0] if row else None
    finally:
        con.close()


def killed(rbld, work):
    db = os.path.join(work, "killed.sqlite")
    base = addresses(11, 300_000)
    big = write(os.path.join(work, "big.txt"), "\n".join(base) + "\n")
    started = time.monotonic()
    run([rbld, "import", "--db", db, "--zone", ZONE, big], timeout=600)
    print(f"     imported 300,000 entries in {time.monotonic() - started:.1f} s", flush=True)
    rng = random.Random(9)
    chunks, kills = [], []
    for round_index in range(4):
        server = serve(rbld, work, f"killed-{round_index}", db, "  snapshot-cache-interval: 1s\n")
        chunk = addresses(12, 20_000, round_index * 20_000)
        chunks.append(chunk)
        merging = subprocess.Popen([rbld, "import", "--merge", "--db", db, "--zone", ZONE,
                                    write(os.path.join(work, f"chunk-{round_index}.txt"), "\n".join(chunk) + "\n")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        delay = rng.uniform(0.3, 3.0)
        time.sleep(delay)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.stop()
        _, err = merging.communicate(timeout=300)
        # The log is lost with the process's buffers: the store tells what was written.
        kills.append(f"{delay:.1f} s (cache at serial {cache_serial(db)})")
        expect(merging.returncode == 0, f"the merge beside the killed server: {err}")
    print(f"     killed rbld serve after {', '.join(kills)}", flush=True)
    server = serve(rbld, work, "killed-after", db)
    try:
        samples = rng.sample(base, 20) + [rng.choice(chunk) for chunk in chunks]
        wrong = [ip for ip in samples if answer(server.port, ip) != "listed"]
        expect(not wrong, f"after the kills, listed addresses answer: wrong {wrong}")
        expect(answer(server.port, "13.0.0.1") is None, "an address never listed is not")
    finally:
        code = server.stop()
    expect(code == 0, f"rbld serve exit {code}")
    # A damaged cache (cut in half, then one byte changed) is refused and rebuilt.
    for damage in ("substr(bytes, 1, length(bytes) / 2)",
                   "substr(bytes, 1, 4000) || x'ff' || substr(bytes, 4002)"):
        con = sqlite3.connect(db, isolation_level=None)
        con.execute(f"UPDATE snapshot_cache SET bytes = {damage}")
        con.close()
        server = serve(rbld, work, "killed-damaged", db)
        try:
            log = read(server.log_path)
            expect("snapshot cache refused" in log, f"the damaged cache is detected: {log[-1500:]}")
            expect(answer(server.port, base[12345]) == "listed" and answer(server.port, chunks[-1][7]) == "listed",
                   "answers right after a rebuild")
            expect(wait_for(lambda: "snapshot cache saved" in read(server.log_path), 30), "the cache is rebuilt")
        finally:
            code = server.stop()
        expect(code == 0, f"rbld serve exit {code}")
    expected = {"killed.sqlite", "killed.sqlite-wal", "killed.sqlite-shm"}
    stray = [name for name in os.listdir(work) if name.startswith("killed.sqlite") and name not in expected]
    expect(not stray, f"no temporary files left beside the store: {stray}")
    expect(intact(db), "the store is intact after the kills")


def wal_writes(trace, fd):
    """The traced process's writes to file descriptor `fd` so far: (pwrite64 count, synced)."""
    text = read(trace)
    return (len(re.findall(rf"pwrite64\({fd}, ", text)),
            bool(re.search(rf"f(data)?sync\({fd}\)", text)))


def killed_in_cache_write(rbld, work):
    """kill -9 of rbld serve while it writes its own snapshot cache, shown to be inside
    the write: strace slows each of its writes to the store's log by 50 ms, and the kill
    comes after the third page of the cache's transaction, before its sync. The cache in
    the store is then the one from before, and a restart serves every change."""
    if not have("strace"):
        expect(False, "strace missing (scripts/bootstrap installs it)")
    db = os.path.join(work, "cache-kill.sqlite")
    run([rbld, "import", "--db", db, "--zone", ZONE,
         write(os.path.join(work, "cache-kill.txt"), "\n".join(addresses(14, 20_000)) + "\n")], timeout=300)
    server = serve(rbld, work, "cache-kill", db, "  snapshot-cache-interval: 1s\n")
    pid = server.proc.pid
    trace = os.path.join(work, "cache-kill.trace")
    tracer = None
    try:
        wal_fd = next((fd for fd in os.listdir(f"/proc/{pid}/fd")
                       if os.path.realpath(f"/proc/{pid}/fd/{fd}") == os.path.realpath(db + "-wal")), None)
        expect(wal_fd is not None, "the server has the store's log open")
        serial_before = cache_serial(db)
        tracer = subprocess.Popen(["strace", "-f", "-qq", "-p", str(pid), "-o", trace, "-e", "trace=pwrite64,fsync,fdatasync",
                                   "-e", "inject=pwrite64:delay_enter=50000"], stderr=subprocess.PIPE, text=True)
        time.sleep(1)  # strace attaches to every thread
        if tracer.poll() is not None:
            expect(False, f"strace could not attach: {tracer.stderr.read()}")
        expect(wal_writes(trace, wal_fd) == (0, False), f"the idle server writes nothing: {read(trace)[-500:]}")
        run([rbld, "list", "--db", db, "--zone", ZONE, "14.200.0.1", "--reason", "a change for the cache"])
        expect(wait_for(lambda: wal_writes(trace, wal_fd)[0] >= 3, 20, 0.01),
               f"the server writes its snapshot cache: {read(trace)[-800:]}")
        os.kill(pid, signal.SIGKILL)
        writes, synced = wal_writes(trace, wal_fd)
        expect(not synced, f"killed inside the cache's transaction, before its sync ({writes} pages written)")
        print(f"     killed rbld serve after {writes} pages of its cache write, before the sync", flush=True)
    finally:
        server.stop()
        if tracer:
            try:
                tracer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                tracer.kill()
    expect(cache_serial(db) == serial_before, f"the cache in the store is the one from before ({cache_serial(db)} vs {serial_before})")
    server = serve(rbld, work, "cache-kill-after", db)
    try:
        expect(answer(server.port, "14.200.0.1") == "listed", "the change whose cache write was cut is served")
        expect(answer(server.port, "14.0.39.16") == "listed" and answer(server.port, "14.201.0.1") is None,
               "the imported addresses answer, others do not")
        expect(wait_for(lambda: "snapshot cache saved" in read(server.log_path), 30),
               f"the cache is written again: {read(server.log_path)[-1500:]}")
    finally:
        code = server.stop()
    expect(code == 0, f"rbld serve exit {code}")
    expect(intact(db), "the store is intact after the kill")


def main():
    rbld = rbld_binary()
    suite = Suite("e2e faults")
    if not have("swaks"):
        suite.check("swaks installed", lambda: expect(False, "swaks missing (scripts/bootstrap)"))
        return suite.finish()
    work = tempdir("rbld-e2e-faults-")
    only = os.environ.get("FAULTS_ONLY", "")
    cases = [
        ("disk", "disk full: ingest (stdin, Maildir, LMTP), import, export and the cache fail cleanly, then recover once",
         disk_full),
        ("locked", "store locked past the busy timeout: CLI exits 75 naming the store, the server answers on", store_locked),
        ("corrupt", "corrupt store: CLI errors, the server keeps its snapshot and says so, a restart refuses", corrupt_store),
        ("replaced", "store deleted, then restored by rename, under a running server", store_replaced),
        ("run-replaced", "store restored under rbld run: LMTP, Maildir and web follow it, no hit goes to the old file",
         run_store_replaced),
        ("killed", "kill -9 during publication and cache writes: right answers, damaged caches rebuilt", killed),
        ("cache-kill", "kill -9 inside the server's own snapshot-cache write (strace shows it): the old cache stays, "
         "a restart serves every change", killed_in_cache_write),
    ]
    for key, label, case in cases:
        if not only or key in only.split(","):
            suite.check(label, case, rbld, work)
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
