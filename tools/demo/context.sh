#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Demo: two hosts in network namespaces set up a SHIM6 context when one
# sends to the other; shimctl shows it on both sides.
set -u
a=demo-a b=demo-b
trap 'ip netns del $a; ip netns del $b' EXIT
ip netns add $a
ip netns add $b
ip link add veth-a netns $a type veth peer name veth-b netns $b
ip -n $a addr add 2001:db8:1::a/64 dev veth-a nodad
ip -n $b addr add 2001:db8:1::b/64 dev veth-b nodad
ip -n $a link set veth-a up
ip -n $b link set veth-b up

echo "# host A (2001:db8:1::a) sends UDP to host B (2001:db8:1::b)"
ip netns exec $a python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.connect(("2001:db8:1::b", 9))
for i in range(100):
    try:
        s.send(b"hello")
    except ConnectionRefusedError:
        pass
    assoc = s.getsockopt(288, 1)  # SOL_SHIM, SHIM_ASSOCIATED
    if assoc:
        break
    time.sleep(0.05)
print(f"# SHIM_ASSOCIATED on A's socket: {assoc} after {i + 1} datagram(s)")
PY
echo "# shimctl -n A context show"
shimctl -n $a context show
echo "# shimctl -n B context show"
shimctl -n $b context show
