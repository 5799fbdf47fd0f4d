// SPDX-License-Identifier: GPL-2.0

//! Ownership of the `SOL_SHIM` socket level (`include/net/shim.h`).

use kernel::ffi::{c_int, c_uint, c_void};
use core::marker::PhantomData;
use core::sync::atomic::AtomicU32;

use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::bindings;
use kernel::error::{code::ENOMEM, from_result, to_result, Result};
use kernel::ThisModule;

use super::sock::{OptIn, OptOut, Sock};

/// Per-socket state of the `SOL_SHIM` owner, behind `sk->sk_shim`.
///
/// # Safety
///
/// The all-zero bit pattern must be a valid value (new states are zero-filled).
pub(crate) unsafe trait SockState: Sync + 'static {}

/// Per-socket state made of `N` atomic words, all zero on a new socket.
#[repr(C)]
pub(crate) struct SockWords<const N: usize>([AtomicU32; N]);

// SAFETY: All-zero `AtomicU32`s are valid values.
unsafe impl<const N: usize> SockState for SockWords<N> {}

impl<const N: usize> SockWords<N> {
    /// Word `I`; an index out of range does not compile.
    pub(crate) fn word<const I: usize>(&self) -> &AtomicU32 {
        const { assert!(I < N) };
        &self.0[I]
    }

    /// Words `I..I + K`; a range out of bounds does not compile (so the
    /// `Option` is always `Some`).
    pub(crate) fn words<const I: usize, const K: usize>(&self) -> Option<&[AtomicU32; K]> {
        const { assert!(I + K <= N) };
        self.0.get(I..I + K).and_then(|w| w.try_into().ok())
    }
}

/// Per-datagram shim data of sendmsg() (`struct shim_skb_ext`).
pub(crate) struct SkbExt<'a>(&'a mut bindings::shim_skb_ext);

impl SkbExt<'_> {
    /// The datagram's own source locator.
    pub(crate) fn set_local(&mut self, a: &[u8; 16]) {
        self.0.local.in6_u.u6_addr8 = *a;
        self.0.flags |= bindings::SHIM_SKB_EXT_LOCAL;
    }

    /// The datagram's own destination locator.
    pub(crate) fn set_peer(&mut self, a: &[u8; 16]) {
        self.0.peer.in6_u.u6_addr8 = *a;
        self.0.flags |= bindings::SHIM_SKB_EXT_PEER;
    }
}

/// The control messages of a recvmsg() being answered.
///
/// # Invariants
///
/// `msg` is the `msghdr` of the recvmsg() in progress.
pub(crate) struct CmsgOut<'a> {
    msg: *mut bindings::msghdr,
    _p: PhantomData<&'a mut bindings::msghdr>,
}

impl CmsgOut<'_> {
    /// Adds a `SOL_SHIM` control message of type `ty`; a full buffer
    /// sets `MSG_CTRUNC`, as for any control message.
    pub(crate) fn put(&mut self, ty: i32, data: &[u8]) {
        let Ok(len) = c_int::try_from(data.len()) else { return };
        // SAFETY: `msg` is the live msghdr (type invariant); `data` is valid for `len`.
        unsafe { bindings::put_cmsg(self.msg, bindings::SOL_SHIM as c_int, ty, len, data.as_ptr().cast_mut().cast()) };
    }
}

/// What the owner of `SOL_SHIM` does.  A module implements it once.
pub(crate) trait ShimOps: 'static {
    /// The per-socket state.
    type State: SockState;

    /// setsockopt(2) at level `SOL_SHIM`.
    fn setsockopt(sk: &Sock, optname: i32, val: &OptIn) -> Result;
    /// getsockopt(2) at level `SOL_SHIM`.
    fn getsockopt(sk: &Sock, optname: i32, val: &OptOut) -> Result;
    /// One `SOL_SHIM` control message of sendmsg(2): type `ty`, payload `data`.
    fn cmsg_send(sk: &Sock, ty: i32, data: &[u8], ext: &mut SkbExt<'_>) -> Result;
    /// recvmsg(2) of an IPv6 datagram on `sk`, which has shim state: the
    /// datagram came on `locators` (local, peer); `out` takes `SOL_SHIM`
    /// control messages.
    fn cmsg_recv(sk: &Sock, locators: (super::skb::Addr, super::skb::Addr), out: &mut CmsgOut<'_>);
    /// `sk`, whose state is `state`, is being destroyed (maybe in softirq).
    fn sk_release(sk: &Sock, state: &Self::State);
    /// `sk` was cloned from a listener whose state is `parent` (accept(),
    /// in softirq); `sk` has no state yet.
    fn sk_clone(sk: &Sock, parent: &Self::State);
    /// The retransmission timer of `sk`, an IPv6 TCP connection that has
    /// not timed out, fired: its path may have failed.  The segment it
    /// resends last went out `sent_ms` ago.  The socket is locked (maybe
    /// in softirq): nothing here may take a socket lock.
    fn tcp_timeout(sk: &Sock, sent_ms: u32);

    /// The socket's state, if it has one.
    fn state(sk: &Sock) -> Option<&Self::State> {
        // SAFETY: `sk` is valid; the kernel hands out only states this owner created, sized
        // for `Self::State` (the owner's only state type), alive while `sk` is.
        unsafe { bindings::shim_sk_state(sk.as_ptr()).cast::<Self::State>().as_ref() }
    }

    /// The socket's state, created zero-filled if it has none.
    fn state_or_create(sk: &Sock) -> Result<&Self::State> {
        state_get(sk, bindings::GFP_KERNEL)
    }

    /// As [`ShimOps::state_or_create`], from atomic context.
    fn state_or_create_atomic(sk: &Sock) -> Result<&Self::State> {
        state_get(sk, bindings::GFP_ATOMIC)
    }
}

/// The owner's state of `sk`, created zero-filled with `gfp` if it has none.
fn state_get<S: SockState>(sk: &Sock, gfp: bindings::gfp_t) -> Result<&S> {
    // SAFETY: `sk` is valid; the kernel hands out only states this owner created, sized for
    // `S` (the owner's only state type), alive while `sk` is; a new state is zero-filled,
    // valid by `SockState`'s contract.
    unsafe {
        bindings::shim_sk_state_get(sk.as_ptr(), core::mem::size_of::<S>(), gfp).cast::<S>().as_ref()
    }
    .ok_or(ENOMEM)
}

/// The registration of `T` as owner of `SOL_SHIM`; given up on drop.
///
/// # Invariants
///
/// `ops` is registered with `shim_register()` until drop.
pub(crate) struct Registration<T: ShimOps> {
    ops: KBox<bindings::shim_ops>,
    _p: PhantomData<T>,
}

// SAFETY: The table holds function pointers and the module pointer, usable from any thread.
unsafe impl<T: ShimOps> Send for Registration<T> {}
// SAFETY: `&Registration` gives access to nothing.
unsafe impl<T: ShimOps> Sync for Registration<T> {}

impl<T: ShimOps> Registration<T> {
    /// Makes `T` the owner of `SOL_SHIM`; `EBUSY` if there is one.
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        let ops = KBox::new(
            bindings::shim_ops {
                owner: module.as_ptr(),
                setsockopt: Some(Self::setsockopt),
                getsockopt: Some(Self::getsockopt),
                cmsg_send: Some(Self::cmsg_send),
                cmsg_recv: Some(Self::cmsg_recv),
                sk_release: Some(Self::sk_release),
                sk_clone: Some(Self::sk_clone),
                tcp_timeout: Some(Self::tcp_timeout),
            },
            GFP_KERNEL,
        )?;
        // SAFETY: `ops` is valid and stays at this address until `drop` unregisters it.
        to_result(unsafe { bindings::shim_register(&*ops) })?;
        // INVARIANT: Registered above.
        Ok(Self { ops, _p: PhantomData })
    }

    unsafe extern "C" fn setsockopt(
        sk: *mut bindings::sock,
        optname: c_int,
        optval: bindings::sockptr_t,
        optlen: c_uint,
    ) -> c_int {
        from_result(|| {
            // SAFETY: The socket layer passes a live socket and an optval valid for optlen.
            let (sk, val) = unsafe { (Sock::from_raw(sk), OptIn::new(optval, optlen)) };
            T::setsockopt(sk, optname, &val)?;
            Ok(0)
        })
    }

    unsafe extern "C" fn getsockopt(
        sk: *mut bindings::sock,
        optname: c_int,
        optval: bindings::sockptr_t,
        optlen: bindings::sockptr_t,
    ) -> c_int {
        from_result(|| {
            // SAFETY: The socket layer passes a live socket and an optval/optlen pair as
            // getsockopt() defines them.
            let (sk, val) = unsafe { (Sock::from_raw(sk), OptOut::new(optval, optlen)) };
            T::getsockopt(sk, optname, &val)?;
            Ok(0)
        })
    }

    unsafe extern "C" fn cmsg_send(
        sk: *mut bindings::sock,
        cmsg: *const bindings::cmsghdr,
        ext: *mut bindings::shim_skb_ext,
    ) -> c_int {
        from_result(|| {
            const HDR: usize = cmsg_align(core::mem::size_of::<bindings::cmsghdr>());
            // SAFETY: The caller checked the header with CMSG_OK: it lies in kernel memory,
            // with `cmsg_len` octets from its start, at least a header's worth.
            let data = unsafe {
                let len = ((*cmsg).cmsg_len as usize).saturating_sub(HDR);
                core::slice::from_raw_parts(cmsg.cast::<u8>().add(HDR), len)
            };
            // SAFETY: A live socket and the sender's per-datagram data, ours for the call.
            let (sk, ty, ext) = unsafe { (Sock::from_raw(sk), (*cmsg).cmsg_type, &mut *ext) };
            T::cmsg_send(sk, ty, data, &mut SkbExt(ext))?;
            Ok(0)
        })
    }

    unsafe extern "C" fn cmsg_recv(sk: *mut bindings::sock, msg: *mut bindings::msghdr, skb: *mut bindings::sk_buff) {
        // SAFETY: The receive path passes the live socket, the recvmsg()'s msghdr and the
        // datagram's skb, whose headers are kept, for the duration of the call.
        unsafe {
            if (*skb).__bindgen_anon_4.__bindgen_anon_1.as_ref().protocol != (bindings::ETH_P_IPV6 as u16).to_be() {
                return;
            }
            let view = super::skb::Skb::from_raw(skb);
            // Locators it came on: those the shim recorded, else its own
            // addresses, which were its locators.
            let (src, dst, _) = view.ipv6();
            let locators = view.received_locators().unwrap_or((dst, src));
            let mut out = CmsgOut { msg, _p: PhantomData };
            T::cmsg_recv(Sock::from_raw(sk), locators, &mut out);
        }
    }

    unsafe extern "C" fn sk_release(sk: *mut bindings::sock, state: *mut c_void) {
        // SAFETY: The socket is being destroyed but still valid; `state` is the state of this
        // owner (the kernel checks its generation), sized and zero-initialised for `T::State`.
        let (sk, state) = unsafe { (Sock::from_raw(sk), &*state.cast::<T::State>()) };
        T::sk_release(sk, state);
    }
}

impl<T: ShimOps> Registration<T> {
    unsafe extern "C" fn sk_clone(sk: *mut bindings::sock, parent: *mut c_void) {
        // SAFETY: `sk_clone_lock()` passes the new socket, valid and not yet visible to
        // anyone else, and the listener's state of this owner (generation checked by the
        // kernel), sized and zero-initialised for `T::State`, alive for the call.
        let (sk, parent) = unsafe { (Sock::from_raw(sk), &*parent.cast::<T::State>()) };
        T::sk_clone(sk, parent);
    }

    unsafe extern "C" fn tcp_timeout(sk: *mut bindings::sock, sent_ms: u32) {
        // SAFETY: `tcp_retransmit_timer()` and `tcp_send_loss_probe()` pass their socket, live
        // and locked for the call.
        T::tcp_timeout(unsafe { Sock::from_raw(sk) }, sent_ms);
    }
}

impl<T: ShimOps> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; returns once no call is in flight.
        unsafe { bindings::shim_unregister(&*self.ops) };
    }
}

const fn cmsg_align(len: usize) -> usize {
    let a = core::mem::size_of::<usize>();
    (len + a - 1) & !(a - 1)
}
