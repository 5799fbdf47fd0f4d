// SPDX-License-Identifier: GPL-2.0

//! A value read under RCU and replaced by copy: readers never lock,
//! writers publish a new value and the old one is freed after a grace
//! period (`call_rcu()`).

use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::alloc::{Flags, KBox};
use kernel::bindings;
use kernel::error::Result;
use kernel::types::Opaque;

#[repr(C)]
struct Node<T> {
    // First, so that the callback finds the node from the head.
    head: Opaque<bindings::callback_head>,
    value: T,
}

/// An RCU-protected `T`.
///
/// # Invariants
///
/// `ptr` points to a node allocated by `KBox` and published once; it is freed only by
/// `free` after a grace period that starts once no new reader can find it.
pub(crate) struct Rcu<T: Send + Sync + 'static> {
    ptr: AtomicPtr<Node<T>>,
}

impl<T: Send + Sync + 'static> Rcu<T> {
    /// A cell holding `value`.
    pub(crate) fn new(value: T, flags: Flags) -> Result<Self> {
        let node = KBox::new(Node { head: Opaque::uninit(), value }, flags)?;
        // INVARIANT: A fresh `KBox` node.
        Ok(Self { ptr: AtomicPtr::new(KBox::into_raw(node)) })
    }

    /// Runs `f` on the current value, inside an RCU read-side section (`f`
    /// must not sleep).
    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: The node loaded inside the read-side section stays allocated until the
        // section ends: it is freed only after a grace period (type invariant).
        unsafe {
            bindings::rcu_read_lock();
            let r = f(&(*self.ptr.load(Ordering::Acquire)).value);
            bindings::rcu_read_unlock();
            r
        }
    }

    /// Publishes `value`; readers still on the old one finish with it.
    /// Writers must be serialised by the caller.
    pub(crate) fn replace(&self, value: T, flags: Flags) -> Result {
        let node = KBox::into_raw(KBox::new(Node { head: Opaque::uninit(), value }, flags)?);
        // Release pairs with the readers' Acquire: they see the node initialised.
        let old = self.ptr.swap(node, Ordering::AcqRel);
        // SAFETY: `old` is no longer reachable for new readers; freed after a grace period.
        unsafe { retire(old) };
        Ok(())
    }
}

/// Frees `node` after a grace period.
///
/// # Safety
///
/// `node` came from `KBox::into_raw`, is unreachable for new readers and is retired once.
unsafe fn retire<T: Send + Sync + 'static>(node: *mut Node<T>) {
    unsafe extern "C" fn free<T>(head: *mut bindings::callback_head) {
        // SAFETY: `head` is the first field of a `Node<T>` (repr(C)) retired by `retire`,
        // whose grace period has elapsed: no reader holds it any more.
        drop(unsafe { KBox::from_raw(head.cast::<Node<T>>()) });
    }
    // SAFETY: `node` is valid until the callback frees it (the caller's contract).
    unsafe { bindings::call_rcu((*node).head.get(), Some(free::<T>)) };
}

impl<T: Send + Sync + 'static> Drop for Rcu<T> {
    fn drop(&mut self) {
        // SAFETY: Nothing can reach the cell any more (we own it); the node goes after a
        // grace period, during which readers that found it before may still finish.
        unsafe { retire(*self.ptr.get_mut()) };
    }
}

/// Waits, on drop, for every RCU callback of this module to have run: the
/// module's code must not go while `call_rcu()` callbacks into it wait.
pub(crate) struct RcuBarrier;

impl Drop for RcuBarrier {
    fn drop(&mut self) {
        // SAFETY: Called from module exit, process context.
        unsafe { bindings::rcu_barrier() };
    }
}
