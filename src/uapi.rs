// SPDX-License-Identifier: GPL-2.0

//! `include/uapi/linux/shim6.h`, through bindgen (`make` generates
//! `uapi_generated.rs`).

#![allow(dead_code, missing_docs, non_camel_case_types, non_upper_case_globals, unreachable_pub)]

include!("uapi_generated.rs");
