// SPDX-License-Identifier: GPL-2.0

//! An IPv6 upper-layer protocol handler (`inet6_add_protocol()`).

use core::marker::PhantomData;

use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::bindings;
use kernel::error::{code::EBUSY, Result};
use kernel::ffi::c_int;

use super::skb::Skb;

/// What receives the packets of one IPv6 next-header value.
pub(crate) trait Handler: 'static {
    /// The next-header value.
    const PROTOCOL: u8;
    /// A packet for us: `skb->data` is at its header.  Runs in softirq.
    fn receive(skb: &mut Skb<'_>);
}

/// The registration of `T`; removed on drop, after which no handler runs.
///
/// # Invariants
///
/// `prot` is registered for `T::PROTOCOL` until drop.
pub(crate) struct Protocol<T: Handler> {
    prot: KBox<bindings::inet6_protocol>,
    _p: PhantomData<T>,
}

// SAFETY: The table holds function pointers only.
unsafe impl<T: Handler> Send for Protocol<T> {}
// SAFETY: `&Protocol` gives access to nothing.
unsafe impl<T: Handler> Sync for Protocol<T> {}

impl<T: Handler> Protocol<T> {
    /// Registers `T`; `EBUSY` when the protocol has a handler already.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: All-zero is a valid `inet6_protocol` (no callbacks, no flags).
        let mut p: bindings::inet6_protocol = unsafe { core::mem::zeroed() };
        p.handler = Some(Self::handler);
        p.flags = bindings::INET6_PROTO_NOPOLICY | bindings::INET6_PROTO_FINAL;
        let prot = KBox::new(p, GFP_KERNEL)?;
        // SAFETY: `prot` is valid and stays at this address until drop unregisters it.
        if unsafe { bindings::inet6_add_protocol(&*prot, T::PROTOCOL) } < 0 {
            return Err(EBUSY);
        }
        // INVARIANT: Registered above.
        Ok(Self { prot, _p: PhantomData })
    }

    unsafe extern "C" fn handler(skb: *mut bindings::sk_buff) -> c_int {
        {
            // SAFETY: The IPv6 input path hands us a valid skb with an IPv6 network header.
            let mut view = unsafe { Skb::from_raw(skb) };
            T::receive(&mut view);
        }
        // SAFETY: The skb is ours to free once handled.
        unsafe { bindings::consume_skb(skb) };
        0
    }
}

impl<T: Handler> Drop for Protocol<T> {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; `inet6_del_protocol` waits for handlers
        // in flight (synchronize_net) before returning.
        unsafe { bindings::inet6_del_protocol(&*self.prot, T::PROTOCOL) };
    }
}
