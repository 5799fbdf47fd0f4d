// SPDX-License-Identifier: GPL-2.0

//! shimctl as a user runs it, on this host (whose kernel has no shim6; the
//! VM tests run it against the module).

use std::path::Path;
use std::process::Command;

fn shimctl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shimctl")).args(args).output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

#[test]
fn says_clearly_when_the_module_is_not_loaded() {
    let (code, out, err) = shimctl(&["context", "show"]);
    if Path::new("/sys/module/shim6").exists() {
        assert_eq!(code, 0, "{err}");
    } else {
        assert_eq!(code, 1);
        assert!(out.is_empty());
        assert_eq!(err, "shimctl: the shim6 module is not loaded (no generic netlink family \"shim6\")\n");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["bogus"][..],
        &[],
        &["context", "drop"],
        &["set", "enabled", "maybe"],
        &["set", "max-contexts", "many"],
        &["hba", "set"],
        &["-n"],
        &["hba", "apply"],
        &["hba", "apply", "dev", "lo"],
        &["hba", "apply", "2001:db8:1::/64"],
        &["hba", "apply", "modifier"],
        &["completion", "tcsh"],
    ] {
        let (code, out, err) = shimctl(args);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}");
        // clap's form: what is wrong, then how to get help.
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.ends_with("For more information, try '--help'.\n"), "{err}");
    }
}

#[test]
fn commands_without_the_module_say_so() {
    if Path::new("/sys/module/shim6").exists() {
        return;
    }
    for args in [
        &["locator", "show"][..],
        &["context", "flush"],
        &["set", "enabled", "off"],
        &["set", "max-contexts", "100"],
        &["hba", "set", "00"],
    ] {
        let (code, out, err) = shimctl(args);
        assert_eq!((code, out.as_str()), (1, ""), "{args:?}");
        assert!(err.contains("the shim6 module is not loaded"), "{args:?}: {err}");
    }
}

#[test]
fn unknown_namespace_is_an_error() {
    let (code, _, err) = shimctl(&["-n", "no-such-namespace-here", "context", "show"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot enter network namespace \"no-such-namespace-here\""), "{err}");
    let (code, _, err) = shimctl(&["-n", "../etc", "context", "show"]);
    assert_eq!(code, 1, "{err}");
}

/// Vector V1 of core/tests/hba_vectors.py (Python hashlib, written from
/// RFC 3972/5535 without the Rust code): three prefixes, modifier
/// 00..0f, extended modifier (0xa5 + 7 i) mod 256.
#[test]
fn hba_known_answer() {
    let em: String = (0..48).map(|i| format!("{:02x}", (0xa5 + 7 * i) & 0xff)).collect();
    let (code, out, err) = shimctl(&[
        "hba",
        "modifier",
        "000102030405060708090a0b0c0d0e0f",
        "extended-modifier",
        &em,
        "2001:db8:1::/64",
        "2001:db8:2::/64",
        "2001:db8:ffff:1::/64",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "address 2001:db8:1:0:1cfa:c3e0:c23a:f34b prefix 2001:db8:1::/64\n\
         address 2001:db8:2:0:85f:dac2:436e:2f34 prefix 2001:db8:2::/64\n\
         address 2001:db8:ffff:1:c4a:b6fa:78:cc55 prefix 2001:db8:ffff:1::/64\n\
         pds 000102030405060708090a0b0c0d0e0f20010db80001000000304c300d06092a864886f70d0101010500033b003038023100a5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7ee02030100010012001c0000000020010db80001000020010db80002000020010db8ffff0001\n"
    );
}

#[test]
fn hba_refuses_what_is_not_a_set_of_64s() {
    for bad in ["2001:db8:1::/48", "2001:db8:1::1/64", "nonsense/64", "2001:db8:1::"] {
        let (code, _, err) = shimctl(&["hba", bad]);
        assert_eq!(code, 1, "{bad}");
        assert!(err.starts_with("shimctl: "), "{err}");
    }
    let (code, _, err) = shimctl(&["hba", "modifier", "00", "2001:db8:1::/64"]);
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = shimctl(&["hba"]);
    assert_eq!(code, 1, "{err}");
}

/// Messages that scripts and users see, word for word.
#[test]
fn error_messages_stay() {
    for (args, err) in [
        (&["hba", "2001:db8:1::/48"][..], "shimctl: 2001:db8:1::/48: HBA sets are made of /64 prefixes\n"),
        (&["hba", "2001:db8:1::1/64"], "shimctl: 2001:db8:1::1/64: host bits set\n"),
        (&["hba", "nonsense/64"], "shimctl: nonsense/64: not an IPv6 prefix\n"),
        (&["hba", "2001:db8:1::"], "shimctl: 2001:db8:1::: expected PREFIX/64\n"),
        (&["hba", "modifier", "00", "2001:db8:1::/64"], "shimctl: expected 32 hex digits: 00\n"),
        (&["hba", "extended-modifier", "zz", "2001:db8:1::/64"], "shimctl: expected 96 hex digits: zz\n"),
        (&["hba", "2001:db8:1::/64", "2001:db8:1::/64"], "shimctl: generating: DuplicatePrefix\n"),
        (&["hba"], "shimctl: usage: shimctl [-j] hba [modifier HEX] [extended-modifier HEX] PREFIX/64...\n"),
        (&["hba", "set", "zz"], "shimctl: expected hex digits: zz\n"),
        (&["hba", "set", "0"], "shimctl: expected hex digits: 0\n"),
        (&["-n", "../etc", "context", "show"], "shimctl: cannot enter network namespace \"../etc\": a namespace name has no '/'\n"),
        (
            &["-n", "no-such-namespace-here", "locator", "show"],
            "shimctl: cannot enter network namespace \"no-such-namespace-here\": No such file or directory (os error 2)\n",
        ),
    ] {
        let (code, out, e) = shimctl(args);
        assert_eq!((code, out.as_str(), e.as_str()), (1, "", err), "{args:?}");
    }
}

#[test]
fn hba_json_known_answer() {
    let (code, out, err) = shimctl(&[
        "-j",
        "hba",
        "modifier",
        "000102030405060708090a0b0c0d0e0f",
        "extended-modifier",
        &format!("{:096}", 5),
        "2001:db8:1::/64",
        "2001:db8:2::/64",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "{\"addresses\":[{\"prefix\":\"2001:db8:1::/64\",\"address\":\"2001:db8:1:0:1c07:21c4:a3c8:bac3\"},\
         {\"prefix\":\"2001:db8:2::/64\",\"address\":\"2001:db8:2:0:423:2d7c:d378:cfcd\"}],\
         \"pds\":\"000102030405060708090a0b0c0d0e0f20010db80001000000301c300d06092a864886f70d0101010500030b00300802010502\
         03010001001200140000000020010db80001000020010db800020000\"}\n"
    );
}

/// `script` run by sh in a network namespace of its own that has veth
/// interfaces v0 and v1, with $SHIMCTL set and the sets kept in a folder
/// of the test's own; None where no namespace can be made (not root).
fn in_netns(name: &str, script: &str) -> Option<(i32, String, String, std::path::PathBuf)> {
    let state = std::env::temp_dir().join(format!("shimctl-cli-{name}-{}", std::process::id()));
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", &format!("ip link add v0 type veth peer name v1 || exit 99\n{script}")])
        .env("SHIMCTL", env!("CARGO_BIN_EXE_shimctl"))
        .env("SHIM6_STATE_DIR", &state)
        .output()
        .ok()?;
    let code = out.status.code().unwrap_or(-1);
    if code == 99 || (code == 1 && out.stderr.starts_with(b"unshare:")) {
        eprintln!("skipped: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    Some((code, text(out.stdout), text(out.stderr), state))
}

const EM5: &str = "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005";

#[test]
fn hba_apply_refuses_clearly_and_changes_nothing() {
    let many: String = (0..33).map(|i| format!(" dev v0 2001:db8:{i:x}::/64")).collect();
    for (args, err) in [
        ("dev v0 2001:db8:1::/48", "shimctl: 2001:db8:1::/48: HBA sets are made of /64 prefixes\n"),
        ("dev v0 2001:db8:1::1/64", "shimctl: 2001:db8:1::1/64: host bits set\n"),
        ("dev nosuch0 2001:db8:1::/64", "shimctl: dev nosuch0: no such interface\n"),
        ("dev v0 2001:db8:1::/64 dev v1 2001:db8:1::/64", "shimctl: 2001:db8:1::/64: given twice (an HBA set has each prefix once)\n"),
        (many.as_str(), "shimctl: 33 prefixes: an HBA set has at most 32\n"),
        ("modifier 00 dev v0 2001:db8:1::/64", "shimctl: expected 32 hex digits: 00\n"),
    ] {
        let Some((code, out, e, state)) = in_netns("refuse", &format!("\"$SHIMCTL\" hba apply {args}")) else { return };
        assert_eq!((code, out.as_str(), e.as_str()), (1, "", err), "{args}");
        assert!(!state.exists(), "{args}: nothing kept");
    }
}

/// The address of 2001:db8:1::/64 is on v1 already; applying it to v0 is
/// refused, before the module is asked.
#[test]
fn hba_apply_refuses_an_address_in_use() {
    let m = "000102030405060708090a0b0c0d0e0f";
    let script = format!(
        "ip addr add 2001:db8:1:0:1c07:21c4:a3c8:bac3/64 dev v1 nodad\n\
         \"$SHIMCTL\" hba apply modifier {m} extended-modifier {EM5} dev v0 2001:db8:1::/64 dev v1 2001:db8:2::/64"
    );
    let Some((code, out, err, state)) = in_netns("inuse", &script) else { return };
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (1, "", "shimctl: 2001:db8:1:0:1c07:21c4:a3c8:bac3: already in use on v1, cannot go on dev v0\n")
    );
    assert!(!state.exists());
}

/// Every check passes; without the module nothing changes and it says so.
#[test]
fn hba_apply_without_the_module_changes_nothing() {
    if Path::new("/sys/module/shim6").exists() {
        return;
    }
    let script = "\"$SHIMCTL\" hba apply dev v0 2001:db8:1::/64 dev v1 2001:db8:2::/64; rc=$?\n\
                  ip -6 addr show scope global >&2\n\
                  exit $rc";
    let Some((code, out, err, state)) = in_netns("nomodule", script) else { return };
    assert_eq!((code, out.as_str(), err.as_str()), (1, "", "shimctl: the shim6 module is not loaded (no generic netlink family \"shim6\")\n"));
    assert!(!state.exists());
}

#[test]
fn hba_show_without_a_set_says_so() {
    let Some((code, out, err, state)) = in_netns("show", "\"$SHIMCTL\" hba show") else { return };
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        format!("shimctl: no HBA set in default ({}/default.json does not exist, the shim6 module is not loaded)\n", state.display())
    );
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = shimctl(&["completion", shell]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("shimctl") && out.contains("apply") && out.contains("max-contexts"), "{shell}");
    }
    let (code, page, err) = shimctl(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(page.contains(".TH shimctl 8"), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH COMMANDS", "HBA SETS", "JSON OUTPUT", ".SH FILES", "EXIT STATUS"] {
        assert!(page.contains(section), "{section}");
    }
}

/// iproute2's spellings of the options still work.
#[test]
fn iproute2_option_spellings() {
    let (code, _, err) = shimctl(&["-json", "-netns", "no-such-namespace-here", "context", "show"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot enter network namespace \"no-such-namespace-here\""), "{err}");
    let (code, out, _) = shimctl(&["-help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Usage: shimctl"), "{out}");
}
