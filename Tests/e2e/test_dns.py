#!/usr/bin/env python3
"""test_dns.py -- rbld serve against dig, drill and unbound, on loopback.

Covers every row of docs/DNS-BEHAVIOUR.md over UDP and TCP, malformed
packets, live updates from `rbld import`, and a real unbound resolver with a stub zone.
"""
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Dig, Process, Suite, dig, expect, free_port, have, rbld_binary, run,  # noqa: E402
                     tempdir, wait_for)

ZONE = "bl.example.org"
TEMPLATE = "Backscatter from $, see https://example.org/lookup?ip=$"
LONG_TEXT = "x" * 600 + " $"
DATA = f"""# e2e data (documentation ranges only)
$SOA 3600 ns1.example.org hostmaster.example.org 0 600 300 86400 60
$NS 3600 ns1.example.org ns2.example.net
:127.0.0.2:{TEMPLATE}
198.51.100.7
203.0.113.0/24
!203.0.113.9
198.51.100.8 :127.0.0.4:Auto-reply backscatter from $
198.51.100.9 :127.0.0.2:{LONG_TEXT}
2001:db8::1
2001:db8:1::/48
"""
SOA_MIN = 60


def rev4(ip):
    return ".".join(reversed(ip.split("."))) + "." + ZONE


def rev6(ip):
    full = socket.inet_pton(socket.AF_INET6, ip).hex()
    return ".".join(reversed(full)) + "." + ZONE


def main():
    rbld = rbld_binary()
    work = tempdir("rbld-e2e-dns-")
    data = os.path.join(work, "e2e.zone")
    with open(data, "w") as f:
        f.write(DATA)
    db = os.path.join(work, "rbld.sqlite")
    run([rbld, "import", "--format", "rbldnsd", "--db", db, "--zone", ZONE, data])
    port = free_port()
    server = Process([rbld, "serve", "--db", db, "--zone", ZONE, "--listen", f"127.0.0.1:{port}",
                      "--listen", f"[::1]:{port}", "--tcp-idle-timeout", "2"], os.path.join(work, "serve.log"))
    suite = Suite("e2e dns")
    try:
        up = wait_for(lambda: dig(port, rev4("127.0.0.2")).status == "NOERROR", 30)
        if not up:
            print(open(os.path.join(work, "serve.log")).read())
            raise SystemExit("rbld serve did not come up")
        for transport in ("udp", "tcp"):
            opts = ("+tcp",) if transport == "tcp" else ()
            for label, fn in behaviour_rows(port, opts):
                suite.check(f"{transport}: {label}", fn)
        for label, fn in edns_rows(port):
            suite.check(label, fn)
        suite.check("ipv6 transport (::1)", lambda: expect_listed(dig(port, rev4("198.51.100.7"), "A", server="::1")))
        suite.check("drill udp + tcp", lambda: drill_rows(port))
        suite.check("tcp: several queries on one connection", lambda: tcp_pipelined(port))
        suite.check("malformed packets never crash or answer what was not asked", lambda: malformed(port))
        suite.check("live update: import is served within 1 s", lambda: live_update(rbld, db, work, port))
        suite.check("SIGHUP under load: every query answered, and answered right", lambda: sighup_under_load(server, port))
        suite.check("SIGHUP adds a DNS address: the first loses no query while the second starts answering",
                    lambda: sighup_adds_listen_address(rbld, work, data))
        suite.check("import with bad lines changes nothing; --skip-bad imports the rest",
                    lambda: import_errors(rbld, db, work, port))
        if have("unbound"):
            suite.check("unbound stub zone resolves through rbld", lambda: through_unbound(port, work))
        else:
            suite.check("unbound installed", lambda: expect(False, "unbound missing (scripts/bootstrap)"))
        suite.check("server still alive", lambda: expect(server.alive(), "rbld serve exited"))
    finally:
        code = server.stop()
        suite.check("SIGTERM stops cleanly (exit 0)", lambda: expect(code == 0, f"exit code {code}"))
    return suite.finish()


def expect_listed(d, code="127.0.0.2"):
    expect(d.status == "NOERROR", f"status {d.status}\n{d}")
    expect("aa" in d.flags, f"AA missing\n{d}")
    expect([r[4] for r in d.answer if r[3] == "A"] == [code], f"answer {d.answer}")


def expect_negative(d, status):
    expect(d.status == status, f"status {d.status}, want {status}\n{d}")
    expect("aa" in d.flags, f"AA missing\n{d}")
    expect(d.answer == [], f"unexpected answer {d.answer}")
    soa = [r for r in d.authority if r[3] == "SOA"]
    expect(len(soa) == 1 and soa[0][0] == ZONE + ".", f"SOA in authority missing\n{d}")
    expect(soa[0][1] == SOA_MIN, f"negative TTL {soa[0][1]}, want SOA minimum {SOA_MIN}")


def behaviour_rows(port, opts):
    q = lambda name, qtype="A", *more: dig(port, name, qtype, *opts, *more)  # noqa: E731

    def listed_txt():
        d = q(rev4("198.51.100.7"), "TXT")
        expect(d.status == "NOERROR" and d.txt() == [TEMPLATE.replace("$", "198.51.100.7")], f"{d.txt()}\n{d}")

    def custom_class():
        expect_listed(q(rev4("198.51.100.8")), "127.0.0.4")
        expect(q(rev4("198.51.100.8"), "TXT").txt() == ["Auto-reply backscatter from 198.51.100.8"], "custom TXT")

    def cidr_and_exclusion():
        expect_listed(q(rev4("203.0.113.200")))
        expect_negative(q(rev4("203.0.113.9")), "NXDOMAIN")

    def any_query():
        d = q(rev4("198.51.100.7"), "ANY")
        expect(d.status == "NOERROR" and [r[3] for r in d.answer] == ["A"], f"ANY must give the A only\n{d}")

    def other_type():
        for qtype in ("MX", "AAAA", "NS"):
            expect_negative(q(rev4("198.51.100.7"), qtype), "NOERROR")

    def ipv6_rows():
        expect_listed(q(rev6("2001:db8::1")))
        expect_listed(q(rev6("2001:db8:1:ffff::42")))
        d = q(rev6("2001:db8::1"), "TXT")
        expect(d.txt() == [TEMPLATE.replace("$", "2001:db8::1")], f"{d.txt()}")
        expect_negative(q(rev6("2001:db8::2")), "NXDOMAIN")

    def test_points():
        expect_listed(q(rev4("127.0.0.2")))
        expect_negative(q(rev4("127.0.0.1")), "NXDOMAIN")
        expect_listed(q(rev6("::ffff:127.0.0.2")))
        expect_negative(q(rev6("::ffff:127.0.0.1")), "NXDOMAIN")

    def empty_non_terminals():
        for name in ("127." + ZONE, "0.0.127." + ZONE, "f.f." + ZONE):
            expect_negative(q(name), "NOERROR")

    def not_addresses():
        for name in ("10.1.2.3.4." + ZONE, "www." + ZONE, "256.0.0.1." + ZONE, "01.0.0.127." + ZONE):
            expect_negative(q(name), "NXDOMAIN")

    def apex():
        d = q(ZONE, "SOA")
        expect(d.status == "NOERROR" and "aa" in d.flags and [r[3] for r in d.answer] == ["SOA"], f"{d}")
        expect(d.answer[0][4].split()[:2] == ["ns1.example.org.", "hostmaster.example.org."], f"{d.answer}")
        d = q(ZONE, "NS")
        expect(sorted(r[4] for r in d.answer) == ["ns1.example.org.", "ns2.example.net."], f"{d}")
        expect_negative(q(ZONE, "A"), "NOERROR")

    def refused():
        for d in (q("example.com", "A"), q("org", "SOA"), q(rev4("198.51.100.7"), "A", "-c", "CH")):
            expect(d.status == "REFUSED", f"{d.status}\n{d}")

    def case_echo():
        name = "7.100.51.198.Bl.ExAmPlE.oRg"
        d = q(name)
        expect_listed(d)
        expect(d.question and d.question[0][0] == name + ".", f"question not echoed: {d.question}")

    def notimp():
        d = q(rev4("198.51.100.7"), "A", "+opcode=2")
        expect(d.status == "NOTIMP", f"{d.status}\n{d}")

    return [
        ("listed A", lambda: expect_listed(q(rev4("198.51.100.7")))),
        ("listed TXT with $ substituted", listed_txt),
        ("per-entry return code and TXT", custom_class),
        ("CIDR listed, exclusion punches a hole", cidr_and_exclusion),
        ("ANY gives the A record only (RFC 8482)", any_query),
        ("other types: NODATA with SOA", other_type),
        ("IPv6 nibble names", ipv6_rows),
        ("RFC 5782 test points", test_points),
        ("unlisted: NXDOMAIN with SOA", lambda: expect_negative(q(rev4("198.51.100.99")), "NXDOMAIN")),
        ("empty non-terminals: NODATA", empty_non_terminals),
        ("names that are not addresses: NXDOMAIN", not_addresses),
        ("apex SOA and NS", apex),
        ("out of zone and class CH: REFUSED", refused),
        ("0x20 case echoed", case_echo),
        ("opcode STATUS: NOTIMP", notimp),
    ]


def edns_rows(port):
    def echo():
        d = dig(port, rev4("198.51.100.7"), "A", "+edns=0", "+bufsize=4096")
        expect_listed(d)
        expect(d.opt_udp == 1232, f"OPT udp {d.opt_udp}\n{d}")
        d = dig(port, rev4("198.51.100.7"), "A", "+noedns")
        expect(d.opt_udp is None, "OPT in a reply to a query without EDNS")

    def badvers():
        d = dig(port, rev4("198.51.100.7"), "A", "+edns=1", "+noednsnegotiation")
        expect(d.status == "BADVERS", f"{d.status}\n{d}")

    def truncation():
        d = dig(port, rev4("198.51.100.9"), "TXT", "+noedns", "+ignore")
        expect("tc" in d.flags and d.answer == [], f"no TC for a 300-byte TXT without EDNS\n{d}")
        d = dig(port, rev4("198.51.100.9"), "TXT", "+edns=0", "+bufsize=1232")
        expect("tc" not in d.flags and d.txt() == [(LONG_TEXT.replace("$", "198.51.100.9"))], f"{d}")
        d = dig(port, rev4("198.51.100.9"), "TXT", "+noedns")  # dig retries over TCP on TC
        expect(d.txt() == [LONG_TEXT.replace("$", "198.51.100.9")], f"TCP retry failed\n{d}")

    return [("EDNS: OPT echoed with 1232", echo), ("EDNS: BADVERS for version 1", badvers),
            ("TC without EDNS, full answer with EDNS and TCP; TXT split at 255", truncation)]


def drill_rows(port):
    for extra in ([], ["-t"]):
        out = run(["drill", *extra, "-p", str(port), rev4("198.51.100.7"), "@127.0.0.1", "A"]).stdout
        expect("rcode: NOERROR" in out and "127.0.0.2" in out, f"drill {extra}: {out}")
        out = run(["drill", *extra, "-p", str(port), rev4("198.51.100.99"), "@127.0.0.1", "A"], check=False).stdout
        expect("rcode: NXDOMAIN" in out, f"drill {extra}: {out}")
        out = run(["drill", *extra, "-p", str(port), rev6("2001:db8::1"), "@127.0.0.1", "TXT"]).stdout
        expect("Backscatter from 2001:db8::1" in out, f"drill {extra}: {out}")


def query_packet(qid, name, qtype=1):
    wire = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)


def tcp_pipelined(port):
    queries = [query_packet(0x1000 + i, rev4(ip)) for i, ip in enumerate(["198.51.100.7", "198.51.100.99", "127.0.0.2"])]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"".join(struct.pack(">H", len(q)) + q for q in queries))
        answers = []
        buf = b""
        while len(answers) < 3:
            chunk = s.recv(65535)
            expect(chunk, "connection closed early")
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                n = struct.unpack(">H", buf[:2])[0]
                answers.append(buf[2:2 + n])
                buf = buf[2 + n:]
    ids = [struct.unpack(">H", a[:2])[0] for a in answers]
    rcodes = [a[3] & 0xF for a in answers]
    expect(ids == [0x1000, 0x1001, 0x1002], f"ids {ids}")
    expect(rcodes == [0, 3, 0], f"rcodes {rcodes}")


def malformed(port):
    valid = query_packet(0x4242, rev4("198.51.100.7"))
    cases = [valid[:n] for n in range(len(valid))]  # every truncation
    loop = struct.pack(">HHHHHH", 7, 0, 1, 0, 0, 0) + b"\xc0\x0c" + b"\0\1\0\1"  # pointer loop in question
    long_label = struct.pack(">HHHHHH", 8, 0, 1, 0, 0, 0) + b"\x7f" + b"a" * 127 + b"\0\0\1\0\1"
    cases += [loop, long_label, os.urandom(300), b"\xff" * 12, valid[:12] + b"\x3f" * 300]
    cases += [struct.pack(">HHHHHH", 9, 0, 1, 0, 0, 0xFFFF) + valid[12:]]  # ARCOUNT beyond the packet
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.3)
        for packet in cases:
            s.sendto(packet, ("127.0.0.1", port))
            try:
                reply, _ = s.recvfrom(65535)
            except socket.timeout:
                continue
            expect(len(reply) >= 12, "short reply")
            ancount = struct.unpack(">H", reply[6:8])[0]
            expect(ancount == 0, f"an answer to a malformed packet {packet[:20].hex()}: {reply.hex()}")
    expect_listed(dig(port, rev4("198.51.100.7")))


def live_update(rbld, db, work, port):
    extra = os.path.join(work, "extra.list")
    with open(extra, "w") as f:
        f.write("198.51.100.77\n")
    expect_negative(dig(port, rev4("198.51.100.77")), "NXDOMAIN")
    start = time.monotonic()
    run([rbld, "import", "--format", "plain", "--merge", "--db", db, "--zone", ZONE, extra])
    committed = time.monotonic()
    ok = wait_for(lambda: dig(port, rev4("198.51.100.77"), "A", "+time=1").status == "NOERROR", 5, 0.02)
    lag = time.monotonic() - committed
    print(f"     live update: import took {committed - start:.2f}s, served {lag:.2f}s after commit", flush=True)
    expect(ok and lag <= 1.0, f"not served within 1 s of the commit ({lag:.2f}s)")


def sighup_under_load(server, port, seconds=6.0, signals=12):
    """A client asks without pause (one query in flight, 1 s to answer) while the server is
    sent SIGHUP every half second; each reload loads the zones anew. Not one query may go
    unanswered or be answered wrongly."""
    counts, stop, thread = start_query_loop(port)
    deadline = time.monotonic() + seconds
    sent_signals = 0
    while time.monotonic() < deadline:
        time.sleep(seconds / signals)
        if sent_signals < signals:
            server.proc.send_signal(signal.SIGHUP)
            sent_signals += 1
    stop.set()
    thread.join(timeout=5)
    print(f"     SIGHUP under load: {counts['sent']} queries, {sent_signals} reloads, "
          f"{counts['lost']} lost, {counts['wrong']} wrong", flush=True)
    expect(counts["sent"] > 1000, f"too few queries to tell ({counts['sent']})")
    expect(counts["lost"] == 0 and counts["wrong"] == 0, f"{counts}")
    expect(server.alive(), "rbld serve exited")


def start_query_loop(port):
    """A client thread asking `port` without pause (one query in flight, 1 s to answer),
    counting queries sent, lost and answered wrongly, until the returned event is set."""
    names = [(rev4("198.51.100.7"), 0), (rev4("198.51.100.99"), 3), (rev4("203.0.113.5"), 0), (rev4("203.0.113.9"), 3)]
    counts = {"sent": 0, "lost": 0, "wrong": 0}
    stop = threading.Event()

    def client():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(1.0)
            qid = 0
            while not stop.is_set():
                name, rcode = names[qid % len(names)]
                qid = (qid + 1) & 0xFFFF
                s.sendto(query_packet(qid, name), ("127.0.0.1", port))
                counts["sent"] += 1
                try:
                    while True:  # a late answer to an earlier query is not this one's
                        reply = s.recv(65535)
                        if struct.unpack(">H", reply[:2])[0] == qid:
                            break
                except socket.timeout:
                    counts["lost"] += 1
                    continue
                if reply[3] & 0xF != rcode:
                    counts["wrong"] += 1

    thread = threading.Thread(target=client)
    thread.start()
    return counts, stop, thread


def sighup_adds_listen_address(rbld, work, data):
    """`rbld run` on one DNS address (a store of its own, no ingest listener); the file gets
    a second address and rbld a SIGHUP. The second address must start answering while a
    client on the first loses no query; then the first is taken out by another SIGHUP and
    stops answering while the second goes on."""
    db = os.path.join(work, "listen.sqlite")
    run([rbld, "import", "--format", "rbldnsd", "--db", db, "--zone", ZONE, data])
    first, second = free_port(), free_port()
    conf = os.path.join(work, "listen.yaml")

    def configure(ports):
        listen = ", ".join(f'"127.0.0.1:{p}"' for p in ports)
        with open(conf, "w") as f:
            f.write(f"db: {db}\nlog-level: info\ndns:\n  listen: [{listen}]\ningest:\n  lmtp: null\n"
                    f"metrics: null\nzones:\n  - name: {ZONE}\n    txt: \"{TEMPLATE}\"\n")

    configure([first])
    log = os.path.join(work, "listen.log")
    server = Process([rbld, "run", "--config", conf], log)
    try:
        up = wait_for(lambda: dig(first, rev4("198.51.100.7")).status == "NOERROR", 30)
        expect(up, "rbld run did not come up:\n" + open(log).read())
        counts, stop, thread = start_query_loop(first)
        try:
            time.sleep(0.5)
            configure([first, second])
            server.proc.send_signal(signal.SIGHUP)
            added = wait_for(lambda: dig(second, rev4("198.51.100.7")).status == "NOERROR", 10)
            time.sleep(0.5)
        finally:
            stop.set()
            thread.join(timeout=5)
        print(f"     SIGHUP adding an address: {counts['sent']} queries to the first, "
              f"{counts['lost']} lost, {counts['wrong']} wrong", flush=True)
        expect(added, "the second address never answered:\n" + open(log).read())
        expect(counts["sent"] > 100, f"too few queries to tell ({counts['sent']})")
        expect(counts["lost"] == 0 and counts["wrong"] == 0, f"{counts}")
        expect_listed(dig(second, rev4("198.51.100.7"), "A", "+tcp"))

        configure([second])
        server.proc.send_signal(signal.SIGHUP)
        removed = wait_for(lambda: dig(first, rev4("198.51.100.7")).status is None, 15, interval=0.2)
        expect(removed, "the first address still answers after it was taken out")
        expect_listed(dig(second, rev4("198.51.100.7")))
        expect(server.alive(), "rbld run exited")
    finally:
        server.stop()


def import_errors(rbld, db, work, port):
    bad = os.path.join(work, "bad.list")
    with open(bad, "w") as f:
        f.write("198.51.100.88\n1.2.3.4/33\nnot-an-ip\n")
    result = run([rbld, "import", "--format", "plain", "--merge", "--db", db, "--zone", ZONE, bad], check=False)
    expect(result.returncode == 65, f"exit {result.returncode}, want 65 (EX_DATAERR)")
    expect(f"{bad}:2:" in result.stderr and f"{bad}:3:" in result.stderr, f"errors must name file:line: {result.stderr}")
    time.sleep(0.5)
    expect_negative(dig(port, rev4("198.51.100.88")), "NXDOMAIN")
    run([rbld, "import", "--format", "plain", "--merge", "--skip-bad", "--db", db, "--zone", ZONE, bad])
    expect(wait_for(lambda: dig(port, rev4("198.51.100.88")).status == "NOERROR", 3), "--skip-bad did not import")


def through_unbound(port, work):
    uport = free_port()
    conf = os.path.join(work, "unbound.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
    interface: 127.0.0.1
    port: {uport}
    do-not-query-localhost: no
    do-daemonize: no
    use-syslog: no
    logfile: ""
    chroot: ""
    username: ""
    directory: "{work}"
    pidfile: "{work}/unbound.pid"
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
    verbosity: 1
    domain-insecure: "{ZONE}"
stub-zone:
    name: "{ZONE}"
    stub-addr: 127.0.0.1@{port}
""")
    unbound = Process(["unbound", "-d", "-c", conf], os.path.join(work, "unbound.log"))
    try:
        ready = wait_for(lambda: Dig(run(["dig", "@127.0.0.1", "-p", str(uport), "+tries=1", "+time=1",
                                          rev4("127.0.0.2"), "A"], check=False).stdout).status == "NOERROR", 20, 0.2)
        expect(ready, "unbound did not answer: " + open(os.path.join(work, "unbound.log")).read()[-2000:])
        d = Dig(run(["dig", "@127.0.0.1", "-p", str(uport), rev4("198.51.100.7"), "A"]).stdout)
        expect(d.status == "NOERROR" and [r[4] for r in d.answer] == ["127.0.0.2"], f"{d}")
        d = Dig(run(["dig", "@127.0.0.1", "-p", str(uport), rev4("198.51.100.7"), "TXT"]).stdout)
        expect(d.txt() == [TEMPLATE.replace("$", "198.51.100.7")], f"{d}")
        d = Dig(run(["dig", "@127.0.0.1", "-p", str(uport), rev4("198.51.100.99"), "A"], check=False).stdout)
        expect(d.status == "NXDOMAIN", f"{d}")
        d = Dig(run(["dig", "@127.0.0.1", "-p", str(uport), rev6("2001:db8::1"), "A"]).stdout)
        expect(d.status == "NOERROR" and [r[4] for r in d.answer] == ["127.0.0.2"], f"{d}")
    finally:
        unbound.stop()


if __name__ == "__main__":
    sys.exit(main())
