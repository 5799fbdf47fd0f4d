#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The in-kernel microbenchmark, run in the VM by `make bench`: KUnit suite
# shim6_bench (src/bench.rs), which `make check` leaves out.  Loads the
# module once with KUnit filtered to that suite, checks that the suite
# passed, and prints its measurements as tables: the cost of a context
# lookup on the output and input paths with 1, 1 000 and 100 000
# contexts, of adding a context, the memory a context takes, and the
# handshake rate.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ko=${SHIM6_KO:-$top/src/shim6.ko}
glob=/sys/module/kunit/parameters/filter_glob

old=$(cat "$glob")
lsmod | grep -q '^shim6 ' && rmmod shim6
from=$(dmesg | wc -l)
echo -n shim6_bench >"$glob"
insmod "$ko"
rc=$?
# "(null)" is KUnit's unset filter: every suite.
[ "$old" = "(null)" ] && old='*'
echo -n "$old" >"$glob"
[ "$rc" = 0 ] && rmmod shim6
log=$(dmesg --notime | tail -n +"$((from + 1))")

# pr_info lines: "shim6: shim6_bench: name value ...".
grep -o 'shim6_bench: .*' <<<"$log"
if ! grep -qE '^ok [0-9]+ shim6_bench$' <<<"$log"; then
	echo "micro: KUnit suite shim6_bench did not pass (insmod exit $rc):"
	grep -E 'shim6_bench|not ok|ASSERT|Expected' <<<"$log" | head -40
	exit 1
fi
python3 - <(echo "$log") <<'PY'
import sys
rows, hs, sizes, surgery = [], None, None, None
for line in open(sys.argv[1]):
    f = line.split()
    if "shim6_bench:" not in f:
        continue
    f = f[f.index("shim6_bench:") + 1:]
    kv = dict(zip(f[0::2], f[1::2]))
    if "contexts" in kv:
        rows.append(kv)
    elif "handshakes" in kv:
        hs = kv
    elif "slot_octets" in kv:
        sizes = kv
    elif "packets" in kv:
        surgery = kv
print()
print("| contexts | buckets (ULIDs/tags) | add one | lookup out, in: any context | vs 1 context | 64 hot contexts | vs 1 context | memory per context |")
print("|---|---|---|---|---|---|---|---|")
us = lambda r, k: "%.2f" % (int(r[k]) / 1000)
for r in rows:
    print("| %s | %s | %d µs | %s, %s µs | %s×, %s× | %s, %s µs | %s×, %s× | %s octets |" % (
        r["contexts"], r["buckets"], int(r["add_ns"]) // 1000,
        us(r, "out_lookup_ns"), us(r, "in_lookup_ns"), r["out_ratio"], r["in_ratio"],
        us(r, "hot_out_ns"), us(r, "hot_in_ns"), r["hot_out_ratio"], r["hot_in_ratio"],
        r["octets_per_context"]))
if sizes:
    print()
    print("A slot (context and its route) is %s octets, a table entry %s (three per context)"
          % (sizes["slot_octets"], sizes["entry_octets"]))
if surgery:
    print()
    print("Header surgery on a 1400-octet datagram: %.1f µs out (header in, locators on), %.1f µs in"
          % (int(surgery["output_ns"]) / 1000, int(surgery["input_ns"]) / 1000))
if hs:
    print()
    print("Context setup (both ends on one CPU): %s handshakes/s, %s µs each"
          % (hs["handshakes_per_s"], int(hs["ns_per_handshake"]) // 1000))
PY
