#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The VM result judge must fail every run it should: checked on made-up runs."""
import contextlib
import io
import ipaddress
import pathlib
import struct
import tempfile
import unittest

import results

KUNIT_OK = """\
shim6: SOL_SHIM socket level registered
KTAP version 1
1..1
    KTAP version 1
    # Subtest: shim6
    1..2
    ok 1 option_table
    ok 2 bool_codec
# shim6: pass:2 fail:0 skip:0 total:2
ok 1 shim6
"""

TAP_OK = """\
TAP version 13
1..2
ok 1 sockopt.ipv4_udp.associated
ok 2 sockopt.ipv4_udp.dontshim
# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0
"""


class Judge(unittest.TestCase):
    def run_judge(self, **override):
        files = {
            "finished": "done\n",
            "insmod": "ok\n",
            "rmmod": "ok\n",
            "shim6_sockopt.tap": TAP_OK,
            "shim6_sockopt.rc": "0\n",
            "dmesg.txt": KUNIT_OK,
            "kmemleak.txt": "",
        }
        files.update(override)
        with tempfile.TemporaryDirectory() as d:
            for name, text in files.items():
                if text is not None:
                    (pathlib.Path(d) / name).write_text(text)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                rc = results.main(d)
        return rc, out.getvalue()

    def test_clean_run_passes(self):
        rc, out = self.run_judge()
        self.assertEqual(rc, 0, out)
        self.assertIn("6 passed, 0 failed", out)

    def test_kernel_reports_fail(self):
        for report in ("BUG: KASAN: slab-out-of-bounds in shim_sk_state_get",
                       "WARNING: CPU: 0 PID: 1 at net/core/shim.c:10 x",
                       "UBSAN: array-index-out-of-bounds in net/core/shim.c:3",
                       "WARNING: possible circular locking dependency detected",
                       "Oops: general protection fault, probably for non-canonical address"):
            rc, out = self.run_judge(**{"dmesg.txt": KUNIT_OK + report + "\n"})
            self.assertEqual(rc, 1, report)
            self.assertIn("kernel reports", out)

    def test_leak_fails(self):
        rc, _ = self.run_judge(**{"kmemleak.txt": "unreferenced object 0xffff888 (size 64):\n"})
        self.assertEqual(rc, 1)

    def test_failed_or_skipped_case_fails(self):
        for tap in (TAP_OK.replace("ok 2", "not ok 2"),
                    TAP_OK.replace("dontshim", "dontshim # SKIP shim6 module not loaded")):
            rc, _ = self.run_judge(**{"shim6_sockopt.tap": tap})
            self.assertEqual(rc, 1, tap)

    def test_kunit_failure_or_absence_fails(self):
        for dmesg in (KUNIT_OK.replace("    ok 2", "    not ok 2").replace("ok 1 shim6", "not ok 1 shim6"),
                      KUNIT_OK.replace("ok 1 shim6\n", ""),
                      "shim6: SOL_SHIM socket level registered\n"):
            rc, _ = self.run_judge(**{"dmesg.txt": dmesg})
            self.assertEqual(rc, 1, dmesg)

    def test_unfinished_guest_or_bad_exit_fails(self):
        for override in ({"finished": None}, {"shim6_sockopt.rc": "1\n"}, {"rmmod": "not ok: 1\n"},
                         {"shim6_sockopt.tap": "1..0\n"}):
            rc, _ = self.run_judge(**override)
            self.assertEqual(rc, 1, override)


A = bytes.fromhex("20010db8000100000000000000000001")
B = bytes.fromhex("20010db8000100000000000000000002")


def checksummed(m):
    """M with its Shim6 checksum set (RFC 5533 §5.3)."""
    m = bytearray(m)
    m[4:6] = b"\0\0"
    total = sum(int.from_bytes(m[i:i + 2], "big") for i in range(0, len(m), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    m[4:6] = ((~total) & 0xFFFF).to_bytes(2, "big")
    return bytes(m)


def shim6_msg(msg_type, corrupt=False):
    """A Shim6 control message of the shortest length its type allows, zeros
    but for a Probe's one report of itself, with its checksum."""
    length = {3: 24, 6: 32, 67: 56}.get(msg_type, 16)
    m = bytearray([59, length // 8 - 1, msg_type, 0, 0, 0] + [0] * (length - 6))
    if msg_type == 67:
        m[12] = 0x01
    m = bytearray(checksummed(m))
    m[5] ^= 1 if corrupt else 0
    return bytes(m)


def pcap(packets):
    """A raw-IPv6 capture of (src, dst, payload[, next header])."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
    for i, (src, dst, payload, *nxt) in enumerate(packets):
        ip6 = struct.pack("!IHBB", 0x60000000, len(payload), nxt[0] if nxt else 140, 64) + src + dst + payload
        out += struct.pack("<IIII", i, 0, len(ip6), len(ip6)) + ip6
    return out


class Captures(unittest.TestCase):
    def judge(self, packets, expect="types=1,2,3,4\nabsent_src=2001:db8:1::c\n"):
        with tempfile.TemporaryDirectory() as d:
            f = pathlib.Path(d) / "x.pcap"
            f.write_bytes(pcap(packets))
            (pathlib.Path(d) / "x.pcap.expect").write_text(expect)
            return results.pcap_problems(f)

    def handshake(self):
        return [(A, B, shim6_msg(1)), (B, A, shim6_msg(2)), (A, B, shim6_msg(3)), (B, A, shim6_msg(4))]

    def test_handshake_passes(self):
        self.assertEqual(self.judge(self.handshake()), [])

    def test_missing_message_fails(self):
        self.assertTrue(self.judge(self.handshake()[:3]))

    def test_bad_checksum_fails(self):
        pkts = self.handshake()
        pkts[1] = (B, A, shim6_msg(2, corrupt=True))
        self.assertTrue(any("checksum" in p for p in self.judge(pkts)))

    def test_optional_types_may_be_there_or_not(self):
        expect = "types=1,2,3,4\noptional=66\n"
        keepalive = [(A, B, shim6_msg(66))]
        self.assertEqual(self.judge(self.handshake() + keepalive, expect), [])
        self.assertEqual(self.judge(self.handshake(), expect), [])
        self.assertTrue(self.judge(self.handshake() + keepalive))

    def test_strict_dissector_catches_what_the_builtin_one_misses(self):
        # An R1 whose option runs 8 octets past the message, checksum good;
        # an I1 with its reserved bit before the tag set.
        r1 = checksummed(bytes([59, 2, 2, 0, 0, 0] + [0] * 10 + [0, 2, 0, 16] + [0] * 4))
        i1 = bytearray(shim6_msg(1))
        i1[6] |= 0x80
        for pkt, problem in (((B, A, r1), "shim6rfc.malformed: type 2"),
                             ((A, B, checksummed(i1)), "shim6rfc.nonzero: type 1")):
            pkts = self.handshake()
            pkts[int(pkt[2][2]) - 1] = pkt
            self.assertEqual(self.judge(pkts), [f"x.pcap: shim6rfc: {problem} from {ipaddress.ip_address(pkt[0])}"])

    def test_broken_dissector_fails(self):
        with tempfile.TemporaryDirectory() as d:
            broken = pathlib.Path(d) / "shim6.lua"
            broken.write_text("this is not Lua\n")
            saved, results.LUA_DISSECTOR = results.LUA_DISSECTOR, broken
            results.lua_expert_fields.cache_clear()
            try:
                problems = self.judge(self.handshake())
            finally:
                results.LUA_DISSECTOR = saved
                results.lua_expert_fields.cache_clear()
        self.assertTrue(problems and problems[0].startswith("tshark failed"), problems)

    def test_forbidden_source_fails(self):
        c = bytes.fromhex("20010db800010000000000000000000c")
        pkts = self.handshake() + [(c, B, shim6_msg(1))]
        self.assertTrue(any("2001:db8:1::c" in p for p in self.judge(pkts)))


class Payload(unittest.TestCase):
    judge = Captures.judge
    EXPECT = "types=\npayload=2001:db8:1::1>2001:db8:1::2\n"

    def payload(self, src=A, dst=B, length=0):
        udp = struct.pack("!HHHH", 1000, 7, 12, 0x1234) + b"abcd"
        return (src, dst, bytes([17, length, 0x80, 0, 0, 0, 0, 1]) + udp)

    def test_payload_on_the_pair_passes(self):
        self.assertEqual(self.judge([self.payload()] * 3, self.EXPECT), [])

    def test_payload_on_another_pair_fails(self):
        self.assertTrue(self.judge([self.payload(src=B, dst=A)], self.EXPECT))

    def test_control_message_not_expected_fails(self):
        self.assertTrue(self.judge([self.payload(), (A, B, shim6_msg(1))], self.EXPECT))

    def test_payload_header_longer_than_8_octets_fails(self):
        problems = self.judge([self.payload(), self.payload(length=1)], self.EXPECT)
        self.assertIn("x.pcap: shim6rfc: shim6rfc.malformed: type payload from 2001:db8:1::1", problems)

    def test_lone_fragment_is_not_judged(self):
        # The last fragment of a payload packet whose first was not captured.
        frag = struct.pack("!BBHI", 140, 0, 181 << 3, 7) + bytes(range(64))
        self.assertEqual(self.judge([self.payload(), (A, B, frag, 44)], self.EXPECT), [])

    def test_undecodable_packet_fails(self):
        self.assertTrue(self.judge([self.payload(), (A, B, bytes([17, 0]), 140)], self.EXPECT))


if __name__ == "__main__":
    unittest.main()
