// SPDX-License-Identifier: GPL-2.0

//! Socket buffers: what the shim reads of received IPv6 packets, and the
//! IPv6 packets it builds and sends itself.

use kernel::bindings;
use kernel::error::{code::ENOMEM, Error, Result};
use kernel::ffi::c_int;

use super::net::Net;

/// An IPv6 address.
pub(crate) type Addr = [u8; 16];

const IPV6_HDR_LEN: usize = 40;

/// A socket buffer the caller may read for the duration of a callback.
///
/// # Invariants
///
/// `skb` is a valid `sk_buff` whose network header is an IPv6 header, for `'a`.
pub(crate) struct Skb<'a> {
    skb: *mut bindings::sk_buff,
    _p: core::marker::PhantomData<&'a mut bindings::sk_buff>,
}

impl<'a> Skb<'a> {
    /// # Safety
    ///
    /// `skb` must be valid, with an IPv6 network header, for the returned lifetime.
    pub(crate) unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Skb<'a> {
        // INVARIANT: By the safety requirements.
        Skb { skb, _p: core::marker::PhantomData }
    }

    /// (source, destination, next header) of the IPv6 header.
    pub(crate) fn ipv6(&self) -> (Addr, Addr, u8) {
        // SAFETY: By the type invariant the network header is an IPv6 header, whose 40
        // octets the stack has already pulled into the linear area.
        let h = unsafe { &*bindings::skb_network_header(self.skb).cast::<[u8; IPV6_HDR_LEN]>() };
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src.copy_from_slice(&h[8..24]);
        dst.copy_from_slice(&h[24..40]);
        (src, dst, h[6])
    }

    /// The first `len` octets at `skb->data` (where an upper-layer handler
    /// finds its header), pulled into the linear area; `None` if shorter.
    pub(crate) fn data(&mut self, len: usize) -> Option<&[u8]> {
        let l = u32::try_from(len).ok()?;
        // SAFETY: `skb` is valid by the type invariant; pulling may reallocate the head,
        // after which `data` is re-read below.
        if !unsafe { bindings::pskb_may_pull(self.skb, l) } {
            return None;
        }
        // SAFETY: `pskb_may_pull` made `len` octets at `data` linear and readable for as long
        // as the skb is not changed, which `&mut self` prevents.
        Some(unsafe { core::slice::from_raw_parts((*self.skb).data, len) })
    }

    /// The namespace of the device the packet came in or goes out on.
    pub(crate) fn net(&self) -> Option<&'a Net> {
        // SAFETY: `skb` is valid; `dev` is checked for NULL and a device holds its namespace.
        unsafe {
            let dev = (*self.skb).__bindgen_anon_1.__bindgen_anon_1.__bindgen_anon_1.dev;
            (!dev.is_null()).then(|| Net::from_raw(bindings::dev_net(dev)))
        }
    }

    /// The socket that sent it, if any (full sockets only).
    pub(crate) fn sk(&self) -> Option<&super::sock::Sock> {
        // SAFETY: `skb->sk` is valid while the skb holds it. Time-wait and request sockets
        // are mini sockets without the fields of a full one (`sk_fullsock()`).
        unsafe {
            let sk = (*self.skb).sk;
            if sk.is_null() {
                return None;
            }
            let state = u32::from((*sk).__sk_common.skc_state);
            (state != bindings::TCP_TIME_WAIT && state != bindings::TCP_NEW_SYN_RECV)
                .then(|| super::sock::Sock::from_raw(sk))
        }
    }
}

/// Sends an IPv6 packet `src` -> `dst` carrying `payload` under next header
/// `nexthdr`, routed in `net` (may be called from softirq).
pub(crate) fn send_ipv6(net: &Net, src: &Addr, dst: &Addr, nexthdr: u8, payload: &[u8]) -> Result {
    let plen = u16::try_from(payload.len()).map_err(|_| Error::from_errno(-(bindings::EMSGSIZE as i32)))?;
    let mut fl6 = bindings::flowi6::default();
    fl6.daddr.in6_u.u6_addr8 = *dst;
    fl6.saddr.in6_u.u6_addr8 = *src;
    fl6.__fl_common.flowic_proto = nexthdr;
    // SAFETY: `net` is valid, `fl6` is a valid flow for the lookup, no socket.
    let route = unsafe { bindings::ip6_route_output_flags(net.as_ptr(), core::ptr::null_mut(), &mut fl6, 0) };
    // SAFETY: `ip6_route_output_flags` always returns a referenced dst, maybe an error one.
    if unsafe { (*route).error } != 0 {
        // SAFETY: We own the reference.
        unsafe { bindings::dst_release(route) };
        return Err(Error::from_errno(-(bindings::ENETUNREACH as i32)));
    }
    let head = bindings::LL_MAX_HEADER as usize + IPV6_HDR_LEN;
    // SAFETY: Plain allocation, usable in atomic context.
    let skb = unsafe {
        bindings::__alloc_skb((head + payload.len()) as u32, bindings::GFP_ATOMIC, 0, bindings::NUMA_NO_NODE)
    };
    if skb.is_null() {
        // SAFETY: We own the reference.
        unsafe { bindings::dst_release(route) };
        return Err(ENOMEM);
    }
    let mut hdr = [0u8; IPV6_HDR_LEN];
    hdr[0] = 0x60;
    hdr[4..6].copy_from_slice(&plen.to_be_bytes());
    hdr[6] = nexthdr;
    hdr[7] = 64;
    hdr[8..24].copy_from_slice(src);
    hdr[24..40].copy_from_slice(dst);
    // SAFETY: `skb` is ours with `head + payload.len()` octets of room: reserve the head,
    // put the payload, push the header; each copy fits what was just made room for. The
    // route reference moves into the skb, which `ip6_local_out` consumes (and which sets
    // `skb->protocol`).
    let err = unsafe {
        bindings::skb_reserve(skb, head as c_int);
        let p = bindings::skb_put(skb, u32::from(plen)).cast::<u8>();
        core::ptr::copy_nonoverlapping(payload.as_ptr(), p, payload.len());
        let h = bindings::skb_push(skb, IPV6_HDR_LEN as u32).cast::<u8>();
        core::ptr::copy_nonoverlapping(hdr.as_ptr(), h, IPV6_HDR_LEN);
        bindings::skb_reset_network_header(skb);
        bindings::skb_dst_set(skb, route);
        bindings::ip6_local_out(net.as_ptr(), core::ptr::null_mut(), skb)
    };
    // Positive values are congestion notifications, not failures.
    if err < 0 {
        return Err(Error::from_errno(err));
    }
    Ok(())
}
