#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A hostile host against two SHIM6 hosts.  X and V each have an HBA address
# under each of two prefixes; M, the attacker, has none and runs no SHIM6
# of its own (shimctl set enabled off: its kernel stays out of the way of
# the packets it crafts, and answers SHIM6 with Parameter Problem, which
# does not matter here).  All meet at a router R, itself a SHIM6 host:
#
#   X x0 2001:db8:a1::/64 ---       --- 2001:db8:b1::/64 v0 V
#     x1 2001:db8:a2::/64 ---   R   --- 2001:db8:b2::/64 v1
#                               |
#                     2001:db8:d1::/64 m0 M
#
# R routes 2001:db8:e1::/64 to M, so that M can use any address there as a
# spoofed source and still see the answers, and drops 2001:db8:dd::/64
# silently: an address there never answers an I1.
#
# The attacker is tools/hostile/shim6peer.py, which writes SHIM6 from RFC
# 5533 with the Python standard library only, sends it from any source
# through a raw socket and reads the answers with a packet socket.
# tools/hostile/attacks.py runs it, X's and V's applications and captures
# of M's link and of R, all in one process: the VM takes seconds to start
# each one.
#
# Each test point is one attack and passes only if the hosts resist it:
#  1, 2  hijacking (V, X) with I1/R1/I2 from M, FII 0 and 7;
#  3     payload injected with X's tags, one of them learnt from an R2;
#  4     hijacking with R1bis/I2bis, several ULID pairs for one R1bis;
#  5     an I1 from a spoofed source drawing an R2 (tag, locators);
#  6     a forged ICMPv6 Parameter Problem putting X's context NO-SUPPORT;
#  7     replayed, empty and option-less Update Requests;
#  8     I1 to and from multicast addresses;
#  9     a SYN flood from spoofed sources (contexts, I1s, a full table);
#  10    a SHIM_DONTSHIM listener's connections setting up contexts;
#  11    the refusals counted by reason (shimctl stats) on X and R.
# A failed one says in "#" lines what was seen.

set -u
ns_x=shim6-hx-$$
ns_v=shim6-hv-$$
ns_m=shim6-hm-$$
ns_r=shim6-hr-$$
dir=$(mktemp -d)
here=${0%/*}
. "$here/lib"
# shimsock, for the attacker: what the UAPI header says.
PATH=$here:$PATH

cleanup() {
	ip -b - <<-EOF 2>/dev/null
		netns del $ns_x
		netns del $ns_v
		netns del $ns_m
		netns del $ns_r
	EOF
	rm -rf "$dir"
}
trap cleanup EXIT
# A timeout (guest.sh runs each test under one) still cleans up.
trap 'exit 1' TERM INT

echo "TAP version 13"
echo "1..11"

# From selftests/ or from selftests/out/.
hostile=
for d in "$here/../tools/hostile" "$here/../../tools/hostile"; do
	[ -f "$d/attacks.py" ] && hostile=$d && break
done

# hba NAME PREFIX1 PREFIX2 MODIFIER: the host's two HBA addresses in
# ${NAME}1 and ${NAME}2 and its PDS in pds_NAME (as in shim6_locators.sh,
# read without starting more processes: each costs a second in the VM).
hba() {
	local ext key val n=1
	printf -v ext '%096d' 5
	shimctl hba modifier "$4" extended-modifier "$ext" "$2::/64" "$3::/64" >"$dir/hba_$1"
	while read -r key val _; do
		case $key in
		address) printf -v "$1$n" %s "$val"; n=$((n + 1)) ;;
		pds) printf -v "pds_$1" %s "$val" ;;
		esac
	done <"$dir/hba_$1"
}

x1= x2= v1= v2= pds_x= pds_v=
hba x 2001:db8:a1 2001:db8:a2 0123456789abcdef0123456789abcdef
hba v 2001:db8:b1 2001:db8:b2 fedcba9876543210fedcba9876543210
m=2001:db8:d1::d
m_ll=fe80::d
spoof=2001:db8:e1::5
dead=2001:db8:dd::1

# The namespaces and links, in one ip command per namespace.
ip -b - <<EOF
netns add $ns_x
netns add $ns_v
netns add $ns_m
netns add $ns_r
link add x0 netns $ns_x type veth peer name rx0 netns $ns_r
link add x1 netns $ns_x type veth peer name rx1 netns $ns_r
link add v0 netns $ns_v type veth peer name rv0 netns $ns_r
link add v1 netns $ns_v type veth peer name rv1 netns $ns_r
link add m0 netns $ns_m type veth peer name rm0 netns $ns_r
EOF
# host PREFIX1 PREFIX2 ADDR1 ADDR2 DEV: a host's batch: each address on its
# uplink, each locator leaving on its own uplink (source rules).
host() {
	cat <<-EOF
		link set lo up
		link set ${5}0 up
		link set ${5}1 up
		addr add $3/64 dev ${5}0 nodad
		addr add $4/64 dev ${5}1 nodad
		rule add from $1::/64 table 100
		rule add from $2::/64 table 101
		route add ::/0 via $1::1 dev ${5}0 table 100
		route add ::/0 via $2::1 dev ${5}1 table 101
		route add ::/0 via $1::1 dev ${5}0
	EOF
}
host 2001:db8:a1 2001:db8:a2 "$x1" "$x2" x | ip -6 -n "$ns_x" -b -
host 2001:db8:b1 2001:db8:b2 "$v1" "$v2" v | ip -6 -n "$ns_v" -b -
ip -6 -n "$ns_m" -b - <<EOF
link set lo up
link set m0 up
addr add $m/64 dev m0 nodad
addr add $m_ll/64 dev m0 nodad
route add ::/0 via 2001:db8:d1::1 dev m0
EOF
ip -6 -n "$ns_r" -b - <<EOF
link set lo up
link set rx0 up
link set rx1 up
link set rv0 up
link set rv1 up
link set rm0 up
addr add 2001:db8:a1::1/64 dev rx0 nodad
addr add 2001:db8:a2::1/64 dev rx1 nodad
addr add 2001:db8:b1::1/64 dev rv0 nodad
addr add 2001:db8:b2::1/64 dev rv1 nodad
addr add 2001:db8:d1::1/64 dev rm0 nodad
route add 2001:db8:e1::/64 via $m dev rm0
route add blackhole 2001:db8:dd::/64
EOF
shimctl -n "$ns_x" hba set "$pds_x"
shimctl -n "$ns_v" hba set "$pds_v"
shimctl -n "$ns_m" set enabled off

# The attacks, each line of theirs a TAP line or a diagnostic.
n=0
if [ -n "$hostile" ]; then
	while IFS= read -r line; do
		case $line in
		"ok "*) result 0 "${line#ok }"; n=$((n + 1)) ;;
		"not ok "*) result 1 "${line#not ok }"; n=$((n + 1)) ;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done < <(python3 "$hostile/attacks.py" --ns-x "$ns_x" --ns-v "$ns_v" \
		--ns-m "$ns_m" --ns-r "$ns_r" --x1 "$x1" --x2 "$x2" --v1 "$v1" \
		--v2 "$v2" --m "$m" --m-ll "$m_ll" --spoof "$spoof" \
		--spoof-prefix 2001:db8:e1::/64 --dead "$dead" 2>&1)
else
	echo "# tools/hostile/attacks.py not found from $here"
fi
while [ "$n" -lt 10 ]; do
	n=$((n + 1))
	result 1 "hostile $n: not run (the attacks stopped early)"
done

# What the hosts refused is counted, by reason.
shimctl -j -n "$ns_x" stats show >"$dir/stats_x" 2>&1
shimctl -j -n "$ns_r" stats show >"$dir/stats_r" 2>&1
python3 - "$dir/stats_x" "$dir/stats_r" <<'PY'
import json, sys
x, r = (json.load(open(f)) for f in sys.argv[1:3])
want_x = ["refused_unverified", "refused_replay", "icmp_unmatched", "payload_unmatched"]
missing = [k for k in want_x if x.get(k, 0) < 1]
if r.get("refused_not_shimmable", 0) < 1:
    missing.append("R: refused_not_shimmable")
if missing:
    print("# X:", x)
    print("# R:", r)
    sys.exit("# not counted: " + ", ".join(missing))
PY
result $? "hostile 11: the refusals are counted by reason ($(tr -d '\n' <"$dir/stats_x" | cut -c1-200))"

totals
