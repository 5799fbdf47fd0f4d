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
    for args in [&["bogus"][..], &[], &["context", "flush"], &["-n"]] {
        let (code, _, err) = shimctl(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.starts_with("usage: shimctl"), "{err}");
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
