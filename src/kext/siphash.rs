// SPDX-License-Identifier: GPL-2.0

//! The kernel's SipHash-2-4 (`lib/siphash.c`), keyed, over 64-bit words:
//! what its own hash tables use against chosen-key flooding.

use kernel::bindings;

/// A SipHash key.
#[derive(Clone, Copy)]
pub(crate) struct SipKey(bindings::siphash_key_t);

impl SipKey {
    /// The key of two 64-bit halves.
    pub(crate) fn new(k0: u64, k1: u64) -> Self {
        SipKey(bindings::siphash_key_t { key: [k0, k1] })
    }

    /// SipHash-2-4 of `words` (their native-endian octets).
    pub(crate) fn hash(&self, words: &[u64]) -> u64 {
        // SAFETY: `words` is a valid slice of `len * 8` octets (any alignment will do), read only
        // for the call; the key is a valid `siphash_key_t`.
        unsafe { bindings::__siphash_unaligned(words.as_ptr().cast(), core::mem::size_of_val(words), &self.0) }
    }
}
