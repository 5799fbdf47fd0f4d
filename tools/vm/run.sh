#!/usr/bin/env bash
# Boot the test kernel once in a virtme-ng VM and run the guest script.
#
#   run.sh --kdir DIR --tests   KUnit + every kselftest; fails on any failed
#                               test and on any kernel report in dmesg
#   run.sh --kdir DIR --demo    the demo
#   run.sh --kdir DIR --bench   the data-path benchmark (tools/bench)
#
# --ko FILE loads that module instead of src/shim6.ko (one built for
# another kernel, as make bench does).  --only NAME runs only the
# kselftests selftests/out/NAME (a glob), --skip
# NAME leaves those out; --quick boots without kmemleak
# (half the boot time under TCG; leaks then go unseen), --out DIR keeps
# what the guest leaves in DIR instead of build/vm-MODE.
#
# KVM is used when a probe boot shows that it works; TCG otherwise.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
kdir= mode= only='shim6_*' skip= quick= out= ko=
while [ $# -gt 0 ]; do
	case "$1" in
	--kdir) kdir=$2; shift ;;
	--ko) ko=$(realpath "$2"); shift ;;
	--tests) mode=tests ;;
	--demo) mode=demo ;;
	--bench) mode=bench ;;
	--only) only=$2; shift ;;
	--skip) skip=$2; shift ;;
	--quick) quick=1 ;;
	--out) out=$(realpath -m "$2"); shift ;;
	*) echo "usage: $0 --kdir DIR --tests|--demo|--bench [--ko FILE] [--only NAME] [--skip NAME] [--quick] [--out DIR]" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$kdir" ] && [ -n "$mode" ] || { echo "usage: $0 --kdir DIR --tests|--demo|--bench" >&2; exit 2; }

image=$kdir/arch/x86/boot/bzImage
out=${out:-$top/build/vm-$mode}
rm -rf "$out"
mkdir -p "$out"

# /dev/kvm can open and still not boot a guest (seen here): probe with a
# short boot, once per host kernel, qemu and test kernel.
accel=(--disable-kvm)
if [ -w /dev/kvm ]; then
	probe=${SHIM6_CACHE:-/var/cache/shim6}/kvm-probe-$(
		{ uname -r; qemu-system-x86_64 --version; echo "$kdir"; } | sha256sum | cut -c1-16)
	if [ ! -f "$probe" ]; then
		if timeout 60 vng --run "$image" --memory 512M --exec "echo kvm-probe-ok" \
			</dev/null 2>/dev/null | grep -q kvm-probe-ok; then
			echo kvm >"$probe"
		else
			echo tcg >"$probe"
		fi
	fi
	[ "$(cat "$probe")" = kvm ] && accel=()
fi
echo "vm: booting $(basename "$kdir") ${accel[*]:-with KVM} ($mode)"

# The guest's root is the host's, over 9p.  vng mounts it uncached: every
# exec reads its binary and libraries through 9p again, which made a
# shimctl call take 3 s under TCG (0.7 s cached).  The root is read-only
# in the guest and the host does not change it during the run, so the
# guest may cache it: 9p for certain (--force-9p), and vng's own root
# flags with cache=loose (the kernel takes the last rootflags=).
extra=(--force-9p --append "rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose")
# The demo and the benchmark do not look for leaks: without kmemleak the
# debug kernel boots in ~27 s instead of ~59 s under TCG, and runs faster.
[ "$mode" != tests ] || [ -n "$quick" ] && extra+=(--append kmemleak=off)

start=$SECONDS
# vng's exit status is 255 even when the script succeeds: the guest
# reports through files in $out instead.  The bound leaves room for the
# whole kmemleak boot on a machine half as fast as the one that ran it in
# 12 minutes (45 minutes were not enough there), within CI's 90.
timeout 4500 vng --run "$image" "${accel[@]}" "${extra[@]}" --cpus 2 --memory 2G \
	--rwdir "$out" --cwd "$top" \
	--exec "tools/vm/guest.sh $mode $out '$only' '$skip' '$ko'" </dev/null >"$out/console.log" 2>&1 || true
echo "vm: guest ran for $((SECONDS - start)) s"

if [ "$mode" = bench ]; then
	cat "$out/bench.log" 2>/dev/null || { tail -50 "$out/console.log"; exit 1; }
	exit 0
fi
if [ "$mode" = demo ]; then
	cat "$out/demo.log" 2>/dev/null || { tail -50 "$out/console.log"; exit 1; }
	exit 0
fi
python3 "$top/tools/vm/results.py" "$out"
