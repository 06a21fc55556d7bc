#!/usr/bin/env bash
# allocations.sh -- heap allocations per answered UDP query, counted by valgrind.
#
# Runs `rbld serve` under valgrind twice, sends Q and then 10·Q queries (listed, unlisted,
# TXT, IPv6) from one client socket on 127.0.0.1, stops it with SIGTERM and reads
# valgrind's "total heap usage" line. (allocs(10·Q) − allocs(Q)) / 9·Q is the number of
# heap allocations per answered query; the budget is zero (the output buffers are
# preallocated per thread). Bounded: at most 11·Q queries, each run stops by itself.
#
# usage: Benchmarks/allocations.sh [RBLD_BINARY] [Q]
set -euo pipefail
RBLD=${1:-.build/release/rbld}
Q=${2:-2000}
work=$(mktemp -d /tmp/rbld-allocs.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf '198.51.100.7\n203.0.113.0/24\n2001:db8::1\n' > "$work/list"
"$RBLD" import --format plain --db "$work/db.sqlite" --zone bl.example.org "$work/list" > /dev/null

count_allocs() { # count_allocs N -> total allocs of a serve run answering N queries
  local n=$1 port=$((20000 + RANDOM % 20000))
  valgrind --tool=memcheck --leak-check=no --log-file="$work/vg.$n" \
    "$RBLD" serve --db "$work/db.sqlite" --zone bl.example.org --listen "127.0.0.1:$port" --threads 1 \
    > "$work/serve.$n" 2>&1 &
  local pid=$!
  python3 - "$port" "$n" <<'PY'
import socket, struct, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
def q(i, name, t):
    wire = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", t, 1)
names = [("7.100.51.198.bl.example.org", 1), ("9.9.9.9.bl.example.org", 1), ("5.113.0.203.bl.example.org", 16),
         ("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example.org", 1)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
deadline = time.time() + 60
while time.time() < deadline:  # wait until the server answers (valgrind starts slowly)
    try:
        s.sendto(q(0, names[0][0], 1), ("127.0.0.1", port)); s.recvfrom(4096); break
    except OSError:
        time.sleep(0.5)
answered = 0
for i in range(n):
    name, t = names[i % len(names)]
    s.sendto(q(i, name, t), ("127.0.0.1", port))
    try:
        s.recvfrom(4096); answered += 1
    except socket.timeout:
        pass
print(answered)
PY
  kill -TERM "$pid"; wait "$pid" || true
  grep -o 'total heap usage: [0-9,]* allocs' "$work/vg.$n" | tr -dc '0-9'
}
a=$(count_allocs "$Q")
b=$(count_allocs "$((Q * 10))")
echo "allocations: $a for $Q queries, $b for $((Q * 10)) queries"
python3 -c "print(f'heap allocations per answered query: {($b - $a) / ($Q * 9):.4f}')"
