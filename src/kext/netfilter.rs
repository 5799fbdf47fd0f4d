// SPDX-License-Identifier: GPL-2.0

//! IPv6 netfilter hooks of one namespace, registered for as long as the
//! value lives.

use core::marker::PhantomData;
use core::ptr::NonNull;

use kernel::bindings;
use kernel::ffi::{c_uint, c_void};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::Opaque;

use super::net::NetRef;
use super::skb::{OwnedSkb, Skb};

/// What becomes of a packet at a hook.
pub(crate) enum Verdict {
    /// It goes on.
    Accept,
    /// It is dropped.
    Drop,
    /// It is dropped, and the call that sent it fails with this error
    /// (`NF_DROP_ERR`).
    Refuse(Error),
    /// The hook's owner takes it ([`HookPoint::stolen`]).
    Steal,
}

/// Where a hook sits and what it calls on its owner.  Both run in softirq
/// or with softirqs disabled; neither may sleep.
pub(crate) trait HookPoint: 'static {
    /// What the hook calls.
    type Owner: Send + Sync + 'static;
    /// `NF_INET_LOCAL_OUT`, `NF_INET_LOCAL_IN`, …
    const HOOKNUM: c_uint;
    /// An IPv6 packet passes.
    fn run(owner: &Self::Owner, skb: &mut Skb<'_>) -> Verdict;
    /// The packet `run` asked to steal, now owned.
    fn stolen(owner: &Self::Owner, skb: OwnedSkb);
}

/// The LOCAL_OUT hook point: packets this host sends.
pub(crate) const LOCAL_OUT: c_uint = bindings::nf_inet_hooks_NF_INET_LOCAL_OUT as c_uint;
/// The LOCAL_IN hook point: packets for this host, after reassembly.
pub(crate) const LOCAL_IN: c_uint = bindings::nf_inet_hooks_NF_INET_LOCAL_IN as c_uint;

/// An IPv6 hook at [`HookPoint::HOOKNUM`], first priority, calling `H`.
///
/// # Invariants
///
/// `ops` is registered in `net` until drop, its `priv_` the pointer of `_owner`.
pub(crate) struct Hook<H: HookPoint> {
    ops: KBox<Opaque<bindings::nf_hook_ops>>,
    net: NetRef,
    /// What the hook calls, alive while it is registered.
    _owner: Arc<H::Owner>,
    _point: PhantomData<H>,
}

// SAFETY: The operations table is only read by the netfilter core, which synchronises
// registration itself; the owner is `Send + Sync`.
unsafe impl<H: HookPoint> Send for Hook<H> {}
// SAFETY: `&Hook` gives access to nothing.
unsafe impl<H: HookPoint> Sync for Hook<H> {}

impl<H: HookPoint> Hook<H> {
    /// Hooks `owner` into `net`'s IPv6 packets at `H::HOOKNUM`.
    pub(crate) fn register(net: NetRef, owner: Arc<H::Owner>) -> Result<Self> {
        // SAFETY: All-zero is a valid `nf_hook_ops` (no function, no device).
        let mut ops: bindings::nf_hook_ops = unsafe { core::mem::zeroed() };
        ops.hook = Some(Self::hook_fn);
        ops.priv_ = core::ptr::from_ref::<H::Owner>(&owner).cast_mut().cast::<c_void>();
        ops.pf = bindings::NFPROTO_IPV6 as u8;
        ops.hooknum = H::HOOKNUM;
        ops.priority = bindings::nf_ip6_hook_priorities_NF_IP6_PRI_FIRST;
        let ops = KBox::new(Opaque::new(ops), GFP_KERNEL)?;
        // SAFETY: `ops` is valid and boxed: it stays at this address until drop unregisters
        // it; `priv_` points at `owner`, which the hook keeps alive as long.
        kernel::error::to_result(unsafe { bindings::nf_register_net_hook(net.as_ptr(), ops.get()) })?;
        // INVARIANT: Registered above.
        Ok(Self { ops, net, _owner: owner, _point: PhantomData })
    }

    unsafe extern "C" fn hook_fn(
        priv_: *mut c_void,
        skb: *mut bindings::sk_buff,
        _state: *const bindings::nf_hook_state,
    ) -> c_uint {
        // SAFETY: `priv_` is the owner, alive while the hook is registered (type invariant).
        let owner = unsafe { &*priv_.cast::<H::Owner>() };
        // SAFETY: The hook gets a valid IPv6 skb for the duration of the call.
        let mut view = unsafe { Skb::from_raw(skb) };
        match H::run(owner, &mut view) {
            Verdict::Accept => bindings::NF_ACCEPT,
            Verdict::Drop => bindings::NF_DROP,
            Verdict::Refuse(e) => (e.to_errno().unsigned_abs() << 16) | bindings::NF_DROP,
            Verdict::Steal => {
                let Some(skb) = NonNull::new(skb) else { return bindings::NF_DROP };
                // SAFETY: Answering NF_STOLEN hands the skb over.
                H::stolen(owner, unsafe { OwnedSkb::from_raw(skb) });
                bindings::NF_STOLEN
            }
        }
    }
}

impl<H: HookPoint> Drop for Hook<H> {
    fn drop(&mut self) {
        // SAFETY: Registered (type invariant); unregistering waits for hooks in flight, so
        // the owner is no longer used by the hook when its reference goes.
        unsafe { bindings::nf_unregister_net_hook(self.net.as_ptr(), self.ops.get()) };
    }
}
