// SPDX-License-Identifier: GPL-2.0

//! A kernel timer (`struct timer_list`) embedded in the structure it
//! wakes, as `kernel::time::hrtimer` embeds its timers (`HasHrTimer`).

use core::marker::PhantomData;

use kernel::bindings;
use kernel::ffi::c_ulong;
use kernel::prelude::*;
use kernel::types::Opaque;

/// A structure that embeds a [`Timer`] and is woken by it.
///
/// # Safety
///
/// `OFFSET` is the offset in `Self` of a field of type `Timer<Self>`; `Self` is only used
/// pinned; that field is declared before every field `fired` uses, so that dropping it
/// (which waits for a running `fired` and stops the timer for good) comes first.
pub(crate) unsafe trait HasTimer: Sync + Sized {
    /// Where the timer is in `Self`.
    const OFFSET: usize;
    /// The timer fired: softirq context, must not sleep.
    fn fired(&self);
}

/// A timer that calls [`HasTimer::fired`] on the structure holding it.
///
/// # Invariants
///
/// `raw` was set up by `timer_setup` with `Self::run`; it sits at offset 0 (`repr(C)`).
#[repr(C)]
#[pin_data(PinnedDrop)]
pub(crate) struct Timer<T: HasTimer> {
    #[pin]
    raw: Opaque<bindings::timer_list>,
    _owner: PhantomData<T>,
}

// SAFETY: The timer API does its own locking; the owner is `Sync`.
unsafe impl<T: HasTimer> Send for Timer<T> {}
// SAFETY: As above.
unsafe impl<T: HasTimer> Sync for Timer<T> {}

impl<T: HasTimer> Timer<T> {
    /// A timer, not armed.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `timer_setup` initialises the timer in place; `run` is valid for as
            // long as the module is loaded, which outlives every timer it made.
            raw <- Opaque::ffi_init(|t| unsafe { bindings::timer_setup(t, Some(Self::run), 0) }),
            _owner: PhantomData,
        })
    }

    /// Fires `ms` milliseconds from now, pending or not.
    pub(crate) fn arm(&self, ms: u32) {
        // SAFETY: Set up (type invariant); after the shutdown in drop it is a no-op.
        unsafe { bindings::mod_timer(self.raw.get(), jiffies_in(ms)) };
    }

    /// Fires `ms` milliseconds from now at the latest: an earlier pending
    /// expiry stays.
    pub(crate) fn arm_within(&self, ms: u32) {
        // SAFETY: As in `arm`.
        unsafe { bindings::timer_reduce(self.raw.get(), jiffies_in(ms)) };
    }

    unsafe extern "C" fn run(t: *mut bindings::timer_list) {
        // SAFETY: `t` is the `raw` field, at offset 0, of the `Timer<T>` at `T::OFFSET` in a
        // live, pinned `T` (`HasTimer`'s contract): the timer is shut down before `T` goes.
        let owner = unsafe { &*t.cast::<u8>().sub(T::OFFSET).cast::<T>() };
        owner.fired();
    }
}

#[pinned_drop]
impl<T: HasTimer> PinnedDrop for Timer<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Set up (type invariant). Waits for a running callback; later arming is a
        // no-op.
        unsafe { bindings::timer_shutdown_sync(self.raw.get()) };
    }
}

fn jiffies_in(ms: u32) -> c_ulong {
    // SAFETY: `jiffies` is always readable; the conversion is a pure function.
    let (now, delta) = unsafe {
        (core::ptr::read_volatile(core::ptr::addr_of!(bindings::jiffies)), bindings::__msecs_to_jiffies(ms))
    };
    now.wrapping_add(delta)
}
