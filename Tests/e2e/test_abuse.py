#!/usr/bin/env python3
"""test_abuse.py -- rbld serve under a UDP flood, and its client policy, on loopback.

Response rate limiting: a flood from one loopback /24 (127.0.1.0/24) is held to the
configured rate, every second limited response comes back truncated (TC=1) and the bytes
sent back to the flooded network never exceed the bytes it sent; a second client in
another /24 (127.0.2.0/24) keeps its answers; TCP from the flooded network is answered.
Client policy: refused, fixed-code and over-quota networks get their codes over UDP and
TCP, and the metrics count them. Every loop is bounded in count and time.
"""
import os
import random
import resource
import select
import socket
import struct
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Process, Suite, dig, expect, free_port, rbld_binary, run, tempdir, wait_for  # noqa: E402

ZONE = "bl.example.org"
DATA = """$SOA 3600 ns1.example.org hostmaster.example.org 0 600 300 86400 60
$NS 3600 ns1.example.org
:127.0.0.2:Backscatter from $
198.51.100.7
"""
RATE = 100
FLOOD_SECONDS = 3.0
FLOODER = "127.0.1.2"
# The flood comes from eight addresses of one /24, as a forged flood varies its sources: the
# server's sockets (SO_REUSEPORT) share it out, and the limit must hold across them.
FLOODERS = [f"127.0.1.{host}" for host in range(2, 10)]
BYSTANDER = "127.0.2.1"


def rev4(ip):
    return ".".join(reversed(ip.split("."))) + "." + ZONE


def query_packet(qid, name, qtype=1):
    wire = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def metric(text, name, **labels):
    """The value of one series (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def flood(port, seconds, bystander_queries=300, sources=FLOODERS):
    """Floods from `sources` (one /24) with NXDOMAIN queries as fast as it can while
    BYSTANDER asks one query every few milliseconds. Returns the flood's tallies, the
    bystander's queries and answers, and the time taken."""
    flooders = []
    for source in sources:
        flooder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flooder.bind((source, 0))
        flooder.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        flooder.setblocking(False)
        flooders.append(flooder)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind((BYSTANDER, 0))
    other.setblocking(False)
    rng = random.Random(14)
    packets = [query_packet(rng.randrange(65536), rev4(f"192.0.2.{rng.randrange(1, 255)}")) for _ in range(512)]
    tally = {"sent": 0, "bytes_out": 0, "full": 0, "slipped": 0, "bytes_back": 0}
    asked, answered, pending = 0, 0, {}
    start = time.monotonic()
    deadline = start + seconds
    next_ask = start
    index = 0

    def drain():
        nonlocal answered
        for flooder in flooders:
            while True:
                try:
                    reply = flooder.recv(4096)
                except BlockingIOError:
                    break
                tally["bytes_back"] += len(reply)
                if reply[2] & 0x02:
                    tally["slipped"] += 1
                else:
                    tally["full"] += 1
        while True:
            try:
                reply = other.recv(4096)
            except BlockingIOError:
                break
            qid = struct.unpack(">H", reply[:2])[0]
            # Answered: its ID, a full reply (not truncated), NOERROR or NXDOMAIN.
            if pending.pop(qid, None) is not None and reply[3] & 0x0F in (0, 3) and not reply[2] & 0x02:
                answered += 1

    while time.monotonic() < deadline:
        for _ in range(64):
            packet = packets[index % len(packets)]
            flooder = flooders[index % len(flooders)]
            index += 1
            try:
                flooder.sendto(packet, ("127.0.0.1", port))
            except BlockingIOError:
                break
            tally["sent"] += 1
            tally["bytes_out"] += len(packet)
        now = time.monotonic()
        if asked < bystander_queries and now >= next_ask:
            qid = 0x5000 + asked
            pending[qid] = now
            other.sendto(query_packet(qid, rev4("198.51.100.7")), ("127.0.0.1", port))
            asked += 1
            next_ask = now + seconds / bystander_queries
        drain()
    # Late replies: up to a second more.
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        select.select(flooders + [other], [], [], 0.05)
        drain()
    elapsed = time.monotonic() - start
    for flooder in flooders:
        flooder.close()
    other.close()
    return tally, asked, answered, elapsed


def rate_limiting(rbld, db, work):
    port = free_port()
    metrics_port = free_port(socket.SOCK_STREAM)
    log = os.path.join(work, "serve-rrl.log")
    server = Process([rbld, "serve", "--db", db, "--zone", ZONE, "--listen", f"127.0.0.1:{port}",
                      "--rrl-rate", str(RATE), "--rrl-slip", "2", "--metrics", f"127.0.0.1:{metrics_port}"], log)
    try:
        expect(wait_for(lambda: dig(port, rev4("127.0.0.2")).status == "NOERROR", 30), "rbld serve did not come up")
        tally, asked, answered, elapsed = flood(port, FLOOD_SECONDS)
        print(f"     flood: {tally['sent']} queries in {elapsed:.1f} s ({tally['sent'] / FLOOD_SECONDS:.0f}/s) "
              f"from {FLOODERS[0]}-{FLOODERS[-1]}: {tally['full']} answered, {tally['slipped']} slipped; amplification "
              f"{tally['bytes_back'] / max(1, tally['bytes_out']):.3f}; {BYSTANDER}: {answered}/{asked} answered",
              flush=True)
        expect(tally["sent"] > 20 * RATE * FLOOD_SECONDS, f"the flood was too slow to test anything: {tally}")
        # A burst of one second's worth, then RATE per second (one answer class).
        expect(tally["full"] <= RATE * (elapsed + 1), f"flooder got {tally['full']} full answers in {elapsed:.1f} s")
        expect(tally["full"] >= RATE * FLOOD_SECONDS * 0.5, f"flooder got only {tally['full']} full answers")
        limited = tally["sent"] - tally["full"]
        # Every second limited response slips, unless the kernel dropped some on the way.
        expect(tally["slipped"] >= limited * 0.35, f"{tally['slipped']} slipped of {limited} limited")
        expect(tally["bytes_back"] <= tally["bytes_out"],
               f"amplification {tally['bytes_back']} bytes back for {tally['bytes_out']} sent")
        expect(answered >= 0.99 * asked, f"the other client got {answered} of {asked} answers")
        # TCP from the flooded network is never limited.
        tcp = dig(port, rev4("198.51.100.7"), "A", "+tcp", "-b", FLOODER)
        expect(tcp.status == "NOERROR" and tcp.answer, f"TCP from the flooded network: {tcp}")
        text = metrics(metrics_port)
        slipped = metric(text, "rbld_dns_rrl_limited_total", action="slipped")
        dropped = metric(text, "rbld_dns_rrl_limited_total", action="dropped")
        expect(slipped > 0 and dropped > 0, f"rrl metrics: slipped {slipped}, dropped {dropped}")
        expect(metric(text, "rbld_dns_dropped_total", transport="udp", reason="rate-limited") == dropped,
               "dropped{reason=rate-limited} equals the RRL drops")
        expect(server.alive(), "rbld serve exited")
    finally:
        code = server.stop()
    expect(code == 0, f"rbld serve exit {code}: {open(log).read()[-2000:]}")


POLICY = """
db: {db}
dns:
  listen: ["127.0.0.1:{port}"]
  clients:
    refuse: [127.0.3.0/24]
    fixed-code: [127.0.4.0/24]
    fixed-code-text: "open resolver, $ not looked up"
    daily-quota: 3
    quota-exempt: [127.0.0.0/24]
    quota-text: "quota exceeded, $ not looked up"
metrics:
  listen: 127.0.0.1:{metrics_port}
zones:
  - name: {zone}
    txt: "Backscatter from $"
"""


def client_policy(rbld, db, work):
    port = free_port()
    metrics_port = free_port(socket.SOCK_STREAM)
    config = os.path.join(work, "policy.yaml")
    with open(config, "w") as f:
        f.write(POLICY.format(db=db, port=port, metrics_port=metrics_port, zone=ZONE))
    log = os.path.join(work, "serve-policy.log")
    server = Process([rbld, "serve", "--config", config], log)
    try:
        expect(wait_for(lambda: dig(port, rev4("127.0.0.2")).status == "NOERROR", 30), "rbld serve did not come up")
        listed = rev4("198.51.100.7")
        for transport in ((), ("+tcp",)):
            refused = dig(port, listed, "A", *transport, "-b", "127.0.3.9")
            expect(refused.status == "REFUSED" and not refused.answer, f"refused network {transport}: {refused}")
            fixed = dig(port, rev4("192.0.2.1"), "A", *transport, "-b", "127.0.4.9")
            expect([r[4] for r in fixed.answer] == ["127.255.255.254"], f"fixed-code network {transport}: {fixed}")
        fixed_txt = dig(port, listed, "TXT", "-b", "127.0.4.9")
        expect(fixed_txt.txt() == ["open resolver, 198.51.100.7 not looked up"], f"fixed-code TXT: {fixed_txt}")
        # Quota 3 a day per /24: the fourth address query gets the quota code, TCP alike.
        answers = [dig(port, listed, "A", "-b", f"127.0.5.{i}") for i in range(1, 4)]
        expect(all([r[4] for r in a.answer] == ["127.0.0.2"] for a in answers), f"under quota: {answers}")
        over = dig(port, listed, "A", "+tcp", "-b", "127.0.5.200")
        expect([r[4] for r in over.answer] == ["127.255.255.255"], f"over quota: {over}")
        over_txt = dig(port, listed, "TXT", "-b", "127.0.5.7")
        expect(over_txt.txt() == ["quota exceeded, 198.51.100.7 not looked up"], f"over quota TXT: {over_txt}")
        for _ in range(10):
            exempt = dig(port, listed, "A", "-b", "127.0.0.1")
            expect([r[4] for r in exempt.answer] == ["127.0.0.2"], f"quota-exempt network: {exempt}")
        text = metrics(metrics_port)
        counts = {action: metric(text, "rbld_dns_client_policy_total", action=action)
                  for action in ("refused", "fixed-code", "over-quota")}
        expect(counts == {"refused": 2, "fixed-code": 3, "over-quota": 2}, f"client policy metrics: {counts}")
        expect(server.alive(), "rbld serve exited")
    finally:
        code = server.stop()
    expect(code == 0, f"rbld serve exit {code}: {open(log).read()[-2000:]}")


def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def ask_udp(port, qid, source=BYSTANDER):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(1.0)
        s.sendto(query_packet(qid, rev4("198.51.100.7")), ("127.0.0.1", port))
        try:
            reply = s.recv(4096)
        except socket.timeout:
            return False
        return reply[:2] == struct.pack(">H", qid) and reply[3] & 0x0F == 0


def ask_tcp(port, qid, source=BYSTANDER):
    query = query_packet(qid, rev4("198.51.100.7"))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((source, 0))
            s.settimeout(2.0)
            s.connect(("127.0.0.1", port))
            s.sendall(struct.pack(">H", len(query)) + query)
            reply = b""
            while len(reply) < 4:
                chunk = s.recv(4096)
                if not chunk:
                    return False
                reply += chunk
        return reply[2:4] == struct.pack(">H", qid)
    except OSError:
        return False


HALF_OPEN = 2000
GARBAGE_SECONDS = 5.0
GARBAGE_PACKETS = 200_000


def garbage_and_slow_connections(rbld, db, work):
    """2,000 half-open TCP connections and a flood of random and mutated datagrams (at most
    200,000 in 5 s) from 127.0.3.0/24, while 127.0.2.1 keeps asking over UDP and TCP."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the connections are descriptors here
    if soft != resource.RLIM_INFINITY and soft < HALF_OPEN + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, HALF_OPEN + 256) if hard != resource.RLIM_INFINITY
                                                    else HALF_OPEN + 256, hard))
    port = free_port()
    log = os.path.join(work, "serve-garbage.log")
    server = Process([rbld, "serve", "--db", db, "--zone", ZONE, "--listen", f"127.0.0.1:{port}"], log)
    slow = []
    try:
        expect(wait_for(lambda: dig(port, rev4("127.0.0.2")).status == "NOERROR", 30), "rbld serve did not come up")
        rss_before = vmrss_kib(server.proc.pid)
        for index in range(HALF_OPEN):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((f"127.0.3.{2 + index % 200}", 0))
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            slow.append(s)
        time.sleep(0.3)
        for s in slow:
            try:
                s.send(b"\x00")            # the first byte of a length prefix, and nothing more
            except OSError:
                pass
        rng = random.Random(1415)
        valid = [query_packet(rng.randrange(65536), rev4(f"198.51.100.{n}"), qtype) for n in range(1, 20) for qtype in (1, 16)]
        pool = []
        for _ in range(4096):
            if rng.random() < 0.5:
                pool.append(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))))
            else:
                packet = bytearray(rng.choice(valid))
                for _ in range(rng.randrange(1, 5)):
                    packet[rng.randrange(len(packet))] = rng.randrange(256)
                pool.append(bytes(packet[:rng.randrange(1, len(packet) + 1)]))
        junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        junk.bind(("127.0.3.1", 0))
        junk.setblocking(False)
        sent = 0
        udp, tcp = [0, 0], [0, 0]
        deadline = time.monotonic() + GARBAGE_SECONDS
        while time.monotonic() < deadline and sent < GARBAGE_PACKETS:
            for _ in range(min(2000, GARBAGE_PACKETS - sent)):
                try:
                    junk.sendto(pool[sent % len(pool)], ("127.0.0.1", port))
                    sent += 1
                except (BlockingIOError, OSError):
                    break
            qid = 0x6000 + udp[0]
            udp[0] += 1
            udp[1] += ask_udp(port, qid)
            tcp[0] += 1
            tcp[1] += ask_tcp(port, qid)
        junk.close()
        rss_after = vmrss_kib(server.proc.pid)
        print(f"     {sent} random or mutated datagrams and {HALF_OPEN} half-open connections from 127.0.3.0/24; "
              f"127.0.2.1: UDP {udp[1]}/{udp[0]} ({100 * udp[1] / max(1, udp[0]):.1f} %), "
              f"TCP {tcp[1]}/{tcp[0]} ({100 * tcp[1] / max(1, tcp[0]):.1f} %) answered; "
              f"RSS {rss_before} -> {rss_after} KiB", flush=True)
        expect(sent > 100_000, f"only {sent} datagrams sent")
        expect(udp[1] >= 0.95 * udp[0], f"UDP: {udp[1]} of {udp[0]} answered")
        expect(tcp[1] >= 0.95 * tcp[0], f"TCP: {tcp[1]} of {tcp[0]} answered while 127.0.3.0/24 held connections open")
        expect(rss_after < rss_before + 64 * 1024, f"memory grew from {rss_before} to {rss_after} KiB")
        expect(server.alive(), "rbld serve exited")
    finally:
        for s in slow:
            s.close()
        code = server.stop()
    expect(code == 0, f"rbld serve exit {code}: {open(log).read()[-2000:]}")


def bad_flag(rbld):
    result = run([rbld, "serve", "--rrl-rate", "-1"], check=False)
    expect(result.returncode == 64, f"--rrl-rate -1: exit {result.returncode}")
    expect("--rrl-rate" in result.stderr, f"error names the flag: {result.stderr}")


def main():
    rbld = rbld_binary()
    work = tempdir("rbld-e2e-abuse-")
    data = os.path.join(work, "e2e.zone")
    with open(data, "w") as f:
        f.write(DATA)
    db = os.path.join(work, "rbld.sqlite")
    run([rbld, "import", "--format", "rbldnsd", "--db", db, "--zone", ZONE, data])
    suite = Suite("e2e abuse")
    suite.check("rrl: a flood from one /24 is held to the rate, another client keeps its answers",
                lambda: rate_limiting(rbld, db, work))
    suite.check("client policy: refused, fixed code, daily quota, metrics", lambda: client_policy(rbld, db, work))
    suite.check("garbage datagrams and 2,000 half-open TCP connections from one /24: others are answered",
                lambda: garbage_and_slow_connections(rbld, db, work))
    suite.check("--rrl-rate out of range is a usage error", lambda: bad_flag(rbld))
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
