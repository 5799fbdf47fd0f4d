// SPDX-License-Identifier: GPL-2.0

//! What only the KUnit cases (src/tests.rs) do to packets: make a built
//! packet look received or offloaded, segment it as a device without
//! offloads would, and check sums.  Kept out of the data path's wrapper.

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::EINVAL, Result};
use kernel::ffi::c_int;

use super::{ipv6, Addr, OwnedSkb, IPV6_HDR_LEN};

impl OwnedSkb {
    /// Puts the packet where an upper-layer handler of the IPv6 input path
    /// finds it: `data` and the transport header `offset` octets after the
    /// network header, `IP6CB(skb)->nhoff` at the IPv6 header's Next
    /// Header; with `complete`, a `CHECKSUM_COMPLETE` sum over the packet,
    /// as a device that sums what it receives leaves it.
    pub(crate) fn as_received(&mut self, offset: u32, complete: bool) {
        let len = self.bytes().len();
        // SAFETY: Owned (type invariant); `offset` lies within the linear packet (callers);
        // the control block of an skb in the IPv6 input path is its `inet6_skb_parm`.
        unsafe {
            let skb = self.0.as_ptr();
            if complete {
                let nh = bindings::skb_network_header(skb);
                let headers = (*skb).__bindgen_anon_4.__bindgen_anon_1.as_mut();
                headers.__bindgen_anon_1.csum = bindings::csum_partial(nh.cast(), len as c_int, 0);
                headers.set_ip_summed(bindings::CHECKSUM_COMPLETE as u8);
            }
            bindings::skb_pull(skb, offset);
            bindings::skb_set_transport_header(skb, 0);
            let cb = (*skb).cb.as_mut_ptr().cast::<bindings::inet6_skb_parm>();
            cb.write(bindings::inet6_skb_parm { nhoff: 6, ..Default::default() });
        }
    }

    /// Whether a `CHECKSUM_COMPLETE` sum still matches the packet from its
    /// network header.
    pub(crate) fn complete_sum_holds(&self) -> bool {
        // Ones' complement: 0 and 0xffff are the same sum.
        let fold = |s: u32| {
            let s = (s & 0xffff) + (s >> 16);
            let s = (s & 0xffff) + (s >> 16);
            if s == 0xffff {
                0
            } else {
                s
            }
        };
        let bytes = self.bytes();
        // SAFETY: Owned (type invariant); reading the sum and summing our own bytes.
        unsafe {
            let headers = (*self.0.as_ptr()).__bindgen_anon_4.__bindgen_anon_1.as_ref();
            let want = bindings::csum_partial(bytes.as_ptr().cast(), bytes.len() as c_int, 0);
            fold(headers.__bindgen_anon_1.csum) == fold(want)
        }
    }

    /// Turns the packet, IPv6 then TCP, into what TCP hands to IPv6 for a
    /// device with TSO: a GSO packet of `mss`-octet segments, its checksum
    /// left to finish (`CHECKSUM_PARTIAL`, the pseudo-header over the
    /// current addresses in place).
    pub(crate) fn make_tcp_gso(&mut self, mss: u16) {
        // SAFETY: Owned (type invariant), `data` at a linear IPv6 header followed by at least
        // a TCP header (callers); the shared info sits at the end of the head.
        unsafe {
            let skb = self.0.as_ptr();
            let nh = bindings::skb_network_header(skb);
            bindings::skb_set_transport_header(skb, IPV6_HDR_LEN as c_int);
            let th = nh.add(IPV6_HDR_LEN);
            let len = (*skb).len - IPV6_HDR_LEN as u32;
            let src = nh.add(ipv6::offset::SRC_ADDR).cast::<bindings::in6_addr>();
            let dst = nh.add(ipv6::offset::DST_ADDR).cast::<bindings::in6_addr>();
            let check = !bindings::csum_ipv6_magic(src, dst, len, bindings::IPPROTO_TCP as u8, 0);
            th.add(16).cast::<u16>().write_unaligned(check);
            let headers = (*skb).__bindgen_anon_4.__bindgen_anon_1.as_mut();
            headers.__bindgen_anon_1.__bindgen_anon_1.csum_start = th.offset_from((*skb).head) as u16;
            headers.__bindgen_anon_1.__bindgen_anon_1.csum_offset = 16;
            headers.set_ip_summed(bindings::CHECKSUM_PARTIAL as u8);
            headers.protocol = (bindings::ETH_P_IPV6 as u16).to_be();
            let shinfo = bindings::skb_shinfo(skb);
            let payload = len - u32::from(*th.add(12) >> 4) * 4;
            (*shinfo).gso_size = mss;
            (*shinfo).gso_type = bindings::SKB_GSO_TCPV6;
            (*shinfo).gso_segs = payload.div_ceil(u32::from(mss)) as u16;
        }
    }

    /// Segments a GSO packet in software, as for a device without any
    /// offload: the segments, each from its IPv6 header.
    pub(crate) fn segment(self) -> Result<KVec<OwnedSkb>> {
        // SAFETY: Owned (type invariant) GSO IPv6 packet with `data` at its network header,
        // which becomes the (empty) MAC header; `__skb_gso_segment` returns an error pointer,
        // the original skb itself when it has nothing to segment, or a list of new skbs,
        // ours, linked through `next`; the original stays ours and is freed when `self`
        // drops (or is returned as the one segment).
        unsafe {
            let skb = self.0.as_ptr();
            bindings::skb_reset_mac_header(skb);
            (*skb).mac_len = 0;
            let mut seg = bindings::__skb_gso_segment(skb, 0, true);
            if seg.is_null() || seg as usize >= usize::MAX - 4095 {
                return Err(EINVAL);
            }
            let mut out = KVec::new();
            if seg == skb {
                out.push(self, GFP_KERNEL)?;
                return Ok(out);
            }
            while let Some(s) = core::ptr::NonNull::new(seg) {
                seg = (*s.as_ptr()).__bindgen_anon_1.__bindgen_anon_1.next;
                (*s.as_ptr()).__bindgen_anon_1.__bindgen_anon_1.next = core::ptr::null_mut();
                if let Err(e) = out.push(OwnedSkb(s), GFP_KERNEL) {
                    bindings::kfree_skb(s.as_ptr());
                    bindings::kfree_skb_list(seg);
                    return Err(e.into());
                }
            }
            Ok(out)
        }
    }
}

/// Whether the upper-layer checksum in `l4` (the whole upper-layer
/// packet of protocol `proto`) holds over the pseudo-header of `src` and
/// `dst` (RFC 8200 §8.1).
pub(crate) fn l4_checksum_holds(src: &Addr, dst: &Addr, proto: u8, l4: &[u8]) -> bool {
    let (Ok(len), Ok(ilen)) = (u32::try_from(l4.len()), c_int::try_from(l4.len())) else { return false };
    // SAFETY: Sums of our own buffers; `Addr` has the layout of `in6_addr`'s octets.
    unsafe {
        let sum = bindings::csum_partial(l4.as_ptr().cast(), ilen, 0);
        bindings::csum_ipv6_magic(src.as_ptr().cast(), dst.as_ptr().cast(), len, proto, sum) == 0
    }
}
