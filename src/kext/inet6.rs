// SPDX-License-Identifier: GPL-2.0

//! An IPv6 extension-header handler (`inet6_add_protocol()`), with its
//! ICMPv6 error handler and its segmentation offload entry.

use core::marker::PhantomData;

use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::bindings;
use kernel::error::{code::EBUSY, Result};
use kernel::ffi::{c_int, c_uchar};

use super::skb::Skb;

/// What a handler did with a packet.
pub(crate) enum Verdict {
    /// Taken (or dropped): the handler is done with it.
    Consumed,
    /// Its header was removed: the stack goes on with the next header,
    /// as after any extension header.
    Resubmit,
    /// Answered as a host without a handler answers: ICMPv6 Parameter
    /// Problem, unrecognized Next Header, pointing at the octet naming it.
    Unrecognized,
}

/// What receives the packets of one IPv6 next-header value.
pub(crate) trait Handler: 'static {
    /// The next-header value.
    const PROTOCOL: u8;
    /// A packet for us: `skb->data` is at its header.  Runs in softirq.
    fn receive(skb: &mut Skb<'_>) -> Verdict;
    /// An ICMPv6 error of `icmp_type`/`code` quoting a packet of ours:
    /// `skb->data` is at the quoted IPv6 header, `offset` is where our
    /// header starts within it, `info` the error's pointer or MTU.
    fn error(skb: &mut Skb<'_>, icmp_type: u8, code: u8, offset: usize, info: u32);
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
        p.err_handler = Some(Self::err_handler);
        // Not final: like the Destination Options handler, ours may hand the
        // packet back for its next header.
        p.flags = bindings::INET6_PROTO_NOPOLICY;
        let prot = KBox::new(p, GFP_KERNEL)?;
        // SAFETY: `prot` is valid and stays at this address until drop unregisters it.
        if unsafe { bindings::inet6_add_protocol(&*prot, T::PROTOCOL) } < 0 {
            return Err(EBUSY);
        }
        // INVARIANT: Registered above.
        Ok(Self { prot, _p: PhantomData })
    }

    unsafe extern "C" fn handler(skb: *mut bindings::sk_buff) -> c_int {
        let verdict = {
            // SAFETY: The IPv6 input path hands us a valid skb with an IPv6 network header.
            let mut view = unsafe { Skb::from_raw(skb) };
            T::receive(&mut view)
        };
        match verdict {
            // A positive return makes `ip6_protocol_deliver_rcu()` resubmit the skb with the
            // next header that `IP6CB(skb)->nhoff` names.
            Verdict::Resubmit => 1,
            Verdict::Consumed => {
                // SAFETY: The skb is ours to free once handled. This is `consume_skb()`, which
                // a kernel without tracepoints has only as an inline function.
                unsafe { bindings::sk_skb_reason_drop(core::ptr::null_mut(), skb, bindings::skb_drop_reason_SKB_CONSUMED) };
                0
            }
            Verdict::Unrecognized => {
                // SAFETY: The skb is ours: the error quotes it, then it is freed. `IP6CB` is
                // the control block of a received IPv6 packet, whose `nhoff` is the offset of
                // the octet that named this header.
                unsafe {
                    let cb = (*skb).cb.as_ptr().cast::<bindings::inet6_skb_parm>();
                    bindings::icmp6_send(
                        skb,
                        bindings::ICMPV6_PARAMPROB as u8,
                        bindings::ICMPV6_UNK_NEXTHDR as u8,
                        u32::from((*cb).nhoff),
                        core::ptr::null(),
                        cb,
                    );
                    bindings::kfree_skb(skb);
                }
                0
            }
        }
    }

    unsafe extern "C" fn err_handler(
        skb: *mut bindings::sk_buff,
        _opt: *mut bindings::inet6_skb_parm,
        icmp_type: u8,
        code: u8,
        offset: c_int,
        info: bindings::__be32,
    ) -> c_int {
        let Ok(offset) = usize::try_from(offset) else { return 0 };
        // SAFETY: `icmpv6_notify()` hands us the ICMPv6 skb with `data` at the quoted IPv6
        // header (pulled: 40 octets at least) for the duration of the call.
        let mut view = unsafe { Skb::from_raw(skb) };
        T::error(&mut view, icmp_type, code, offset, u32::from_be(info));
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

/// A segmentation offload entry that only says "an extension header of
/// the usual format": GSO and GRO then step over it as over a Destination
/// Options header (`ipv6_gso_pull_exthdrs()`), so segments of a GSO
/// packet each carry a copy.
///
/// # Invariants
///
/// `off` is registered for `protocol` until drop.
pub(crate) struct Offload {
    off: KBox<bindings::net_offload>,
    protocol: u8,
}

// SAFETY: A table of constants.
unsafe impl Send for Offload {}
// SAFETY: `&Offload` gives access to nothing.
unsafe impl Sync for Offload {}

impl Offload {
    /// Registers the entry for `protocol`; `EBUSY` when it has one.
    pub(crate) fn new(protocol: u8) -> Result<Self> {
        // SAFETY: All-zero is a valid `net_offload` (no callbacks, no flags).
        let mut o: bindings::net_offload = unsafe { core::mem::zeroed() };
        o.flags = bindings::INET6_PROTO_GSO_EXTHDR;
        let off = KBox::new(o, GFP_KERNEL)?;
        // SAFETY: `off` is valid and stays at this address until drop unregisters it.
        if unsafe { bindings::inet6_add_offload(&*off, protocol as c_uchar) } < 0 {
            return Err(EBUSY);
        }
        // INVARIANT: Registered above.
        Ok(Self { off, protocol })
    }
}

impl Drop for Offload {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; `inet6_del_offload` waits for users in
        // flight (synchronize_net) before returning.
        unsafe { bindings::inet6_del_offload(&*self.off, self.protocol as c_uchar) };
    }
}
