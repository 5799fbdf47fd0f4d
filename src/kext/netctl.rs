// SPDX-License-Identifier: GPL-2.0

//! The per-namespace anchor of the shim's control plane: its state, an
//! IPv6 LOCAL_OUT netfilter hook and a timer, torn down together.

use core::marker::PhantomPinned;
use core::sync::atomic::{AtomicBool, Ordering};

use kernel::bindings;
use kernel::ffi::{c_uint, c_void};
use kernel::prelude::*;
use kernel::types::Opaque;

use super::net::Net;
use super::skb::{OwnedSkb, Skb};

/// What becomes of a packet leaving the host.
pub(crate) enum Verdict {
    /// It goes on.
    Accept,
    /// It is dropped.
    Drop,
    /// The control plane takes it ([`NetOps::stolen`]).
    Steal,
}

/// What a namespace's control plane does on its hook and its timer.
/// Both run in softirq or with softirqs disabled; neither may sleep.
pub(crate) trait NetOps: Send + Sync + 'static {
    /// An IPv6 packet leaves this host.
    fn local_out(&self, ctl: &NetCtl<Self>, skb: &mut Skb<'_>) -> Verdict
    where
        Self: Sized;
    /// The packet `local_out` asked to steal, now owned.
    fn stolen(&self, ctl: &NetCtl<Self>, skb: OwnedSkb)
    where
        Self: Sized;
    /// The timer fired.
    fn tick(&self, ctl: &NetCtl<Self>)
    where
        Self: Sized;
}

/// State `T` of one namespace with its hook and timer.
///
/// # Invariants
///
/// `net` is the namespace the anchor was made for and outlives it (the anchor is dropped
/// by the namespace's pernet exit). `timer` is initialised. While `hooked`, `ops` is
/// registered in `net` with `priv_` pointing at `self`, which is pinned.
#[pin_data(PinnedDrop)]
pub(crate) struct NetCtl<T: NetOps> {
    #[pin]
    data: T,
    ops: Opaque<bindings::nf_hook_ops>,
    timer: Opaque<bindings::timer_list>,
    net: *mut bindings::net,
    hooked: AtomicBool,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The raw parts are only touched through the kernel's own synchronisation (hook
// registration, timer API); `T` is `Send + Sync`.
unsafe impl<T: NetOps> Send for NetCtl<T> {}
// SAFETY: As above.
unsafe impl<T: NetOps> Sync for NetCtl<T> {}

impl<T: NetOps> NetCtl<T> {
    /// Builds the anchor of `net` around `data` and hooks LOCAL_OUT.
    pub(crate) fn new(net: &Net, data: impl PinInit<T, Error>) -> Result<Pin<KBox<Self>>> {
        let this = KBox::pin_init(
            try_pin_init!(Self {
                data <- data,
                ops: Opaque::uninit(),
                timer: Opaque::uninit(),
                net: net.as_ptr(),
                hooked: AtomicBool::new(false),
                _pin: PhantomPinned,
            }),
            GFP_KERNEL,
        )?;
        let ptr: *const Self = &*this;
        // SAFETY: `this` is pinned on the heap: the timer and the hook table stay at these
        // addresses until `drop`, which shuts the timer down and unregisters the hook.
        unsafe {
            bindings::timer_setup(this.timer.get(), Some(Self::timer_fn), 0);
            let mut ops: bindings::nf_hook_ops = core::mem::zeroed();
            ops.hook = Some(Self::hook_fn);
            ops.priv_ = ptr.cast_mut().cast::<c_void>();
            ops.pf = bindings::NFPROTO_IPV6 as u8;
            ops.hooknum = bindings::nf_inet_hooks_NF_INET_LOCAL_OUT as c_uint;
            ops.priority = bindings::nf_ip6_hook_priorities_NF_IP6_PRI_FIRST;
            this.ops.get().write(ops);
            kernel::error::to_result(bindings::nf_register_net_hook(this.net, this.ops.get()))?;
        }
        // INVARIANT: Registered above.
        this.hooked.store(true, Ordering::Release);
        Ok(this)
    }

    /// The state.
    pub(crate) fn data(&self) -> &T {
        &self.data
    }

    /// The namespace.
    pub(crate) fn net(&self) -> &Net {
        // SAFETY: By the type invariant the namespace outlives the anchor.
        unsafe { Net::from_raw(self.net) }
    }

    /// Sets the timer to fire `ms` milliseconds from now, pending or not
    /// (from `tick`, which knows the next deadline).
    pub(crate) fn arm(&self, ms: u32) {
        let at = Self::jiffies_in(ms);
        // SAFETY: The timer is initialised (type invariant); after shutdown in drop,
        // `mod_timer` is a no-op.
        unsafe { bindings::mod_timer(self.timer.get(), at) };
    }

    /// Makes the timer fire `ms` milliseconds from now at the latest: a
    /// pending earlier expiry stays (after an event that may have set a
    /// deadline).
    pub(crate) fn arm_within(&self, ms: u32) {
        let at = Self::jiffies_in(ms);
        // SAFETY: The timer is initialised (type invariant); after shutdown in drop,
        // `timer_reduce` is a no-op like `mod_timer`.
        unsafe { bindings::timer_reduce(self.timer.get(), at) };
    }

    fn jiffies_in(ms: u32) -> kernel::ffi::c_ulong {
        // SAFETY: `jiffies` is always readable; the conversion is a pure function.
        unsafe {
            let now = core::ptr::read_volatile(core::ptr::addr_of!(bindings::jiffies));
            now.wrapping_add(bindings::__msecs_to_jiffies(ms))
        }
    }

    unsafe extern "C" fn timer_fn(t: *mut bindings::timer_list) {
        let off = core::mem::offset_of!(Self, timer);
        // SAFETY: `t` is the `timer` field of a live anchor: the timer is shut down before
        // the anchor is dropped. CAST: `Opaque<timer_list>` has the layout of `timer_list`.
        let this = unsafe { &*t.cast::<u8>().sub(off).cast::<Self>() };
        this.data.tick(this);
    }

    unsafe extern "C" fn hook_fn(
        priv_: *mut c_void,
        skb: *mut bindings::sk_buff,
        _state: *const bindings::nf_hook_state,
    ) -> c_uint {
        // SAFETY: `priv_` is the anchor, alive while its hook is registered; the hook gets
        // a valid IPv6 skb for the duration of the call.
        let (this, mut view) = unsafe { (&*priv_.cast::<Self>(), Skb::from_raw(skb)) };
        match this.data.local_out(this, &mut view) {
            Verdict::Accept => bindings::NF_ACCEPT,
            Verdict::Drop => bindings::NF_DROP,
            Verdict::Steal => {
                let Some(skb) = core::ptr::NonNull::new(skb) else { return bindings::NF_DROP };
                // SAFETY: Answering NF_STOLEN hands the skb over.
                this.data.stolen(this, unsafe { OwnedSkb::from_raw(skb) });
                bindings::NF_STOLEN
            }
        }
    }
}

#[pinned_drop]
impl<T: NetOps> PinnedDrop for NetCtl<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Registered when `hooked` (type invariant); unregistering waits for hooks in
        // flight. Then no new timer arming comes from the hook, and the shutdown stops the
        // timer for good before the state goes.
        unsafe {
            if self.hooked.load(Ordering::Acquire) {
                bindings::nf_unregister_net_hook(self.net, self.ops.get());
            }
            bindings::timer_shutdown_sync(self.timer.get());
        }
    }
}

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
