#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Failover of `make bench`: how long a flow stalls when the uplink under
it fails silently, MPTCP against the shim, in one boot (run by
tools/bench/failover.sh, which builds the topology of selftests/lib.sh
two_hosts and passes it in the environment).

A message of 8 octets (its number) every 10 ms from A's ULID a1 to B's
b1, on a TCP stream or a UDP flow that B echoes.  After 3 s, A's first
uplink (a0, under a1) drops every packet both ways, its carrier up (netem
on A's a0 and on R's ra0), as ../shared/bench/mptcp_failover.py does to
its first path.  Per run and flow: "resumed", from the cut to the arrival
of the first message sent after it; "stall", the largest gap between
arrivals at B; "lost", messages that never arrived (UDP: those sent into
the dead path; TCP: must be 0, in order).

Modes: mptcp (two subflows: a1 -> b1 and a2 -> b1; the shim off), shim
(defaults: a UDP flow waits for REAP's Send Timer, a TCP stream's
retransmission timeout is negative feedback), tuned (SHIM_PATHEXPLORE
pe_keepaliveto 1 s), feedback (the UDP application gives SHIM_FEEDBACK
"unable to connect" after 200 ms without an echo: REAP explores), standby
(SHIM_HOT_STANDBY, and for UDP the same feedback: the context switches to
its verified standby pair without exploring; for TCP the retransmission
timeout is the failure).
"""
import ctypes
import json
import os
import statistics
import socket
import struct
import subprocess
import sys
import threading
import time

NS_A, NS_B, NS_R = os.environ["NS_A"], os.environ["NS_B"], os.environ["NS_R"]
A1, A2, B1, B2 = (os.environ[k] for k in ("A1", "A2", "B1", "B2"))
RUNS = int(os.environ.get("FAILOVER_RUNS", "3"))
EVERY = 0.01
BEFORE = 3.0
# How long the UDP application of the feedback and standby modes waits
# for an echo before it says "unable to connect".
FEEDBACK_AFTER = 0.2
UAPI = json.loads(subprocess.check_output(["shimsock", "uapi"]))
SOL_SHIM = UAPI["SOL_SHIM"]
IPPROTO_MPTCP = getattr(socket, "IPPROTO_MPTCP", 262)

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def sh(cmd, check=True):
    subprocess.run(cmd, shell=True, check=check, stderr=subprocess.DEVNULL if not check else None)


def in_netns(ns, make):
    """Runs make() in namespace ns (this thread only) and returns its result."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        return make()
    finally:
        _libc.setns(own, CLONE_NEWNET)
        os.close(fd)
        os.close(own)


def heal():
    """A's uplink a0 works."""
    for ns, dev in ((NS_A, "a0"), (NS_R, "ra0")):
        sh(f"tc -n {ns} qdisc del dev {dev} root", check=False)


def cut(run):
    """A's uplink a0 dies both ways; the run learns when A's side died.
    (Each command takes a tenth of a second or more under TCG: in a
    thread of its own, so that the flow does not pause for it.)"""
    sh(f"tc -n {NS_A} qdisc add dev a0 root netem loss 100%")
    run.cut_at = time.monotonic()
    if os.environ.get("FAILOVER_DEBUG"):
        print(f"  cut at {time.time():.6f}", flush=True)
    sh(f"tc -n {NS_R} qdisc add dev ra0 root netem loss 100%")


def pathexplore(keepaliveto):
    pe = UAPI["shim_pathexplore"]
    b = bytearray(pe["size"])
    b[pe["pe_keepaliveto"]] = keepaliveto
    return bytes(b)


def feedback_cmsg():
    fb = UAPI["shim_feedback"]
    b = bytearray(fb["size"])
    b[fb["fb_indicator"]] = UAPI["SHIM_FB_UNABLE_TO_CONNECT"]
    return [(SOL_SHIM, UAPI["SHIM_FEEDBACK"], bytes(b))]


class Run:
    """One flow through one cut."""

    def __init__(self, mode, proto, port, after):
        self.mode, self.proto, self.port, self.after = mode, proto, port, after
        self.sent = []          # send time of message i
        self.arrived = {}       # message -> arrival time at B
        self.order_ok = True
        self.cut_at = None
        self.last_echo = time.monotonic()
        self.stop = False

    def sockets(self):
        tcp = self.proto == "tcp"
        kind = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
        proto = IPPROTO_MPTCP if self.mode == "mptcp" else 0
        srv = in_netns(NS_B, lambda: socket.socket(socket.AF_INET6, kind, proto))
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((B1, self.port))
        if tcp:
            srv.listen(1)
        cli = in_netns(NS_A, lambda: socket.socket(socket.AF_INET6, kind, proto))
        cli.bind((A1, 0))
        cli.connect((B1, self.port))
        if not tcp:
            return cli, srv, None
        # The listener stays: MPTCP's further subflows join through it.
        peer, _ = srv.accept()
        return cli, peer, srv

    def receive(self, srv):
        buf = b""
        expect = 0
        while not self.stop:
            try:
                if self.proto == "tcp":
                    d = srv.recv(4096)
                    if not d:
                        return
                    buf += d
                else:
                    d, addr = srv.recvfrom(64)
                    srv.sendto(d, addr)
                    buf = d
            except socket.timeout:
                continue
            now = time.monotonic()
            while len(buf) >= 8:
                n = struct.unpack("!Q", buf[:8])[0]
                buf = buf[8:]
                if self.proto == "tcp":
                    self.order_ok &= n == expect
                    expect = n + 1
                self.arrived.setdefault(n, now)
            if self.proto == "udp":
                buf = b""

    def echoes(self, cli):
        while not self.stop:
            try:
                cli.recv(64)
                self.last_echo = time.monotonic()
            except (socket.timeout, OSError):
                continue

    def associated(self, cli):
        opt = UAPI["SHIM_ASSOCIATED"]
        return struct.unpack("i", cli.getsockopt(SOL_SHIM, opt, 4))[0] == 1

    def run(self):
        cli, srv, listener = self.sockets()
        srv.settimeout(0.2)
        cli.settimeout(0.2)
        threads = [threading.Thread(target=self.receive, args=(srv,))]
        if self.proto == "udp":
            threads.append(threading.Thread(target=self.echoes, args=(cli,)))
        for t in threads:
            t.start()
        start = time.monotonic()
        tuned = False
        cutter = None
        last_feedback = 0.0
        n = 0
        while True:
            now = time.monotonic()
            if self.mode != "mptcp" and not tuned and self.associated(cli):
                if self.mode == "tuned":
                    cli.setsockopt(SOL_SHIM, UAPI["SHIM_PATHEXPLORE"], pathexplore(1))
                if self.mode == "standby":
                    cli.setsockopt(SOL_SHIM, UAPI["SHIM_HOT_STANDBY"], 1)
                tuned = True
            if cutter is None and now - start >= BEFORE:
                if self.mode != "mptcp" and not tuned:
                    raise SystemExit(f"{self.mode} {self.proto}: no context after {BEFORE} s")
                cutter = threading.Thread(target=cut, args=(self,))
                cutter.start()
            if self.cut_at is not None and now - self.cut_at >= self.after:
                break
            msg = struct.pack("!Q", n)
            self.sent.append(time.monotonic())
            try:
                if (self.mode in ("feedback", "standby") and self.proto == "udp"
                        and now - self.last_echo > FEEDBACK_AFTER and now - last_feedback > 1.0):
                    cli.sendmsg([msg], feedback_cmsg())
                    last_feedback = now
                else:
                    cli.send(msg)
            except OSError:
                pass
            n += 1
            time.sleep(max(0.0, start + n * EVERY - time.monotonic()))
        time.sleep(1.0)
        self.stop = True
        for t in threads + [cutter]:
            t.join()
        for s in (cli, srv, listener):
            if s is not None:
                s.close()
        heal()
        return self.result()

    def result(self):
        cut = self.cut_at
        after = [self.arrived[i] for i, t in enumerate(self.sent) if t >= cut and i in self.arrived]
        resumed = min(after) - cut if after else None
        times = sorted(self.arrived.values())
        stall = max((b - a for a, b in zip(times, times[1:]) if b > cut), default=None)
        lost = sum(1 for i in range(len(self.sent)) if i not in self.arrived)
        # Every gap of a tenth of a second or more after the cut: when (from
        # the cut) and how long, for the log.
        gaps = [(a - cut, b - a) for a, b in zip(times, times[1:]) if b > cut and b - a >= 0.1]
        return {"resumed": resumed, "stall": stall, "lost": lost, "in_order": self.order_ok, "gaps": gaps}


def shim(on):
    for ns in (NS_A, NS_B):
        sh(f"shimctl -n {ns} set enabled {'on' if on else 'off'}")
        if on:
            sh(f"shimctl -n {ns} context flush")


def mptcp(on):
    for ns in (NS_A, NS_B):
        sh(f"ip netns exec {ns} sysctl -q net.mptcp.enabled={1 if on else 0}")
        sh(f"ip -n {ns} mptcp endpoint flush")
    if on:
        for ns in (NS_A, NS_B):
            sh(f"ip -n {ns} mptcp limits set subflow 4 add_addr_accepted 4")
        sh(f"ip -n {NS_A} mptcp endpoint add {A2} dev a1 subflow")
        sh(f"ip -n {NS_B} mptcp endpoint add {B2} dev b1 signal")


def timeline(name):
    """FAILOVER_DEBUG: what A sends and receives from the start of a run to
    2 s after the cut, captured to $FAILOVER_DEBUG/NAME.pcap."""
    out = os.path.join(os.environ["FAILOVER_DEBUG"], f"{name}.pcap")
    p = subprocess.Popen(["ip", "netns", "exec", NS_A, "tcpdump", "-q", "-i", "any", "-w", out,
                          "ip6 and not icmp6"], stderr=subprocess.DEVNULL)
    time.sleep(BEFORE + 3.0)
    p.terminate()
    p.wait()


def ms(v):
    return "never" if v is None else f"{v * 1000:.0f} ms"


def main():
    cases = [
        ("mptcp", "tcp", 8.0),
        ("shim", "tcp", 8.0),
        ("shim", "udp", 25.0),
        ("tuned", "tcp", 8.0),
        ("tuned", "udp", 8.0),
        ("feedback", "udp", 8.0),
        ("standby", "tcp", 8.0),
        ("standby", "udp", 8.0),
    ]
    only = os.environ.get("FAILOVER_CASES")
    if only:
        cases = [c for c in cases if f"{c[0]}-{c[1]}" in only.split(",")]
    port = 6000
    table = []
    for mode, proto, after in cases:
        mptcp(mode == "mptcp")
        results = []
        for i in range(RUNS):
            shim(mode != "mptcp")
            if mode == "mptcp" and os.environ.get("FAILOVER_DEBUG"):
                threading.Timer(BEFORE - 0.5, lambda: sh(
                    f"ip netns exec {NS_A} ss -tniM; ip -n {NS_A} mptcp endpoint show; "
                    f"ip netns exec {NS_A} nstat -az | grep -i mpj | grep -v ' 0 '", check=False)).start()
            if mode != "mptcp" and proto == "tcp" and os.environ.get("FAILOVER_DEBUG"):
                threading.Timer(0, timeline, args=(f"{mode}-{proto}-{i + 1}",)).start()
                time.sleep(1.0)  # tcpdump starts slowly under TCG
            port += 1
            r = Run(mode, proto, port, after).run()
            results.append(r)
            gaps = " ".join(f"+{ms(at)}:{ms(g)}" for at, g in r["gaps"])
            print(f"failover {mode} {proto} run {i + 1}: resumed {ms(r['resumed'])}, "
                  f"largest stall {ms(r['stall'])}, lost {r['lost']}, in order {r['in_order']}; "
                  f"gaps {gaps or 'none'}", flush=True)
        done = [r for r in results if r["resumed"] is not None]
        med = lambda k: statistics.median(r[k] for r in done) if len(done) == len(results) else None
        table.append((mode, proto, med("resumed"), med("stall"),
                      max(r["lost"] for r in results), all(r["in_order"] for r in results)))
    mptcp(False)
    shim(True)
    print()
    print(f"Failover after a silent cut, median of {RUNS} runs (one boot):")
    print("| flow | mode | first message after the cut | largest stall | vs MPTCP's stall | lost (max) |")
    print("|---|---|---|---|---|---|")
    ref = next((s for m, p, _, s, _, _ in table if m == "mptcp"), None)
    for mode, proto, resumed, stall, lost, ordered in table:
        ratio = f"{stall / ref:.2f}x" if ref and stall is not None else "-"
        lost_s = f"{lost}" + ("" if proto == "udp" else (", in order" if ordered else ", OUT OF ORDER"))
        print(f"| {proto.upper()} | {mode} | {ms(resumed)} | {ms(stall)} | {ratio} | {lost_s} |")


if __name__ == "__main__":
    main()
