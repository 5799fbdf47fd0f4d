#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Demo: two hosts in network namespaces, each with an HBA address under
# two prefixes, set up a SHIM6 context when one sends to the other; the
# flow then moves to the second locators (SHIM_LOC_*_PREF) while the
# application keeps its ULIDs; shimctl shows both sides.
set -u
a=demo-a b=demo-b
trap 'ip netns del $a; ip netns del $b' EXIT
ip netns add $a
ip netns add $b
ip link add veth-a netns $a type veth peer name veth-b netns $b

# host NS IF PREFIX1 PREFIX2 MODIFIER: HBA addresses on IF, the set to the
# module; prints the two addresses.
host() {
	local out addrs
	out=$(shimctl hba modifier "$5" "$3::/64" "$4::/64")
	addrs=$(awk '/^address/ { print $2 }' <<<"$out")
	for addr in $addrs; do
		ip -n "$1" addr add "$addr/64" dev "$2" nodad
	done
	ip -n "$1" link set "$2" up
	# One link: every prefix of the other host is on it.
	ip -n "$1" -6 route add 2001:db8::/32 dev "$2"
	shimctl -n "$1" hba set "$(awk '/^pds/ { print $2 }' <<<"$out")"
	echo $addrs
}
read -r a1 a2 < <(host $a veth-a 2001:db8:a1 2001:db8:a2 0123456789abcdef0123456789abcdef)
read -r b1 b2 < <(host $b veth-b 2001:db8:b1 2001:db8:b2 fedcba9876543210fedcba9876543210)
ip netns exec $b python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7))
while True:
    d, p = s.recvfrom(2048)
    s.sendto(d, p)' "$b1" &
echo_server=$!
trap 'kill $echo_server; ip netns del $a; ip netns del $b' EXIT
sleep 0.5

echo "# host A ($a1) sends UDP to host B ($b1), an echo server"
ip netns exec $a python3 - "$a1" "$a2" "$b1" "$b2" <<'PY'
import socket, struct, sys, time
SOL_SHIM, ASSOCIATED, LOCAL_PREF, PEER_PREF = 288, 1, 4, 5
a1, a2, b1, b2 = sys.argv[1:]
loc = lambda a: struct.pack("BBBB16s", socket.AF_INET6, 0, 0, 0, socket.inet_pton(socket.AF_INET6, a))
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((a1, 0))
s.connect((b1, 7))
s.settimeout(2)
for i in range(100):
    s.send(b"hello")
    s.recv(100)
    if s.getsockopt(SOL_SHIM, ASSOCIATED):
        break
    time.sleep(0.05)
print(f"# SHIM_ASSOCIATED on A's socket: 1 after {i + 1} datagram(s)")
s.setsockopt(SOL_SHIM, LOCAL_PREF, loc(a2))
s.setsockopt(SOL_SHIM, PEER_PREF, loc(b2))
ok = 0
for i in range(10):
    s.send(b"moved %d" % i)
    data, peer = s.recvfrom(100)
    ok += data == b"moved %d" % i
print(f"# moved to {a2} > {b2}: {ok}/10 echoes, all from {peer[0]} (the ULID)")
PY
echo "# shimctl -n A locator show"
shimctl -n $a locator show
echo "# shimctl -n A context show"
shimctl -n $a context show
echo "# shimctl -n B context show"
shimctl -n $b context show
