// SPDX-License-Identifier: GPL-2.0

//! Generates Rust definitions from the UAPI header with bindgen-cli, the
//! same tool the kernel build uses (installed by tools/setup/setup-deps.sh).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    let header = root.join("include/uapi/linux/shim6.h");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("uapi.rs");
    println!("cargo:rerun-if-changed={}", header.display());

    let bindgen = env::var("BINDGEN").unwrap_or_else(|_| {
        let home = env::var("CARGO_HOME")
            .unwrap_or_else(|_| format!("{}/.cargo", env::var("HOME").unwrap()));
        let p = PathBuf::from(home).join("bin/bindgen");
        if p.exists() { p.display().to_string() } else { "bindgen".into() }
    });
    let status = Command::new(&bindgen)
        .arg("--use-core")
        .arg(&header)
        .arg("-o")
        .arg(&out)
        .arg("--")
        .arg(format!("-I{}", root.join("include/uapi").display()))
        .status()
        .unwrap_or_else(|e| panic!("running {bindgen}: {e} (run tools/setup/setup-deps.sh)"));
    assert!(status.success(), "bindgen failed on {}", header.display());
}
