// SPDX-License-Identifier: GPL-2.0

//! An IPv6 LOCAL_OUT netfilter hook of one namespace, registered for as
//! long as the value lives.

use core::ptr::NonNull;

use kernel::bindings;
use kernel::ffi::{c_uint, c_void};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::Opaque;

use super::net::NetRef;
use super::skb::{OwnedSkb, Skb};

/// What becomes of a packet leaving the host.
pub(crate) enum Verdict {
    /// It goes on.
    Accept,
    /// It is dropped.
    Drop,
    /// The hook's owner takes it ([`LocalOut::stolen`]).
    Steal,
}

/// What a LOCAL_OUT hook calls.  Both run in softirq or with softirqs
/// disabled; neither may sleep.
pub(crate) trait LocalOut: Send + Sync + 'static {
    /// An IPv6 packet leaves this host.
    fn local_out(&self, skb: &mut Skb<'_>) -> Verdict;
    /// The packet `local_out` asked to steal, now owned.
    fn stolen(&self, skb: OwnedSkb);
}

/// A LOCAL_OUT hook at the first IPv6 priority, calling `T`.
///
/// # Invariants
///
/// `ops` is registered in `net` until drop, its `priv_` the pointer of `_owner`.
pub(crate) struct LocalOutHook<T: LocalOut> {
    ops: KBox<Opaque<bindings::nf_hook_ops>>,
    net: NetRef,
    /// What the hook calls, alive while it is registered.
    _owner: Arc<T>,
}

// SAFETY: The operations table is only read by the netfilter core, which synchronises
// registration itself; `T` is `Send + Sync`.
unsafe impl<T: LocalOut> Send for LocalOutHook<T> {}
// SAFETY: `&LocalOutHook` gives access only to the owner, which is `Sync`.
unsafe impl<T: LocalOut> Sync for LocalOutHook<T> {}

impl<T: LocalOut> LocalOutHook<T> {
    /// Hooks `owner` into `net`'s IPv6 LOCAL_OUT.
    pub(crate) fn register(net: NetRef, owner: Arc<T>) -> Result<Self> {
        // SAFETY: All-zero is a valid `nf_hook_ops` (no function, no device).
        let mut ops: bindings::nf_hook_ops = unsafe { core::mem::zeroed() };
        ops.hook = Some(Self::hook_fn);
        ops.priv_ = core::ptr::from_ref::<T>(&owner).cast_mut().cast::<c_void>();
        ops.pf = bindings::NFPROTO_IPV6 as u8;
        ops.hooknum = bindings::nf_inet_hooks_NF_INET_LOCAL_OUT as c_uint;
        ops.priority = bindings::nf_ip6_hook_priorities_NF_IP6_PRI_FIRST;
        let ops = KBox::new(Opaque::new(ops), GFP_KERNEL)?;
        // SAFETY: `ops` is valid and boxed: it stays at this address until drop unregisters
        // it; `priv_` points at `owner`, which the hook keeps alive as long.
        kernel::error::to_result(unsafe { bindings::nf_register_net_hook(net.as_ptr(), ops.get()) })?;
        // INVARIANT: Registered above.
        Ok(Self { ops, net, _owner: owner })
    }

    unsafe extern "C" fn hook_fn(
        priv_: *mut c_void,
        skb: *mut bindings::sk_buff,
        _state: *const bindings::nf_hook_state,
    ) -> c_uint {
        // SAFETY: `priv_` is the owner, alive while the hook is registered (type invariant).
        let owner = unsafe { &*priv_.cast::<T>() };
        // SAFETY: The hook gets a valid IPv6 skb for the duration of the call.
        let mut view = unsafe { Skb::from_raw(skb) };
        match owner.local_out(&mut view) {
            Verdict::Accept => bindings::NF_ACCEPT,
            Verdict::Drop => bindings::NF_DROP,
            Verdict::Steal => {
                let Some(skb) = NonNull::new(skb) else { return bindings::NF_DROP };
                // SAFETY: Answering NF_STOLEN hands the skb over.
                owner.stolen(unsafe { OwnedSkb::from_raw(skb) });
                bindings::NF_STOLEN
            }
        }
    }
}

impl<T: LocalOut> Drop for LocalOutHook<T> {
    fn drop(&mut self) {
        // SAFETY: Registered (type invariant); unregistering waits for hooks in flight, so
        // the owner is no longer used by the hook when its reference goes.
        unsafe { bindings::nf_unregister_net_hook(self.net.as_ptr(), self.ops.get()) };
    }
}
