#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Failover, run in the VM by `make bench` (tools/vm/run.sh --bench): the
# topology of selftests/lib.sh two_hosts (A and B, two uplinks each, a
# router R), then tools/bench/failover.py: MPTCP and the shim through the
# same silent cut of A's first uplink, in this boot.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ko=${SHIM6_KO:-$top/src/shim6.ko}
PATH=$top/selftests/out:$top/target/release:$PATH
ns_a=failover-a ns_b=failover-b ns_r=failover-r
dir=$(mktemp -d)
. "$top/selftests/lib.sh"
trap del_two_hosts EXIT

lsmod | grep -q '^shim6 ' || insmod "$ko"
two_hosts
NS_A=$ns_a NS_B=$ns_b NS_R=$ns_r A1=$a1 A2=$a2 B1=$b1 B2=$b2 python3 "$here/failover.py"
