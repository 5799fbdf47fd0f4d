#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tearing down under load: namespaces deleted, and the module unloaded,
# while they hold every kind of state the module keeps.
#
# Two hosts A and B, each with two HBA addresses (x1 the ULID, x2) on one
# veth pair, and behind A a dummy link d0 towards peers that never answer.
# On A, one client process (shimsock) keeps:
#   - a UDP and a TCP flow a1 -> b1 over an established context, sent on
#     the second locators a2 -> b2 (sticky SHIM_LOC_*_SEND), so every
#     packet is shimmed on A and restored on B;
#   - a SHIM_DEFERRED_CONTEXT_SETUP 0 socket whose datagrams towards a
#     silent peer are held for its context, which waits in I1-SENT;
#   - five more contexts in I1-SENT: retransmission timers armed.
# Round 1 deletes both namespaces while the flows run, and kills the
# processes in them: the namespaces must actually go (each has a veth
# towards the initial namespace whose end there vanishes with it).  B goes
# at once; A's held datagrams keep their socket and with it A alive until
# their context's setup fails (62 to 186 s), so A lingers, nameless, with
# all its state.  Round 2 builds the same again and unloads the module
# under both: A must then go, the new flows go on unshimmed, the module
# loads again (SHIM6_KO, so that the tests after this one and the runner's
# final rmmod find it) and sets up a new context for the old sockets.
# Every step is bounded by a timeout; the VM runner fails the run on any
# kernel report (KASAN, lockdep, WARNING, kmemleak) in the log.

set -u
dir=$(mktemp -d)
. "$(dirname "$0")/lib"
PATH=$(dirname "$0"):$PATH
namespaces=

cleanup() {
	local ns
	kill_pids KILL
	for ns in $namespaces; do
		ip netns del "$ns" 2>/dev/null
	done
	# The tests after this one and the runner's rmmod need the module.
	[ -d /sys/module/shim6 ] || insmod "$SHIM6_KO"
	rm -rf "$dir"
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..16"

# hba MODIFIER PREFIX1 PREFIX2: "ADDR1 ADDR2", the addresses hosts() gets.
hba() {
	shimctl hba modifier "$1" extended-modifier "$(printf '%096d' 5)" "$2::/64" "$3::/64" |
		awk '/^address/ { printf "%s ", $2 } END { print "" }'
}
read -r a1 a2 < <(hba 0123456789abcdef0123456789abcdef 2001:db8:a1 2001:db8:a2)
read -r b1 b2 < <(hba fedcba9876543210fedcba9876543210 2001:db8:b1 2001:db8:b2)

# apply_hba NS DEV PREFIX1 PREFIX2 [modifier HEX]: the addresses of both
# prefixes on DEV and the set in the module (shimctl hba apply; its state
# in $dir), as shimctl shows it after.  Without a modifier, the one of the
# last apply in NS.
apply_hba() {
	local ns=$1 dev=$2 p1=$3 p2=$4
	shift 4
	SHIM6_STATE_DIR=$dir shimctl -n "$ns" hba apply "$@" ${1:+extended-modifier "$(printf '%096d' 5)"} \
		dev "$dev" "$p1::/64" dev "$dev" "$p2::/64"
}

# gone LINK...: waits up to 120 s for every LINK (in the initial
# namespace) to vanish, i.e. for the namespaces holding their peers to be
# dismantled (up to a minute seen in an emulated VM sharing its host).
gone() {
	local end=$((SECONDS + 120)) link
	for link in "$@"; do
		while ip link show "$link" >/dev/null 2>&1; do
			[ "$SECONDS" -lt "$end" ] || return 1
			sleep 0.2
		done
	done
}

# hosts R: namespaces ns_a, ns_b of round R with their links, their HBA
# addresses and sets (shimctl hba apply), a server on B and the client on A; waits for the client to
# report its first progress, its flows running (or 90 s).
hosts() {
	local r=$1
	ns_a=shim6-ta$r-$$
	ns_b=shim6-tb$r-$$
	namespaces="$namespaces $ns_a $ns_b"
	ip netns add "$ns_a"
	ip netns add "$ns_b"
	ip link add veth-a netns "$ns_a" type veth peer name veth-b netns "$ns_b"
	# Witnesses: their ends here go when the namespaces are dismantled.
	ip link add "obs-a$r" type veth peer name obs netns "$ns_a"
	ip link add "obs-b$r" type veth peer name obs netns "$ns_b"
	ip -n "$ns_a" -batch - <<-EOF
		link set lo up
		link set veth-a up
		route add 2001:db8:b1::/64 dev veth-a
		route add 2001:db8:b2::/64 dev veth-a
		link add d0 type dummy
		link set d0 up
		route add 2001:db8:99::/64 dev d0
	EOF
	ip -n "$ns_b" -batch - <<-EOF
		link set lo up
		link set veth-b up
		route add 2001:db8:a1::/64 dev veth-b
		route add 2001:db8:a2::/64 dev veth-b
	EOF
	apply_hba "$ns_a" veth-a 2001:db8:a1 2001:db8:a2 modifier 0123456789abcdef0123456789abcdef >/dev/null
	apply_hba "$ns_b" veth-b 2001:db8:b1 2001:db8:b2 modifier fedcba9876543210fedcba9876543210 >/dev/null

	# B echoes; its connections close by a reset (-r): no orphan outlives
	# the process.
	ip netns exec "$ns_b" shimsock server -r -u 7007 -t 7008 "$b1" >"$dir/server$r.log" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 150); do
		grep -q listening "$dir/server$r.log" && break
		sleep 0.2
	done

	# A: the flows set up their context, then go on the second locators;
	# five contexts wait for an R1 that never comes; ten datagrams are
	# held for the context of a silent peer (d0 sees its I1, not them);
	# then the flows run without end, their progress in progress$r.  Its
	# TCP connection closes by a reset (-r) when the process dies: an
	# orphan waiting for its FIN to be acknowledged would keep the
	# namespace alive too.
	local silent=() i
	for i in 0 1 2 3 4; do
		silent+=(sendto "2001:db8:99::10$i" 7007)
	done
	ip netns exec "$ns_a" shimsock client -r -w 1 "$a1" "$b1" \
		udp 7007 tcp 7008 associate 200 associated \
		send-locators "$a2" "$b2" \
		"${silent[@]}" sleep 0.2 \
		hold d0 2001:db8:99::99 7007 10 \
		loop "$dir/progress$r" >"$dir/client$r.log" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 450); do
		[ -s "$dir/progress$r" ] && break
		sleep 0.2
	done
	echo "# round $r set up at $SECONDS s"
}

# flowing R: both of round R's flows advance within 3 s.
flowing() {
	local u0 t0 u1 t1
	read -r u0 t0 <"$dir/progress$1" || return 1
	sleep 3
	read -r u1 t1 <"$dir/progress$1" || return 1
	echo "# udp $u0 -> $u1, tcp $t0 -> $t1"
	[ "$u1" -gt "$u0" ] && [ "$t1" -gt "$t0" ]
}

# loaded_state R: A's context with B carries the moved flows shimmed, the
# six silent peers' contexts wait in I1-SENT, and the held datagrams did
# not leave.
loaded_state() {
	local r=$1
	grep -qx "associated 1 1" "$dir/client$r.log" && grep -qx "held [0-9]" "$dir/client$r.log"
	result $? "round $r: the flows are associated, and d0 saw the I1 but not the 10 held datagrams ($(grep -e ^associated -e ^held "$dir/client$r.log" | tr '\n' ' '))"
	shimctl -j -n "$ns_a" context show >"$dir/a$r.json" 2>&1
	shimctl -j -n "$ns_b" context show >"$dir/b$r.json" 2>&1
	# shimctl's JSON is one line, its keys in a fixed order: grep reads
	# it, where Python takes tens of seconds to start in a loaded VM.
	# A shims the moved flows, B restores them.
	grep -o "\"ulid_local\":\"$a1\",\"ulid_peer\":\"$b1\",\"state\":\"established\"[^}]*" \
		"$dir/a$r.json" | grep -q '"packets_out":[1-9]' &&
		grep -o "\"ulid_local\":\"$b1\",\"ulid_peer\":\"$a1\",\"state\":\"established\"[^}]*" \
		"$dir/b$r.json" | grep -q '"packets_in":[1-9]' &&
		[ "$(grep -o '"ulid_peer":"2001:db8:99::[0-9a-f]*"' "$dir/a$r.json" | wc -l)" = 6 ] &&
		[ "$(grep -o '"ulid_peer":"2001:db8:99::[0-9a-f]*","state":"i1-sent"' "$dir/a$r.json" | wc -l)" = 6 ]
	result $? "round $r: A's context with B is established and shims, six contexts wait in I1-SENT"
	flowing "$r"
	result $? "round $r: the UDP and TCP flows run"
}

# --- round 1: the namespaces go while the flows run ---

hosts 1
loaded_state 1
timeout 30 ip netns del "$ns_a" && timeout 30 ip netns del "$ns_b"
rc=$?
# Their processes go too, so that nothing holds the namespaces any more.
kill_pids KILL
result $rc "round 1: ip netns del of both namespaces under traffic"
start=$SECONDS
gone obs-b1
result $? "round 1: B's namespace dismantled ($((SECONDS - start)) s)"
# A's held datagrams keep their socket, and so A's namespace, alive until
# the setup of their context fails (five I1s, 62 to 186 s; the TCP flow
# closed by a reset, so nothing else does): A lingers with its contexts,
# timers and held packets into round 2, where the module goes under it.
if ip link show obs-a1 >/dev/null 2>&1; then
	echo "# A's namespace still exists $((SECONDS - start)) s after the deletion"
fi

# --- round 2: the module goes while the same state exists ---

hosts 2
loaded_state 2
# A call in flight holds the module for a moment (EAGAIN, EBUSY): retry.
start=$SECONDS
ok=1
tries=0
while [ "$tries" -lt 100 ]; do
	tries=$((tries + 1))
	if timeout 30 rmmod shim6 2>"$dir/rmmod.log"; then
		ok=0
		break
	fi
	sleep 0.1
done
[ "$ok" = 0 ] && [ ! -d /sys/module/shim6 ]
result $? "round 2: rmmod shim6 under traffic ($tries tries, $((SECONDS - start)) s; $(head -c 200 "$dir/rmmod.log"))"
# The unload dropped round 1's held datagrams: nothing holds A any more.
start=$SECONDS
gone obs-a1
result $? "round 1: A's namespace dismantled once the module let go of its state ($((SECONDS - start)) s)"
# The flows never depended on the module: on without it, unshimmed.
flowing 2
result $? "round 2: the flows go on without the module"
start=$SECONDS
timeout 120 insmod "$SHIM6_KO"
result $? "round 2: insmod shim6 again ($((SECONDS - start)) s)"
# The unload took the HBA sets with it: hba show says so, and the same
# command, without the modifiers, gives each host its addresses and set
# back.
SHIM6_STATE_DIR=$dir shimctl -n "$ns_a" hba show >"$dir/show_a" 2>&1
grep -q "^hba set of $ns_a from $dir/$ns_a.json: not in force: the module holds none$" "$dir/show_a"
result $? "round 2: after the reload shimctl hba show says the module lost A's set ($(head -1 "$dir/show_a"))"
apply_hba "$ns_a" veth-a 2001:db8:a1 2001:db8:a2 >"$dir/apply_a" 2>&1
apply_hba "$ns_b" veth-b 2001:db8:b1 2001:db8:b2 >"$dir/apply_b" 2>&1
grep -q "^address $a1 prefix 2001:db8:a1::/64 dev veth-a present locator$" "$dir/apply_a" &&
	grep -q "^address $a2 prefix 2001:db8:a2::/64 dev veth-a present locator$" "$dir/apply_a" &&
	grep -q "^address $b1 prefix 2001:db8:b1::/64 dev veth-b present locator$" "$dir/apply_b" &&
	grep -q "^address $b2 prefix 2001:db8:b2::/64 dev veth-b present locator$" "$dir/apply_b" &&
	head -1 "$dir/apply_a" | grep -q ": in force$"
result $? "round 2: after the reload shimctl hba apply restores both hosts' sets, same addresses, locators again ($(grep -h ^address "$dir/apply_a" "$dir/apply_b" | tr '\n' ' '))"
# The old sockets' state belonged to the unloaded module; the new one
# sets up a context for their flow as for any other.
ok=1
for _ in $(seq 150); do
	shimctl -j -n "$ns_a" context show >"$dir/reload.json" 2>&1
	grep -q "\"ulid_local\":\"$a1\",\"ulid_peer\":\"$b1\",\"state\":\"established\"" \
		"$dir/reload.json" && ok=0 && break
	sleep 0.2
done
[ "$ok" = 0 ] && flowing 2
result $? "round 2: after the reload the old sockets' flow gets a new context and goes on ($(head -c 200 "$dir/reload.json"))"

timeout 30 ip netns del "$ns_a" && timeout 30 ip netns del "$ns_b"
rc=$?
kill_pids KILL
start=$SECONDS
[ "$rc" = 0 ] && gone obs-a2 obs-b2
result $? "round 2: the namespaces of the reloaded module dismantled ($((SECONDS - start)) s)"

# What the processes said, when something failed (the kills at the end
# of each round reset the TCP flow: that is expected).
[ "$failed" = 0 ] || sed 's/^/# /' "$dir"/client*.log "$dir"/server*.log
echo "# ran for $SECONDS s"
totals
