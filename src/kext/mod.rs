// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers over the C API shim6 uses.
//!
//! This is the only place that touches `kernel::bindings`; everything
//! above it is safe Rust.

pub(crate) mod crypto;
pub(crate) mod genl;
pub(crate) mod inet6;
pub(crate) mod kunit;
pub(crate) mod net;
pub(crate) mod netctl;
pub(crate) mod rcu;
pub(crate) mod shim;
pub(crate) mod skb;
pub(crate) mod sock;

/// Takes the last element off `v` (this kernel's `Vec` has no `pop`).
pub(crate) fn pop<T: Copy>(v: &mut kernel::alloc::KVec<T>) -> Option<T> {
    let last = *v.as_slice().last()?;
    // SAFETY: `v` has at least one element (read above); shrinking its length by one
    // forgets a `Copy` value, which needs no drop.
    unsafe { v.set_len(v.len() - 1) };
    Some(last)
}
