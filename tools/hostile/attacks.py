#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The attacks of selftests/shim6_hostile.sh, one process for all of them.

The test VM takes about a second to start any process and several to start
Python, so the attacker (shim6peer.Peer), the applications on X and V it
aims at and the captures all live in this one process: each socket is
opened inside the network namespace it belongs to (setns), captured
packets wait in their socket's queue until read, and only shimctl and ip
run as commands.

The shell script builds the topology and passes names and addresses.  For
each attack this prints "ok DESCRIPTION" or "not ok DESCRIPTION", then
"# ..." lines saying what was seen when it failed; the script turns those
into TAP with selftests/lib.sh.  An attack passes only if the host
resists it.
"""

import argparse
import contextlib
import ctypes
import json
import os
import socket
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shim6peer as sp  # noqa: E402

CLONE_NEWNET = 0x40000000
# The socket level, option numbers and struct shim_locator as
# include/uapi/linux/shim6.h has them, from a program built against it.
UAPI = json.loads(subprocess.run(["shimsock", "uapi"], check=True,
                                 capture_output=True, text=True).stdout)
SOL_SHIM = UAPI["SOL_SHIM"]
SHIM_ASSOCIATED = UAPI["SHIM_ASSOCIATED"]
SHIM_DONTSHIM = UAPI["SHIM_DONTSHIM"]
SHIM_LOCLIST_LOCAL = UAPI["SHIM_LOCLIST_LOCAL"]
SHIM_LOCLIST_PEER = UAPI["SHIM_LOCLIST_PEER"]
LOCATOR = UAPI["shim_locator"]
LOCATOR_LEN = LOCATOR["size"]

V_PORT, X_PORT = 7001, 7002

libc = ctypes.CDLL(None, use_errno=True)


class Netns:
    """Enters the namespaces of `ip netns` by name, to open sockets there
    (a socket stays in the namespace it was created in)."""

    def __init__(self):
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)

    @staticmethod
    def _enter(fd):
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))

    @contextlib.contextmanager
    def inside(self, name):
        fd = os.open("/run/netns/" + name, os.O_RDONLY)
        try:
            self._enter(fd)
            yield
        finally:
            self._enter(self.home)
            os.close(fd)


class Wire:
    """Everything M's link carries (both ways: R's answers to M arrive
    there) and every SHIM6 packet R receives on any link, logged in order
    as parsed dicts with the octets of SHIM6 packets in hex."""

    def __init__(self, net, ns_m, ns_r):
        with net.inside(ns_m):
            self.m = sp.Sniffer("m0", (sp.PROTO_SHIM6, sp.PROTO_UDP))
        with net.inside(ns_r):
            self.r = sp.Sniffer("any", (sp.PROTO_SHIM6,))
        self.log = {"m": [], "r": []}

    def _keep(self, where, r):
        d, pkt = r
        if where == "r" and d["out"]:
            # R forwards: what it receives is enough.
            return None
        if d["nh"] == sp.PROTO_SHIM6:
            d["hex"] = pkt.hex()
        self.log[where].append(d)
        return d

    def drain(self):
        for where, sn in (("m", self.m), ("r", self.r)):
            while True:
                r = sn.recv(0)
                if r is None:
                    break
                self._keep(where, r)

    def wait(self, pred, timeout):
        """The first packet arriving at M's link for which `pred` holds, or
        None after `timeout` seconds; everything read is logged."""
        end = time.monotonic() + timeout
        while True:
            r = self.m.recv(end - time.monotonic())
            if r is None:
                return None
            d = self._keep("m", r)
            if not d["out"] and pred(d):
                return d

    def mark(self):
        self.drain()
        return {k: len(v) for k, v in self.log.items()}

    def since(self, mark, where):
        """What arrived (not what the host itself sent) after `mark`."""
        self.drain()
        return [d for d in self.log[where][mark[where]:] if not d["out"]]


def shimctl(*args):
    r = subprocess.run(["shimctl", *args], capture_output=True, text=True,
                       timeout=120, check=False)
    return r.stdout


def run_all(*cmds):
    """Commands run side by side: each start costs seconds in the VM."""
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL) for c in cmds]
    for p in procs:
        p.wait()


def brief(c):
    return "%s>%s fii %s %s path %s>%s peers %s" % (
        c["ulid_local"], c["ulid_peer"], c["fii"], c["state"],
        c["locator_local"], c["locator_peer"], ",".join(c["peer_locators"]))


def locators(raw):
    """The addresses of an array of struct shim_locator."""
    at = LOCATOR["lc_addr"]
    return [sp.text(raw[i + at:i + at + 16])
            for i in range(0, len(raw) - LOCATOR_LEN + 1, LOCATOR_LEN)]


def shim_locator(a):
    raw = bytearray(LOCATOR_LEN)
    raw[LOCATOR["lc_family"]] = socket.AF_INET6
    at = LOCATOR["lc_addr"]
    raw[at:at + 16] = sp.addr(a)
    return bytes(raw)


class Attacks:
    """The attacks on X (and V), with the applications they aim at and the
    captures that tell what happened.  Each returns (problems, notes)."""

    def __init__(self, a):
        self.a = a
        self.net = Netns()
        self.x1, self.x2, self.v1, self.v2 = a.x1, a.x2, a.v1, a.v2
        self.m = a.m
        # Forwarding on R; X keeps every half-open connection of the SYN
        # flood (no SYN cookies in the test kernel).
        with self.net.inside(a.ns_r):
            with open("/proc/sys/net/ipv6/conf/all/forwarding", "w") as f:
                f.write("1")
        with self.net.inside(a.ns_x):
            try:
                with open("/proc/sys/net/ipv4/tcp_max_syn_backlog", "w") as f:
                    f.write("4096")
            except OSError:
                pass
        self.wire = Wire(self.net, a.ns_m, a.ns_r)
        with self.net.inside(a.ns_m):
            self.peer = sp.Peer(sp.Sender("m0"), self.wire.wait)
        # The applications: a UDP socket on each ULID.
        self.udp_v = self.udp_socket(a.ns_v, self.v1, V_PORT)
        self.udp_x = self.udp_socket(a.ns_x, self.x1, X_PORT)

    # --- the hosts' side ----------------------------------------------

    def udp_socket(self, ns, addr, port=0, peer=None):
        with self.net.inside(ns):
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind((addr, port))
        if peer:
            s.connect(peer)
        s.setblocking(False)
        return s

    @staticmethod
    def received(s):
        """(source, text) of every datagram queued on `s`."""
        got = []
        while True:
            try:
                data, src = s.recvfrom(4096)
            except BlockingIOError:
                return got
            got.append((src[0], data.decode("ascii", "replace")))

    def x_to_v(self):
        """A socket of X's application talking from X's ULID to V's."""
        return self.udp_socket(self.a.ns_x, self.x1, 0, (self.v1, V_PORT))

    def establish(self, s, timeout=15):
        """Datagrams from `s` until its context is established."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s.send(b"establish")
            if s.getsockopt(SOL_SHIM, SHIM_ASSOCIATED) == 1:
                return True
            time.sleep(0.2)
        return False

    @staticmethod
    def peer_locators(s):
        """The peer's locators in the context of socket `s`, sorted."""
        try:
            raw = s.getsockopt(SOL_SHIM, SHIM_LOCLIST_PEER,
                               UAPI["SHIM_MAX_LOCATORS"] * LOCATOR_LEN)
        except OSError as e:
            return ["(%s)" % e.strerror]
        return sorted(locators(raw))

    def contexts(self, ns):
        out = shimctl("-j", "-n", ns, "context", "show")
        try:
            return json.loads(out)
        except ValueError:
            return [{"error": out}]

    def flush(self, *nss):
        run_all(*(["shimctl", "-n", ns, "context", "flush"] for ns in nss))

    def pointing_to_m(self, ctxs):
        return [c for c in ctxs if "error" not in c and (
            c["locator_peer"] == self.m or self.m in c["peer_locators"])]

    # --- the attacks ----------------------------------------------------

    def hijack(self, fii):
        """M names (V, X) in the ULID Pair of an I1 and of the I2 that
        answers X's R1, from its own locator, with a Locator List naming
        only itself.  No PDS of V's covers M: X must not answer R2, nor
        hold a context that sends V's traffic to M."""
        a = self.a
        self.flush(a.ns_x, a.ns_v)
        mark = self.wire.mark()
        self.received(self.udp_v)
        res = self.peer.hijack(self.m, self.x1, self.v1, self.x1, fii,
                               [self.m])
        ctxs = self.contexts(a.ns_x)
        # X's application now talks to V.
        s = self.x_to_v()
        s.send(b"after hijack")
        time.sleep(1.5)
        got_v = self.received(self.udp_v)
        s.close()
        notes, problems = [], []
        if res["r1"] is None:
            notes.append("no R1 to M's I1")
        if res["r2"] is not None:
            problems.append("X answered M's I2 with R2: X's tag %s for %s>%s"
                            % (res["r2"].get("tag"), self.v1, self.x1))
        for c in self.pointing_to_m(ctxs):
            problems.append("X holds a context towards M: " + brief(c))
        if not any(d == "after hijack" for _, d in got_v):
            problems.append("V did not receive X's datagram to V's ULID")
        leaked = [d for d in self.wire.since(mark, "m")
                  if d["src"] in (self.x1, self.x2) and d["dst"] == self.m
                  and ((d.get("shim") or {}).get("p") == 1
                       or d["nh"] == sp.PROTO_UDP)]
        if leaked:
            tag = (leaked[0].get("shim") or {}).get("tag")
            problems.append("X's datagram for V reached M (%d packet(s), "
                            "payload header tag %s)" % (len(leaked), tag))
        return problems, notes

    def inject(self):
        """With X and V's context up, M tries to learn a tag of X's from
        an R2 (I1/R1/I2 naming (V, X) with FII 3, which leaves the real
        context alone), then sends payload headers with that tag and with
        every tag X has (read from shimctl: a stronger attacker than an
        off-path one), carrying a datagram from V's ULID to X's socket.
        Payload from M's locator is not V's."""
        a = self.a
        self.flush(a.ns_x, a.ns_v)
        notes, problems = [], []
        s = self.x_to_v()
        if not self.establish(s):
            notes.append("X and V did not establish their context")
        res = self.peer.hijack(self.m, self.x1, self.v1, self.x1, 3,
                               [self.m])
        tags = [c["ct_local"] for c in self.contexts(a.ns_x)
                if c.get("ct_local")]
        if res["r2"] is not None:
            problems.append("M learnt X's tag %s from an R2"
                            % res["r2"]["tag"])
            tags.append(res["r2"]["tag"])
        tags = list(dict.fromkeys(tags)) or [1]
        self.received(self.udp_x)
        self.peer.inject(self.m, [self.x1, self.x2], self.v1, self.x1,
                         V_PORT, X_PORT, tags)
        time.sleep(1.5)
        for src, data in self.received(self.udp_x):
            if src == self.v1:
                problems.append("X's socket took M's payload as V's: %s"
                                % data)
        s.close()
        notes.append("tags tried: %s" % tags)
        return problems, notes

    def r1bis(self):
        """M draws an R1bis with payload on an unknown tag, then answers it
        with I2bis naming (V, X) and three other pairs, with FII 0 and 7:
        the R1bis validator covers only the tag and M's locators, not the
        ULIDs M claims."""
        a = self.a
        self.flush(a.ns_x)
        pairs = [(self.v1, self.x1), (self.v2, self.x1),
                 ("2001:db8:b1::77", self.x1), (self.v1, self.x2)]
        res = self.peer.r1bis_hijack(self.m, self.x1, pairs, [0, 7])
        notes, problems = [], []
        if res["r1bis"] is None:
            notes.append("no R1bis to M's payload")
        for t in res["attempts"]:
            if t["r2"] is not None:
                problems.append("R2 to the I2bis naming %s>%s FII %d "
                                "(X's tag %s)"
                                % (t["sender"], t["receiver"], t["fii"],
                                   t["r2"].get("tag")))
        for c in self.pointing_to_m(self.contexts(a.ns_x)):
            problems.append("X holds a context towards M: " + brief(c))
        return problems, notes

    def reflect(self):
        """X starts a context with an address that never answers, so it
        stays in I1-SENT.  M sends X an I1 naming that ULID pair from a
        spoofed source.  The R2 of an existing context carries X's tag and
        locators: it must not go to a source X does not know (a stateless
        R1 may)."""
        a = self.a
        self.flush(a.ns_x)
        s = self.udp_socket(a.ns_x, self.x1, 0, (a.dead, 7009))
        s.send(b"wake up")
        s.close()
        mark = self.wire.mark()
        self.peer.i1(a.spoof, self.x1, a.dead, self.x1)
        self.wire.wait(lambda d: d["dst"] == a.spoof
                       and sp.is_shim(d, sp.R2), 3)
        self.dead_ctxs = self.contexts(a.ns_x)
        notes, problems = [], []
        if not any(c.get("ulid_peer") == a.dead and c["state"] == "i1-sent"
                   for c in self.dead_ctxs):
            notes.append("X's context with %s is not in I1-SENT: %s"
                         % (a.dead, self.dead_ctxs))
        for d in self.wire.since(mark, "m"):
            if d["dst"] == a.spoof and sp.is_shim(d, sp.R2):
                problems.append("X sent R2 to the spoofed source %s: tag %s, "
                                "locators %s" % (a.spoof, d["shim"].get("tag"),
                                                 d["shim"].get("locators")))
        return problems, notes

    def param_problem(self):
        """X's context with the silent address is still in I1-SENT.  M sends
        Parameter Problems (unrecognized Next Header) quoting an I1 from X
        to that address with X's very tag but a wrong Initiator Nonce, with
        the right pointer and with a wrong one: X must not conclude that
        the peer has no SHIM6."""
        a = self.a
        ct = [c["ct_local"] for c in self.dead_ctxs
              if c.get("ulid_peer") == a.dead]
        notes, problems = [], []
        if not ct:
            notes.append("no context of X's with %s: %s"
                         % (a.dead, self.dead_ctxs))
        for pointer in (6, 50):
            self.peer.icmp_param_problem(self.m, self.x1, self.x1, a.dead,
                                         ct[0] if ct else 1, sp.rand32(),
                                         pointer)
        time.sleep(1)
        after = [c for c in self.contexts(a.ns_x)
                 if c.get("ulid_peer") == a.dead]
        if not after or after[0]["state"] != "i1-sent":
            problems.append("X's context with %s went from i1-sent to %s on "
                            "forged Parameter Problems (wrong nonce)"
                            % (a.dead, after[0]["state"] if after else "none"))
        return problems, notes

    def updates(self):
        """X and V's context is up, V's list at X is {V1, V2}.  V offers
        only V1 (SHIM_LOCLIST_LOCAL: an Update Request), then both again
        (a new address makes V recompute its locators: another Update
        Request).  M, with X's tag (from shimctl) and V's locator as
        source, replays V's first Update Request, then sends one with an
        empty Locator List and one with no option: X's list for V must
        stay {V1, V2}."""
        a = self.a
        self.flush(a.ns_x, a.ns_v)
        notes, problems = [], []
        s = self.x_to_v()
        if not self.establish(s):
            notes.append("X and V did not establish their context")
        both = sorted([self.v1, self.v2])
        mark = self.wire.mark()
        vs = self.udp_socket(a.ns_v, self.v1, 0, (self.x1, X_PORT))
        try:
            vs.setsockopt(SOL_SHIM, SHIM_LOCLIST_LOCAL, shim_locator(self.v1))
        except OSError as e:
            notes.append("V's SHIM_LOCLIST_LOCAL: %s" % e)
        vs.close()
        self.until(lambda: self.peer_locators(s) == [self.v1], 6)
        restricted = self.peer_locators(s)
        subprocess.run(["ip", "-n", a.ns_v, "addr", "add",
                        "2001:db8:b1::99/64", "dev", "v0", "nodad"],
                       check=False)
        self.until(lambda: self.peer_locators(s) == both, 6)
        before = self.peer_locators(s)
        if restricted != [self.v1] or before != both:
            notes.append("V's own updates did not show at X as expected: "
                         "%s, then %s" % (restricted, before))
        ct = [c["ct_local"] for c in self.contexts(a.ns_x)
              if c.get("ulid_peer") == self.v1 and c["fii"] == 0]
        ct = ct[0] if ct else 1
        first = [d for d in self.wire.since(mark, "r")
                 if d["src"] == self.v1 and d["dst"] == self.x1
                 and sp.is_shim(d, sp.UPDATE_REQUEST)]
        steps = []
        if first:
            self.peer.send(bytes.fromhex(first[0]["hex"]))
            steps.append(("replay of V's first Update Request (generation "
                          "%s)" % first[0]["shim"].get("generation")))
        else:
            notes.append("no Update Request of V's seen to replay")
        time.sleep(1)
        after = [self.peer_locators(s)]
        self.peer.update_request(self.v1, self.x1, ct, empty_list=True,
                                 generation=7)
        steps.append("Update Request with an empty Locator List")
        time.sleep(1)
        after.append(self.peer_locators(s))
        self.peer.update_request(self.v1, self.x1, ct)
        steps.append("Update Request without options")
        time.sleep(1)
        after.append(self.peer_locators(s))
        if not first:
            after.pop(0)
        for what, got in zip(steps, after):
            if got != before:
                problems.append("X's list for V went from %s to %s after "
                                "M's %s" % (before, got, what))
                before = got
        s.close()
        return problems, notes

    def multicast(self):
        """I1s to all nodes of M's link (R, on it, is a SHIM6 host too),
        from M's global and link-local addresses, and an I1 to X from a
        multicast source: nobody may answer."""
        a = self.a
        mark = self.wire.mark()
        ours = (self.m, a.m_ll, "ff0e::1:5")
        self.peer.i1(self.m, "ff02::1")
        self.peer.i1(a.m_ll, "ff02::1")
        self.peer.i1("ff0e::1:5", self.x1, "ff0e::1:5", self.x1)
        time.sleep(2)
        problems = []
        for d in self.wire.since(mark, "m") + self.wire.since(mark, "r"):
            t = (d.get("shim") or {}).get("type")
            if d["src"] in ours or t is None or d["shim"].get("p"):
                continue
            if t in (sp.R1, sp.R2, sp.R1BIS) or d["dst"].startswith("ff"):
                problems.append("%s from %s to %s after M's multicast I1s"
                                % (d["shim"].get("name"), d["src"], d["dst"]))
        return problems, []

    def synflood(self):
        """M floods a TCP listener of X's with SYNs from random sources of
        the spoofed prefix (routed back to M, which drops what comes).
        X's SYN-ACKs must neither set up contexts nor send I1s there, and
        V's own TCP connection to X must still get its context."""
        a = self.a
        self.flush(a.ns_x, a.ns_v)
        with self.net.inside(a.ns_x):
            flood = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        flood.bind((self.x1, 7003))
        flood.listen(4096)
        srv.bind((self.x1, 7004))
        srv.listen(8)
        mark = self.wire.mark()
        # Bounded in time too: a host that does per-SYN work slows the
        # flood down in the VM (the sender pays for the receivers).
        res = self.peer.synflood(a.spoof_prefix, self.x1, 7003, a.syns, 50)
        time.sleep(2)
        ctxs = self.contexts(a.ns_x)
        with self.net.inside(a.ns_v):
            t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        t.bind((self.v1, 0))
        t.settimeout(15)
        notes, problems = ["%d SYNs sent in %s s" % (res["sent"],
                                                      res["seconds"])], []
        assoc = None
        try:
            t.connect((self.x1, 7004))
            end = time.monotonic() + 12
            while time.monotonic() < end:
                t.send(b"v")
                assoc = t.getsockopt(SOL_SHIM, SHIM_ASSOCIATED)
                if assoc == 1:
                    break
                time.sleep(0.25)
        except OSError as e:
            notes.append("V's connection to X: %s" % e)
        t.close()
        # Half-open connections die with their listener.
        flood.close()
        srv.close()
        prefix = a.spoof_prefix.split("::")[0] + ":"
        spoofed = [c for c in ctxs
                   if (c.get("ulid_peer") or "").startswith(prefix)]
        if spoofed:
            problems.append("X set up %d context(s) for spoofed sources "
                            "(%d in all)" % (len(spoofed), len(ctxs)))
        i1s = [d for d in self.wire.since(mark, "m")
               if sp.is_shim(d, sp.I1) and d["dst"].startswith(prefix)]
        if i1s:
            problems.append("X sent %d I1(s) to spoofed sources, e.g. to %s"
                            % (len(i1s), i1s[0]["dst"]))
        if assoc != 1:
            problems.append("V's TCP connection to X got no context "
                            "(SHIM_ASSOCIATED %s)" % assoc)
        self.flush(a.ns_x)
        return problems, notes

    def dontshim(self):
        """X listens with SHIM_DONTSHIM set before listen(); V connects
        (itself with SHIM_DONTSHIM, so that only X could start a context)
        and sends data.  Nothing X sends for that connection may set up a
        context.  The connection stays open while this is checked: a
        closing connection is another matter."""
        a = self.a
        self.flush(a.ns_x, a.ns_v)
        with self.net.inside(a.ns_x):
            lst = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        with self.net.inside(a.ns_v):
            t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        lst.setsockopt(SOL_SHIM, SHIM_DONTSHIM, 1)
        lst.bind((self.x1, 7005))
        lst.listen(8)
        t.setsockopt(SOL_SHIM, SHIM_DONTSHIM, 1)
        t.bind((self.v1, 0))
        t.settimeout(15)
        mark = self.wire.mark()
        notes, problems = [], []
        try:
            t.connect((self.x1, 7005))
            lst.settimeout(15)
            c, _ = lst.accept()
            c.settimeout(15)
            for _ in range(3):
                t.send(b"hello")
                c.send(c.recv(100))
                t.recv(100)
        except OSError as e:
            notes.append("V's connection to X: %s" % e)
        time.sleep(1.5)
        ctxs = self.contexts(a.ns_x)
        xs, vs = (self.x1, self.x2), (self.v1, self.v2)
        i1s = [d for d in self.wire.since(mark, "r")
               if sp.is_shim(d, sp.I1) and d["src"] in xs and d["dst"] in vs]
        if i1s:
            problems.append("X sent %d I1(s) to V for the connection of its "
                            "SHIM_DONTSHIM listener" % len(i1s))
        for c in ctxs:
            if c.get("ulid_peer") in vs:
                problems.append("X holds a context with V: " + brief(c))
        t.close()
        lst.close()
        return problems, notes

    @staticmethod
    def until(cond, timeout):
        end = time.monotonic() + timeout
        while not cond() and time.monotonic() < end:
            time.sleep(0.2)


CASES = [
    (1, "I1/R1/I2 naming (V, X) from M, FII 0: no R2, no context towards "
        "M, X's traffic still reaches V", lambda t: t.hijack(0)),
    (2, "I1/R1/I2 naming (V, X) from M, FII 7: no R2, no context towards "
        "M, X's traffic still reaches V", lambda t: t.hijack(7)),
    (3, "payload injected by M with X's tags (from shimctl or an R2) never "
        "reaches X's socket as V's", lambda t: t.inject()),
    (4, "one R1bis, I2bis for 4 ULID pairs x FII 0/7 from M: no R2, no "
        "context towards M", lambda t: t.r1bis()),
    (5, "an I1 from a spoofed source for a context in I1-SENT draws no R2 "
        "to that source", lambda t: t.reflect()),
    (6, "a Parameter Problem with a wrong Initiator Nonce leaves X's "
        "context in I1-SENT", lambda t: t.param_problem()),
    (7, "replayed, empty and option-less Update Requests from M leave X's "
        "locator list for V unchanged", lambda t: t.updates()),
    (8, "I1 to ff02::1 and from a multicast source: no SHIM6 host answers",
     lambda t: t.multicast()),
    (9, "a SYN flood from spoofed sources sets up no context and sends no "
        "I1; V still gets its context", lambda t: t.synflood()),
    (10, "a connection accepted by a SHIM_DONTSHIM listener sets up no "
         "context from X", lambda t: t.dontshim()),
]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("ns-x", "ns-v", "ns-m", "ns-r", "x1", "x2", "v1", "v2", "m",
                 "m-ll", "spoof", "spoof-prefix", "dead"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--syns", type=int, default=2000)
    p.add_argument("--only", type=int, action="append",
                   help="run only this attack (repeatable)")
    a = p.parse_args(argv)
    t = Attacks(a)
    for n, title, fn in CASES:
        if a.only and n not in a.only:
            continue
        start = time.monotonic()
        try:
            problems, notes = fn(t)
        except Exception:  # pylint: disable=broad-except
            problems = ["the attack itself failed:"]
            problems += traceback.format_exc().splitlines()
            notes = []
        print("%s hostile %d: %s" % ("not ok" if problems else "ok", n, title))
        for line in problems + ["note: " + x for x in notes]:
            print("# " + line)
        print("# hostile %d took %.0f s" % (n, time.monotonic() - start),
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
