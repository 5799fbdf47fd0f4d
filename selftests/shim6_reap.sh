#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# REAP (RFC 5534) in the kernel: flows of applications that make no
# SOL_SHIM call survive a silent failure of the path under their locator
# pair.
#
# Two multihomed hosts, A and B, each with two uplinks to a router R
# (selftests/lib.sh two_hosts): A's a0 carries its locator a1, a1 carries
# a2.  Two flows, on two contexts:
#  - "main": a UDP and a TCP flow from A's ULID a1 to B's b1.  TCP's
#    retransmission timeouts are REAP's negative feedback: the context
#    explores at once, and the stalled TCP connection retransmits as soon
#    as the context moved, without waiting out its backed-off timer.
#  - "udp": a UDP flow alone, from a2 to b2.  Nothing tells its REAP of a
#    failure: its Send Timer (15 s) finds it.
# A "silent" failure keeps the carrier up and drops every packet (netem
# on A's device, and on R's for the other direction).
#
#  1. a0 fails both ways: the main flows move to a2 within a few seconds.
#  2. a0 comes back and a1 fails from A to R only: the main flows move
#     back to a1 within seconds; the UDP flow, on a2, within Send Timeout
#     plus its exploration.
#  3. Both of A's uplinks fail; after 8 s a0 comes back: the flows find it
#     within REAP's probe intervals, which have grown by then.
# Through all of it the TCP stream stays intact (every round echoed in
# order) and the applications keep their ULIDs.  shimctl monitor on A
# tells each step as it happens: the failure found, the probes, the move.

set -u
ns_a=shim6-ra-$$
ns_b=shim6-rb-$$
ns_r=shim6-rr-$$
dir=$(mktemp -d)
. "$(dirname "$0")/lib"
PATH=$(dirname "$0"):$PATH

cleanup() {
	kill_pids
	del_two_hosts
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..12"

two_hosts

# Every event of A, from before its contexts exist: one JSON object each.
shimctl -j -n "$ns_a" monitor >"$dir/monitor" 2>&1 &
pids="$pids $!"
sleep 0.5

# serve ADDR ARGS...: an echo server on ADDR in B, once it listens.
serve() {
	local addr=$1 log
	shift
	log=$dir/server-$addr.log
	ip netns exec "$ns_b" shimsock server -r "$@" "$addr" >"$log" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 50); do
		grep -q listening "$log" && break
		sleep 0.2
	done
}

# client NAME LOCAL PEER STEPS...: a looping client in A; its progress
# ("U T") in $dir/NAME, once it has some.  Its rounds pause 20 ms: flows
# at full rate would starve the test's own clock and polls in an emulated
# VM (shim6_throughput and make bench run them at full rate).
client() {
	local name=$1 local=$2 peer=$3
	shift 3
	# TCP backs off while a path is dead: a stream round may wait long.
	ip netns exec "$ns_a" shimsock client -r -w 1 -I 60 -i 0.02 "$local" "$peer" \
		"$@" associate 200 associated loop "$dir/$name" >"$dir/$name.log" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 300); do
		[ -s "$dir/$name" ] && break
		sleep 0.2
	done
}

serve "$b1" -u 7007 -t 7008
serve "$b2" -u 7009
client main "$a1" "$b1" udp 7007 tcp 7008
client udp "$a2" "$b2" udp 7009

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# resumed NAME LIMIT [SINCE]: milliseconds from SINCE (now_ms; the call
# if none) until each flow of NAME advanced by two rounds since the call;
# fails LIMIT seconds after SINCE.
resumed() {
	local name=$1 limit=$2 start=${3:-$(now_ms)} u0 t0 u t
	read -r u0 t0 <"$dir/$name"
	while [ $(($(now_ms) - start)) -lt $((limit * 1000)) ]; do
		sleep 0.1
		read -r u t <"$dir/$name"
		if [ "$u" -gt $((u0 + 2)) ] && { [ "$t0" = 0 ] || [ "$t" -gt $((t0 + 2)) ]; }; then
			echo $(($(now_ms) - start))
			return 0
		fi
	done
	return 1
}

# locators NS ULID_LOCAL ULID_PEER: "LOCAL PEER", the locators the
# context of the ULID pair sends on.
locators() {
	shimctl -j -n "$1" context show | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    if (c["ulid_local"], c["ulid_peer"], c["state"]) == (sys.argv[1], sys.argv[2], "established"):
        print(c["locator_local"], c["locator_peer"])' "$2" "$3"
}

# fail_link DEV HOW: A's uplink DEV (a0 or a1) fails silently, "both"
# ways or "out" (from A to R only); "heal" brings it back.
fail_link() {
	local dev=$1 how=$2
	tc -n "$ns_a" qdisc del dev "$dev" root 2>/dev/null
	tc -n "$ns_r" qdisc del dev "r$dev" root 2>/dev/null
	case $how in
	both)
		tc -n "$ns_a" qdisc add dev "$dev" root netem loss 100%
		tc -n "$ns_r" qdisc add dev "r$dev" root netem loss 100%
		;;
	out)
		tc -n "$ns_a" qdisc add dev "$dev" root netem loss 100%
		;;
	esac
}

# diagnose: state of both hosts, after a failed step.
diagnose() {
	local ns
	for ns in "$ns_a" "$ns_b"; do
		ip netns exec "$ns" ss -tin | sed "s/^/# $ns: /"
		shimctl -n "$ns" context show | sed "s/^/# $ns: /"
		shimctl -n "$ns" stats show | awk -v ns="$ns" '$2 != 0 { print "# " ns ": " $0 }'
		ip netns exec "$ns" nstat -a 2>/dev/null | grep -E "Frag|TCPTimeouts|RetransSegs" | sed "s/^/# $ns: /"
	done
	sed 's/^/# main: /' "$dir/main.log"
}

grep -qx "associated 1 1" "$dir/main.log" && grep -qx "associated 1" "$dir/udp.log" && resumed main 5 >/dev/null
result $? "reap: before the cut, UDP and TCP run over established contexts on the ULIDs ($(grep -h ^associated "$dir/main.log" "$dir/udp.log" | tr '\n' ' '))"

# Negative feedback moves the main flows in about a second (0.2-0.4 s in
# make bench's failover runs); under kmemleak and two flows that keep the
# VM's CPUs busy it took up to 4.4 s, and 8.0 s on a machine that builds
# the kernel in half the speed (TCP backs off once more while REAP
# explores).  Two thirds of the Send Timeout still tell it from a Send
# Timer that found the failure (15 s, then the exploration).
fast=10000

# 1. a0 dies both ways.
fail_link a0 both
ms=$(resumed main 30)
ok=$?
[ $ok = 0 ] && [ "$ms" -le "$fast" ]
ok=$?
result $ok "reap: a silent cut of the main flows' uplink: both flows ran again after ${ms:-no} ms (TCP's timeout is negative feedback: no Send Timeout wait)"
[ $ok != 0 ] && diagnose

# counter NS NAME: a counter of shimctl stats show.
counter() {
	shimctl -n "$1" stats show | awk -v n="$2" '$1 == n { print $2 }'
}
# Both ends send on the stream (B echoes): whichever end's retransmission
# timer fires first starts the exploration, and a connection that stalled
# before the move resends at once (tcp_resent) unless TCP's own timer
# came first.
fb=$(($(counter "$ns_a" reap_feedback) + $(counter "$ns_b" reap_feedback)))
[ "$fb" -ge 1 ]
result $? "reap: TCP's timeouts started the exploration (reap_feedback A $(counter "$ns_a" reap_feedback), B $(counter "$ns_b" reap_feedback); tcp_resent A $(counter "$ns_a" tcp_resent), B $(counter "$ns_b" tcp_resent))"

[ "$(locators "$ns_a" "$a1" "$b1" | cut -d' ' -f1)" = "$a2" ] && [ "$(locators "$ns_b" "$b1" "$a1" | cut -d' ' -f2)" = "$a2" ]
result $? "reap: both ends of the main context left the dead uplink for $a2 ($(locators "$ns_a" "$a1" "$b1"); $(locators "$ns_b" "$b1" "$a1"))"

# events ULID_LOCAL ULID_PEER [SINCE]: what shimctl monitor told of that
# context, "event:detail:locator" each; with SINCE (now_ms), only what came
# from then on, each "+SECONDS:" after it.
events() {
	python3 - "$dir/monitor" "$@" <<'PY'
import datetime, json, sys
pair, since = tuple(sys.argv[2:4]), sys.argv[4:]
for line in open(sys.argv[1]):
    e = json.loads(line)
    if (e.get("ulid_local"), e.get("ulid_peer")) != pair:
        continue
    what = e["event"] + ":" + e.get("state", e.get("reap", "")) + ":" + e.get("locator_local", "")
    if since:
        t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        t = t.replace(tzinfo=datetime.timezone.utc).timestamp() - int(since[0]) / 1000
        if t < 0:
            continue
        what = f"+{t:.1f}:{what}"
    print(what)
PY
}
# In order: set up, then the failure found (A explores, or hears B's
# exploration first: inbound-ok), A's probes, the move to a2 and back to
# operational (one call: any order among the two).
events "$a1" "$b1" | python3 -c '
import sys
ev, a2 = sys.stdin.read().split(), sys.argv[1]
i = ev.index("state:established:")
i = next(j for j in range(i, len(ev)) if ev[j] in ("reap:exploring:", "reap:inbound-ok:"))
i = next(j for j in range(i, len(ev)) if ev[j].startswith("probe-sent:"))
m = ev.index("moved::" + a2, i)
assert "reap:operational:" in ev[i:m + 3], ev
' "$a2"
result $? "monitor: shimctl monitor told the main context's setup, failure, probes and move as they happened ($(events "$a1" "$b1" | head -12 | tr '\n' ' '))"

# 2. a0 comes back; a1 stops carrying A's packets (R's still reach A).
fail_link a0 heal
fail_link a1 out
at=$(now_ms)
ms=$(resumed main 30)
ok=$?
[ $ok = 0 ] && [ "$ms" -le "$fast" ]
ok=$?
result $ok "reap: a0 back, a1 cut from A to R only: the main flows ran again after ${ms:-no} ms"
[ $ok != 0 ] && diagnose
[ "$(locators "$ns_a" "$a1" "$b1" | cut -d' ' -f1)" = "$a1" ]
result $? "reap: the main context sends from its original locator again ($(locators "$ns_a" "$a1" "$b1"))"

# The UDP flow on a2 hears of nothing but its own unanswered datagrams:
# Send Timeout, then exploration (16-26 s in most runs, 36 s once under
# kmemleak: see the session note of 2026-11-30; more than 60 s once on a
# machine half as fast, the context moved but the flow not yet resumed).
ms=$(resumed udp 90 "$at")
ok=$?
[ $ok = 0 ] && [ "$ms" -ge 5000 ] && [ "$ms" -le 90000 ]
result $? "reap: the UDP flow alone on a2 ran again ${ms:-no} ms after the cut, its Send Timer (15 s) having found it ($(locators "$ns_a" "$a2" "$b2"))"
# What its context did from the cut on, seconds after it: how the time
# beyond the Send Timer went (up to 45 s more once).
echo "# the UDP context after the cut: $(events "$a2" "$b2" "$at" | head -n 40 | tr '\n' ' ')"

# 3. Both uplinks die; after 8 s, a0 comes back.  Probes have slowed to
# seconds apart by then (0.5 s four times, then doubling), and each end
# tries the pairs in turn: up to about 30 s more.
fail_link a0 both
fail_link a1 both
sleep 8
fail_link a0 heal
at=$(now_ms)
ms=$(resumed main 60 "$at")
result $? "reap: both uplinks cut, then a0 restored after 8 s: the main flows ran again ${ms:-never} ms after"
ms=$(resumed udp 60 "$at")
result $? "reap: and the UDP flow alone, ${ms:-never} ms after"

read -r _ t <"$dir/main"
! grep -q "^tcp:" "$dir/main.log" && [ "$t" -gt 0 ]
result $? "reap: the TCP stream stayed intact throughout ($t rounds echoed in order)"
grep -q "^tcp:" "$dir/main.log" && sed 's/^/# /' "$dir/main.log"

# A flush is told: one "gone" per context that was (or came since).
shimctl -n "$ns_a" context flush
ok=1
for _ in $(seq 20); do
	sleep 0.2
	gone=$(grep -c '"event":"gone"' "$dir/monitor")
	[ "$gone" -ge 2 ] && ok=0 && break
done
grep -q -e '"event":"lost"' -e '"event":"overrun"' "$dir/monitor" && ok=1
result $ok "monitor: a flush of A's contexts is told, one gone each, and no event was lost (${gone:-0} gone, $(grep -c . "$dir/monitor") events in all, $(grep -c -e '"event":"lost"' -e '"event":"overrun"' "$dir/monitor") losses)"
totals
