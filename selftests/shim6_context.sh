#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two hosts in network namespaces, A (2001:db8:1::a) and B (2001:db8:1::b),
# joined by a veth pair.  A UDP flow from A to B makes the shim set up a
# context in the kernel (deferred: the first datagram leaves at once):
# I1, R1, I2, R2 cross the wire, decoded by tshark with good checksums, and
# SHIM_ASSOCIATED turns 1 on A's connected socket, and shimctl shows the
# context on both sides with matching tags.  A socket with SHIM_DONTSHIM
# towards another peer triggers no setup.
#
# The capture of B's side goes to $SHIM6_OUT/shim6_context.pcap with what it
# must hold in shim6_context.pcap.expect: the VM runner decodes it with
# tshark on the host (tshark starts far too slowly under emulation).

set -u
ns_a=shim6-a-$$
ns_b=shim6-b-$$
dir=$(mktemp -d)
. "$(dirname "$0")/lib"
PATH=$(dirname "$0"):$PATH

cleanup() {
	stop_captures
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..5"

ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add veth-a netns "$ns_a" type veth peer name veth-b netns "$ns_b"
ip -n "$ns_a" addr add 2001:db8:1::a/64 dev veth-a nodad
ip -n "$ns_a" addr add 2001:db8:1::c/64 dev veth-a nodad
ip -n "$ns_b" addr add 2001:db8:1::b/64 dev veth-b nodad
for ns in "$ns_a" "$ns_b"; do
	ip -n "$ns" link set lo up
done
ip -n "$ns_a" link set veth-a up
ip -n "$ns_b" link set veth-b up

start_capture "$ns_b" veth-b "$dir/b.pcap"

# A's flow to B: SHIM_ASSOCIATED before the first datagram, then datagrams
# until it reads 1.  B has no listener (-n): its ICMPv6 errors come back,
# the context still forms.
ip netns exec "$ns_a" shimsock client -n 2001:db8:1::a 2001:db8:1::b \
	udp 9 associated associate 200 associated >"$dir/assoc.log" 2>&1
read -r before after < <(sed -n 's/^associated //p' "$dir/assoc.log" | tr '\n' ' ')
[ "${before:-}" = 0 ]
result $? "context: SHIM_ASSOCIATED reads 0 before the context ($(tr '\n' ' ' <"$dir/assoc.log"))"
[ "${after:-}" = 1 ]
result $? "context: SHIM_ASSOCIATED turns 1 once A and B set up a context"

# shimctl, iproute2 style, on A; JSON on both sides: the tags cross.
shimctl -n "$ns_a" context show >"$dir/show_a" 2>&1
grep -q "^ulid 2001:db8:1::a > 2001:db8:1::b state established" "$dir/show_a"
result $? "context: shimctl shows A's established context ($(head -1 "$dir/show_a"))"
shimctl -j -n "$ns_a" context show >"$dir/a.json" 2>&1
shimctl -j -n "$ns_b" context show >"$dir/b.json" 2>&1
python3 - "$dir/a.json" "$dir/b.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert len(a) == 1 and len(b) == 1, (a, b)
a, b = a[0], b[0]
assert a["state"] == b["state"] == "established", (a, b)
assert (a["ulid_local"], a["ulid_peer"]) == ("2001:db8:1::a", "2001:db8:1::b"), a
assert (b["ulid_local"], b["ulid_peer"]) == ("2001:db8:1::b", "2001:db8:1::a"), b
assert a["ct_peer"] == b["ct_local"] and b["ct_peer"] == a["ct_local"], (a, b)
assert 0 < a["ct_local"] < 2**47, a
PY
result $? "context: shimctl -j on A and B: one context each, tags crossed"

# A socket that bypasses the shim (-d: SHIM_DONTSHIM 1) starts no setup
# towards its peer.
ip netns exec "$ns_a" shimsock client -d -n -i 0.05 2001:db8:1::c 2001:db8:1::b \
	udp 9 echo 20 associated >"$dir/dontshim.log" 2>&1
sleep 1
stop_captures

grep -qx "associated 0" "$dir/dontshim.log"
result $? "context: a SHIM_DONTSHIM flow stays unshimmed ($(tr '\n' ' ' <"$dir/dontshim.log"))"

if [ -n "${SHIM6_OUT:-}" ]; then
	cp "$dir/b.pcap" "$SHIM6_OUT/shim6_context.pcap"
	printf 'types=1,2,3,4\noptional=66,67\nabsent_src=2001:db8:1::c\n' >"$SHIM6_OUT/shim6_context.pcap.expect"
fi

totals
