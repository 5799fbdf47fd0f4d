#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The VM result judge must fail every run it should: checked on made-up runs."""
import contextlib
import io
import pathlib
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


if __name__ == "__main__":
    unittest.main()
