// SPDX-License-Identifier: GPL-2.0

//! The shim6 protocol core, compiled for the host from the very files the
//! kernel module compiles (`src/proto/`), and the UAPI header through
//! bindgen, for tests.

#![no_std]

#[path = "../../src/proto/mod.rs"]
pub mod proto;

/// `include/uapi/linux/shim6.h` as bindgen sees it.
#[allow(dead_code, missing_docs, non_camel_case_types, non_upper_case_globals, clippy::all)]
pub mod uapi {
    include!(concat!(env!("OUT_DIR"), "/uapi.rs"));
}
