#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Who may drive the "shim6" generic netlink family.
#
# The do-commands (hba set/clear, context flush, set enabled) change a
# namespace and carry GENL_UNS_ADMIN_PERM: CAP_NET_ADMIN over the user
# namespace that owns the network namespace.  A user without it gets EPERM
# and changes nothing.  The dumps are open to everyone, but the context
# tags are all that keeps an off-path host from injecting into a context,
# so only CAP_NET_ADMIN holders are told them.
#
# Hosts: A (an HBA address) and B joined by a veth pair, with an
# established context; C, alone with a dummy link, for the off switch.
# "nobody" is uid/gid 65534 with no capabilities (setpriv, util-linux).
#
# User namespaces: the test kernel is built without CONFIG_USER_NS
# (tinyconfig plus kernel/config/*.config), so "unshare --user" cannot
# work there, every network namespace is owned by the initial user
# namespace, and GENL_UNS_ADMIN_PERM cannot be told from GENL_ADMIN_PERM
# by experiment.  The closest real checks, below: the permission is the
# capability and nothing else, i.e. a non-root user holding only
# CAP_NET_ADMIN may run every do-command and sees the tags, and root
# without CAP_NET_ADMIN (dropped from its bounding set) may not and does
# not.  With CONFIG_USER_NS=y these should be joined by: root of
# "unshare --user --map-root-user --net" may run the do-commands on its
# own netns, and root of "unshare --user --map-root-user" inside a netns
# owned by the initial user namespace (ip netns exec X unshare ...) gets
# EPERM.

set -u
ns_a=shim6-pa-$$
ns_b=shim6-pb-$$
ns_c=shim6-pc-$$
dir=$(mktemp -d)
. "$(dirname "$0")/lib"

cleanup() {
	for ns in "$ns_a" "$ns_b" "$ns_c"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..18"

nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# The users below must be able to run shimctl where the tree lives, else
# they get a copy (a copy costs seconds in the emulated VM).
shimctl=$(command -v shimctl)
if ! "${nobody[@]}" test -x "$shimctl"; then
	chmod 755 "$dir"
	install -m 755 "$shimctl" "$dir/shimctl"
	shimctl=$dir/shimctl
fi
# Not root, and CAP_NET_ADMIN only (ambient, so that it survives exec).
netadmin=("${nobody[@]}" --inh-caps=+net_admin --ambient-caps=+net_admin)
# Root with every capability but CAP_NET_ADMIN.
rootless=(setpriv --bounding-set=-net_admin)

# denied NS WHO... -- ARGS...: shimctl ARGS run in NS as WHO must exit 1
# with shimctl's EPERM message, and the kernel's answer must be EPERM
# (the netlink error, as strace decodes it).
denied() {
	local ns=$1 rc
	shift
	local who=()
	while [ "$1" != -- ]; do
		who+=("$1")
		shift
	done
	shift
	ip netns exec "$ns" strace -qq -o "$dir/strace" -e trace=recvfrom -e signal=none \
		"${who[@]}" "$shimctl" "$@" >"$dir/out" 2>&1
	rc=$?
	[ "$rc" = 1 ] && grep -q "needs CAP_NET_ADMIN" "$dir/out" &&
		grep -q "error=-EPERM" "$dir/strace"
	local ok=$?
	[ "$ok" = 0 ] || echo "# exit $rc: $(head -c 300 "$dir/out")"
	return "$ok"
}

# ctx_json NS: the contexts of NS as root sees them.
ctx_json() {
	shimctl -j -n "$1" context show
}

# count [FILE]: how many contexts a shimctl -j context show lists.
count() {
	grep -o '"state":' "$@" | wc -l
}

# The HBA set of A, and a second one of the same prefix that does not
# verify A's address.
shimctl hba modifier 0123456789abcdef0123456789abcdef extended-modifier \
	"$(printf '%096d' 5)" 2001:db8:1::/64 >"$dir/hba_a"
shimctl hba modifier fedcba9876543210fedcba9876543210 extended-modifier \
	"$(printf '%096d' 5)" 2001:db8:1::/64 >"$dir/hba_x"
addr_a=$(awk '/^address/ { print $2 }' "$dir/hba_a")
pds_a=$(awk '/^pds/ { print $2 }' "$dir/hba_a")
pds_x=$(awk '/^pds/ { print $2 }' "$dir/hba_x")

for ns in "$ns_a" "$ns_b" "$ns_c"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip link add veth-a netns "$ns_a" type veth peer name veth-b netns "$ns_b"
ip -n "$ns_a" addr add "$addr_a/64" dev veth-a nodad
ip -n "$ns_b" addr add 2001:db8:1::b/64 dev veth-b nodad
ip -n "$ns_a" link set veth-a up
ip -n "$ns_b" link set veth-b up
ip -n "$ns_c" link add d0 type dummy
ip -n "$ns_c" addr add 2001:db8:c::c/64 dev d0 nodad
ip -n "$ns_c" link set d0 up
shimctl -n "$ns_a" hba set "$pds_a"

# is_locator NS ADDR: shimctl locator show says ADDR is a locator of NS.
is_locator() {
	shimctl -n "$1" locator show | grep -qx "$2 locator"
}

# A context A -> B: one datagram sets it up (B answers the datagram with
# Port Unreachable; the context forms anyway).
ip netns exec "$ns_a" bash -c 'echo x >/dev/udp/2001:db8:1::b/9'
for _ in $(seq 75); do
	ctx_json "$ns_a" | grep -q '"state":"established"' && break
	sleep 0.2
done
ctx_json "$ns_a" >"$dir/a0.json"
# (shimctl's JSON is one line, its keys in a fixed order: grep reads it,
# where Python would take tens of seconds to start in a loaded VM.)
ct_a=$(sed -n 's/.*"state":"established","fii":0,"ct_local":\([0-9]*\),.*/\1/p' "$dir/a0.json")
[ "$(count "$dir/a0.json")" = 1 ] && [ -n "$ct_a" ] && is_locator "$ns_a" "$addr_a"
result $? "setup: A and B share an established context and A's address is a locator ($(head -c 200 "$dir/a0.json"))"

# --- unprivileged do-commands: EPERM, nothing changes ---

denied "$ns_a" "${nobody[@]}" -- hba set "$pds_x" && is_locator "$ns_a" "$addr_a"
result $? "nobody: hba set fails with EPERM and A's HBA set stays"

denied "$ns_a" "${nobody[@]}" -- hba clear && is_locator "$ns_a" "$addr_a"
result $? "nobody: hba clear fails with EPERM and A's HBA set stays"

denied "$ns_a" "${nobody[@]}" -- context flush &&
	ctx_json "$ns_a" | grep -q "\"state\":\"established\",\"fii\":0,\"ct_local\":$ct_a,"
result $? "nobody: context flush fails with EPERM and A's context stays"

# Switching off would flush the context too.
denied "$ns_a" "${nobody[@]}" -- set enabled off &&
	ctx_json "$ns_a" | grep -q "\"state\":\"established\",\"fii\":0,\"ct_local\":$ct_a,"
result $? "nobody: set enabled off fails with EPERM and A keeps SHIM6 and its context"

# C: switched off by root; a datagram then sets up no context.  Whether
# it does is what tells on from off.
# c_probe: C's context count after one more datagram to a new peer.
c_peer=0
c_probe() {
	c_peer=$((c_peer + 1))
	ip netns exec "$ns_c" bash -c "echo x >/dev/udp/2001:db8:c::$((100 + c_peer))/9"
	ctx_json "$ns_c" | count
}
shimctl -n "$ns_c" set enabled off
denied "$ns_c" "${nobody[@]}" -- set enabled on && [ "$(c_probe)" = 0 ]
result $? "nobody: set enabled on fails with EPERM and C stays without SHIM6"
shimctl -n "$ns_c" set enabled on
n=$(c_probe)
[ "$n" = 1 ]
result $? "root: set enabled on works, and C's next datagram sets up a context ($n)"

# --- the dump: open to everyone, tags to CAP_NET_ADMIN only ---

ip netns exec "$ns_a" "${nobody[@]}" "$shimctl" context show >"$dir/show_nobody" 2>&1
rc=$?
[ "$rc" = 0 ] && grep -q "state established" "$dir/show_nobody" &&
	grep -q "^    ct-local - ct-peer -$" "$dir/show_nobody"
result $? "nobody: context show works and prints no tags ($(tr '\n' ' ' <"$dir/show_nobody" | head -c 200))"

ip netns exec "$ns_a" "${nobody[@]}" "$shimctl" -j context show >"$dir/nobody.json" 2>&1
[ "$(count "$dir/nobody.json")" = 1 ] &&
	grep -q '"state":"established","fii":0,"ct_local":null,"ct_peer":null,' "$dir/nobody.json" &&
	grep -q '"peer_locators":\["2001:db8:1::b"' "$dir/nobody.json"
result $? "nobody: context show -j has the context with ct_local and ct_peer null"

shimctl -n "$ns_a" context show >"$dir/show_root" 2>&1
grep -Eq "^    ct-local 0x[0-9a-f]+ ct-peer 0x[0-9a-f]+$" "$dir/show_root"
result $? "root: context show prints both tags ($(sed -n 2p "$dir/show_root"))"

ip netns exec "$ns_a" "${nobody[@]}" "$shimctl" locator show >"$dir/loc_nobody" 2>&1
grep -qx "$addr_a locator" "$dir/loc_nobody"
result $? "nobody: locator show works ($(tr '\n' ' ' <"$dir/loc_nobody"))"

# The PDS goes to every peer in the handshake: anyone may read it back.
ip netns exec "$ns_a" "${nobody[@]}" env SHIM6_STATE_DIR=/nonexistent "$shimctl" hba show >"$dir/hba_nobody" 2>&1
grep -qx "hba set of default in the module, not kept by shimctl hba apply: in force" "$dir/hba_nobody" &&
	grep -qx "address $addr_a present locator" "$dir/hba_nobody" && grep -qx "pds $pds_a" "$dir/hba_nobody"
result $? "nobody: hba show reads the module's HBA set (SHIM6_CMD_HBA_GET) ($(tr '\n' ' ' <"$dir/hba_nobody" | head -c 200))"

# --- the capability, not the uid (see the top on user namespaces) ---

# Root without CAP_NET_ADMIN: refused, and shown no tags.
denied "$ns_a" "${rootless[@]}" -- context flush &&
	denied "$ns_a" "${rootless[@]}" -- hba set "$pds_x" &&
	denied "$ns_a" "${rootless[@]}" -- set enabled off &&
	ctx_json "$ns_a" | grep -q "\"state\":\"established\",\"fii\":0,\"ct_local\":$ct_a," &&
	is_locator "$ns_a" "$addr_a"
result $? "root without CAP_NET_ADMIN: every do-command fails with EPERM, A unchanged"

ip netns exec "$ns_a" "${rootless[@]}" "$shimctl" -j context show >"$dir/rootless.json" 2>&1
[ "$(count "$dir/rootless.json")" = 1 ] &&
	grep -q '"state":"established","fii":0,"ct_local":null,"ct_peer":null,' "$dir/rootless.json"
result $? "root without CAP_NET_ADMIN: context show -j has no tags"

# uid 65534 holding CAP_NET_ADMIN: sees the tags, and each do-command
# takes effect.
ip netns exec "$ns_a" "${netadmin[@]}" "$shimctl" -j context show >"$dir/netadmin.json" 2>&1
[ "$(count "$dir/netadmin.json")" = 1 ] &&
	grep -q "\"ct_local\":$ct_a,\"ct_peer\":[0-9]" "$dir/netadmin.json"
result $? "nobody with CAP_NET_ADMIN: context show -j has both tags"

ip netns exec "$ns_a" "${netadmin[@]}" "$shimctl" hba set "$pds_x" &&
	! is_locator "$ns_a" "$addr_a" &&
	ip netns exec "$ns_a" "${netadmin[@]}" "$shimctl" hba set "$pds_a" &&
	is_locator "$ns_a" "$addr_a"
result $? "nobody with CAP_NET_ADMIN: hba set replaces A's HBA set (and back)"

ip netns exec "$ns_c" "${netadmin[@]}" "$shimctl" set enabled off &&
	[ "$(c_probe)" = 0 ] &&
	ip netns exec "$ns_c" "${netadmin[@]}" "$shimctl" set enabled on &&
	[ "$(c_probe)" = 1 ]
result $? "nobody with CAP_NET_ADMIN: set enabled off and on take effect in C"

ip netns exec "$ns_a" "${netadmin[@]}" "$shimctl" context flush &&
	[ "$(ctx_json "$ns_a")" = "[]" ]
result $? "nobody with CAP_NET_ADMIN: context flush empties A's table"

echo "# ran for $SECONDS s"
totals
