// SPDX-License-Identifier: GPL-2.0

//! Socket buffers: what the shim reads of received IPv6 packets, and the
//! IPv6 packets it builds and sends itself.  Header layouts and the
//! payload header's insertion and removal are the core's
//! (`proto::wire::{ipv6, payload}`); this file only finds the bytes.

use kernel::bindings;
use kernel::error::{
    code::{EINVAL, ENOMEM},
    Error, Result,
};
use kernel::ffi::c_int;

use super::net::Net;
use crate::proto::wire::ipv6::{self, HEADER_LEN as IPV6_HDR_LEN};
use crate::proto::wire::payload::{self, HEADER_LEN as EXT_LEN};
use crate::proto::wire::ContextTag;

pub(crate) mod testing;

/// An IPv6 address.
pub(crate) type Addr = ipv6::Address;

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
        let h = ipv6::Packet::new_unchecked(self.ipv6_header());
        (h.src_addr(), h.dst_addr(), h.next_header())
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

    /// The full socket whose policy the packet follows: its own, or for a
    /// SYN-ACK of a request socket the listener it answers for; `None` for
    /// time-wait sockets and packets of no socket.
    pub(crate) fn policy_sk(&self) -> Option<&super::sock::Sock> {
        // SAFETY: `skb->sk` is valid while the skb holds it. A request socket (NEW_SYN_RECV)
        // keeps its listener, a full socket it holds a reference on, in `skc_listener`.
        unsafe {
            let sk = (*self.skb).sk;
            if sk.is_null() {
                return None;
            }
            match u32::from((*sk).__sk_common.skc_state) {
                bindings::TCP_TIME_WAIT => None,
                bindings::TCP_NEW_SYN_RECV => {
                    let listener = (*sk).__sk_common.__bindgen_anon_5.skc_listener;
                    (!listener.is_null()).then(|| super::sock::Sock::from_raw(listener))
                }
                _ => Some(super::sock::Sock::from_raw(sk)),
            }
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

/// A socket buffer the shim owns: taken from the stack (`NF_STOLEN`),
/// given back by [`OwnedSkb::local_out`] or freed on drop.
///
/// # Invariants
///
/// `skb` is a valid IPv6 `sk_buff` leaving this host, owned by this value.
pub(crate) struct OwnedSkb(core::ptr::NonNull<bindings::sk_buff>);

// SAFETY: An owned skb may be handed to and freed from any context.
unsafe impl Send for OwnedSkb {}

impl OwnedSkb {
    /// # Safety
    ///
    /// `skb` must be a valid IPv6 skb leaving the host whose ownership passes to the result
    /// (the hook that had it answers `NF_STOLEN`).
    pub(crate) unsafe fn from_raw(skb: core::ptr::NonNull<bindings::sk_buff>) -> Self {
        // INVARIANT: By the safety requirements.
        Self(skb)
    }

    /// A new IPv6 packet `src` -> `dst` carrying `payload` under next
    /// header `nexthdr`, with room for link-layer headers (no route yet).
    pub(crate) fn ipv6(src: &Addr, dst: &Addr, nexthdr: u8, payload: &[u8]) -> Result<Self> {
        let plen = u16::try_from(payload.len()).map_err(|_| Error::from_errno(-(bindings::EMSGSIZE as i32)))?;
        let head = bindings::LL_MAX_HEADER as usize + IPV6_HDR_LEN;
        // SAFETY: Plain allocation, usable in atomic context.
        let skb = unsafe {
            bindings::__alloc_skb((head + payload.len()) as u32, bindings::GFP_ATOMIC, 0, bindings::NUMA_NO_NODE)
        };
        let skb = core::ptr::NonNull::new(skb).ok_or(ENOMEM)?;
        let hdr = ipv6::Repr { src: *src, dst: *dst, next_header: nexthdr, payload_len: plen, hop_limit: 64 }.to_bytes();
        // SAFETY: `skb` is ours with `head + payload.len()` octets of room: reserve the head,
        // put the payload, push the header; each copy fits what was just made room for.
        unsafe {
            let skb = skb.as_ptr();
            bindings::skb_reserve(skb, head as c_int);
            let p = bindings::skb_put(skb, u32::from(plen)).cast::<u8>();
            core::ptr::copy_nonoverlapping(payload.as_ptr(), p, payload.len());
            let h = bindings::skb_push(skb, IPV6_HDR_LEN as u32).cast::<u8>();
            core::ptr::copy_nonoverlapping(hdr.as_ptr(), h, IPV6_HDR_LEN);
            bindings::skb_reset_network_header(skb);
        }
        // INVARIANT: A valid IPv6 skb, ours.
        Ok(Self(skb))
    }

    fn into_raw(self) -> *mut bindings::sk_buff {
        let skb = self.0.as_ptr();
        core::mem::forget(self);
        skb
    }

    /// The packet from its network header, as far as it is linear.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: Owned (type invariant); the linear area runs from the head to `tail`, and
        // the network header lies in it; nothing changes it while `self` is borrowed.
        unsafe {
            let skb = self.0.as_ptr();
            let nh = bindings::skb_network_header(skb);
            let end = bindings::skb_tail_pointer(skb);
            core::slice::from_raw_parts(nh, usize::try_from(end.offset_from(nh)).unwrap_or(0))
        }
    }

    /// Detaches the packet from its socket, as `skb_orphan()` does: the
    /// destructor gives back what the socket accounted for it.  A packet
    /// held for a while must not keep its socket, and with it the socket's
    /// namespace, alive.
    pub(crate) fn orphan(&mut self) {
        // SAFETY: Owned (type invariant). The destructor, if any, is the socket's accounting
        // release for this skb, run once and then cleared with the socket pointer; an skb
        // with a socket always has one (`skb_orphan()` BUGs otherwise), so without it there
        // is nothing to release.
        unsafe {
            let skb = self.0.as_ptr();
            let fields = &mut (*skb).__bindgen_anon_3.__bindgen_anon_1;
            if let Some(destructor) = fields.destructor.take() {
                destructor(skb);
                (*skb).sk = core::ptr::null_mut();
            }
        }
    }

    /// A view of the packet.
    pub(crate) fn view(&mut self) -> Skb<'_> {
        // SAFETY: Owned and valid (type invariant) for as long as `self` is borrowed.
        unsafe { Skb::from_raw(self.0.as_ptr()) }
    }

    /// Sends the packet again from the top of the IPv6 output path in
    /// `net`, LOCAL_OUT hooks included.
    pub(crate) fn local_out(self, net: &Net) {
        let skb = self.into_raw();
        // SAFETY: The skb is ours (type invariant) and passes to the stack, which frees it
        // whatever becomes of it; it still holds its route and its socket.
        let _ = unsafe { bindings::ip6_local_out(net.as_ptr(), (*skb).sk, skb) };
    }
}

impl Drop for OwnedSkb {
    fn drop(&mut self) {
        // SAFETY: Owned (type invariant), freed once.
        unsafe { bindings::kfree_skb(self.0.as_ptr()) }
    }
}

impl Skb<'_> {
    fn ipv6_header(&self) -> &[u8; IPV6_HDR_LEN] {
        // SAFETY: By the type invariant the network header is an IPv6 header, whose 40
        // octets the stack has already pulled into the linear area.
        unsafe { &*bindings::skb_network_header(self.skb).cast::<[u8; IPV6_HDR_LEN]>() }
    }

    fn ipv6_header_mut(&mut self) -> &mut [u8; IPV6_HDR_LEN] {
        // SAFETY: The network header is an IPv6 header in the linear area (type invariant);
        // callers made the head private first (`skb_cow_head`/`skb_ensure_writable`).
        unsafe { &mut *bindings::skb_network_header(self.skb).cast::<[u8; IPV6_HDR_LEN]>() }
    }

    /// Sets source and destination and adjusts the payload length by `grow`
    /// (a jumbogram is never rewritten).
    fn readdress(&mut self, src: &Addr, dst: &Addr, grow: i16) -> Result {
        ipv6::Packet::new_unchecked(self.ipv6_header_mut()).readdress(src, dst, grow).map_err(|_| EINVAL)
    }

    /// Length of the IPv6 packet, and for a GSO packet the length of each
    /// IPv6 segment it will become.
    pub(crate) fn lengths(&self) -> (u32, Option<u32>) {
        // SAFETY: `skb` is valid (type invariant); the shared info of a GSO skb describes its
        // segments, and its headers up to the transport header are linear.
        unsafe {
            let skb = self.skb;
            if !bindings::skb_is_gso(skb) {
                return ((*skb).len, None);
            }
            let shinfo = bindings::skb_shinfo(skb);
            let nh = bindings::skb_network_header(skb);
            let th = bindings::skb_transport_header(skb);
            let l3 = th.offset_from(nh).max(0) as u32;
            // TCP's header length is its data offset; UDP's (GSO) is 8.
            let l4 = if *nh.add(ipv6::offset::NEXT_HEADER) == 6 { u32::from(*th.add(12) >> 4) * 4 } else { 8 };
            ((*skb).len, Some(l3 + l4 + u32::from((*shinfo).gso_size)))
        }
    }

    /// Length of the IPv6 packet from its network header, wherever
    /// `skb->data` is.
    pub(crate) fn packet_len(&self) -> u32 {
        // SAFETY: `skb` is valid (type invariant); the network header lies at or before `data`.
        unsafe {
            let skb = self.skb;
            let before = (*skb).data.offset_from(bindings::skb_network_header(skb)).max(0) as u32;
            (*skb).len + before
        }
    }

    /// Path MTU of the route the packet holds now.
    pub(crate) fn route_mtu(&self) -> Option<u32> {
        // SAFETY: `skb` is valid; its dst, if any, is held by the skb.
        unsafe {
            let dst = bindings::skb_dst(self.skb);
            (!dst.is_null()).then(|| bindings::dst_mtu(dst))
        }
    }

    /// Lets the stack fragment the packet at its source if it exceeds the
    /// path MTU, instead of answering Packet Too Big.
    pub(crate) fn allow_fragmentation(&mut self) {
        // SAFETY: `skb` is valid and ours for the hook's duration; `ignore_df` is a flag of
        // its header fields.
        unsafe { (*self.skb).__bindgen_anon_4.__bindgen_anon_1.as_mut().set_ignore_df(1) }
    }

    /// Lowers the path MTU of the route the packet holds (for what the
    /// packet's current addresses name).
    pub(crate) fn lower_route_mtu(&mut self, mtu: u32) {
        // SAFETY: `skb` is valid with an IPv6 header; a NULL dst is checked by the helper.
        unsafe { bindings::skb_dst_update_pmtu_no_confirm(self.skb, mtu) }
    }

    /// ICMPv6 error handler (`skb->data` at the quoted IPv6 header): the
    /// route to the quoted destination from the quoted source learns that
    /// its path MTU is `mtu` (a Packet Too Big about it).
    pub(crate) fn update_quoted_pmtu(&mut self, net: &Net, mtu: u32) {
        // SAFETY: `skb` is valid with the quoted IPv6 header (40 octets pulled) at `data`,
        // which is what `ip6_update_pmtu` reads; `net` is the skb's namespace.
        unsafe {
            bindings::ip6_update_pmtu(self.skb, net.as_ptr(), mtu.to_be(), 0, 0, bindings::kuid_t { val: 0 })
        }
    }

    /// ICMPv6 error handler (`skb->data` at the quoted IPv6 header, the
    /// payload extension header right behind it): hands a copy of the error
    /// to the upper layer as if it quoted the packet the upper layer sent,
    /// from `src` to `dst` without the extension header (RFC 5533 §8).
    pub(crate) fn notify_translated(&mut self, src: &Addr, dst: &Addr, icmp_type: u8, code: u8, info: u32) -> Result {
        // SAFETY: `skb` is valid; `skb_copy` returns a private, linear copy (or NULL) whose
        // `data` is at the same quoted header, which `pskb_may_pull` made at least
        // IPV6_HDR_LEN + EXT_LEN long. The core moves the IPv6 header EXT_LEN octets up
        // over the extension header, then `data` follows it. The copy is
        // ours until `kfree_skb`; `icmpv6_notify` only reads it, in the RCU read-side section
        // the error handler runs in.
        unsafe {
            if !bindings::pskb_may_pull(self.skb, (IPV6_HDR_LEN + EXT_LEN) as u32) {
                return Err(EINVAL);
            }
            let copy = bindings::skb_copy(self.skb, bindings::GFP_ATOMIC);
            if copy.is_null() {
                return Err(ENOMEM);
            }
            let quoted = core::slice::from_raw_parts_mut((*copy).data, IPV6_HDR_LEN + EXT_LEN);
            if payload::remove(quoted, IPV6_HDR_LEN, ipv6::offset::NEXT_HEADER).is_err() {
                bindings::kfree_skb(copy);
                return Err(EINVAL);
            }
            bindings::skb_pull(copy, EXT_LEN as u32);
            let mut h = ipv6::Packet::new_unchecked(&mut *(*copy).data.cast::<[u8; IPV6_HDR_LEN]>());
            h.set_payload_len(h.payload_len().saturating_sub(EXT_LEN as u16));
            h.set_src_addr(src);
            h.set_dst_addr(dst);
            bindings::icmpv6_notify(copy, icmp_type, code, info.to_be());
            bindings::kfree_skb(copy);
        }
        Ok(())
    }

    /// Outbound (LOCAL_OUT, `skb->data` at the IPv6 header): the
    /// Hop-by-Hop Options header right after the IPv6 header, if any, as
    /// (what it names next, its length); `None` without one, or when it is
    /// not in the linear area.
    pub(crate) fn hop_by_hop(&mut self) -> Option<(u8, usize)> {
        let (_, _, nexthdr) = self.ipv6();
        if u32::from(nexthdr) != bindings::NEXTHDR_HOP {
            return None;
        }
        let h = self.data(IPV6_HDR_LEN + 2)?;
        let (next, len) = (*h.get(IPV6_HDR_LEN)?, *h.get(IPV6_HDR_LEN + 1)?);
        Some((next, (usize::from(len) + 1) * 8))
    }

    /// Whether the packet is a jumbogram (payload length 0, the length in
    /// a Hop-by-Hop Jumbo Payload option: BIG TCP).
    pub(crate) fn jumbo(&self) -> bool {
        ipv6::Packet::new_unchecked(self.ipv6_header()).is_jumbogram()
    }

    /// Outbound (LOCAL_OUT, `skb->data` at the IPv6 header): inserts the
    /// payload extension header with tag `ct` `at` octets into the packet,
    /// right after the IPv6 header (`at` 40) or after the Hop-by-Hop
    /// Options header that must stay first (RFC 5533 §4.6), and readdresses
    /// the packet `src` -> `dst`.  The core's [`payload::insert`] moves the
    /// headers and names the new one where they named the upper layer.
    ///
    /// Only the headers move: the transport header and a pending checksum
    /// offload (`csum_start`) are offsets from the head and stay valid, and
    /// the upper-layer checksum covers the ULIDs, not these addresses.  A GSO
    /// packet keeps its segmentation; its segments carry the header as they
    /// carry any extension header (see [`Offload`](super::inet6::Offload)).
    pub(crate) fn insert_ext(&mut self, at: usize, ct: ContextTag, src: &Addr, dst: &Addr) -> Result {
        if at < IPV6_HDR_LEN || self.data(at).is_none() {
            return Err(EINVAL);
        }
        // What names the upper layer: the IPv6 header's Next Header, or
        // the Hop-by-Hop header's first octet.
        let next_header_at = if at == IPV6_HDR_LEN { ipv6::offset::NEXT_HEADER } else { IPV6_HDR_LEN };
        // SAFETY: `skb` is valid with `at` linear octets at `data` (checked above);
        // `skb_cow_head` makes EXT_LEN octets of private headroom and a private header (it
        // may move the head, so `data` is read after it). Pushing EXT_LEN octets makes
        // `data` the start of that room, followed by the `at` octets of headers: the slice
        // covers both, ours while `&mut self` is held.
        let headers = unsafe {
            let skb = self.skb;
            if bindings::skb_network_offset(skb) != 0 {
                return Err(EINVAL);
            }
            if bindings::skb_cow_head(skb, EXT_LEN as u32) != 0 {
                return Err(ENOMEM);
            }
            let new = bindings::skb_push(skb, EXT_LEN as u32).cast::<u8>();
            bindings::skb_reset_network_header(skb);
            core::slice::from_raw_parts_mut(new, EXT_LEN + at)
        };
        payload::insert(headers, at, next_header_at, ct).map_err(|_| EINVAL)?;
        self.readdress(src, dst, EXT_LEN as i16)
    }

    /// Inbound (an upper-layer handler, `skb->data` at the payload
    /// extension header): removes it with the core's [`payload::remove`],
    /// which moves the headers before it up by EXT_LEN octets and names
    /// its Next Header where they named it, readdresses the packet
    /// `src` -> `dst`, and leaves `skb->data` at what followed, for the
    /// stack to resubmit.
    ///
    /// A complete checksum (`CHECKSUM_COMPLETE`) loses what the headers
    /// and the extension header summed to and gains what they sum to now.
    pub(crate) fn remove_ext(&mut self, src: &Addr, dst: &Addr) -> Result {
        // SAFETY: `skb` is valid, its network header before `data` and `data` at the
        // extension header (upper-layer handler). `skb_ensure_writable` pulls EXT_LEN octets
        // and makes the head private (possibly moving it: pointers are read after it), so
        // the `nhlen` octets of network headers and the extension header behind them are
        // linear and ours. `IP6CB` is the IPv6 control block of a received packet; `nhoff`
        // names the octet, within the network headers, that names the extension header.
        // After the move, pulling EXT_LEN then pushing and pulling `nhlen` resets the
        // network and transport headers within the linear area.
        unsafe {
            let skb = self.skb;
            if bindings::skb_ensure_writable(skb, EXT_LEN as u32) != 0 {
                return Err(ENOMEM);
            }
            let nh = bindings::skb_network_header(skb);
            let nhlen = usize::try_from((*skb).data.offset_from(nh)).map_err(|_| EINVAL)?;
            let cb = (*skb).cb.as_ptr().cast::<bindings::inet6_skb_parm>();
            let nhoff = usize::from((*cb).nhoff);
            if nhlen < IPV6_HDR_LEN {
                return Err(EINVAL);
            }
            bindings::skb_postpull_rcsum(skb, nh.cast(), (nhlen + EXT_LEN) as u32);
            let headers = core::slice::from_raw_parts_mut(nh, nhlen + EXT_LEN);
            payload::remove(headers, nhlen, nhoff).map_err(|_| EINVAL)?;
            bindings::skb_pull(skb, EXT_LEN as u32);
            bindings::skb_set_transport_header(skb, 0);
            bindings::skb_push(skb, nhlen as u32);
            bindings::skb_reset_network_header(skb);
            bindings::skb_pull(skb, nhlen as u32);
            let r = self.readdress(src, dst, -(EXT_LEN as i16));
            bindings::skb_postpush_rcsum(skb, bindings::skb_network_header(skb).cast(), nhlen as u32);
            r
        }
    }

    /// Re-routes the packet after its addresses changed (LOCAL_OUT).
    pub(crate) fn reroute(&mut self, net: &Net) -> Result {
        // SAFETY: `skb` is valid and leaving the host in `net`; its socket, if any, is the one
        // it holds.
        kernel::error::to_result(unsafe { bindings::ip6_route_me_harder(net.as_ptr(), (*self.skb).sk, self.skb) })
    }

    /// The locators of the packet's shim extension: on a datagram being
    /// sent, what sendmsg() asked for (source, destination), either maybe
    /// absent; on a received one, what it came on.  `None` without any.
    pub(crate) fn sent_locators(&self) -> Option<(Option<Addr>, Option<Addr>)> {
        // SAFETY: `skb` is valid; its extension, if any, lives as long as the skb.
        let ext = unsafe { bindings::shim_skb_ext(self.skb).as_ref()? };
        // SAFETY: Reading the address octets of a plain `in6_addr` union.
        let (local, peer) = unsafe { (ext.local.in6_u.u6_addr8, ext.peer.in6_u.u6_addr8) };
        let has = |f: u32| ext.flags & f != 0;
        let r = (has(bindings::SHIM_SKB_EXT_LOCAL).then_some(local), has(bindings::SHIM_SKB_EXT_PEER).then_some(peer));
        (r.0.is_some() || r.1.is_some()).then_some(r)
    }

    /// The locators the shim recorded for a received packet (local, peer).
    pub(crate) fn received_locators(&self) -> Option<(Addr, Addr)> {
        let (local, peer) = self.sent_locators()?;
        Some((local?, peer?))
    }

    /// Records the locators a packet came on, for `SHIM_LOC_*_RECV`.
    pub(crate) fn record_locators(&mut self, local: &Addr, peer: &Addr) -> Result {
        let mut ext = bindings::shim_skb_ext::default();
        ext.local.in6_u.u6_addr8 = *local;
        ext.peer.in6_u.u6_addr8 = *peer;
        ext.flags = (bindings::SHIM_SKB_EXT_LOCAL | bindings::SHIM_SKB_EXT_PEER) as _;
        // SAFETY: `skb` is valid; the extension is copied.
        kernel::error::to_result(unsafe { bindings::shim_skb_ext_attach(self.skb, &ext) })
    }
}

/// Sends an IPv6 packet `src` -> `dst` carrying `payload` under next header
/// `nexthdr`, routed in `net` (may be called from softirq).
pub(crate) fn send_ipv6(net: &Net, src: &Addr, dst: &Addr, nexthdr: u8, payload: &[u8]) -> Result {
    let skb = OwnedSkb::ipv6(src, dst, nexthdr, payload)?;
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
    let skb = skb.into_raw();
    // SAFETY: The skb is ours; the route reference moves into it, and `ip6_local_out`
    // consumes the skb (and sets `skb->protocol`).
    let err = unsafe {
        bindings::skb_dst_set(skb, route);
        bindings::ip6_local_out(net.as_ptr(), core::ptr::null_mut(), skb)
    };
    // Positive values are congestion notifications, not failures.
    if err < 0 {
        return Err(Error::from_errno(err));
    }
    Ok(())
}
