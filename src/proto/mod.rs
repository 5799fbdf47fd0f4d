// SPDX-License-Identifier: GPL-2.0

//! The pure protocol core of shim6.
//!
//! No `kernel::`, no allocation, no I/O, no clock: bytes and values in,
//! bytes and decisions out.  The module compiles this directory into the
//! kernel crate; its host build (`core/`) compiles the very same
//! files with `#[path]`, so everything here is unit-, property- and
//! fuzz-tested on the host.

pub mod codec;
pub mod context;
pub mod hba;
pub mod sockopt;
pub mod wire;
