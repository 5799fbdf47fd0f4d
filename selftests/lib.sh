#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared by the shim6 shell selftests (sourced): TAP results and a capture
# running beside the test.

tests=0
failed=0
captures=
# Background processes of the test: it appends each ($pids $!) and
# kill_pids ends them.
pids=

# result STATUS DESCRIPTION: one TAP line.
result() {
	tests=$((tests + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tests $2"
	else
		failed=$((failed + 1))
		echo "not ok $tests $2"
	fi
}

# totals: the TAP summary; fails if a test did.
totals() {
	echo "# Totals: pass:$((tests - failed)) fail:$failed"
	[ "$failed" = 0 ]
}

# kill_pids [SIGNAL]: sends SIGNAL (TERM) to every process in $pids and
# waits for them; $pids is empty after.
kill_pids() {
	local pid
	for pid in $pids; do
		kill "-${1:-TERM}" "$pid" 2>/dev/null
	done
	for pid in $pids; do
		wait "$pid" 2>/dev/null
	done
	pids=
}

# start_capture NS DEV FILE: Shim6 packets seen on DEV in NS, until
# stop_captures; returns once dumpcap writes.
start_capture() {
	ip netns exec "$1" dumpcap -q -i "$2" -f "ip6 proto 140" -w "$3" 2>"$3.log" &
	captures="$captures $!"
	for _ in $(seq 150); do
		[ -s "$3" ] && break
		sleep 0.2
	done
}

# stop_captures: every capture ends, its file complete.
stop_captures() {
	local pid
	for pid in $captures; do
		kill -INT "$pid" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	captures=
}

# hba_host NS NAME PREFIX1 PREFIX2 MODIFIER: a host in NS with two uplinks
# to the router in $ns_r (NAME0, NAME1; rNAME0, rNAME1 on the router), an
# HBA address under each prefix (printed as "ADDR1 ADDR2") assigned and
# pushed to the module by shimctl hba apply, and source-based routes so
# that each locator leaves on its own uplink.  Uses $dir for its files,
# shimctl's state among them.
hba_host() {
	local ns=$1 h=$2 p1=$3 p2=$4 modifier=$5 i
	for i in 0 1; do
		local pfx
		pfx=$([ $i = 0 ] && echo "$p1" || echo "$p2")
		ip link add "${h}$i" netns "$ns" type veth peer name "r$h$i" netns "$ns_r"
		ip -n "$ns_r" addr add "$pfx::1/64" dev "r$h$i" nodad
		ip -n "$ns" link set "${h}$i" up
		ip -n "$ns_r" link set "r$h$i" up
	done
	SHIM6_STATE_DIR=$dir shimctl -n "$ns" hba apply modifier "$modifier" \
		extended-modifier "$(printf '%096d' 5)" \
		dev "${h}0" "$p1::/64" dev "${h}1" "$p2::/64" >"$dir/hba_$h"
	# Each locator leaves on its own uplink (the gateways are on-link
	# once the addresses are there).
	for i in 0 1; do
		local pfx
		pfx=$([ $i = 0 ] && echo "$p1" || echo "$p2")
		ip -n "$ns" -6 rule add from "$pfx::/64" table $((100 + i))
		ip -n "$ns" -6 route add default via "$pfx::1" dev "${h}$i" table $((100 + i))
	done
	ip -n "$ns" -6 route add default via "$p1::1" dev "${h}0"
	awk '/^address/ { printf "%s ", $2 } END { print "" }' "$dir/hba_$h"
}

# two_hosts: hosts A and B (hba_host) in $ns_a and $ns_b, each with two
# uplinks to the router in $ns_r, which forwards; sets a1 a2 b1 b2.
two_hosts() {
	local ns
	for ns in "$ns_a" "$ns_b" "$ns_r"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip netns exec "$ns_r" sysctl -qw net.ipv6.conf.all.forwarding=1
	read -r a1 a2 < <(hba_host "$ns_a" a 2001:db8:a1 2001:db8:a2 0123456789abcdef0123456789abcdef)
	read -r b1 b2 < <(hba_host "$ns_b" b 2001:db8:b1 2001:db8:b2 fedcba9876543210fedcba9876543210)
}

# del_two_hosts: removes the namespaces of two_hosts, and $dir.
del_two_hosts() {
	local ns
	for ns in "$ns_a" "$ns_b" "$ns_r"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$dir"
}

# iperf_mbps SRC DST SECS [IPERF3-ARGS]: Mbit/s received over a new iperf3
# flow from SRC in $ns_a (its client on CPU 0) to the server at DST, 0 if
# it failed; the report stays in $dir/iperf.json.
iperf_mbps() {
	local src=$1 dst=$2 secs=$3
	shift 3
	ip netns exec "$ns_a" taskset -c 0 iperf3 -c "$dst" -B "$src" -t "$secs" -J "$@" >"$dir/iperf.json" 2>&1
	python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]
s = e.get("sum_received") or e["sum"]
print(int(s["bits_per_second"] / 1e6))' "$dir/iperf.json" 2>/dev/null || echo 0
}
