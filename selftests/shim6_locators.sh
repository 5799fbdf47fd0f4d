#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two multihomed hosts, A and B, each with two uplinks to a router R and an
# HBA address under each of its two prefixes (IPv6 only):
#
#   A a0 2001:db8:a1::/64 --- R --- 2001:db8:b1::/64 b0 B
#     a1 2001:db8:a2::/64 ---   --- 2001:db8:b2::/64 b1
#
# A's ULID is its address in a1, B's in b1.  A UDP flow and a TCP flow
# from A to B set up a context; SHIM_LOC_PEER_PREF and SHIM_LOC_LOCAL_PREF
# then move both flows to the second locator pair, whose last link has an
# MTU of 1400: TCP learns it from the router's Packet Too Big, which the
# shim hands on translated to the ULIDs.  The applications keep
# seeing the ULIDs (getpeername, recvfrom), every datagram and every octet
# of the stream comes back intact, and the capture of B's second uplink
# holds payload extension headers from A's second locator to B's.
#
# Then B loses its context (shimctl context flush: the state a restart of
# B loses; B and A share one kernel here, so a module reload would reset
# A as well): A's next packets meet R1bis, A recovers with I2bis, and the
# flows go on.  Then A loses its second address: an Update Request tells
# B, and A's flow goes on from the first.  Last, a host C without SHIM6 (shimctl set enabled off)
# answers A's I1 with Parameter Problem: A's context goes NO-SUPPORT and
# A's flow to C continues unshimmed.
#
# The captures of B's and A's second uplinks go to $SHIM6_OUT
# (shim6_locators.pcap, shim6_locators_a.pcap) with what they must hold
# in a .expect file each; the VM runner decodes them with tshark on the
# host.

set -u
ns_a=shim6-a-$$
ns_b=shim6-b-$$
ns_c=shim6-c-$$
ns_r=shim6-r-$$
dir=$(mktemp -d)
. "$(dirname "$0")/lib"

cleanup() {
	stop_captures
	[ -n "${server:-}" ] && kill "$server" 2>/dev/null
	for ns in "$ns_a" "$ns_b" "$ns_c" "$ns_r"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..15"

for ns in "$ns_a" "$ns_b" "$ns_c" "$ns_r"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip netns exec "$ns_r" sysctl -qw net.ipv6.conf.all.forwarding=1

read -r a1 a2 < <(hba_host "$ns_a" a 2001:db8:a1 2001:db8:a2 0123456789abcdef0123456789abcdef)
read -r b1 b2 < <(hba_host "$ns_b" b 2001:db8:b1 2001:db8:b2 fedcba9876543210fedcba9876543210)

# B's second uplink carries at most 1400 octets: once A's flows move there,
# only the router's Packet Too Big, translated back to the ULIDs for TCP,
# keeps the stream from blackholing.
ip -n "$ns_b" link set b1 mtu 1400
ip -n "$ns_r" link set rb1 mtu 1400

shimctl -j -n "$ns_a" locator show >"$dir/loc_a.json" 2>&1
python3 - "$dir/loc_a.json" "$a1" "$a2" <<'PY'
import json, sys
locs = {l["address"]: l["locator"] for l in json.load(open(sys.argv[1]))}
assert locs.get(sys.argv[2]) is True and locs.get(sys.argv[3]) is True, locs
PY
result $? "locators: shimctl locator show lists both of A's HBA addresses as locators"

start_capture "$ns_r" rb1 "$dir/rb1.pcap"
start_capture "$ns_r" ra1 "$dir/ra1.pcap"

# B: a UDP and a TCP echo server on its ULID.
ip netns exec "$ns_b" python3 - "$b1" >"$dir/server.log" 2>&1 <<'PY' &
import socket, sys, threading
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind((sys.argv[1], 7007))
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((sys.argv[1], 7008))
t.listen()
def udp():
    while True:
        data, peer = u.recvfrom(65536)
        u.sendto(data, peer)
def echo(c):
    while data := c.recv(65536):
        c.sendall(data)
    c.close()
threading.Thread(target=udp, daemon=True).start()
while True:
    c, _ = t.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
PY
server=$!
sleep 1

# A: both flows, then the move to (a2, b2).
ip netns exec "$ns_a" python3 - "$a1" "$a2" "$b1" "$b2" >"$dir/client.log" 2>&1 <<'PY'
import hashlib, os, socket, struct, sys, threading, time
SOL_SHIM, ASSOCIATED, LOCAL_PREF, PEER_PREF = 288, 1, 4, 5
a1, a2, b1, b2 = sys.argv[1:5]
def locator(a):
    return struct.pack("BBBB16s", socket.AF_INET6, 0, 0, 0, socket.inet_pton(socket.AF_INET6, a))
def addr(loc):
    return socket.inet_ntop(socket.AF_INET6, loc[4:20])

u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind((a1, 0))
u.connect((b1, 7007))
u.settimeout(3)
before = u.getsockopt(SOL_SHIM, ASSOCIATED)
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
t.bind((a1, 0))
t.connect((b1, 7008))

lost = 0
def udp_round(i):
    global lost
    msg = b"%d:" % i + os.urandom(1000)
    u.send(msg)
    try:
        data, peer = u.recvfrom(4096)
    except socket.timeout:
        lost += 1
        return
    assert data == msg, "datagram %d corrupted" % i
    assert peer[0] == b1, "datagram from %s, not the ULID" % peer[0]

for i in range(200):
    udp_round(i)
    if u.getsockopt(SOL_SHIM, ASSOCIATED) == 1:
        break
    time.sleep(0.05)
after = u.getsockopt(SOL_SHIM, ASSOCIATED)
print("associated", before, after, t.getsockopt(SOL_SHIM, ASSOCIATED))

# The stream: what goes out comes back, hashed on both ends.
sent, received = hashlib.sha256(), hashlib.sha256()
def reader(n):
    got = 0
    while got < n:
        data = t.recv(65536)
        if not data:
            break
        received.update(data)
        got += len(data)
def stream(n):
    r = threading.Thread(target=reader, args=(n,))
    r.start()
    left = n
    while left:
        chunk = os.urandom(min(left, 32768))
        sent.update(chunk)
        t.sendall(chunk)
        left -= len(chunk)
    r.join(60)
    return not r.is_alive()

ok_before = stream(256 * 1024)
u.setsockopt(SOL_SHIM, PEER_PREF, locator(b2))
t.setsockopt(SOL_SHIM, LOCAL_PREF, locator(a2))
print("preferred", addr(u.getsockopt(SOL_SHIM, LOCAL_PREF, 20)), addr(t.getsockopt(SOL_SHIM, PEER_PREF, 20)))
for i in range(100):
    udp_round(1000 + i)
ok_after = stream(1024 * 1024)
print("udp lost", lost)
print("tcp", ok_before and ok_after, sent.hexdigest() == received.hexdigest())
print("peername", u.getpeername()[0], t.getpeername()[0])
PY
echo "rc $?" >>"$dir/client.log"

grep -q "^associated 0 1 1$" "$dir/client.log"
result $? "locators: SHIM_ASSOCIATED 0 -> 1 on the UDP and TCP sockets ($(grep associated "$dir/client.log"))"
grep -q "^preferred $a2 $b2$" "$dir/client.log"
result $? "locators: SHIM_LOC_*_PREF read back the preferred pair ($(grep preferred "$dir/client.log"))"
grep -q "^udp lost 0$" "$dir/client.log"
result $? "locators: every UDP datagram came back intact from the ULID, before and after the move"
grep -q "^tcp True True$" "$dir/client.log"
result $? "locators: the TCP stream came back intact before and after the move ($(grep ^tcp "$dir/client.log"))"
grep -q "^peername $b1 $b1$" "$dir/client.log"
result $? "locators: getpeername() keeps the ULID ($(grep peername "$dir/client.log"))"
# 1400 less the 8 octets of the payload header, learnt by the ULIDs' route.
ip -n "$ns_a" -6 route get "$b1" from "$a1" >"$dir/pmtu" 2>&1
grep -q ' mtu 1392 ' "$dir/pmtu"
result $? "pmtu: the router's Packet Too Big about the moved flow reached TCP on the ULIDs, 8 octets less ($(head -1 "$dir/pmtu"))"
grep -q "^rc 0$" "$dir/client.log" || sed 's/^/# /' "$dir/client.log" "$dir/server.log"

shimctl -j -n "$ns_a" context show >"$dir/a.json" 2>&1
shimctl -j -n "$ns_b" context show >"$dir/b.json" 2>&1
python3 - "$dir/a.json" "$dir/b.json" "$a1" "$a2" "$b1" "$b2" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
a1, a2, b1, b2 = sys.argv[3:]
assert len(a) == 1 and len(b) == 1, (a, b)
a, b = a[0], b[0]
assert a["state"] == b["state"] == "established", (a, b)
assert (a["ulid_local"], a["ulid_peer"]) == (a1, b1), a
assert (a["locator_local"], a["locator_peer"]) == (a2, b2), a
assert sorted(a["peer_locators"]) == sorted([b1, b2]), a
assert sorted(b["peer_locators"]) == sorted([a1, a2]), b
assert a["ct_peer"] == b["ct_local"] and b["ct_peer"] == a["ct_local"], (a, b)
# A shimmed and B restored the moved flows: 100 datagrams and 1 MiB at
# least (a GSO packet counts once on A and once per segment on B).
assert a["packets_out"] >= 100 and a["bytes_out"] > 1 << 20, a
assert b["packets_in"] >= 100 and b["bytes_in"] > 1 << 20, b
PY
result $? "locators: shimctl shows the moved context on A with its counters, both locator lists verified on both sides"

# B loses its contexts while A's flows are idle; A's next packets carry a
# tag B no longer knows.
ip netns exec "$ns_a" python3 - "$a1" "$b1" "$ns_b" >"$dir/restart.log" 2>&1 <<'PY'
import hashlib, os, socket, subprocess, sys, threading, time
a1, b1, ns_b = sys.argv[1:4]
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind((a1, 0))
u.connect((b1, 7007))
u.settimeout(2)
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
t.bind((a1, 0))
t.connect((b1, 7008))
def echo(n):
    out = os.urandom(n)
    r = threading.Thread(target=lambda: got.append(b"".join(iter_recv(n))))
    r.start()
    t.sendall(out)
    r.join(60)
    return got.pop() == out if got else False
def iter_recv(n):
    while n > 0:
        d = t.recv(65536)
        if not d:
            return
        n -= len(d)
        yield d
got = []
def udp_ok(i):
    msg = b"r%d" % i
    u.send(msg)
    try:
        return u.recvfrom(100)[0] == msg
    except socket.timeout:
        return False
print("before", echo(65536), udp_ok(0))
subprocess.run(["shimctl", "-n", ns_b, "context", "flush"], check=True)
print("flushed")
tcp = echo(256 * 1024)
udp = [udp_ok(i) for i in range(1, 31)]
# Datagrams sent while the context recovers may be lost; the flow goes on.
print("after", tcp, all(udp[-20:]))
PY
grep -q "^before True True$" "$dir/restart.log" && grep -q "^after True True$" "$dir/restart.log"
result $? "restart: after B lost its context, A's TCP and UDP flows go on ($(tr '\n' ' ' <"$dir/restart.log"))"

shimctl -j -n "$ns_a" context show >"$dir/a2.json" 2>&1
shimctl -j -n "$ns_b" context show >"$dir/b2.json" 2>&1
python3 - "$dir/a2.json" "$dir/b2.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert len(a) == 1 and len(b) == 1, (a, b)
a, b = a[0], b[0]
assert a["state"] == b["state"] == "established", (a, b)
assert a["ct_peer"] == b["ct_local"] and b["ct_peer"] == a["ct_local"], (a, b)
PY
result $? "restart: A and B share a context again, tags crossed (R1bis, I2bis, R2)"

# A loses its second address: B hears it by Update Request, and the
# context leaves that locator.
ip -n "$ns_a" addr del "$a2/64" dev a1
ok=1
for _ in $(seq 50); do
	shimctl -j -n "$ns_b" context show >"$dir/b3.json" 2>&1
	python3 - "$dir/b3.json" "$a1" <<'PY' && ok=0 && break
import json, sys
(b,) = json.load(open(sys.argv[1]))
assert b["peer_locators"] == [sys.argv[2]], b
PY
	sleep 0.2
done
result $ok "update: A's address removal reaches B by Update Request ($(head -c 300 "$dir/b3.json"))"
ip netns exec "$ns_a" python3 - "$a1" "$b1" >"$dir/update.log" 2>&1 <<'PY'
import socket, sys
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind((sys.argv[1], 0))
u.connect((sys.argv[2], 7007))
u.settimeout(2)
ok = 0
for i in range(10):
    u.send(b"u%d" % i)
    try:
        ok += u.recvfrom(100)[0] == b"u%d" % i
    except socket.timeout:
        pass
print("echoed", ok)
PY
shimctl -j -n "$ns_a" context show >"$dir/a3.json" 2>&1
grep -q "^echoed 10$" "$dir/update.log" && python3 - "$dir/a3.json" "$a1" <<'PY'
import json, sys
(a,) = json.load(open(sys.argv[1]))
assert a["locator_local"] == sys.argv[2] and a["local_locators"] == [sys.argv[2]], a
PY
result $? "update: A's flow to B goes on from its remaining locator ($(cat "$dir/update.log"))"

# C: one uplink, no SHIM6.
ip link add c0 netns "$ns_c" type veth peer name rc0 netns "$ns_r"
ip -n "$ns_c" addr add 2001:db8:c1::c/64 dev c0 nodad
ip -n "$ns_r" addr add 2001:db8:c1::1/64 dev rc0 nodad
ip -n "$ns_c" link set c0 up
ip -n "$ns_r" link set rc0 up
ip -n "$ns_c" -6 route add default via 2001:db8:c1::1
shimctl -n "$ns_c" set enabled off
ip netns exec "$ns_c" python3 - >/dev/null 2>&1 <<'PY' &
import socket
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind(("2001:db8:c1::c", 7007))
while True:
    d, p = u.recvfrom(65536)
    u.sendto(d, p)
PY
server_c=$!
sleep 1
ip netns exec "$ns_a" python3 - "$a1" >"$dir/nosupport.log" 2>&1 <<'PY'
import socket, subprocess, sys, time
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind((sys.argv[1], 0))
u.connect(("2001:db8:c1::c", 7007))
u.settimeout(2)
ok = 0
for i in range(30):
    u.send(b"c%d" % i)
    try:
        ok += u.recvfrom(100)[0] == b"c%d" % i
    except socket.timeout:
        pass
    time.sleep(0.05)
# Held back for the context (SHIM_DEFERRED_CONTEXT_SETUP 0), released
# unshimmed when the setup fails.
w = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
w.setsockopt(288, 14, 0)
w.bind((sys.argv[1], 0))
w.connect(("2001:db8:c1::c", 7007))
w.settimeout(5)
w.send(b"held")
try:
    held = w.recvfrom(100)[0] == b"held"
except socket.timeout:
    held = False
print("echoed", ok, "associated", u.getsockopt(288, 1), "held", held)
PY
kill "$server_c" 2>/dev/null
grep -q "^echoed 30 associated 0 held True$" "$dir/nosupport.log"
result $? "no-support: the flow to a host without SHIM6 goes on unshimmed ($(cat "$dir/nosupport.log"))"
shimctl -n "$ns_a" context show >"$dir/show_a" 2>&1
grep -q "> 2001:db8:c1::c state no-support" "$dir/show_a"
result $? "no-support: Parameter Problem put A's context with C in NO-SUPPORT ($(grep c1::c "$dir/show_a"))"
shimctl -n "$ns_c" context show >"$dir/show_c" 2>&1
[ ! -s "$dir/show_c" ]
result $? "no-support: the host without SHIM6 holds no context"

stop_captures

if [ -n "${SHIM6_OUT:-}" ]; then
	cp "$dir/rb1.pcap" "$SHIM6_OUT/shim6_locators.pcap"
	# On B's second uplink: A's moved payload, the recovery of B's
	# context (R1bis 5 from B, I2bis 6 from A, R2 4 from B), A's Update
	# Request (64, from a1 to b2) and B's acknowledgement (65, from b2).
	printf 'types=4,5,6,64,65\npayload=%s>%s\n' "$a2" "$b2" >"$SHIM6_OUT/shim6_locators.pcap.expect"
	# On A's second uplink, by source: the same payload leaving A, and the
	# recovery on (a2, b2); the Update Request left from a1.
	cp "$dir/ra1.pcap" "$SHIM6_OUT/shim6_locators_a.pcap"
	printf 'types=4,5,6\npayload=%s>%s\n' "$a2" "$b2" >"$SHIM6_OUT/shim6_locators_a.pcap.expect"
fi

totals
