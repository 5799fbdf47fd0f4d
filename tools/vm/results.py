#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge a VM test run from the files the guest left in OUT.

Fails on: a guest that did not finish, insmod/rmmod failure, any failed
or skipped kselftest or KUnit case, a selftest binary that exited non-zero
or printed no plan, and any kernel report in the guest's log (BUG,
WARNING, Oops, KASAN, UBSAN, lockdep, kmemleak).
"""
import functools
import os
import pathlib
import re
import subprocess
import sys
import tempfile

REPORT = re.compile(
    r"BUG:|WARNING:|Oops|general protection fault|Kernel panic|kernel BUG"
    r"|UBSAN:|KASAN:|possible recursive locking|circular locking"
    r"|suspicious RCU usage|unreferenced object|Call Trace:"
)
TAP = re.compile(r"^(\s*)(not ok|ok) (\d+) (?:- )?(.*?)(?: # (SKIP|TODO)\b ?(.*))?$")


def tap_results(lines):
    """(passed, failed, skipped) over top-level test points of a TAP stream."""
    res = []
    for line in lines:
        m = TAP.match(line)
        if not m or m.group(1):
            continue
        status, name, directive = m.group(2), m.group(4), m.group(5)
        res.append((name, status, directive))
    return res


def kunit_runs(dmesg):
    """Every run of the shim6 KUnit suite (one per insmod): its cases as
    (name, status, directive), and the suite's own result line."""
    runs, cur = [], None
    for line in dmesg:
        if re.match(r"^\s+# Subtest: shim6$", line):
            cur = {"cases": [], "suite": None}
            runs.append(cur)
            continue
        if cur is None:
            continue
        m = TAP.match(line)
        if not m:
            continue
        if len(m.group(1)) == 4:
            cur["cases"].append((m.group(4), m.group(2), m.group(5)))
        elif m.group(1) == "" and m.group(4) == "shim6":
            cur["suite"] = m.group(2)
            cur = None
    return runs


# The project's dissector: the built-in one reads control messages one
# octet early (core/tests/codec.rs), this one reads them as sent.
LUA_DISSECTOR = pathlib.Path(__file__).resolve().parents[1] / "wireshark" / "shim6.lua"


class TsharkError(Exception):
    pass


def tshark(*args, lua=False):
    """What tshark prints for ARGS, with the project's dissector if LUA, and
    none of the user's preferences or plugins (a copy of the dissector in
    the plugin folder would clash with the one loaded here)."""
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if k != "XDG_CONFIG_HOME"}
        env["HOME"] = home
        # -G must come first: the script goes last.
        run = subprocess.run(["tshark", *args, *(["-X", f"lua_script:{LUA_DISSECTOR}"] if lua else [])],
                             capture_output=True, text=True, check=False, env=env)
    # A script that fails to load or run is told on stderr only.
    if run.returncode != 0 or (lua and "lua" in run.stderr.lower()):
        raise TsharkError(run.stderr.strip())
    return run.stdout


def tshark_rows(pcap, fields, lua=False):
    """Per packet of PCAP, FIELDS as decoded ("" if absent, occurrences
    joined by commas)."""
    out = tshark("-n", "-r", str(pcap), "-T", "fields", "-E", "separator=|",
                 *[a for f in fields for a in ("-e", f)], lua=lua)
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines()]


@functools.cache
def lua_expert_fields():
    """The expert infos of the project's dissector: its fields without a
    value of their own."""
    rows = (line.split("\t") for line in tshark("-G", "fields", lua=True).splitlines())
    return [r[2] for r in rows if len(r) > 4 and r[0] == "F" and r[4] == "shim6rfc" and r[3] == "FT_NONE"]


def pcap_problems(pcap):
    """What is wrong with a capture the guest left, judged by tshark on the
    host against its .expect file: every packet a Shim6 control message
    with a good checksum or a payload extension header that is not
    malformed; exactly the expected control message types ("types"),
    besides those that may or may not be there ("optional": REAP's
    Keepalive and Probe, which the traffic's timing decides); a
    payload header on the locator pair "payload" (SRC>DST) if given;
    nothing from an address that must stay unshimmed ("absent_src").

    Twice: by the built-in dissector, trusted for the type and checksum
    status of control messages only, and strictly by the project's
    (tools/wireshark/shim6.lua): every Shim6 packet decoded by it, control
    messages with a good checksum and the type the built-in one found,
    no expert info of it at all (malformed, nonzero reserved bits,
    unknown options...), the same message types.

    A packet the shim made too big for its path leaves in IPv6 fragments:
    a fragment alone carries no Shim6 header to judge; the packet tshark
    reassembles from them is judged like any other."""
    expect = dict(l.split("=", 1) for l in pcap.with_name(pcap.name + ".expect").read_text().split())
    common = ["frame.number", "ipv6.src", "ipv6.dst", "ipv6.fraghdr.offset", "_ws.malformed"]
    try:
        builtin = tshark_rows(pcap, common + ["shim6.p", "shim6.type", "shim6.checksum.status"])
        experts = lua_expert_fields()
        strict = tshark_rows(pcap, common + ["shim6rfc.p", "shim6rfc.type", "shim6rfc.checksum.status"] + experts,
                             lua=True)
    except TsharkError as e:
        return [f"tshark failed on {pcap.name}: {e}"]
    problems = []
    if not builtin:
        problems.append(f"{pcap.name}: no packet captured")
    builtin = [r for r in builtin if not (r["ipv6.fraghdr.offset"] and not r["shim6.p"] and not r["shim6.type"])]
    strict = [r for r in strict if not (r["ipv6.fraghdr.offset"] and not r["shim6rfc.p"])]
    payload_pairs = set()
    for r in builtin:
        src, dst, typ = r["ipv6.src"], r["ipv6.dst"], r["shim6.type"]
        if r["shim6.p"] == "1":
            # Payload headers are held to the built-in dissector up to the
            # transport: an application dissector tshark guesses by port
            # (RX on UDP 7000-7009) may call our test data malformed.
            if any(layer in r["_ws.malformed"] for layer in ("Shim6", "IPv6", "TCP", "UDP")):
                problems.append(f"{pcap.name}: malformed payload packet {src} > {dst}")
            payload_pairs.add(f"{src}>{dst}")
        elif not typ:
            problems.append(f"{pcap.name}: not decoded as Shim6: from {src}")
        elif r["shim6.checksum.status"] != "1":
            problems.append(f"{pcap.name}: checksum not good: type {typ} from {src}")
    builtin_types = {r["frame.number"]: r["shim6.type"] for r in builtin if r["shim6.p"] != "1"}
    for r in strict:
        src, typ = r["ipv6.src"], r["shim6rfc.type"]
        if not r["shim6rfc.p"]:
            problems.append(f"{pcap.name}: not decoded by shim6rfc: from {src}")
            continue
        if r["shim6rfc.p"] == "0":
            if r["shim6rfc.checksum.status"] != "1":
                problems.append(f"{pcap.name}: shim6rfc: checksum not good: type {typ} from {src}")
            if builtin_types.get(r["frame.number"], typ) != typ:
                problems.append(f"{pcap.name}: shim6rfc reads type {typ}, the built-in dissector "
                                f"{builtin_types[r['frame.number']]}: from {src}")
        for e in experts:
            if r[e]:
                problems.append(f"{pcap.name}: shim6rfc: {e}: type {typ or 'payload'} from {src}")
    optional = {int(t) for t in expect.get("optional", "").split(",") if t}
    want = sorted(int(t) for t in expect.get("types", "").split(",") if t)
    for who, rows, p, t in (("", builtin, "shim6.p", "shim6.type"),
                            ("shim6rfc: ", strict, "shim6rfc.p", "shim6rfc.type")):
        types = sorted({int(r[t]) for r in rows if r[t] and r[p] != "1"} - optional)
        if types != want:
            problems.append(f"{pcap.name}: {who}message types {types}, expected {want}")
    pair = expect.get("payload")
    if pair and pair not in payload_pairs:
        problems.append(f"{pcap.name}: no payload header on {pair} (seen: {sorted(payload_pairs)})")
    absent = expect.get("absent_src")
    if absent and any(r["ipv6.src"] == absent for r in builtin):
        problems.append(f"{pcap.name}: packets from {absent}")
    # One line per kind of problem is enough.
    return list(dict.fromkeys(problems))


def main(out):
    out = pathlib.Path(out)
    passed = failed = 0
    problems = []

    def fail(msg):
        nonlocal failed
        failed += 1
        problems.append(msg)

    if not (out / "finished").exists():
        fail("the guest did not finish; console tail:\n" +
             "\n".join((out / "console.log").read_text(errors="replace").splitlines()[-40:])
             if (out / "console.log").exists() else "no console log")
    for step in ("insmod", "rmmod"):
        f = out / step
        if not f.exists() or f.read_text().strip() != "ok":
            fail(f"{step}: {f.read_text().strip() if f.exists() else 'not run'}")
        else:
            passed += 1

    taps = sorted(out.glob("*.tap"))
    if not taps:
        fail("no kselftest output")
    for tap in taps:
        lines = tap.read_text(errors="replace").splitlines()
        rc = (out / (tap.stem + ".rc")).read_text().strip() if (out / (tap.stem + ".rc")).exists() else "?"
        res = tap_results(lines)
        if not any(l.startswith("1..") for l in lines) or not res:
            fail(f"{tap.stem}: no TAP plan or results (exit {rc})")
        for name, status, directive in res:
            if status == "ok" and directive != "SKIP":
                passed += 1
            elif directive == "SKIP":
                fail(f"{tap.stem}: skipped: {name}")
            else:
                fail(f"{tap.stem}: failed: {name}")
        if rc != "0":
            fail(f"{tap.stem}: exited {rc}")
        secs = out / (tap.stem + ".secs")
        took = f" in {secs.read_text().strip()} s" if secs.exists() else ""
        print(f"kselftest {tap.stem}: {sum(1 for r in res if r[1] == 'ok' and r[2] != 'SKIP')}/{len(res)} ok{took}")

    for pcap in sorted(out.glob("*.pcap")):
        problems_here = pcap_problems(pcap)
        for p in problems_here:
            fail(p)
        if not problems_here:
            passed += 1
            print(f"capture {pcap.stem}: decoded by tshark, as expected")

    dmesg = (out / "dmesg.txt").read_text(errors="replace").splitlines() if (out / "dmesg.txt").exists() else []
    runs = kunit_runs(dmesg)
    if not runs:
        fail("KUnit suite shim6 did not run")
    for i, run in enumerate(runs):
        if not run["cases"] or run["suite"] is None:
            fail(f"KUnit run {i + 1}: incomplete (cases {len(run['cases'])}, suite {run['suite']})")
        elif run["suite"] != "ok":
            fail(f"KUnit run {i + 1}: suite shim6 not ok")
        for name, status, directive in run["cases"]:
            if status == "ok" and directive != "SKIP":
                passed += 1
            else:
                fail(f"KUnit run {i + 1}: {status} {name} {directive or ''}".rstrip())
    print(f"kunit shim6: {len(runs)} run(s), {sum(len(r['cases']) for r in runs)} cases")

    reports = [l for l in dmesg if REPORT.search(l)]
    if reports:
        fail("kernel reports in the guest's log:\n  " + "\n  ".join(reports[:30]))
    leaks = (out / "kmemleak.txt").read_text(errors="replace") if (out / "kmemleak.txt").exists() else "missing"
    if "unreferenced object" in leaks or leaks == "missing":
        fail("kmemleak: " + leaks[:2000])

    for p in problems:
        print("FAIL: " + p)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
