#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A TCP flow moved to another locator pair runs at no less than half the
# rate of plain IPv6 (the crawl of issue 8: a router dropped every full
# GSO packet of a moved flow, fixed by kernel patch 0005).
#
# The topology of shim6_locators.sh: A and B with two uplinks each through
# router R.  Rounds alternate in one boot: plain (SHIM6 off in A and B) and
# moved (a new context, moved by shimsock to the second locator pair,
# then a new iperf3 connection on the ULIDs).
#
#  1. Full MTU: the later moved rounds' median reaches half of the plain
#     rounds' median, and each of them a quarter.
#  2. MTU 1400 on the moved path (plain taking the same path, A's second
#     prefix to B's): the same, the first second of each flow (PMTU
#     discovery) left out of the rates.
#
# The first moved flow of each part meets a path MTU change in mid-stream
# (the ULIDs' route learns 1492, then 1392, from the shim): it is held to
# a twentieth of plain, which a blackhole or a crawl (1 Mbit/s against 150,
# as before patch 0005) misses by far; measured at 0.5 and 0.15 of plain,
# which is still to improve (issue 8's note).
#
# Single rounds under TCG vary widely (plain rounds of 212, 152, 34, 91
# and 189 Mbit/s in one run): a fixed bound on each round failed boots by
# noise alone.  The later moved rounds' median is held to half of plain's;
# each of them to a quarter of plain's median, or to half of the slowest
# plain round when the VM was that noisy.  A crawl (1 % of plain) or a
# blackhole misses either by far.
#
# Loss is measured by `make bench`, not judged here: under 1% loss single
# rounds of plain TCP vary threefold in this VM.
#
# Diagnostics of each moved round (average size of the rewritten
# packets: GSO kept or lost; retransmissions; drop counters) go to the TAP
# output as comments.

set -u
ns_a=shim6-a-$$
ns_b=shim6-b-$$
ns_r=shim6-r-$$
dir=$(mktemp -d)
. "$(dirname "$0")/lib"
PATH=$(dirname "$0"):$PATH
rounds=${SHIM6_ROUNDS:-5}
secs=${SHIM6_SECS:-3}

cleanup() {
	[ -n "${server:-}" ] && kill "$server" 2>/dev/null
	del_two_hosts
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..2"

two_hosts

ip netns exec "$ns_b" taskset -c 1 iperf3 -s >"$dir/server.log" 2>&1 &
server=$!
sleep 1

shim() {
	shimctl -n "$ns_a" set enabled "$1" && shimctl -n "$ns_b" set enabled "$1"
}

# iperf SRC DST: Mbit/s received, from a fresh connection, leaving out
# the first $omit seconds.
omit=0
iperf() {
	iperf_mbps "$1" "$2" "$secs" -O "$omit"
}

# moved_round: a new context on (a1, b1), moved to (a2, b2), and a flow on it.
moved_round() {
	shim on
	ip netns exec "$ns_a" shimsock move "$a1" "$b1" "$a2" "$b2" >"$dir/move" 2>&1 || { echo 0; cat "$dir/move" >&2; return; }
	ip netns exec "$ns_a" nstat -n
	iperf "$a1" "$b1"
	shimctl -j -n "$ns_a" context show >"$dir/ctx.json"
	ip netns exec "$ns_a" nstat TcpRetransSegs TcpExtTCPLostRetransmit >"$dir/nstat" 2>&1
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))[0]; print("# moved: %d packets out, %d octets each on average, on %s -> %s" % (c["packets_out"], c["bytes_out"] // max(c["packets_out"], 1), c["locator_local"], c["locator_peer"]))' \
		"$dir/ctx.json" >&2
	sed 's/^/# /' "$dir/nstat" >&2
	shimctl -n "$ns_a" stats show | awk '$2 != 0 { print "# A " $0 }' >&2
	shimctl -n "$ns_b" stats show | awk '$2 != 0 { print "# B " $0 }' >&2
}

# compare NAME: the first moved round against a twentieth of the plain
# median, every later one against a quarter (or half the slowest plain
# round), their median against half.
compare() {
	python3 - "$1" "$dir/plain" "$dir/moved" <<'PY'
import statistics, sys
name = sys.argv[1]
plain = [int(x) for x in open(sys.argv[2]).read().split()]
moved = [int(x) for x in open(sys.argv[3]).read().split()]
ref = statistics.median(plain)
later = moved[1:]
floor = min(ref / 4, min(plain) / 2)
print("# %s: plain %s Mbit/s (median %d), moved %s (floor %d)" % (name, plain, ref, moved, floor))
ok = (len(later) > 0 and ref > 0 and moved[0] * 20 >= ref and min(later) >= floor
      and statistics.median(later) * 2 >= ref)
sys.exit(0 if ok else 1)
PY
}

# run NAME PLAIN_SRC PLAIN_DST: the alternating rounds.
run() {
	: >"$dir/plain"
	: >"$dir/moved"
	for _ in $(seq "$rounds"); do
		shim off
		iperf "$2" "$3" >>"$dir/plain"
		moved_round >>"$dir/moved"
	done
	compare "$1"
}

run "full MTU" "$a1" "$b1"
result $? "throughput: later rounds of a moved TCP flow reach half of plain (median), none below a quarter, the first a twentieth"

ip -n "$ns_b" link set b1 mtu 1400
ip -n "$ns_r" link set rb1 mtu 1400
omit=1
run "MTU 1400 on the moved path" "$a2" "$b2"
result $? "throughput: the same with MTU 1400 on the moved path (plain on that path too)"

shim on
totals
