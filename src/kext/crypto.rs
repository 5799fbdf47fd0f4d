// SPDX-License-Identifier: GPL-2.0

//! Synchronous hashes of the kernel crypto API (`crypto_shash`).

use kernel::alloc::{flags::GFP_ATOMIC, KVec};
use kernel::bindings;
use kernel::error::{code::EINVAL, from_err_ptr, to_result, Result};
use kernel::str::CStr;

/// A hash transform, such as `sha1` or `hmac(sha256)`.
///
/// # Invariants
///
/// `tfm` is a valid transform allocated by `crypto_alloc_shash()` and owned by this value.
/// It is used by one caller at a time (`&mut self`), as keys are per transform.
pub(crate) struct Shash {
    tfm: *mut bindings::crypto_shash,
    len: usize,
}

// SAFETY: A transform may be used from any thread; `&mut self` serialises its use.
unsafe impl Send for Shash {}
// SAFETY: `&Shash` gives no access to the transform.
unsafe impl Sync for Shash {}

impl Shash {
    /// Allocates the transform `name` (may sleep).
    pub(crate) fn new(name: &CStr) -> Result<Self> {
        // SAFETY: `name` is a valid C string; no type or mask restriction.
        let tfm = from_err_ptr(unsafe { bindings::crypto_alloc_shash(name.as_char_ptr(), 0, 0) })?;
        // SAFETY: `tfm` was just allocated and is valid.
        let len = unsafe { bindings::crypto_shash_digestsize(tfm) } as usize;
        // INVARIANT: Allocated above, owned here.
        Ok(Self { tfm, len })
    }

    /// Sets the key of a keyed hash (`hmac(...)`).
    pub(crate) fn set_key(&mut self, key: &[u8]) -> Result {
        let len = u32::try_from(key.len()).map_err(|_| EINVAL)?;
        // SAFETY: The transform is valid and ours by the type invariant; `key` is valid for
        // `len` octets.
        to_result(unsafe { bindings::crypto_shash_setkey(self.tfm, key.as_ptr(), len) })
    }

    /// The digest of the concatenation of `parts` into `out`, which must be
    /// exactly the digest size.  Does not sleep.
    pub(crate) fn digest(&mut self, parts: &[&[u8]], out: &mut [u8]) -> Result {
        if out.len() != self.len {
            return Err(EINVAL);
        }
        let mut data = KVec::new();
        for p in parts {
            data.extend_from_slice(p, GFP_ATOMIC)?;
        }
        let len = u32::try_from(data.len()).map_err(|_| EINVAL)?;
        // SAFETY: The transform is valid and ours; `data` is valid for `len` octets and `out`
        // for the digest size, checked above.
        to_result(unsafe {
            bindings::crypto_shash_tfm_digest(self.tfm, data.as_ptr(), len, out.as_mut_ptr())
        })
    }
}

impl Drop for Shash {
    fn drop(&mut self) {
        // SAFETY: Allocated by `crypto_alloc_shash()` and owned by the type invariant.
        unsafe { bindings::crypto_free_shash(self.tfm) };
    }
}

/// 64 random bits from the kernel's CSPRNG.
pub(crate) fn random_u64() -> u64 {
    // SAFETY: No preconditions; usable from any context.
    unsafe { bindings::get_random_u64() }
}

/// Monotonic time in milliseconds, at the timer's granularity (a jiffy):
/// what the protocol's timers need, and cheap enough for every packet (a
/// memory read, where reading the clocksource is not: `ktime_get()` was a
/// quarter of the LOCAL_OUT hook's cost under TCG).
pub(crate) fn now_ms() -> u64 {
    // SAFETY: `jiffies` is always readable; the conversion is a pure function.
    unsafe {
        let j = core::ptr::read_volatile(core::ptr::addr_of!(bindings::jiffies));
        // CAST: `unsigned long` to u64 is lossless on the 64-bit targets shim6 builds for.
        bindings::jiffies64_to_msecs(j as u64)
    }
}

/// The wall clock (`CLOCK_REALTIME`), in nanoseconds since the epoch: for
/// what users read as a time of day.
pub(crate) fn realtime_ns() -> u64 {
    // SAFETY: Reads the timekeeper; callable from any context.
    let t = unsafe { bindings::ktime_get_with_offset(bindings::tk_offsets_TK_OFFS_REAL) };
    u64::try_from(t).unwrap_or(0)
}
