#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A hostile host against two SHIM6 hosts.  X and V each have an HBA address
# under each of two prefixes; M, the attacker, has none and runs no SHIM6
# of its own (shimctl set enabled off: its kernel stays out of the way of
# the packets it crafts).  All meet at a router R:
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
# M is tools/hostile/shim6peer.py, which writes SHIM6 from RFC 5533 with the
# Python standard library only, sends it from any source through a raw
# socket and reads the answers with a packet socket.  Packet sockets in M
# and in R (every interface) log every SHIM6 packet all along.
#
# Each test point is one attack and passes only if the host resists it:
# hijacking a ULID pair with I1/R1/I2 (FII 0 and 7) or with R1bis/I2bis,
# injecting payload with a known tag, making X reflect an R2 to a spoofed
# source, a forged ICMPv6 Parameter Problem, forged and replayed Update
# Requests, SHIM6 to and from multicast addresses, a SYN flood from spoofed
# sources, and a SHIM_DONTSHIM listener.  When one fails, a "#" line says
# what was seen.

set -u
ns_x=shim6-hx-$$
ns_v=shim6-hv-$$
ns_m=shim6-hm-$$
ns_r=shim6-hr-$$
dir=$(mktemp -d)
. "$(dirname "$0")/lib"

# The hostile peer: from selftests/ or from selftests/out/.
peer=
for p in "$(dirname "$0")/../tools/hostile/shim6peer.py" \
	"$(dirname "$0")/../../tools/hostile/shim6peer.py"; do
	[ -f "$p" ] && peer=$(realpath "$p") && break
done

pids=
cleanup() {
	local pid
	for pid in $pids; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -n "${SHIM6_OUT:-}" ]; then
		mkdir -p "$SHIM6_OUT/shim6_hostile.d"
		cp "$dir"/* "$SHIM6_OUT/shim6_hostile.d/" 2>/dev/null
	fi
	for ns in "$ns_x" "$ns_v" "$ns_m" "$ns_r"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT

# bg NAME CMD...: CMD in the background, its output in $dir/NAME.log.  Its
# standard input is the caller's (a here-document): bash would otherwise
# give a background command /dev/null.
bg() {
	local name=$1
	shift
	"$@" 0<&0 >"$dir/$name.log" 2>&1 &
	pids="$pids $!"
	eval "pid_$name=$!"
}

# stop NAME: ends what bg NAME started.
stop() {
	local pid
	eval "pid=\${pid_$1:-}"
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	return 0
}

# wait_for FILE PATTERN [TENTHS]: until FILE holds PATTERN (grep -E).
wait_for() {
	local i
	for i in $(seq "${3:-50}"); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

echo "TAP version 13"
echo "1..10"

if [ -z "$peer" ] || ! command -v python3 >/dev/null; then
	for i in $(seq 10); do
		result 1 "hostile: no python3 or tools/hostile/shim6peer.py"
	done
	totals
	exit
fi

for ns in "$ns_x" "$ns_v" "$ns_m" "$ns_r"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip netns exec "$ns_r" sysctl -qw net.ipv6.conf.all.forwarding=1

# hba_host NS NAME PREFIX1 PREFIX2 MODIFIER: as in shim6_locators.sh, the
# host's two uplinks, its HBA addresses (printed as "ADDR1 ADDR2"), its
# source-based routes and its HBA set.
hba_host() {
	local ns=$1 h=$2 p1=$3 p2=$4 modifier=$5
	shimctl hba modifier "$modifier" extended-modifier "$(printf '%096d' 5)" \
		"$p1::/64" "$p2::/64" >"$dir/hba_$h"
	local addrs pds
	addrs=$(awk '/^address/ { printf "%s ", $2 }' "$dir/hba_$h")
	pds=$(awk '/^pds/ { print $2 }' "$dir/hba_$h")
	set -- $addrs
	local i=0
	for addr in "$1" "$2"; do
		local pfx
		pfx=$([ $i = 0 ] && echo "$p1" || echo "$p2")
		ip link add "${h}$i" netns "$ns" type veth peer name "r$h$i" netns "$ns_r"
		ip -n "$ns" addr add "$addr/64" dev "${h}$i" nodad
		ip -n "$ns_r" addr add "$pfx::1/64" dev "r$h$i" nodad
		ip -n "$ns" link set "${h}$i" up
		ip -n "$ns_r" link set "r$h$i" up
		ip -n "$ns" -6 rule add from "$pfx::/64" table $((100 + i))
		ip -n "$ns" -6 route add default via "$pfx::1" dev "${h}$i" table $((100 + i))
		i=$((i + 1))
	done
	ip -n "$ns" -6 route add default via "$p1::1" dev "${h}0"
	shimctl -n "$ns" hba set "$pds"
	echo "$1 $2"
}

read -r x1 x2 < <(hba_host "$ns_x" x 2001:db8:a1 2001:db8:a2 0123456789abcdef0123456789abcdef)
read -r v1 v2 < <(hba_host "$ns_v" v 2001:db8:b1 2001:db8:b2 fedcba9876543210fedcba9876543210)

# M: one uplink, no SHIM6, a fixed link-local address for the multicast
# case.  Spoofed sources live in 2001:db8:e1::/64, routed to M.
m=2001:db8:d1::d
m_ll=fe80::d
spoof=2001:db8:e1::5
dead=2001:db8:dd::1
ip link add m0 netns "$ns_m" type veth peer name rm0 netns "$ns_r"
ip -n "$ns_m" addr add "$m/64" dev m0 nodad
ip -n "$ns_m" addr add "$m_ll/64" dev m0 nodad
ip -n "$ns_r" addr add 2001:db8:d1::1/64 dev rm0 nodad
ip -n "$ns_m" link set m0 up
ip -n "$ns_r" link set rm0 up
ip -n "$ns_m" -6 route add default via 2001:db8:d1::1
ip -n "$ns_r" -6 route add 2001:db8:e1::/64 via "$m"
ip -n "$ns_r" -6 route add blackhole 2001:db8:dd::/64
shimctl -n "$ns_m" set enabled off

# The wire, logged from the start: everything M's link carries (both ways:
# R's answers arrive there) and everything R receives on any link.
bg sniff_m ip netns exec "$ns_m" python3 "$peer" sniff --iface m0 \
	--proto 140 --proto 17 --out "$dir/m.jsonl" --ready "$dir/m.ready"
bg sniff_r ip netns exec "$ns_r" python3 "$peer" sniff --iface any --in-only \
	--proto 140 --proto 17 --out "$dir/r.jsonl" --ready "$dir/r.ready"
# The applications: a UDP listener on each ULID, logging what it gets.
udp_listener='
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(2048)
    print("from", peer[0], data.decode("ascii", "replace").strip(), flush=True)
'
bg udp_v ip netns exec "$ns_v" python3 -c "$udp_listener" "$v1" 7001
bg udp_x ip netns exec "$ns_x" python3 -c "$udp_listener" "$x1" 7002
for f in "$dir/m.ready" "$dir/r.ready"; do
	wait_for "$f" . 300 || echo "# no sniffer: $(cat "$dir"/sniff_*.log)"
done
wait_for "$dir/udp_v.log" ready 300
wait_for "$dir/udp_x.log" ready 300

# hostile CMD ARGS...: the hostile peer in M, on M's uplink.
hostile() {
	local cmd=$1
	shift
	ip netns exec "$ns_m" python3 "$peer" "$cmd" --iface m0 "$@"
}

# udp NS DST PORT TEXT: one datagram from NS's default source address.
udp() {
	ip netns exec "$1" bash -c "echo '$4' >/dev/udp/$2/$3" 2>/dev/null
}

flush() {
	shimctl -n "$ns_x" context flush
	shimctl -n "$ns_v" context flush
}

# mark: where the logs stand before an attack (line counts).
mark() {
	mark_m=$(wc -l <"$dir/m.jsonl")
	mark_r=$(wc -l <"$dir/r.jsonl")
	mark_v=$(wc -l <"$dir/udp_v.log")
	mark_x=$(wc -l <"$dir/udp_x.log")
}

# sync: once the sniffers logged a datagram M sends now, they logged
# everything before it.
sync_logs() {
	local token=sync-$RANDOM$RANDOM
	ip netns exec "$ns_m" bash -c "echo $token >/dev/udp/2001:db8:d1::1/9" 2>/dev/null
	wait_for "$dir/m.jsonl" "$token" 100
	wait_for "$dir/r.jsonl" "$token" 100
}

# since LOG MARK: the lines of LOG after MARK.
since() {
	tail -n +"$(($2 + 1))" "$1"
}

# ctx NS: the contexts of NS as JSON.
ctx() {
	shimctl -j -n "$1" context show
}

# ct_local NS LOCAL PEER: the local tag of the context of that ULID pair.
ct_local() {
	shimctl -n "$1" context show | awk -v l="$2" -v p="$3" \
		'$1 == "ulid" && $2 == l && $4 == p { getline; print $2; exit }'
}

# establish: X talks to V until their context is established.
establish() {
	local i
	for i in $(seq 40); do
		udp "$ns_x" "$v1" 7001 establish
		shimctl -n "$ns_x" context show | grep -q "^ulid $x1 > $v1 state established fii 0" && return 0
		sleep 0.25
	done
	return 1
}

# sorted ADDR...: the addresses sorted, on one line.
sorted() {
	printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}

# peer_locators: X's list for V (context of FII 0), sorted, on one line.
peer_locators() {
	sorted $(shimctl -n "$ns_x" context show | awk -v p="$v1" '
		$1 == "ulid" { cur = $4 == p && $8 == 0 }
		cur && $1 == "peer-locators" { $1 = ""; print }')
}

# Python that judges an attack: reads the logs, prints "# ..." for every
# problem and exits non-zero if there was one.
judge_lib='
import json, sys, traceback
def crashed(*exc):
    for line in "".join(traceback.format_exception(*exc)).splitlines():
        print("# judge: " + line)
    sys.exit(1)
sys.excepthook = crashed
problems = []
def problem(msg):
    problems.append(msg)
def done():
    for p in problems:
        print("# " + p)
    sys.exit(1 if problems else 0)
def lines(path, skip):
    with open(path) as f:
        for i, line in enumerate(f):
            if i >= skip:
                try:
                    yield json.loads(line)
                except ValueError:
                    pass
def incoming(path, skip):
    return [d for d in lines(path, skip) if not d.get("out")]
def shim_type(d):
    s = d.get("shim") or {}
    return s.get("type") if s.get("p") == 0 else None
def contexts(path):
    with open(path) as f:
        return json.load(f)
def pointing_to(ctxs, addr):
    return [c for c in ctxs if c["locator_peer"] == addr or addr in c["peer_locators"]]
def brief(c):
    return "%s>%s fii %s %s path %s>%s peers %s" % (
        c["ulid_local"], c["ulid_peer"], c["fii"], c["state"],
        c["locator_local"], c["locator_peer"], ",".join(c["peer_locators"]))
'

# --- 1, 2: hijack with I1/R1/I2 ----------------------------------------

# M names (V, X) in the ULID Pair of an I1 and of the I2 that answers X's
# R1, from its own locator, with a Locator List naming only itself.  X
# must not answer R2: nothing shows that M may speak for V (no PDS of V's
# covers M).  After that, X's traffic to V must still go to V.
hijack() {
	local n=$1 fii=$2
	flush
	mark
	hostile hijack --src "$m" --dst "$x1" --sender "$v1" --receiver "$x1" \
		--fii "$fii" --locator "$m" --wait 3 >"$dir/hijack$fii.json" 2>&1
	ctx "$ns_x" >"$dir/hijack$fii.ctx"
	udp "$ns_x" "$v1" 7001 "after-hijack-$fii"
	sleep 1.5
	sync_logs
	python3 - "$dir" "$fii" "$m" "$x1" "$x2" "$v1" "$mark_m" "$mark_v" <<PY
$judge_lib
d, fii, m, x1, x2, v1 = sys.argv[1:7]
mark_m, mark_v = int(sys.argv[7]), int(sys.argv[8])
res = json.load(open("%s/hijack%s.json" % (d, fii)))
if res["r1"] is None:
    print("# note: no R1 to M's I1 (seen: %s)" % res["seen"])
if res["r2"] is not None:
    problem("X answered M's I2 with R2 (X's tag %s for ULIDs %s>%s handed to M)"
            % (res["r2"]["tag"], v1, x1))
for c in pointing_to(contexts("%s/hijack%s.ctx" % (d, fii)), m):
    problem("X holds a context towards M: " + brief(c))
got_v = [l for l in open(d + "/udp_v.log").read().splitlines()[mark_v:]
         if "after-hijack-" + fii in l]
if not got_v:
    problem("V did not receive X's datagram to V's ULID")
leaked = [p for p in incoming(d + "/m.jsonl", mark_m)
          if p["src"] in (x1, x2) and p["dst"] == m
          and ((p.get("shim") or {}).get("p") == 1 or p["nh"] == 17)]
if leaked:
    problem("X's traffic for V reached M: %d packet(s), e.g. %s>%s tag %s"
            % (len(leaked), leaked[0]["src"], leaked[0]["dst"],
               (leaked[0].get("shim") or {}).get("tag")))
done()
PY
	result $? "hostile $n: I1/R1/I2 naming (V, X) from M, FII $fii: no R2, no context towards M, X's traffic still reaches V"
}

hijack 1 0
hijack 2 7

# --- 3: injection -------------------------------------------------------

# X and V have their context.  M tries to learn a tag of X's from an R2
# (I1/R1/I2 with FII 3, which does not clash with the real context), then
# sends payload headers with that tag and with every tag X has (read from
# shimctl: a stronger attacker than an off-path one), carrying a datagram
# from V's ULID to X's listener.  Payload from M's own locator is not V's.
flush
establish || echo "# X and V did not establish a context: $(shimctl -n "$ns_x" context show | head -3)"
mark
hostile hijack --src "$m" --dst "$x1" --sender "$v1" --receiver "$x1" \
	--fii 3 --locator "$m" --wait 3 >"$dir/inject_hijack.json" 2>&1
ctx "$ns_x" >"$dir/inject.ctx"
hostile inject --src "$m" --dst "$x1" --dst "$x2" --sender "$v1" --receiver "$x1" \
	--sport 7001 --dport 7002 --tags-from "$dir/inject.ctx" \
	--tags-from "$dir/inject_hijack.json" --tag 1 >"$dir/inject.json" 2>&1
sleep 1.5
python3 - "$dir" "$v1" "$mark_x" <<PY
$judge_lib
d, v1, mark_x = sys.argv[1], sys.argv[2], int(sys.argv[3])
h = json.load(open(d + "/inject_hijack.json"))
sent = json.load(open(d + "/inject.json"))["sent"]
if h["r2"] is not None:
    problem("M learnt X's tag %s from an R2" % h["r2"]["tag"])
got = [l for l in open(d + "/udp_x.log").read().splitlines()[mark_x:]
       if l.startswith("from " + v1 + " ")]
for l in got:
    problem("X's socket received from V's ULID what M injected: %s" % l)
if not got:
    print("# (tried tags %s)" % sent)
done()
PY
result $? "hostile 3: payload injected by M with X's tags (from shimctl or an R2) never reaches X's socket as V's"

# --- 4: hijack with R1bis/I2bis -----------------------------------------

# M draws an R1bis with payload on an unknown tag, then answers it with
# I2bis naming (V, X) and other pairs, FII 0 and 7: the R1bis validator
# covers only the tag and M's locators, not the ULIDs M claims.
flush
mark
hostile r1bis --src "$m" --dst "$x1" --pair "$v1,$x1" --pair "$v2,$x1" \
	--pair "2001:db8:b1::77,$x1" --pair "$v1,$x2" --fii 0 --fii 7 --wait 3 \
	>"$dir/r1bis.json" 2>&1
ctx "$ns_x" >"$dir/r1bis.ctx"
python3 - "$dir" "$m" <<PY
$judge_lib
d, m = sys.argv[1:3]
res = json.load(open(d + "/r1bis.json"))
if res["r1bis"] is None:
    print("# note: no R1bis (seen: %s)" % res.get("seen"))
for a in res["attempts"]:
    if a["r2"] is not None:
        problem("R2 for I2bis naming %s>%s FII %s (X's tag %s)"
                % (a["sender"], a["receiver"], a["fii"], a["r2"]["tag"]))
for c in pointing_to(contexts(d + "/r1bis.ctx"), m):
    problem("X holds a context towards M: " + brief(c))
done()
PY
result $? "hostile 4: one R1bis, I2bis for 4 ULID pairs x FII 0/7 from M: no R2, no context towards M"

# --- 5: reflection --------------------------------------------------------

# X starts a context with an address that never answers: it stays in
# I1-SENT.  M sends X an I1 naming that ULID pair from a spoofed source.
# The R2 X would send from its context carries its tag and locators: it
# must not go to a source X knows nothing about (a stateless R1 may).
flush
udp "$ns_x" "$dead" 7009 wake
for _ in $(seq 20); do
	shimctl -n "$ns_x" context show | grep -q "> $dead state i1-sent" && break
	sleep 0.1
done
mark
hostile i1 --src "$spoof" --dst "$x1" --sender "$dead" --receiver "$x1" \
	--wait 3 >"$dir/reflect.json" 2>&1
sync_logs
shimctl -n "$ns_x" context show >"$dir/reflect.ctx"
python3 - "$dir" "$spoof" "$mark_m" "$dead" <<PY
$judge_lib
d, spoof, mark_m, dead = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if "> %s state i1-sent" % dead not in open(d + "/reflect.ctx").read():
    print("# note: X's context with %s is not in I1-SENT" % dead)
for p in incoming(d + "/m.jsonl", mark_m):
    if p["dst"] == spoof and shim_type(p) == 4:
        problem("X sent R2 to the spoofed source %s: tag %s, locators %s"
                % (spoof, p["shim"].get("tag"), p["shim"].get("locators")))
done()
PY
result $? "hostile 5: an I1 from a spoofed source for a context in I1-SENT draws no R2 to that source"

# --- 6: forged ICMPv6 Parameter Problem -----------------------------------

# X's context with the silent address is still in I1-SENT.  M sends X
# Parameter Problems (unrecognized Next Header) quoting an I1 from X to
# that address with X's very tag but a wrong Initiator Nonce, once with
# the right pointer and once with a wrong one: X must not conclude that
# the peer has no SHIM6.
ct=$(ct_local "$ns_x" "$x1" "$dead")
hostile icmp-pp --src "$m" --dst "$x1" --quoted-src "$x1" --quoted-dst "$dead" \
	--tag "${ct:-1}" --pointer 6 --pointer 50 >"$dir/icmp.json" 2>&1
sleep 1
shimctl -n "$ns_x" context show >"$dir/icmp.ctx"
state=$(awk -v p="$dead" '$1 == "ulid" && $4 == p { print $6 }' "$dir/icmp.ctx")
[ "$state" = i1-sent ]
rc=$?
[ $rc = 0 ] || echo "# X's context with $dead went from i1-sent to '${state:-none}' on forged Parameter Problems (tag ${ct:-unknown}, wrong nonce)"
result $rc "hostile 6: a Parameter Problem with a wrong Initiator Nonce or pointer leaves X's context in I1-SENT"

# --- 7: Update Requests ---------------------------------------------------

# X and V have their context; V's list at X is {V1, V2}.  V offers only V1
# (SHIM_LOCLIST_LOCAL, an Update Request), then both again (a new address
# makes V recompute its locators: another Update Request).  M, with X's tag
# (from shimctl) and V's locator as source, replays V's first Update
# Request, then sends one with an empty Locator List and one with no
# option at all: X's list for V must stay {V1, V2}.
flush
establish || echo "# X and V did not establish a context"
mark
ip netns exec "$ns_v" python3 - "$v1" "$x1" >"$dir/loclist.log" 2>&1 <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.connect((sys.argv[2], 7002))
loc = struct.pack("BBBB16s", socket.AF_INET6, 0, 0, 0,
                  socket.inet_pton(socket.AF_INET6, sys.argv[1]))
s.setsockopt(288, 10, loc)
print("restricted")
PY
for _ in $(seq 30); do
	[ "$(peer_locators)" = "$v1" ] && break
	sleep 0.2
done
restricted=$(peer_locators)
ip -n "$ns_v" addr add 2001:db8:b1::99/64 dev v0 nodad
want=$(sorted "$v1" "$v2")
for _ in $(seq 30); do
	[ "$(peer_locators)" = "$want" ] && break
	sleep 0.2
done
before=$(peer_locators)
sync_logs
ct=$(ct_local "$ns_x" "$x1" "$v1")
hostile replay --log "$dir/r.jsonl" --skip "$mark_r" --type 64 --src "$v1" --dst "$x1" \
	>"$dir/update_replay.json" 2>&1
sleep 1
after_replay=$(peer_locators)
hostile update --src "$v1" --dst "$x1" --tag "${ct:-1}" --empty-list --generation 7 \
	>"$dir/update_empty.json" 2>&1
sleep 1
after_empty=$(peer_locators)
hostile update --src "$v1" --dst "$x1" --tag "${ct:-1}" >"$dir/update_none.json" 2>&1
sleep 1
after_none=$(peer_locators)
rc=0
if [ "$restricted" != "$v1" ] || [ "$before" != "$want" ]; then
	echo "# note: V's own updates did not show at X as expected: {$restricted} then {$before}"
fi
grep -q '"replayed": null' "$dir/update_replay.json" &&
	echo "# note: no Update Request of V's was logged to replay"
for what in replay empty none; do
	eval "got=\$after_$what"
	if [ "$got" != "$before" ]; then
		echo "# X's list for V went from {$before} to {$got} after M's $what Update Request ($(cat "$dir/update_$what.json"))"
		rc=1
	fi
done
result $rc "hostile 7: replayed, empty and option-less Update Requests from M leave X's locator list for V unchanged"

# --- 8: multicast ---------------------------------------------------------

# I1s to all nodes of M's link (where R listens, a SHIM6 host too), from
# M's global and link-local addresses, and an I1 to X from a multicast
# source: nobody may answer.
flush
mark
hostile i1 --src "$m" --dst ff02::1 --wait 2 >"$dir/mcast_global.json" 2>&1
hostile i1 --src "$m_ll" --dst ff02::1 --wait 1 >"$dir/mcast_ll.json" 2>&1
hostile i1 --src ff0e::1:5 --dst "$x1" --sender ff0e::1:5 --receiver "$x1" \
	--wait 1 >"$dir/mcast_src.json" 2>&1
sync_logs
python3 - "$dir" "$mark_m" "$mark_r" "$m" "$m_ll" <<PY
$judge_lib
d, mark_m, mark_r = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ours = (sys.argv[4], sys.argv[5], "ff0e::1:5")
seen = incoming(d + "/m.jsonl", mark_m) + incoming(d + "/r.jsonl", mark_r)
for p in seen:
    if p["src"] in ours:
        continue
    t = shim_type(p)
    if t in (2, 4, 5) or (t is not None and p["dst"].startswith("ff")):
        problem("%s from %s to %s after M's multicast I1s"
                % (p["shim"].get("name"), p["src"], p["dst"]))
done()
PY
result $? "hostile 8: I1 to ff02::1 and from a multicast source: no SHIM6 host answers"

# --- 9: SYN flood from spoofed sources -----------------------------------

# M floods a TCP listener of X's with SYNs from random sources of
# 2001:db8:e1::/64 (routed back to M, which drops what comes).  X's
# SYN-ACKs must not set up contexts nor send I1s to those sources, and the
# table must still take V's context for V's own TCP connection.
flush
ip netns exec "$ns_x" sysctl -qw net.ipv4.tcp_max_syn_backlog=4096 2>/dev/null
bg tcp_x ip netns exec "$ns_x" python3 - "$x1" <<'PY'
import socket, sys, threading
flood = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
flood.bind((sys.argv[1], 7003))
flood.listen(4096)
srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
srv.bind((sys.argv[1], 7004))
srv.listen(8)
print("ready", flush=True)
def drain(c):
    while c.recv(4096):
        pass
while True:
    c, peer = srv.accept()
    print("accepted", peer[0], flush=True)
    threading.Thread(target=drain, args=(c,), daemon=True).start()
PY
wait_for "$dir/tcp_x.log" ready 300
mark
hostile synflood --prefix 2001:db8:e1::/64 --dst "$x1" --dport 7003 --count 2000 \
	>"$dir/synflood.json" 2>&1
sleep 2
ctx "$ns_x" >"$dir/synflood.ctx"
ip netns exec "$ns_v" python3 - "$v1" "$x1" >"$dir/synflood_v.log" 2>&1 <<'PY'
import socket, sys, time
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
t.bind((sys.argv[1], 0))
t.settimeout(10)
t.connect((sys.argv[2], 7004))
assoc = 0
for _ in range(40):
    t.send(b"v")
    assoc = t.getsockopt(288, 1)
    if assoc == 1:
        break
    time.sleep(0.25)
print("associated", assoc)
PY
stop tcp_x
sync_logs
python3 - "$dir" "$mark_m" "$v1" <<PY
$judge_lib
d, mark_m, v1 = sys.argv[1], int(sys.argv[2]), sys.argv[3]
flood = json.load(open(d + "/synflood.json"))
ctxs = contexts(d + "/synflood.ctx")
spoofed = [c for c in ctxs if c["ulid_peer"].startswith("2001:db8:e1:")]
if spoofed:
    problem("X set up %d context(s) for the spoofed sources of %d SYNs (%d contexts in all)"
            % (len(spoofed), flood["sent"], len(ctxs)))
i1s = [p for p in incoming(d + "/m.jsonl", mark_m)
       if shim_type(p) == 1 and p["dst"].startswith("2001:db8:e1:")]
if i1s:
    problem("X sent %d I1(s) to spoofed sources, e.g. to %s"
            % (len(i1s), i1s[0]["dst"]))
v = open(d + "/synflood_v.log").read().split()
if v[-2:] != ["associated", "1"]:
    problem("V's TCP connection to X got no established context afterwards (%s)"
            % " ".join(v[-6:]))
done()
PY
result $? "hostile 9: a SYN flood from spoofed sources sets up no context and sends no I1; V still gets its context"
shimctl -n "$ns_x" context flush

# --- 10: SHIM_DONTSHIM listener --------------------------------------------

# X listens with SHIM_DONTSHIM set before listen(); V connects (itself with
# SHIM_DONTSHIM, so that only X could start a context) and sends data.
# X's SYN-ACK, ACKs and data must not set up a context.  The connection
# stays open while this is checked: closing it is another matter.
flush
bg dontshim_x ip netns exec "$ns_x" python3 - "$x1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(288, 2, 1)
s.bind((sys.argv[1], 7005))
s.listen(8)
print("ready", flush=True)
c, peer = s.accept()
print("accepted", peer[0], flush=True)
while True:
    data = c.recv(4096)
    if not data:
        break
    print("got", len(data), flush=True)
    c.send(data)
PY
wait_for "$dir/dontshim_x.log" ready 300
mark
bg dontshim_v ip netns exec "$ns_v" python3 - "$v1" "$x1" <<'PY'
import socket, sys, time
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
t.setsockopt(288, 2, 1)
t.bind((sys.argv[1], 0))
t.connect((sys.argv[2], 7005))
for _ in range(3):
    t.send(b"hello")
    t.recv(100)
print("sent", flush=True)
time.sleep(60)
PY
wait_for "$dir/dontshim_v.log" sent 300
sleep 1.5
sync_logs
ctx "$ns_x" >"$dir/dontshim.ctx"
stop dontshim_v
stop dontshim_x
python3 - "$dir" "$mark_r" "$x1" "$x2" "$v1" "$v2" <<PY
$judge_lib
d, mark_r = sys.argv[1], int(sys.argv[2])
xs, vs = sys.argv[3:5], sys.argv[5:7]
if "sent" not in open(d + "/dontshim_v.log").read():
    print("# note: V's connection did not go through: %s" % open(d + "/dontshim_v.log").read())
for p in incoming(d + "/r.jsonl", mark_r):
    if shim_type(p) == 1 and p["src"] in xs and p["dst"] in vs:
        problem("X sent an I1 to V for the SHIM_DONTSHIM listener's connection (%s>%s)"
                % (p["src"], p["dst"]))
        break
for c in contexts(d + "/dontshim.ctx"):
    if c["ulid_peer"] in vs:
        problem("X holds a context with V: " + brief(c))
done()
PY
result $? "hostile 10: a connection accepted by a SHIM_DONTSHIM listener sets up no context from X"

totals
