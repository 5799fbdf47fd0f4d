#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# REAP (RFC 5534) in the kernel: flows of applications that make no
# SOL_SHIM call survive a silent failure of the path under their locator
# pair.
#
# Two multihomed hosts, A and B, each with two uplinks to a router R
# (selftests/lib.sh two_hosts).  A UDP and a TCP flow run from A's ULID to
# B's, on the ULIDs.  Then A's first uplink fails silently: its carrier
# stays up, and netem drops every packet both ways (on A's a0 and on R's
# ra0).  Nothing tells either host: A's REAP finds that what it sends is
# not answered within Send Timeout, explores the locator pairs with
# Probes, and A and B settle on pairs that work; both flows go on, the TCP
# stream intact, and the applications keep their ULIDs.

set -u
ns_a=shim6-ra-$$
ns_b=shim6-rb-$$
ns_r=shim6-rr-$$
dir=$(mktemp -d)
. "$(dirname "$0")/lib"
PATH=$(dirname "$0"):$PATH
pids=

cleanup() {
	local pid
	for pid in $pids; do
		kill "$pid" 2>/dev/null
	done
	del_two_hosts
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..5"

two_hosts

ip netns exec "$ns_b" shimsock server -r -u 7007 -t 7008 "$b1" >"$dir/server.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 50); do
	grep -q listening "$dir/server.log" && break
	sleep 0.2
done
# TCP backs off while the path is dead (its retransmissions 13 s apart
# by then): a stream round may wait a minute.
ip netns exec "$ns_a" shimsock client -r -w 1 -I 60 "$a1" "$b1" \
	udp 7007 tcp 7008 associate 200 associated \
	loop "$dir/progress" >"$dir/client.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 300); do
	[ -s "$dir/progress" ] && break
	sleep 0.2
done

# advancing SECONDS: "U T" when both flows advance within SECONDS.
advancing() {
	local u0 t0 u1 t1
	read -r u0 t0 <"$dir/progress" || return 1
	sleep "$1"
	read -r u1 t1 <"$dir/progress" || return 1
	echo "# udp $u0 -> $u1, tcp $t0 -> $t1"
	[ "$u1" -gt "$u0" ] && [ "$t1" -gt "$t0" ]
}

grep -qx "associated 1 1" "$dir/client.log" && advancing 2
result $? "reap: before the cut, UDP and TCP run over an established context on the ULIDs ($(grep ^associated "$dir/client.log"))"

# The silent cut: carrier up, every packet lost both ways.
tc -n "$ns_a" qdisc add dev a0 root netem loss 100%
tc -n "$ns_r" qdisc add dev ra0 root netem loss 100%
cut=$SECONDS
read -r u0 t0 <"$dir/progress"
# Send Timeout (15 s) plus a few probes, with room for a loaded VM.
resumed=
while [ $((SECONDS - cut)) -lt 45 ]; do
	sleep 0.5
	read -r u t <"$dir/progress"
	if [ "$u" -gt $((u0 + 5)) ]; then
		resumed=$((SECONDS - cut))
		break
	fi
done
[ -n "$resumed" ] && [ "$resumed" -le 30 ]
result $? "reap: UDP resumed ${resumed:-never} s after the silent cut (Send Timeout 15 s, then exploration)"

# TCP resumes at its next retransmission on the new pair: after a
# quarter of a minute of loss its timer has backed off to about 27 s.
ok=1
for _ in $(seq 20); do
	advancing 3 && ok=0 && break
done
result $ok "reap: after the move both flows run again, the TCP stream intact (every round echoed in order)"
if [ $ok != 0 ]; then
	ip netns exec "$ns_a" ss -tin | sed 's/^/# A: /'
	ip netns exec "$ns_b" ss -tin | sed 's/^/# B: /'
	for ns in "$ns_a" "$ns_b"; do
		ip netns exec "$ns" nstat -a 2>/dev/null | grep -E "Frag|Reasm|TCPTimeouts" | sed "s/^/# $ns: /"
	done
fi
if [ $ok != 0 ]; then
	ip netns exec "$ns_a" ss -tin | sed 's/^/# A: /'
	ip netns exec "$ns_b" ss -tin | sed 's/^/# B: /'
	ip netns exec "$ns_a" nstat -a 2>/dev/null | grep -E "Tcp|Ip6Out|Ip6In" | sed 's/^/# A: /'
fi

shimctl -j -n "$ns_a" context show >"$dir/a.json" 2>&1
shimctl -j -n "$ns_b" context show >"$dir/b.json" 2>&1
grep -o "\"ulid_local\":\"$a1\",\"ulid_peer\":\"$b1\",\"state\":\"established\"[^}]*" "$dir/a.json" |
	grep -q "\"locator_local\":\"$a2\""
result $? "reap: A's context left its dead uplink: it sends from $a2 ($(head -c 400 "$dir/a.json"))"

grep -o "\"ulid_local\":\"$b1\",\"ulid_peer\":\"$a1\",\"state\":\"established\"[^}]*" "$dir/b.json" |
	grep -q "\"locator_peer\":\"$a2\""
result $? "reap: B's context sends to A's working locator $a2 ($(head -c 400 "$dir/b.json"))"

grep -q "^tcp:" "$dir/client.log" && sed 's/^/# /' "$dir/client.log"
totals
