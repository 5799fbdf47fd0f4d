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
PATH=$(dirname "$0"):$PATH

cleanup() {
	stop_captures
	[ -n "${server:-}" ] && kill "$server" 2>/dev/null
	[ -n "${server_c:-}" ] && kill "$server_c" 2>/dev/null
	for ns in "$ns_a" "$ns_b" "$ns_c" "$ns_r"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..15"

two_hosts
ip netns add "$ns_c"
ip -n "$ns_c" link set lo up

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
ip netns exec "$ns_b" shimsock server -u 7007 -t 7008 "$b1" >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do
	grep -q listening "$dir/server.log" && break
	sleep 0.2
done

# A: both flows, then the move to (a2, b2): SHIM_LOC_PEER_PREF set on the
# UDP socket and SHIM_LOC_LOCAL_PREF on the TCP socket move the context
# of both.  Datagrams of 1000 random octets, each echoed intact from the
# ULID (else shimsock fails); streams of random octets, compared octet by
# octet as they come back.
ip netns exec "$ns_a" shimsock client -s 1000 "$a1" "$b1" \
	udp 7007 associated tcp 7008 associate 200 associated \
	stream 262144 \
	peer-pref udp "$b2" local-pref tcp "$a2" preferred \
	echo 100 stream 1048576 lost peername >"$dir/client.log" 2>&1
echo "rc $?" >>"$dir/client.log"

grep -qx "associated 0" "$dir/client.log" && grep -qx "associated 1 1" "$dir/client.log"
result $? "locators: SHIM_ASSOCIATED 0 -> 1 on the UDP and TCP sockets ($(grep associated "$dir/client.log" | tr '\n' ' '))"
grep -qx "preferred udp $a2 $b2" "$dir/client.log" && grep -qx "preferred tcp $a2 $b2" "$dir/client.log"
result $? "locators: SHIM_LOC_*_PREF read back the preferred pair ($(grep preferred "$dir/client.log" | tr '\n' ' '))"
grep -qx "lost 0" "$dir/client.log"
result $? "locators: every UDP datagram came back intact from the ULID, before and after the move ($(grep -e '^associate ' -e '^echo ' -e '^lost ' "$dir/client.log" | tr '\n' ' '))"
grep -qx "stream 262144: intact" "$dir/client.log" && grep -qx "stream 1048576: intact" "$dir/client.log"
result $? "locators: the TCP stream came back intact before and after the move ($(grep ^stream "$dir/client.log" | tr '\n' ' '))"
grep -qx "peername $b1 $b1" "$dir/client.log"
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
# tag B no longer knows.  Datagrams sent while the context recovers (the
# first 10 after the flush) may be lost; the flow goes on.
ip netns exec "$ns_a" shimsock client -w 2 "$a1" "$b1" udp 7007 tcp 7008 \
	stream 65536 echo 1 \
	run "shimctl -n $ns_b context flush" \
	stream 262144 echo 10 echo 20 >"$dir/restart.log" 2>&1
grep -qx "stream 65536: intact" "$dir/restart.log" && grep -qx "echo 1: 1 echoed" "$dir/restart.log" &&
	grep -qx "stream 262144: intact" "$dir/restart.log" && grep -qx "echo 20: 20 echoed" "$dir/restart.log"
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
ip netns exec "$ns_a" shimsock client -w 2 "$a1" "$b1" udp 7007 echo 10 >"$dir/update.log" 2>&1
shimctl -j -n "$ns_a" context show >"$dir/a3.json" 2>&1
grep -qx "echo 10: 10 echoed" "$dir/update.log" && python3 - "$dir/a3.json" "$a1" <<'PY'
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
ip netns exec "$ns_c" shimsock server -u 7007 2001:db8:c1::c >"$dir/server_c.log" 2>&1 &
server_c=$!
for _ in $(seq 50); do
	grep -q listening "$dir/server_c.log" && break
	sleep 0.2
done
ip netns exec "$ns_a" shimsock client -w 2 -i 0.05 "$a1" 2001:db8:c1::c \
	udp 7007 echo 30 associated >"$dir/nosupport.log" 2>&1
# Held back for the context (-D: SHIM_DEFERRED_CONTEXT_SETUP 0), released
# unshimmed when the setup fails.
ip netns exec "$ns_a" shimsock client -D -w 5 "$a1" 2001:db8:c1::c \
	udp 7007 echo 1 associated >"$dir/held.log" 2>&1
kill "$server_c" 2>/dev/null
grep -qx "echo 30: 30 echoed" "$dir/nosupport.log" && grep -qx "associated 0" "$dir/nosupport.log" &&
	grep -qx "echo 1: 1 echoed" "$dir/held.log" && grep -qx "associated 0" "$dir/held.log"
result $? "no-support: the flow to a host without SHIM6 goes on unshimmed ($(cat "$dir/nosupport.log" "$dir/held.log" | tr '\n' ' '))"
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
	printf 'types=4,5,6,64,65\noptional=66,67\npayload=%s>%s\n' "$a2" "$b2" >"$SHIM6_OUT/shim6_locators.pcap.expect"
	# On A's second uplink, by source: the same payload leaving A, and the
	# recovery on (a2, b2); the Update Request left from a1.
	cp "$dir/ra1.pcap" "$SHIM6_OUT/shim6_locators_a.pcap"
	printf 'types=4,5,6\noptional=66,67\npayload=%s>%s\n' "$a2" "$b2" >"$SHIM6_OUT/shim6_locators_a.pcap.expect"
fi

totals
