#!/usr/bin/env python3
"""test_transfer.py -- rbld as the primary of real NSD and Knot secondaries, on loopback.

AXFR with TSIG (HMAC-SHA256) into NSD and Knot, then a differential check: a few thousand
names (listed hosts, members of each network size, excluded hosts, neighbours, test
points, IPv6 names, the apex) must get the same answers from rbld and from each secondary.
Then NOTIFY: after `rbld list`, `rbld delist` and an ingested hit, both secondaries answer
the new way within 2 s. Also: the access list, a wrong or missing key, a zone not offered
for transfer, and `rbld serve --allow-transfer` without a configuration file. Then the
files mirrors copy: `rbld export` into NSD and rbldnsd, and `rbld run` keeping rbldnsd
files current (`exports:`) for an rbldnsd that re-reads them after `rbld list` and `delist`.
Last, bad input on a 60,000-host zone: malformed and oversized requests, IXFR from a
serial ahead of the server's, a secondary that stops reading mid-stream, a flood of SOA
queries.
"""
import base64
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Process, Suite, dig, dsn_bounce, expect, free_port, have, percentile,  # noqa: E402
                     rbld_binary, run, tempdir, wait_for)

ZONE = "bl.example.org"
OTHER = "closed.example.org"
KEY = "transfer-key"
DATA = """# e2e transfer data (documentation ranges only)
:127.0.0.2:Backscatter from $, see https://example.org/lookup?ip=$
198.51.100.7
198.51.100.8 :127.0.0.4:Auto-reply backscatter from $
198.51.0.0/16
!198.51.7.0/24
198.51.7.77
203.0.113.0/24
!203.0.113.9
192.0.2.128/25
192.0.2.16/30 :127.0.0.8:Challenge from $
10.20.0.0/15
!10.21.3.4
2001:db8::1
2001:db8:1::/48
!2001:db8:1:5::/64
2001:db8:2::/63
"""


# ---------------------------------------------------------------- a small DNS client

def build_query(name, qtype, qid):
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)


def skip_name(msg, off):
    while True:
        length = msg[off]
        if length == 0:
            return off + 1
        if length & 0xC0 == 0xC0:
            return off + 2
        off += 1 + length


def ask(port, name, qtype, sock=None):
    """(rcode, sorted answer RDATA of qtype as text) over UDP; A as dotted quads, TXT joined."""
    qid = random.randrange(65536)
    s = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for _ in range(3):
        s.sendto(build_query(name, qtype, qid), ("127.0.0.1", port))
        try:
            msg = s.recv(4096)
        except socket.timeout:
            continue
        if struct.unpack(">H", msg[:2])[0] != qid:
            continue
        flags, qd, an = struct.unpack(">HHH", msg[2:8])
        off = 12
        for _ in range(qd):
            off = skip_name(msg, off) + 4
        answers = []
        for _ in range(an):
            off = skip_name(msg, off)
            rtype, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
            rdata = msg[off + 10:off + 10 + rdlen]
            off += 10 + rdlen
            if rtype == qtype == 1:
                answers.append(socket.inet_ntoa(rdata))
            elif rtype == qtype == 16:
                parts, i = [], 0
                while i < len(rdata):
                    parts.append(rdata[i + 1:i + 1 + rdata[i]].decode())
                    i += 1 + rdata[i]
                answers.append("".join(parts))
        return flags & 0xF, sorted(answers)
    raise AssertionError(f"no answer from port {port} for {name}")


def rev4(ip):
    return ".".join(reversed(ip.split("."))) + "." + ZONE


def rev6(ip):
    return ".".join(reversed(socket.inet_pton(socket.AF_INET6, ip).hex())) + "." + ZONE


def probe_names():
    """Names for the differential check, each with whether it is a host entry (TXT exact)."""
    rng = random.Random(13)
    names = {}
    def v4(n, host=False):
        names[rev4(socket.inet_ntoa(struct.pack(">I", n & 0xFFFFFFFF)))] = host
    def v6(n, host=False):
        names[rev6(socket.inet_ntop(socket.AF_INET6, n.to_bytes(16, "big")))] = host
    for line in DATA.splitlines():
        entry = line.split()[0] if line.strip() else ""
        if not entry or entry[0] in "#:":
            continue
        entry = entry.lstrip("!")
        address, _, length = entry.partition("/")
        if ":" in address:
            bits, base = 128, int.from_bytes(socket.inet_pton(socket.AF_INET6, address), "big")
            add = v6
        else:
            bits, base = 32, struct.unpack(">I", socket.inet_aton(address))[0]
            add = v4
        length = int(length or bits)
        size = 1 << (bits - length)
        add(base, host=length == bits)
        add(base + size - 1, host=length == bits)
        add(base - 1)
        add(base + size)
        for _ in range(min(size, 120)):
            add(base + rng.randrange(size))
    for n in range(0, 256):  # every host of one /24 with a hole and its neighbours
        v4(0xCB007100 + n)
    for _ in range(900):
        v4(0xC6330000 + rng.randrange(1 << 16))  # all over the /16 with its excluded /24
    for _ in range(500):
        v6((0x20010DB8 << 96) | (rng.randrange(4) << 80) | rng.randrange(1 << 64))
    for point in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        v4(struct.unpack(">I", socket.inet_aton(point))[0], host=True)
    names[rev6("::ffff:127.0.0.2")] = True
    names[rev6("::ffff:127.0.0.1")] = True
    return names


# rbldnsd answers IPv4-mapped names from its IPv4 data and writes the address in TXT as
# 127.0.0.2 where rbld writes ::ffff:127.0.0.2 (docs/MIRRORS.md); the A answers agree.
MAPPED = {".".join(reversed(socket.inet_pton(socket.AF_INET6, a).hex())) + "." + ZONE
          for a in ("::ffff:127.0.0.2", "::ffff:127.0.0.1")}


def differential(rbld_port, other_port, label, exact_txt=False):
    """Same response codes and A answers for every probe name; TXT too for hosts (and for
    every listed name with `exact_txt`: rbldnsd substitutes the address as rbld does)."""
    names = probe_names()
    expect(len(names) >= 1500, f"only {len(names)} names")
    s1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    differences = []
    for name, host in names.items():
        ours = ask(rbld_port, name, 1, s1)
        theirs = ask(other_port, name, 1, s2)
        if ours != theirs:
            differences.append(f"{name} A: rbld {ours}, {label} {theirs}")
        elif (host or exact_txt) and ours[0] == 0 and ours[1] and not (exact_txt and name in MAPPED):
            ours_txt, theirs_txt = ask(rbld_port, name, 16, s1), ask(other_port, name, 16, s2)
            if ours_txt != theirs_txt:
                differences.append(f"{name} TXT: rbld {ours_txt}, {label} {theirs_txt}")
    for qtype in (6, 2):  # the apex SOA and NS
        ours, theirs = ask(rbld_port, ZONE, qtype, s1), ask(other_port, ZONE, qtype, s2)
        if ours[0] != theirs[0]:
            differences.append(f"apex type {qtype}: rbld {ours}, {label} {theirs}")
    expect(not differences, f"{len(differences)} of {len(names)} names differ, e.g. " + "; ".join(differences[:5]))
    print(f"     {label}: {len(names)} names, same answers", flush=True)


def soa_serial(port):
    d = dig(port, ZONE, "SOA")
    return int(d.answer[0][4].split()[2]) if d.status == "NOERROR" and d.answer else None


# ---------------------------------------------------------------- secondaries

def start_nsd(work, port, primary_port, secret):
    """NSD as a secondary of rbld: TSIG key, request-xfr and allow-notify."""
    return nsd_instance(work, "nsd", port, f"""key:
  name: {KEY}
  algorithm: hmac-sha256
  secret: "{secret}"
zone:
  name: {ZONE}
  zonefile: "{ZONE}.zone"
  request-xfr: 127.0.0.1@{primary_port} {KEY}
  allow-notify: 127.0.0.1 {KEY}
""")


def start_nsd_from_file(work, port, zone_file):
    """NSD serving a zone file, no primary: what a mirror fed by rsync of an export runs."""
    return nsd_instance(work, "nsd-file", port, f"""zone:
  name: {ZONE}
  zonefile: "{zone_file}"
""")


def rbld_config(work, name, db, port, rest):
    """Writes the rbld configuration `name` in `work`: the store, DNS on 127.0.0.1:`port`,
    log level info, then `rest` (YAML); returns its path."""
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(f"db: {db}\nlog-level: info\ndns:\n  listen: [\"127.0.0.1:{port}\"]\n" + rest)
    return path


def start_rbldnsd(work, port, files, log_name, procs, check="0"):
    """rbldnsd serving the rbldnsd files `files` ({"4": path, "6": path}), looking at their
    times every `check` seconds (0: never); added to `procs`, and loaded (it answers the
    RFC 5782 test point) or the check fails."""
    log = os.path.join(work, log_name)
    procs.append(Process(["rbldnsd", "-n", "-a", "-c", check, "-4", "-b", f"127.0.0.1/{port}",
                          f"{ZONE}:ip4set:{files['4']}", f"{ZONE}:ip6trie:{files['6']}"], log))
    ok = wait_for(lambda: ask(port, rev4("127.0.0.2"), 1)[0] == 0, 30, 0.2)
    expect(ok, "rbldnsd did not load the files: " + open(log).read()[-1500:])


def nsd_instance(work, name, port, zones):
    root = os.path.join(work, name)
    os.makedirs(root, exist_ok=True)
    conf = os.path.join(root, "nsd.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
  ip-address: 127.0.0.1@{port}
  port: {port}
  username: ""
  chroot: ""
  database: ""
  zonesdir: "{root}"
  pidfile: "{root}/nsd.pid"
  xfrdfile: "{root}/xfrd.state"
  zonelistfile: "{root}/zone.list"
  xfrdir: "{root}"
  logfile: "{root}/nsd.log"
  verbosity: 2
  tcp-count: 16
remote-control:
  control-enable: no
""" + zones)
    return Process(["nsd", "-d", "-c", conf], os.path.join(root, "stdout.log")), os.path.join(root, "nsd.log")


def start_knot(work, port, primary_port, secret):
    root = os.path.join(work, "knot")
    os.makedirs(root, exist_ok=True)
    conf = os.path.join(root, "knot.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
    listen: 127.0.0.1@{port}
    rundir: "{root}"
database:
    storage: "{root}/db"
log:
  - target: "{root}/knot.log"
    any: info
key:
  - id: {KEY}
    algorithm: hmac-sha256
    secret: {secret}
remote:
  - id: primary
    address: 127.0.0.1@{primary_port}
    key: {KEY}
acl:
  - id: notify-from-primary
    address: 127.0.0.1
    key: {KEY}
    action: notify
zone:
  - domain: {ZONE}
    storage: "{root}"
    file: "{ZONE}.zone"
    master: primary
    acl: notify-from-primary
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none
""")
    return Process(["knotd", "-c", conf], os.path.join(root, "stdout.log")), os.path.join(root, "knot.log")


# ---------------------------------------------------------------- checks of rbld itself

def axfr(port, *options, source=None, zone=ZONE):
    argv = ["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=5", zone, "AXFR", *options]
    if source:
        argv[1:1] = ["-b", source]
    return run(argv, check=False, timeout=60).stdout


def transfer_refused(output):
    return "Transfer failed" in output or "tsig indicates error" in output or "Couldn't verify" in output


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tcp_exchange(port, payload, timeout=5):
    """Sends `payload` (already framed) over one TCP connection; returns the first framed
    reply, or None when the server closed the connection without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        head = b""
        while len(head) < 2:
            chunk = s.recv(2 - len(head))
            if not chunk:
                return None
            head += chunk
        length = struct.unpack(">H", head)[0]
        body = b""
        while len(body) < length:
            chunk = s.recv(length - len(body))
            if not chunk:
                return None
            body += chunk
        return body


def bad_transfer_input(rbld, work, suite):
    """Malformed and oversized transfer requests, IXFR from the future, a secondary that
    stops reading mid-stream, a flood of SOA queries: clear answers or a closed connection,
    bounded memory, other clients answered."""
    db = os.path.join(work, "big.sqlite")
    hosts = "".join(f"100.{64 + n // 65536}.{n // 256 % 256}.{n % 256}\n" for n in range(60_000))
    run([rbld, "import", "--format", "plain", "--db", db, "--zone", ZONE, "-"], input=hosts)
    port = free_port()
    config = rbld_config(work, "bad-input.yaml", db, port, f"""  tcp-idle-timeout: 2s
metrics: null
zones:
  - name: {ZONE}
    transfer:
      allow: [127.0.0.1/32]
""")
    server = Process([rbld, "serve", "--config", config], os.path.join(work, "serve-bad-input.log"))
    try:
        expect(wait_for(lambda: soa_serial(port) is not None, 30), "serve did not come up")
        serial = soa_serial(port)
        steady = rss_kib(server.proc.pid)

        def answered():
            return ask(port, rev4("100.64.0.7"), 1)[0] == 0 and ask(port, rev4("100.64.0.7"), 1)[1] == ["127.0.0.2"]

        def malformed():
            axfr_query = build_query(ZONE, 252, 7)
            for name, payload in (("a question cut short", struct.pack(">H", 20) + axfr_query[:20]),
                                  ("a name running past the message", struct.pack(">H", 17) + axfr_query[:12] + b"\x3f" + b"ab\x00\x00"),
                                  ("65,535 bytes of garbage", struct.pack(">H", 65535) + random.Random(5).randbytes(65535))):
                reply = tcp_exchange(port, payload)
                # An error code (FORMERR, or NOTIMP for a garbage opcode) with no answer, or the
                # connection closed: never a transfer.
                expect(reply is None or ((reply[3] & 0xF) != 0 and reply[6:8] == b"\0\0"),
                       f"{name}: {reply[:16] if reply else None}")
            expect(answered(), "not answering after malformed requests")
        suite.check("malformed and oversized transfer requests get an error code or a closed connection", malformed)

        def from_the_future():
            # RFC 1995 §2: a newer version than the server's gets the server's SOA alone.
            out = run(["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=10", ZONE, f"IXFR={serial + 1000}"],
                      check=False, timeout=60).stdout
            records = [line for line in out.splitlines() if line and not line.startswith(";")]
            expect(len(records) == 1 and "\tSOA\t" in records[0] and f" {serial} " in records[0],
                   f"IXFR from serial {serial + 1000}: {records[:3]}")
        suite.check("IXFR with a serial from the future gets the SOA alone (RFC 1995 §2)", from_the_future)

        def stalled_reader():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", port))
            query = build_query(ZONE, 252, 9)
            s.sendall(struct.pack(">H", len(query)) + query)
            first = s.recv(1000)
            expect(len(first) > 0, "no start of the transfer")
            # The reader stops here; others must be served meanwhile and memory stay bounded.
            started = time.monotonic()
            answers = sum(answered() for _ in range(20))
            other = axfr(port)
            peak = rss_kib(server.proc.pid)
            expect(answers == 20, f"{answers} of 20 queries answered during the stalled transfer")
            expect(other.count("\tSOA\t") == 2, "another transfer did not complete")
            expect(peak < steady + 50 * 1024, f"VmRSS {steady} -> {peak} KiB while a transfer stalls")
            # The stalled connection is closed once it made no progress for the idle timeout.
            s.settimeout(1)
            closed = False
            while time.monotonic() - started < 30 and not closed:
                try:
                    closed = s.recv(65536) == b""
                except socket.timeout:
                    continue
                except ConnectionResetError:
                    closed = True
            s.close()
            expect(closed, "the stalled transfer was not closed within 30 s")
            print(f"     stalled reader: 20/20 answered, another AXFR done, VmRSS {steady} -> {peak} KiB, "
                  f"closed after {time.monotonic() - started:.1f} s", flush=True)
        suite.check("a secondary that stops reading mid-stream: others served, memory bounded, closed", stalled_reader)

        def soa_flood():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.3.1", 0))
            query = build_query(ZONE, 6, 11)
            deadline = time.monotonic() + 3
            sent = 0
            while time.monotonic() < deadline and sent < 200_000:
                s.sendto(query, ("127.0.0.1", port))
                sent += 1
            s.close()
            expect(answered() and server.alive(), "not answering after the SOA flood")
            expect(rss_kib(server.proc.pid) < steady + 50 * 1024, "memory grew with the flood")
            print(f"     SOA flood: {sent} queries in 3 s, then answered", flush=True)
        suite.check("a flood of SOA queries: the server answers others after it", soa_flood)
    finally:
        server.stop()


def main():
    rbld = rbld_binary()
    missing = [p for p in ("nsd", "knotd", "dig") if not have(p)]
    if missing:
        print(f"e2e transfer: missing {' '.join(missing)} (scripts/bootstrap installs them)")
        print("e2e transfer: 0 passed, 1 failed")
        return 1
    work = tempdir("rbld-e2e-transfer-")
    data = os.path.join(work, "e2e.zone")
    with open(data, "w") as f:
        f.write(DATA)
    db = os.path.join(work, "rbld.sqlite")
    run([rbld, "import", "--format", "rbldnsd", "--db", db, "--zone", ZONE, data])
    run([rbld, "import", "--format", "plain", "--db", db, "--zone", OTHER, "-"], input="192.0.2.1\n")
    secret = base64.b64encode(os.urandom(32)).decode()
    port, nsd_port, knot_port = free_port(), free_port(), free_port()
    config = rbld_config(work, "rbld.yaml", db, port, f"""metrics: null
keys:
  {KEY}:
    algorithm: hmac-sha256
    secret: "{secret}"
zones:
  - name: {ZONE}
    txt: "Backscatter from $, see https://example.org/lookup?ip=$"
    transfer:
      allow: [127.0.0.1/32, "::1"]
      key: {KEY}
      notify: ["127.0.0.1:{nsd_port}", "127.0.0.1:{knot_port}"]
  - name: {OTHER}
""")
    server = Process([rbld, "serve", "--config", config], os.path.join(work, "serve.log"))
    procs = []
    suite = Suite("e2e transfer")
    try:
        if not wait_for(lambda: dig(port, rev4("127.0.0.2")).status == "NOERROR", 30):
            print(open(os.path.join(work, "serve.log")).read())
            raise SystemExit("rbld serve did not come up")
        serial = soa_serial(port)

        def signed_axfr():
            out = axfr(port, "-y", f"hmac-sha256:{KEY}:{secret}")
            expect(not transfer_refused(out) and out.count("\tSOA\t") == 2, out[-500:])
        suite.check("AXFR signed with the key", signed_axfr)
        suite.check("AXFR without the key is refused",
                    lambda: expect(transfer_refused(axfr(port)), "unsigned AXFR was served"))
        wrong = base64.b64encode(b"w" * 32).decode()
        suite.check("AXFR with a wrong secret is refused",
                    lambda: expect(transfer_refused(axfr(port, "-y", f"hmac-sha256:{KEY}:{wrong}")), "served"))
        suite.check("AXFR with an unknown key is refused",
                    lambda: expect(transfer_refused(axfr(port, "-y", f"hmac-sha256:other-key:{secret}")), "served"))
        suite.check("AXFR from outside the allow list is refused",
                    lambda: expect(transfer_refused(axfr(port, "-y", f"hmac-sha256:{KEY}:{secret}", source="127.0.9.9")),
                                   "served to 127.0.9.9"))
        suite.check("a zone not offered for transfer is refused",
                    lambda: expect(transfer_refused(axfr(port, "-y", f"hmac-sha256:{KEY}:{secret}", zone=OTHER)), "served"))
        suite.check("AXFR over UDP is refused",
                    lambda: expect(ask(port, ZONE, 252)[0] == 5, "not refused"))

        nsd, nsd_log = start_nsd(work, nsd_port, port, secret)
        procs.append(nsd)
        def nsd_transfers():
            ok = wait_for(lambda: soa_serial(nsd_port) == serial, 30, 0.2)
            expect(ok, "NSD has no copy: " + (open(nsd_log).read()[-2000:] if os.path.exists(nsd_log) else "no log"))
        suite.check("NSD takes the zone by AXFR with TSIG", nsd_transfers)
        suite.check("NSD answers as rbld (differential)", lambda: differential(port, nsd_port, "NSD"))

        knot, knot_log = start_knot(work, knot_port, port, secret)
        procs.append(knot)
        def knot_transfers():
            ok = wait_for(lambda: soa_serial(knot_port) == serial, 30, 0.2)
            expect(ok, "Knot has no copy: " + (open(knot_log).read()[-2000:] if os.path.exists(knot_log) else "no log"))
        suite.check("Knot takes the zone with TSIG", knot_transfers)
        suite.check("Knot answers as rbld (differential)", lambda: differential(port, knot_port, "Knot"))

        lags = []

        def propagates(action, name, expected_rcode, what):
            """Runs `action` (a command that commits a change to the store), then waits until
            rbld, NSD and Knot all answer `name` with the rcode; timed from the commit."""
            action()
            start = time.monotonic()
            ok = wait_for(lambda: all(ask(p, name, 1)[0] == expected_rcode for p in (port, nsd_port, knot_port)), 10, 0.02)
            lag = time.monotonic() - start
            lags.append(lag)
            expect(ok, f"{what}: not on both secondaries after 10 s")
            expect(lag <= 2.0, f"{what}: took {lag:.2f} s (over 2 s)")
            print(f"     {what}: on NSD and Knot after {lag:.2f} s", flush=True)

        def admin(verb, ip):
            """`rbld list|delist IP` on the zone, as an operator runs it (a commit to the store)."""
            force = ["--force"] if verb == "list" else []  # documentation ranges
            return lambda: run([rbld, verb, ip, *force, "--reason", "e2e", "--db", db, "--zone", ZONE])

        def list_then_delist(ip, check, label):
            """`check(action, name, rcode, what)` after `rbld list IP`, then after `rbld delist IP`."""
            suite.check(f"rbld list {label}", lambda: check(admin("list", ip), rev4(ip), 0, "list"))
            suite.check(f"rbld delist {label}", lambda: check(admin("delist", ip), rev4(ip), 3, "delist"))

        list_then_delist("192.0.2.5", propagates, "reaches NSD and Knot by NOTIFY within 2 s")

        def ingest_hit():
            message = ("Received: from mx.bouncer.example (mx.bouncer.example [81.2.69.70])\n"
                       "\tby mx.trap.example.net (Postfix) with ESMTP id E2EX1\n"
                       "\tfor <trap.one@trap.example.net>; Tue, 11 Mar 2025 09:14:02 +0100 (CET)\n"
                       + dsn_bounce("E2EX1"))
            run([rbld, "ingest", "--db", db, "--zone", ZONE, "-"], input=message)
        suite.check("an ingested hit reaches NSD and Knot within 2 s",
                    lambda: propagates(ingest_hit, rev4("81.2.69.70"), 0, "ingested hit"))
        for i in range(5):
            suite.check(f"list/delist round {i + 1} within 2 s", lambda i=i: (
                propagates(admin("list", f"192.0.2.{40 + i}"), rev4(f"192.0.2.{40 + i}"), 0, f"list {i + 1}"),
                propagates(admin("delist", f"192.0.2.{40 + i}"), rev4(f"192.0.2.{40 + i}"), 3, f"delist {i + 1}")))
        if lags:
            print(f"     change to both secondaries: {len(lags)} changes, p50 {percentile(lags, 50):.2f} s, "
                  f"max {max(lags):.2f} s", flush=True)
        suite.check("NSD still answers as rbld after the changes", lambda: differential(port, nsd_port, "NSD"))
        suite.check("Knot still answers as rbld after the changes", lambda: differential(port, knot_port, "Knot"))
        def incremental():
            log = open(os.path.join(work, "serve.log")).read()
            count = log.count("IXFR (difference from")
            expect(count >= 10, f"only {count} transfers were differences (IXFR)")
            print(f"     {count} incremental transfers (IXFR differences) served", flush=True)
        suite.check("the secondaries were brought up to date by IXFR differences", incremental)

        file_port = free_port()
        exported = os.path.join(work, "export.zone")

        def export_zone_file():
            run([rbld, "export", "--format", "zone", "--db", db, "--zone", ZONE, exported])
            again = os.path.join(work, "export-again.zone")
            run([rbld, "export", "--format", "zone", "--db", db, "--zone", ZONE, again])
            expect(open(exported).read() == open(again).read(), "two exports of an unchanged zone differ")
            from_file, file_log = start_nsd_from_file(work, file_port, exported)
            procs.append(from_file)
            ok = wait_for(lambda: soa_serial(file_port) == soa_serial(port), 30, 0.2)
            expect(ok, "NSD did not load the export: " + (open(file_log).read()[-2000:] if os.path.exists(file_log) else ""))
        suite.check("export --format zone loads into NSD", export_zone_file)
        suite.check("NSD from the exported zone file answers as rbld (differential)",
                    lambda: differential(port, file_port, "NSD from export --format zone"))

        rbldnsd_port = free_port()

        def rbldnsd_from_export():
            os.chmod(work, 0o755)
            files = {}
            for family in ("4", "6"):
                files[family] = os.path.join(work, f"export{family}.rbldnsd")
                run([rbld, "export", "--format", "rbldnsd", "--family", family, "--db", db, "--zone", ZONE, files[family]])
                os.chmod(files[family], 0o644)
            start_rbldnsd(work, rbldnsd_port, files, "rbldnsd.log", procs)
        suite.check("rbldnsd loads export --format rbldnsd (both families)", rbldnsd_from_export)
        suite.check("rbldnsd from the export answers as rbld (differential)",
                    lambda: differential(port, rbldnsd_port, "rbldnsd from export --format rbldnsd", exact_txt=True))

        # `rbld run` with exports: keeps rbldnsd files current; a real rbldnsd re-reads them
        # (-c 1: it checks the files' times every second) and follows list and delist.
        run_port, kept_port = free_port(), free_port()
        kept_dir = os.path.join(work, "mirror")
        os.makedirs(kept_dir, exist_ok=True)
        os.chmod(work, 0o755)
        os.chmod(kept_dir, 0o755)  # rbldnsd started as root reads as its own user
        kept = {family: os.path.join(kept_dir, f"{ZONE}.v{family}") for family in ("4", "6")}
        run_config = rbld_config(work, "rbld-run.yaml", db, run_port, f"""ingest:
  lmtp: null
metrics: null
zones:
  - name: {ZONE}
    txt: "Backscatter from $, see https://example.org/lookup?ip=$"
exports:
  - {{zone: {ZONE}, format: rbldnsd, family: 4, path: "{kept['4']}", interval: 1s}}
  - {{zone: {ZONE}, format: rbldnsd, family: 6, path: "{kept['6']}", interval: 1s}}
""")
        daemon = Process([rbld, "run", "--config", run_config], os.path.join(work, "run.log"))
        procs.append(daemon)

        def exports_written():
            ok = wait_for(lambda: all(os.path.exists(path) for path in kept.values()), 30, 0.1)
            expect(ok, "rbld run wrote no export: " + open(os.path.join(work, "run.log")).read()[-1500:])
            expect(wait_for(lambda: soa_serial(run_port) == soa_serial(port), 10, 0.1), "rbld run is not serving")
            expect(not any(name.endswith(".tmp") for name in os.listdir(kept_dir)), "a temporary file was left")
            start_rbldnsd(work, kept_port, kept, "rbldnsd-kept.log", procs, check="1")
        suite.check("rbld run writes its exports: rbldnsd files and rbldnsd loads them", exports_written)
        suite.check("rbldnsd from the kept files answers as rbld (differential)",
                    lambda: differential(run_port, kept_port, "rbldnsd from rbld run's exports", exact_txt=True))

        def follows(action, name, expected_rcode, what):
            """Runs `action`, then waits (at most 15 s) until the file is rewritten and rbldnsd
            answers `name` with the rcode; prints how long it took."""
            before = os.stat(kept["4"]).st_ino
            action()
            start = time.monotonic()
            ok = wait_for(lambda: ask(kept_port, name, 1)[0] == expected_rcode, 15, 0.05)
            expect(ok, f"{what}: rbldnsd does not answer the change after 15 s")
            expect(os.stat(kept["4"]).st_ino != before, f"{what}: the file was not replaced")
            print(f"     {what}: in the export and on rbldnsd after {time.monotonic() - start:.2f} s", flush=True)

        list_then_delist("192.0.2.66", follows, "rewrites the export and rbldnsd answers it")

        def unchanged_not_rewritten():
            before = {family: os.stat(path).st_ino for family, path in kept.items()}
            time.sleep(3)  # three export intervals with no change
            expect({family: os.stat(path).st_ino for family, path in kept.items()} == before, "rewritten without a change")
        suite.check("an unchanged zone is not rewritten", unchanged_not_rewritten)
        suite.check("rbldnsd from the kept files still answers as rbld (differential)",
                    lambda: differential(run_port, kept_port, "rbldnsd from rbld run's exports", exact_txt=True))

        # Chosen just before use: a port picked at the start may have been taken since by
        # one of the many connections and servers the test made meanwhile.
        open_port = free_port()
        plain = Process([rbld, "serve", "--db", db, "--zone", ZONE, "--listen", f"127.0.0.1:{open_port}",
                         "--allow-transfer", "127.0.0.1/32,::1/128"], os.path.join(work, "serve-open.log"))
        procs.append(plain)
        def allow_flag():
            expect(wait_for(lambda: soa_serial(open_port) is not None, 30) and plain.alive(),
                   "serve --allow-transfer did not come up: " + open(os.path.join(work, "serve-open.log")).read()[-300:])
            out = axfr(open_port)
            expect(out.count("\tSOA\t") == 2, out[-500:])
            expect(transfer_refused(axfr(open_port, source="127.0.9.9")), "served outside --allow-transfer")
        suite.check("serve --allow-transfer without a configuration file", allow_flag)
        bad_transfer_input(rbld, work, suite)
        suite.check("rbld still answers", lambda: expect(server.alive() and soa_serial(port) is not None, "rbld died"))
        log = open(os.path.join(work, "serve.log")).read()
        suite.check("the secret is never logged", lambda: expect(secret not in log, "secret in the log"))
    finally:
        for proc in procs:
            proc.stop()
        code = server.stop()
        if code not in (0, None):
            print(f"rbld serve exited {code}")
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
