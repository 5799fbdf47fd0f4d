#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Demo: what the shim is for.  Two multihomed hosts, A and B, each with two
# uplinks to a router R (selftests/lib.sh two_hosts).  An unmodified TCP
# stream and an unmodified UDP flow (iperf3, no SOL_SHIM call) run from
# A's identifier to B's; then A's first uplink goes silent: carrier up,
# every packet dropped both ways.  shimctl monitor shows REAP notice it,
# probe and switch; the flows go on over A's second uplink, and the stall
# is measured where B receives them.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
ns_a=demo-fa ns_b=demo-fb ns_r=demo-fr
dir=$(mktemp -d)
. "$root/selftests/lib.sh"
cleanup() {
	kill_pids
	del_two_hosts
}
trap cleanup EXIT

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

two_hosts
echo "# A: $a1 (ULID, uplink a0) and $a2 (uplink a1)"
echo "# B: $b1 (ULID, uplink b0) and $b2 (uplink b1)"

shimctl -n "$ns_a" monitor >"$dir/monitor" 2>&1 &
pids="$pids $!"
# B's receiving side: every payload packet from A, on any uplink (SHIM6
# control messages left out: only the flows' own packets count).
ip netns exec "$ns_b" tcpdump -i any -n -tt -l \
	"ip6 and (src net 2001:db8:a1::/64 or src net 2001:db8:a2::/64) and (ip6[6] == 6 or ip6[6] == 17 or (ip6[6] == 140 and ip6[42] & 0x80 != 0))" \
	>"$dir/b.txt" 2>/dev/null &
pids="$pids $!"
ip netns exec "$ns_b" iperf3 -s -1 -p 5201 -B "$b1" >/dev/null 2>&1 &
pids="$pids $!"
ip netns exec "$ns_b" iperf3 -s -1 -p 5202 -B "$b1" >/dev/null 2>&1 &
pids="$pids $!"
sleep 1

# Paced flows: the emulated VM has CPU for them and for the tools that
# cut the link and watch.
echo "# A runs a 4 Mbit/s TCP stream and a 1 Mbit/s UDP flow to B's ULID for"
echo "# 12 s; 4 s in, uplink a0 goes silent both ways: R drops everything that"
echo "# comes from it or goes to it (one command, so that the cut is one instant;"
echo "# A's carrier stays up)"
ip netns exec "$ns_a" iperf3 -c "$b1" -B "$a1" -p 5201 -b 4M -t 12 -i 1 -f m >"$dir/tcp.txt" 2>&1 &
tcp=$!
ip netns exec "$ns_a" iperf3 -c "$b1" -B "$a1" -p 5202 -u -b 1M -l 500 -t 12 -i 1 -f m >"$dir/udp.txt" 2>&1 &
udp=$!
sleep 4
ip -n "$ns_r" -6 -batch - <<EOF
rule add iif ra0 blackhole
route add blackhole ${a1%:*:*:*:*}::/64 metric 1
EOF
cut=$(now_ms)
echo "# $(date -u +%H:%M:%S.%3N) a0 cut (the command returned: B's capture says when it bit)"
wait $tcp
tcp_rc=$?
wait $udp
udp_rc=$?
sleep 0.5

echo
echo "# shimctl -n A monitor (from before the flows)"
cat "$dir/monitor"
echo
echo "# iperf3 TCP, A to B's ULID (exit $tcp_rc)"
grep -E "sec|receiver|sender" "$dir/tcp.txt"
echo
echo "# iperf3 UDP, A to B's ULID (exit $udp_rc)"
grep -E "sec" "$dir/udp.txt" | tail -4
echo
echo "# shimctl -n A context show"
shimctl -n "$ns_a" context show
echo

# The stall, from what B received: the last packet of A's flows that came
# over uplink a0 (from A's first prefix: the cut), the first after it over
# a1 (REAP moved the context); and when the monitor told REAP's steps.
python3 - "$a1" "$a2" "$dir/b.txt" "$dir/monitor" <<'PY'
import datetime, re, sys
a1, a2 = (":".join(a.split(":")[:4]) + ":" for a in sys.argv[1:3])
seen = []
for line in open(sys.argv[3]):
    m = re.match(r"(\d+\.\d+) .*IP6 ([0-9a-f:]+)", line)
    if m:
        seen.append((float(m[1]) * 1000, m[2]))
last_a0 = max((t for t, src in seen if src.startswith(a1)), default=None)
first_a1 = min((t for t, src in seen if src.startswith(a2) and last_a0 and t > last_a0), default=None)
if last_a0 is None or first_a1 is None:
    sys.exit("# B never heard A's flows over both uplinks")
print(f"# B heard A's flows over a0 until {datetime.datetime.utcfromtimestamp(last_a0 / 1000):%H:%M:%S.%f}"[:-3])
print(f"# the flows stalled {first_a1 - last_a0:.0f} ms: then B heard them over a1")
for line in open(sys.argv[4]):
    stamp, _, rest = line.partition(" ")
    t = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000
    what = rest.split(" ", 4)[-1].strip()
    if t >= last_a0 - 2000 and what.startswith(("reap ", "moved ")):
        print(f"# {t - last_a0:+6.0f} ms  {what}")
PY
