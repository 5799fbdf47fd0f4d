#!/usr/bin/env bash
# Runs inside the VM: load the module, run KUnit and the kselftests,
# collect TAP and the kernel log into $2.
set -u
mode=$1 out=$2 only=${3:-shim6_*} skip=${4:-} ko=${5:-}
[ -n "$ko" ] || ko=$PWD/src/shim6.ko
export SHIM6_KO=$ko SHIM6_OUT=$out PATH=$PWD/target/release:$PATH:/usr/sbin:/sbin

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
dmesg --notime >"$out/dmesg-boot.txt"

# KUnit runs the module's suite when it loads; the benchmark suite
# (shim6_bench, marked slow) only when tools/bench/micro.sh asks for it.
echo -n shim6 >/sys/module/kunit/parameters/filter_glob 2>/dev/null

if [ "$mode" = bench ]; then
	{
		tools/bench/micro.sh
		echo
		tools/bench/datapath.sh
		echo
		tools/bench/failover.sh
	} >"$out/bench.log" 2>&1
	exit 0
fi

if [ "$mode" = demo ]; then
	{
		insmod "$ko" && echo "insmod shim6: ok"
		build/shim6_demo
		tools/demo/context.sh
		echo
		tools/demo/failover.sh
	} >"$out/demo.log" 2>&1
	exit 0
fi

# Leaks from boot are not ours: start kmemleak from a clean slate.  Its
# periodic scan (every 10 minutes) would take the CPUs from whatever test
# runs then, timed ones included; the scans at the end find every leak.
echo clear >/sys/kernel/debug/kmemleak 2>/dev/null
echo scan=off >/sys/kernel/debug/kmemleak 2>/dev/null

log_start=$(dmesg --notime | wc -l)
if insmod "$ko"; then
	echo "ok" >"$out/insmod"
else
	echo "not ok: insmod exited $?" >"$out/insmod"
fi

for t in selftests/out/$only; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	# shellcheck disable=SC2254
	case "$name" in $skip) [ -n "$skip" ] && continue ;; esac
	t0=$SECONDS
	timeout 600 "$t" >"$out/$name.tap" 2>&1
	echo "$?" >"$out/$name.rc"
	echo "$((SECONDS - t0))" >"$out/$name.secs"
done

# Unloading must work and leave nothing behind.
rmmod shim6 && echo ok >"$out/rmmod" || echo "not ok: rmmod exited $?" >"$out/rmmod"

# kmemleak reports an object only after it stayed unreferenced across scans.
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$out/kmemleak.txt"
else
	echo "kmemleak not available" >"$out/kmemleak.txt"
fi

dmesg --notime | tail -n +"$((log_start + 1))" >"$out/dmesg.txt"
echo done >"$out/finished"
