#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared by the shim6 shell selftests (sourced): TAP results and a capture
# running beside the test.

tests=0
failed=0
capture=

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
# stop_capture; returns once dumpcap writes.
start_capture() {
	ip netns exec "$1" dumpcap -q -i "$2" -f "ip6 proto 140" -w "$3" 2>"$3.log" &
	capture=$!
	for _ in $(seq 150); do
		[ -s "$3" ] && break
		sleep 0.2
	done
}

stop_capture() {
	[ -n "$capture" ] || return 0
	kill -INT "$capture" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$capture" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$capture" 2>/dev/null
	wait "$capture" 2>/dev/null
	capture=
}
