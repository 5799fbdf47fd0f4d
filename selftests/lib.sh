#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared by the shim6 shell selftests (sourced): TAP results and a capture
# running beside the test.

tests=0
failed=0
captures=

# result STATUS DESCRIPTION: one TAP line.
result() {
	tests=$((tests + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tests $2"
	else
		failed=$((failed + 1))
		echo "not ok $tests $2"
	fi
}

# totals: the TAP summary; fails if a test did.
totals() {
	echo "# Totals: pass:$((tests - failed)) fail:$failed"
	[ "$failed" = 0 ]
}

# start_capture NS DEV FILE: Shim6 packets seen on DEV in NS, until
# stop_captures; returns once dumpcap writes.
start_capture() {
	ip netns exec "$1" dumpcap -q -i "$2" -f "ip6 proto 140" -w "$3" 2>"$3.log" &
	captures="$captures $!"
	for _ in $(seq 150); do
		[ -s "$3" ] && break
		sleep 0.2
	done
}

# stop_captures: every capture ends, its file complete.
stop_captures() {
	local pid
	for pid in $captures; do
		kill -INT "$pid" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	captures=
}
