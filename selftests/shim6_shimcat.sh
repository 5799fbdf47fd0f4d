#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# shimcat, the example application of the Rust crate (tools/shim6), through
# the module: the crate's typed SOL_SHIM options and ancillary data as a
# user drives them from the command line.
#
# Two multihomed hosts, A and B (selftests/lib.sh two_hosts); on B,
# shimcat echo servers on the ULIDs b1 and b2 that report the locators
# each datagram came on.
#  1. TCP: a stream through shimcat comes back intact.
#  2. UDP from a1 to b1 with --prefer-peer b2: once the context is up the
#     crate moves it (SHIM_LOC_PEER_PREF); B's server sees datagrams of
#     the ULID pair arrive on its locator b2 (SHIM_LOC_LOCAL_RECV) from a1,
#     A's shimcat reads the locators of each echo (SHIM_LOC_PEER_RECV),
#     and both applications keep the ULIDs.
#  3. UDP from a2 to b2 with --feedback 300: A's uplink of a2 fails
#     silently; the datagrams sent after 300 ms without an echo carry
#     SHIM_FEEDBACK, REAP explores at once and the flow moves to a1's
#     uplink: the echoes resume within seconds, where REAP's Send Timer
#     would have waited 15 s.

set -u
ns_a=shim6-ca-$$
ns_b=shim6-cb-$$
ns_r=shim6-cr-$$
dir=$(mktemp -d)
. "$(dirname "$0")/lib"
PATH=$(dirname "$0"):$PATH

cleanup() {
	kill_pids
	del_two_hosts
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..8"

two_hosts

# serve NAME ADDR PORT ARGS...: a shimcat echo server in B, once it listens.
serve() {
	local name=$1 addr=$2 port=$3
	shift 3
	ip netns exec "$ns_b" shimcat -l -e "$@" "$addr" "$port" >/dev/null 2>"$dir/$name.log" &
	pids="$pids $!"
	for _ in $(seq 50); do
		grep -q listening "$dir/$name.log" && break
		sleep 0.2
	done
}

# lines N: "d1" to "dN", one a line.
lines() {
	seq -f 'd%g' "$1"
}

serve tcp "$b1" 7001
serve udp1 "$b1" 7000 -u --show-locators
serve udp2 "$b2" 7000 -u --show-locators

# A's first uplink (a1's), from the router's side.
start_capture "$ns_r" ra0 "$dir/ra0.pcap"

# 1. TCP.
head -c 200000 /dev/urandom | base64 >"$dir/stream"
ip netns exec "$ns_a" timeout 30 shimcat -s "$a1" -q 2 "$b1" 7001 <"$dir/stream" >"$dir/stream.back" 2>"$dir/tcp.err"
cmp -s "$dir/stream" "$dir/stream.back"
result $? "shimcat: a TCP stream of $(wc -c <"$dir/stream") octets comes back intact ($(wc -c <"$dir/stream.back") back; $(tr '\n' ' ' <"$dir/tcp.err"))"

# 2. --prefer-peer and --show-locators.
lines 40 | ip netns exec "$ns_a" timeout 30 shimcat -u -i 0.1 -q 2 -s "$a1" --prefer-peer "$b2" --show-locators "$b1" 7000 \
	>"$dir/udp1.out" 2>"$dir/udp1.err"
grep -qx "shimcat: preferred local $a1 peer $b2" "$dir/udp1.err"
result $? "shimcat: --prefer-peer moved the context to the peer's locator ($(grep -m1 preferred "$dir/udp1.err"))"
# UDP in a loaded VM may lose a datagram while the context comes up; the
# moved flow's last 20 must all come back, in order.
tail -n 20 "$dir/udp1.out" | tr '\n' ' ' | grep -q "$(lines 40 | tail -n 20 | tr '\n' ' ')"
result $? "shimcat: the moved flow's datagrams echoed, in order ($(wc -l <"$dir/udp1.out") of 40 in all)"
grep -q "^shimcat: recv 4 from $a1 local $b2 peer $a1\$" "$dir/udp1.log"
result $? "shimcat: B's server got the ULID pair's datagrams on its locator $b2 ($(grep -c "local $b2" "$dir/udp1.log") of $(grep -c recv "$dir/udp1.log"))"
# B answers on the pair its own context chose: A reads whichever it is.
[ "$(grep -cE "^shimcat: recv [0-9]+ from $b1 local $a1 peer ($b1|$b2)\$" "$dir/udp1.err")" = "$(wc -l <"$dir/udp1.out")" ]
result $? "shimcat: A's client read the locators of every echo ($(grep -m1 recv "$dir/udp1.err"))"

# 3. --feedback: once ten datagrams came back, a2's uplink (A's a1, R's
#    ra1) drops everything (two execs of tc: seconds in an emulated VM);
#    every datagram sent from 3 s after the cut on (30 datagrams later)
#    must come back, in order.  shimctl monitor tells A's side of it,
#    for a failure.
shimctl -n "$ns_a" monitor >"$dir/monitor" 2>&1 &
pids="$pids $!"
lines 200 | ip netns exec "$ns_a" timeout 60 shimcat -u -i 0.1 -s "$a2" --feedback 300 -q 2 "$b2" 7000 \
	>"$dir/udp2.out" 2>"$dir/udp2.err" &
client=$!
for _ in $(seq 200); do
	[ "$(wc -l <"$dir/udp2.out")" -ge 10 ] && break
	sleep 0.1
done
ip netns exec "$ns_a" tc qdisc add dev a1 root netem loss 100%
ip netns exec "$ns_r" tc qdisc add dev ra1 root netem loss 100%
cut=$(wc -l <"$dir/udp2.out")
wait "$client"
grep -q "^shimcat: feedback: nothing from the peer for" "$dir/udp2.err"
result $? "shimcat: datagrams after 300 ms of silence carried SHIM_FEEDBACK ($(grep -c feedback "$dir/udp2.err") of them)"
after=$((200 - cut - 30))
[ "$after" -ge 20 ] && [ "$(tail -n "$after" "$dir/udp2.out")" = "$(lines 200 | tail -n "$after")" ]
ok=$?
result $ok "shimcat: the echoes resumed after the failure ($cut echoed before it, the last $after all back; $(wc -l <"$dir/udp2.out") of 200 in all; last: $(tail -n 1 "$dir/udp2.out"))"
if [ "$ok" != 0 ]; then
	sed 's/^/# out: /' "$dir/udp2.out" | tr '\n' ' '
	echo
	sed 's/^/# /' "$dir/udp2.err" "$dir/monitor"
fi
shimctl -j -n "$ns_a" context show | grep -q "\"ulid_local\":\"$a2\",\"ulid_peer\":\"$b2\".*\"locator_local\":\"$a1\""
result $? "shimcat: A's context of ($a2, $b2) sends from $a1 now"

stop_captures
if [ -n "${SHIM6_OUT:-}" ]; then
	cp "$dir/ra0.pcap" "$SHIM6_OUT/shim6_shimcat.pcap"
	# The setup of (a1, b1) on its ULIDs, its payload moved to b2, and the
	# flow of (a2, b2) that came over: REAP's messages, and an Update if
	# the peer's list changed on the way, may or may not be there.
	printf 'types=1,2,3,4\noptional=64,65,66,67\npayload=%s>%s\n' "$a1" "$b2" >"$SHIM6_OUT/shim6_shimcat.pcap.expect"
fi

totals
