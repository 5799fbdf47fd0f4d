#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's walkthrough (tools/demo/walkthrough.sh), run as it stands:
# what a new user does after insmod works.  Two multihomed hosts get their
# HBA sets from shimctl hba apply, shimcat moves a UDP flow to B's second
# locator.  Step 5, link 2's capture decoded with the project's dissector,
# is the VM judge's on the host: its strict pass is that dissector over
# every packet, the payload header on A1 > B2 included.

set -u
dir=$(mktemp -d)
. "$(dirname "$0")/lib"
top=$(cd "$(dirname "$0")/../.." && pwd)
trap 'rm -rf "$dir"' EXIT

echo "TAP version 13"
echo "1..4"

WALK_DIR=$dir SHIM6_STATE_DIR=$dir WALK_DECODE=0 timeout 180 "$top/tools/demo/walkthrough.sh" >"$dir/walk.log" 2>&1
rc=$?
sed 's/^/# /' "$dir/walk.log"
result $rc "walkthrough: runs to the end"

read -r a1 a2 < <(awk '/^address/ { printf "%s ", $2 } END { print "" }' "$dir/hba-a")
read -r b1 b2 < <(awk '/^address/ { printf "%s ", $2 } END { print "" }' "$dir/hba-b")
grep -q "^hba set of walk-a from $dir/walk-a.json: in force$" "$dir/hba-a" &&
	[ "$(grep -c ' present locator$' "$dir/hba-a")" = 2 ] && [ "$(grep -c ' present locator$' "$dir/hba-b")" = 2 ]
result $? "walkthrough: hba apply put both hosts' sets in force, two locators each ($a1 $a2, $b1 $b2)"

# The datagrams after the move came to B2, from the ULID pair's A1.
# (UDP in a loaded VM may lose one while the context comes up.)
[ "$(grep "^shimcat: recv" "$dir/server.log" | tail -n 5 | grep -c " from $a1 local $b2 peer $a1\$")" = 5 ]
result $? "walkthrough: B's application heard $(grep -c "^shimcat: recv" "$dir/server.log") of the 20 datagrams on B1, the last five through locator B2 ($(tail -n 1 "$dir/server.log"))"

grep -q "^ulid $a1 > $b1 state established " "$dir/walk.log"
result $? "walkthrough: A's context of ($a1, $b1) is established ($(grep "^ulid" "$dir/walk.log" | head -n 1))"

if [ -n "${SHIM6_OUT:-}" ] && [ -s "$dir/shim6.pcap" ]; then
	cp "$dir/shim6.pcap" "$SHIM6_OUT/shim6_walkthrough.pcap"
	# Link 2 carries the moved payload; the setup went over link 1.
	printf 'types=\noptional=64,65,66,67\npayload=%s>%s\n' "$a1" "$b2" >"$SHIM6_OUT/shim6_walkthrough.pcap.expect"
fi

totals
