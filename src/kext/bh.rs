// SPDX-License-Identifier: GPL-2.0

//! Bottom halves.

use kernel::bindings;

/// Runs `f` with softirqs disabled on this CPU, so that a lock taken by
/// both process context and softirq cannot deadlock against itself.
pub(crate) fn bh_disabled<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: Balanced with `local_bh_enable` below; `f` does not sleep (callers' contract:
    // it only takes spinlocks).
    unsafe { bindings::local_bh_disable() };
    let r = f();
    // SAFETY: Balances the disable above.
    unsafe { bindings::local_bh_enable() };
    r
}
