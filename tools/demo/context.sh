#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Demo: two hosts in network namespaces, each with an HBA address under
# two prefixes, set up a SHIM6 context when one sends to the other; the
# flow then moves to the second locators (SHIM_LOC_*_PREF) while the
# application keeps its ULIDs; shimctl shows both sides.
set -u
a=demo-a b=demo-b
# shimctl hba apply keeps its state here, not in /var/lib/shim6.
state=$(mktemp -d)
trap 'ip netns del $a; ip netns del $b; rm -rf $state' EXIT
ip netns add $a
ip netns add $b
ip link add veth-a netns $a type veth peer name veth-b netns $b

# host NS IF PREFIX1 PREFIX2 MODIFIER: HBA addresses on IF and the set in
# the module, in one step (shimctl hba apply); prints the two addresses.
host() {
	ip -n "$1" link set "$2" up
	# One link: every prefix of the other host is on it.
	ip -n "$1" -6 route add 2001:db8::/32 dev "$2"
	SHIM6_STATE_DIR=$state shimctl -n "$1" hba apply modifier "$5" \
		dev "$2" "$3::/64" dev "$2" "$4::/64" | awk '/^address/ { printf "%s ", $2 } END { print "" }'
}
read -r a1 a2 < <(host $a veth-a 2001:db8:a1 2001:db8:a2 0123456789abcdef0123456789abcdef)
read -r b1 b2 < <(host $b veth-b 2001:db8:b1 2001:db8:b2 fedcba9876543210fedcba9876543210)
# shimsock (selftests/helpers): SOL_SHIM from the command line, built
# against the UAPI header.
PATH=$(dirname "$0")/../../selftests/out:$PATH
ip netns exec $b shimsock server -u 7 "$b1" >/dev/null &
echo_server=$!
trap 'kill $echo_server; ip netns del $a; ip netns del $b; rm -rf $state' EXIT
sleep 0.5

echo "# host A ($a1) sends UDP to host B ($b1), an echo server, until"
echo "# SHIM_ASSOCIATED; then SHIM_LOC_LOCAL_PREF and SHIM_LOC_PEER_PREF move"
echo "# the flow to ($a2, $b2), and the echoes still come from B's ULID"
ip netns exec $a shimsock client "$a1" "$b1" udp 7 associate 100 associated \
	local-pref udp "$a2" peer-pref udp "$b2" preferred echo 10 lost peername |
	sed 's/^/# /'
echo "# shimctl -n A locator show"
shimctl -n $a locator show
echo "# shimctl -n A context show"
shimctl -n $a context show
echo "# shimctl -n B context show"
shimctl -n $b context show
