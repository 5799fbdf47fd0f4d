// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers over the C API shim6 uses.
//!
//! This is the only place that touches `kernel::bindings`; everything
//! above it is safe Rust.

pub(crate) mod bh;
pub(crate) mod crypto;
pub(crate) mod genl;
pub(crate) mod inet6;
pub(crate) mod kunit;
pub(crate) mod net;
pub(crate) mod netfilter;
pub(crate) mod rcu;
pub(crate) mod shim;
pub(crate) mod siphash;
pub(crate) mod skb;
pub(crate) mod sock;
pub(crate) mod timer;
