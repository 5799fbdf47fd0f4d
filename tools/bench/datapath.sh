#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Data-path throughput, run in the VM by `make bench` (tools/vm/run.sh
# --bench): TCP and UDP between two namespaces through a router
# namespace (the topology of selftests/shim6_locators.sh), in one boot,
# rounds alternating between
#
#   plain     the module not loaded
#   off       loaded, SHIM6 switched off in both namespaces (the hook runs)
#   idle      a context whose current pair is the ULIDs (looked up, passed)
#   rewrite   the context moved to the second locator pair (payload header
#             in, locators out on A; the reverse on B)
#
# each with GSO/TSO on and off on the hosts' links, and with GSO on and 1%
# loss on the router's links towards B (netem).  Prints one line per
# measurement and a table of medians with their ratio to plain.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ko=${SHIM6_KO:-$top/src/shim6.ko}
rounds=${BENCH_ROUNDS:-5}
secs=${BENCH_SECS:-4}
PATH=$top/selftests/out:$top/target/release:$PATH
ns_a=bench-a ns_b=bench-b ns_r=bench-r
dir=$(mktemp -d)
. "$top/selftests/lib.sh"

cleanup() {
	pkill -f "iperf3 -s" 2>/dev/null
	del_two_hosts
}
trap cleanup EXIT

lsmod | grep -q '^shim6 ' || insmod "$ko"
two_hosts
# Sender on CPU 0 (iperf_mbps), receiver on CPU 1, in every round: under
# TCG where the scheduler puts them moves the rate as much as the mode.
ip netns exec "$ns_b" taskset -c 1 iperf3 -s -D

loaded() { lsmod | grep -q '^shim6 '; }

# Each mode starts from a fresh module or namespace state, as a new flow
# on a new context would find it.
mode() {
	case $1 in
	plain)
		loaded && rmmod shim6
		;;
	*)
		if ! loaded; then
			insmod "$ko"
			shimctl -n "$ns_a" hba set "$(awk '/^pds/ { print $2 }' "$dir/hba_a")"
			shimctl -n "$ns_b" hba set "$(awk '/^pds/ { print $2 }' "$dir/hba_b")"
		fi
		shimctl -n "$ns_a" set enabled off
		shimctl -n "$ns_b" set enabled off
		;;
	esac
	case $1 in
	idle | rewrite)
		shimctl -n "$ns_a" set enabled on
		shimctl -n "$ns_b" set enabled on
		;;
	esac
	case $1 in
	idle) ip netns exec "$ns_a" shimsock move "$a1" "$b1" "$a1" "$b1" >/dev/null ;;
	rewrite) ip netns exec "$ns_a" shimsock move "$a1" "$b1" "$a2" "$b2" >/dev/null ;;
	esac
}

# path on|off|loss: GSO and TSO on or off on the hosts' links; loss: on,
# with 1% loss towards B on both of the router's links to it.
path() {
	local dev g=on
	[ "$1" = off ] && g=off
	for dev in a0 a1; do ip netns exec "$ns_a" ethtool -K "$dev" gso "$g" tso "$g" 2>/dev/null; done
	for dev in b0 b1; do ip netns exec "$ns_b" ethtool -K "$dev" gso "$g" tso "$g" 2>/dev/null; done
	for dev in rb0 rb1; do
		tc -n "$ns_r" qdisc del dev "$dev" root 2>/dev/null
		[ "$1" = loss ] && tc -n "$ns_r" qdisc add dev "$dev" root netem loss 1%
	done
}

# measure PROTO: Mbit/s received over a fresh flow a1 -> b1.
measure() {
	local args=()
	[ "$1" = udp ] && args=(-u -b 0 -l 1400)
	iperf_mbps "$a1" "$b1" "$secs" "${args[@]}"
}

modes=(plain off idle rewrite)
for r in $(seq "$rounds"); do
	for g in on off loss; do
		path "$g"
		for p in tcp udp; do
			for m in "${modes[@]}"; do
				mode "$m"
				echo "$r $g $p $m $(measure "$p")"
			done
		done
	done
done | tee "$dir/raw"

python3 - "$dir/raw" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
res = {}
for r, g, p, m, v in rows:
    res.setdefault((g, p, m), []).append(int(v))
print()
print("| proto | path | plain Mbit/s | off | idle | rewrite |")
print("|---|---|---|---|---|---|")
names = {"on": "GSO on", "off": "GSO off", "loss": "GSO on, 1% loss"}
for p in ("tcp", "udp"):
    for g in ("on", "off", "loss"):
        plain = statistics.median(res[(g, p, "plain")])
        cells = ["%d" % plain]
        for m in ("off", "idle", "rewrite"):
            v = statistics.median(res[(g, p, m)])
            cells.append("%d (%.0f %%)" % (v, 100 * v / plain if plain else 0))
        print("| %s | %s | %s |" % (p.upper(), names[g], " | ".join(cells)))
PY
