// SPDX-License-Identifier: GPL-2.0

//! The data path of a namespace: the LOCAL_OUT hook that puts outgoing
//! payload on its context's locators, the IPv6 handler of next header 140
//! that takes incoming payload back to its ULIDs and hands control
//! messages to the control plane, and the translation of ICMPv6 errors
//! about shimmed packets.  It reads the contexts' routes under RCU and
//! takes no lock; what it cannot decide alone (a new context, a packet to
//! hold, payload on a path the snapshot does not know) it asks of
//! [`Control`], the control plane.

use core::sync::atomic::Ordering;

use kernel::prelude::*;

use crate::control::{Control, DataDrop, Stats};
use crate::kext::inet6::Verdict;
use crate::kext::net::PernetState;
use crate::kext::net::Net;
use crate::kext::netfilter::{HookPoint, Verdict as Out, LOCAL_IN, LOCAL_OUT};
use crate::kext::skb::{OwnedSkb, Skb};
use crate::kext::sock::Sock;
use crate::proto::context::{Chosen, Out as Decision, Outgoing, Path, UlidPair};
use crate::proto::wire::ipv6::{self, HEADER_LEN as IPV6_HDR_LEN};
use crate::proto::wire::payload::HEADER_LEN;
use crate::proto::wire::{ContextTag, Header, Peek, PROTOCOL};
use crate::uapi;

/// IPv6 next header of TCP.
const TCP: u8 = 6;
/// ICMPv6 Parameter Problem, code "unrecognized Next Header".
const PARAM_PROBLEM: (u8, u8) = (4, 1);
/// ICMPv6 error types passed on to the upper layer (RFC 4443).
const DEST_UNREACH: u8 = 1;
const PKT_TOOBIG: u8 = 2;
const TIME_EXCEED: u8 = 3;
/// IPv6 minimum MTU: a path MTU is never lowered below it.
const MIN_MTU: u32 = 1280;

/// Whether a packet of `sk` may start a context: a full socket that is not
/// a TCP one waiting for the peer's ACK (its peer is then only a source
/// address that may be spoofed).  TCP sockets that connect() pick their
/// peer; accepted ones showed its return routability; UDP sockets are held
/// to the namespace's rate limit on new contexts.
fn may_initiate(sk: Option<&Sock>) -> bool {
    sk.is_some_and(|sk| !sk.tcp_syn_recv())
}

/// Puts outgoing payload on `path` with the peer's tag `ct` (§11): the
/// payload extension header goes in, the locators replace the ULIDs, and
/// the packet is routed again.
///
/// The upper layer sized the packet for the ULIDs' route; when the 8
/// octets would not fit the MTU of the locators' route (as the context's
/// last packet found it), the ULIDs' route gets that MTU less 8, so that
/// later packets fit (TCP resyncs its MSS, UDP fragments to it).  Lowering
/// to a target, not by 8 from where the route is, keeps the packets
/// already sized for the old MTU from lowering it again and again.
///
/// A packet that the 8 octets make too big for its locators' route is
/// fragmented here, at its source, as IPv6 allows: the upper layer sized
/// it right for the path it knows, so it must not be dropped with a Packet
/// Too Big.  TCP would not resend it: it ignores the error once its MSS
/// already shrank to the lowered route, and the stream stalls until a
/// retransmission timeout (seen on the first moved flow of a boot: 499
/// packets in 3 s, 10 segments dropped as `Ip6FragFails`, none resent).
/// No IPv6 route goes below 1280 either, so on a locator path of less than
/// 1288 every full packet takes this way.
fn rewrite(net: &Net, skb: &mut Skb<'_>, at: usize, path: &Path, ct: ContextTag, stats: &Stats) -> Result {
    let ext = HEADER_LEN as u32;
    let (len, segment) = skb.lengths();
    let size = segment.unwrap_or(len) + ext;
    let path_mtu = stats.path_mtu.load(Ordering::Relaxed);
    if path_mtu != 0 && size > path_mtu && path_mtu >= MIN_MTU + ext {
        skb.lower_route_mtu(path_mtu - ext);
    }
    skb.insert_ext(at, ct, &path.src, &path.dst)?;
    skb.reroute(net)?;
    if let Some(mtu) = skb.route_mtu() {
        stats.path_mtu.store(mtu, Ordering::Relaxed);
        if size > mtu {
            skb.allow_fragmentation();
        }
    }
    Ok(())
}

/// The LOCAL_OUT hook: payload leaving the host.
pub(crate) struct Output;

impl HookPoint for Output {
    type Owner = Control;
    const HOOKNUM: kernel::ffi::c_uint = LOCAL_OUT;

    fn run(ctl: &Control, skb: &mut Skb<'_>) -> Out {
        ctl.local_out(skb)
    }

    fn stolen(ctl: &Control, skb: OwnedSkb) {
        ctl.hold(skb);
    }
}

/// The LOCAL_IN hook: payload of a context on its ULIDs, which carries no
/// extension header, tells REAP that the peer reaches us (payload with
/// the header is seen by the next-header-140 handler).
pub(crate) struct Input;

impl HookPoint for Input {
    type Owner = Control;
    const HOOKNUM: kernel::ffi::c_uint = LOCAL_IN;

    fn run(ctl: &Control, skb: &mut Skb<'_>) -> Out {
        ctl.local_in(skb);
        Out::Accept
    }

    fn stolen(_ctl: &Control, _skb: OwnedSkb) {}
}

impl Control {
    fn local_in(&self, skb: &mut Skb<'_>) {
        if !self.enabled() || self.has_no_context() {
            return;
        }
        let (src, dst, first) = skb.ipv6();
        if first == PROTOCOL {
            return;
        }
        let ulids = UlidPair { local: dst, peer: src };
        if self.with_route(&ulids, 0, |r, stats| {
            self.heard(r, stats);
            r.exploring
        }) == Some(true)
        {
            self.reap_heard(&ulids, &Path { src, dst });
        }
    }

    /// What becomes of a packet the shim leaves as it is, or refuses.
    fn verdict(&self, d: Decision) -> Out {
        if d == Decision::InvalidLocator {
            self.dropped(DataDrop::InvalidLocator);
            return Out::Refuse(Error::from_errno(-(uapi::EINVALIDLOCATOR as i32)));
        }
        Out::Accept
    }

    fn local_out(&self, skb: &mut Skb<'_>) -> Out {
        if !self.enabled() {
            return Out::Accept;
        }
        let (src, dst, first) = skb.ipv6();
        // The Hop-by-Hop header stays right behind the IPv6 header: the
        // shim's goes after it (RFC 5533 §4.6), where the upper layer's
        // header is named.
        let (next_header, at) = match skb.hop_by_hop() {
            Some((next, len)) => (next, IPV6_HDR_LEN + len),
            None => (first, IPV6_HDR_LEN),
        };
        let sk = skb.sk();
        // The datagram's own locators (SOL_SHIM cmsg): read once per packet.
        let sent = skb.sent_locators();
        let pkt = Outgoing {
            src,
            dst,
            next_header,
            // A listener's SHIM_DONTSHIM covers its SYN-ACKs too.
            dont_shim: skb.policy_sk().is_some_and(crate::sockopt::dont_shim),
            may_initiate: may_initiate(sk),
            setup_first: sk.is_some_and(crate::sockopt::setup_first),
            chose_locators: sent.is_some(),
        };
        if !pkt.shimmable() {
            return self.verdict(pkt.unshimmed());
        }
        let ulids = UlidPair { local: src, peer: dst };
        // The datagram's own locators (SOL_SHIM cmsg), else the socket's
        // sticky ones (SHIM_LOC_*_SEND): looked up only for packets that
        // have a context, and checked against it (under the table's lock)
        // only when there are some.
        let chosen = || match sent {
            Some((src, dst)) => Chosen { src, dst, datagram: true },
            None => sk.map_or(Chosen::default(), |sk| {
                let (src, dst) = crate::sockopt::send_locators(sk);
                Chosen { src, dst, datagram: false }
            }),
        };
        // A socket that forked a context sends on it once it is up.
        let fii = sk.map_or(0, crate::sockopt::fii);
        let decided = self.with_route(&ulids, fii, |r, stats| {
            self.sent(r, stats);
            let mut failed = false;
            let verify = |path: &Path| {
                let ok = self.may_send_on(&ulids, r.fii, path);
                failed = !ok;
                ok
            };
            let out = pkt.classify(Some(r), chosen, verify);
            if failed && out != Decision::InvalidLocator {
                self.dropped(DataDrop::StickyIgnored);
            }
            // Counted as it travels: with the extension header.
            if matches!(out, Decision::Rewrite(..)) {
                Stats::count(&stats.out_packets, &stats.out_octets, skb.packet_len() + HEADER_LEN as u32);
            }
            // Rewritten and held-back packets need their context's
            // counters; the others leave without touching the refcount.
            (out, matches!(out, Decision::Rewrite(..) | Decision::Hold).then(|| stats.clone()))
        });
        // A full hold refuses the packet (the sender's call fails with
        // EAGAIN): sending it unshimmed would break the promise of
        // SHIM_DEFERRED_CONTEXT_SETUP 0 behind the application's back.
        let steal = |stats: &Stats| {
            if self.reserve_hold(stats) {
                Out::Steal
            } else {
                self.dropped(DataDrop::HoldFull);
                Out::Refuse(EAGAIN)
            }
        };
        let (out, stats) = decided.unwrap_or_else(|| (pkt.classify(None, chosen, |_| false), None));
        match (out, stats) {
            (Decision::InvalidLocator, _) => self.verdict(out),
            (Decision::Rewrite(path, ct), Some(stats)) => {
                // A jumbogram (BIG TCP) cannot take the header: its socket
                // goes back to 64 KiB packets and resends this one so.
                // Dropped, never sent on the ULIDs when the flow moved.
                if skb.jumbo() {
                    if let Some(sk) = sk {
                        sk.limit_gso_legacy();
                    }
                    return Out::Drop;
                }
                match rewrite(self.net(), skb, at, &path, ct, &stats) {
                    Ok(()) => Out::Accept,
                    Err(_) => {
                        self.dropped(DataDrop::RewriteFailed);
                        Out::Drop
                    }
                }
            }
            (Decision::Hold, Some(stats)) => steal(&stats),
            // Deferred setup (the draft's default): the packet leaves at
            // once, the context is set up beside it.
            (Decision::Initiate { hold }, _) => match self.initiate(ulids) {
                Some(stats) if hold => steal(&stats),
                _ => Out::Accept,
            },
            _ => Out::Accept,
        }
    }
}

/// An ICMPv6 Destination Unreachable, Packet Too Big or Time Exceeded
/// quoting payload we shimmed: the upper layer gets it as if it quoted the
/// packet it sent, on the ULIDs, and a Packet Too Big tells it 8 octets
/// less, room for the extension header (RFC 5533 §8).  Without this a path
/// with a smaller MTU blackholes a moved TCP flow.  The locator route
/// learns the path MTU itself.  The quoted peer tag, which only the path
/// saw, and locators must be those of a context: anyone can send errors.
fn translate_error(ctl: &Control, skb: &mut Skb<'_>, icmp_type: u8, code: u8, offset: usize, info: u32) {
    if !matches!((icmp_type, code), (DEST_UNREACH, _) | (PKT_TOOBIG, 0) | (TIME_EXCEED, _)) || offset != IPV6_HDR_LEN {
        return;
    }
    let Some(quoted) = skb.data(offset + HEADER_LEN) else { return };
    let Ok(ip) = ipv6::Packet::new_checked(quoted) else { return };
    let path = Path { src: ip.src_addr(), dst: ip.dst_addr() };
    // A quoted control message is ours alone: nothing to pass on.
    let Ok(Peek::Payload(payload)) = Header::peek(quoted.get(offset..).unwrap_or_default()) else { return };
    let Some(ulids) = ctl.quoted_payload(payload.context_tag, &path) else {
        ctl.dropped(DataDrop::IcmpUnmatched);
        return;
    };
    let info = if icmp_type == PKT_TOOBIG {
        skb.update_quoted_pmtu(ctl.net(), info);
        // Never below the IPv6 minimum, which the upper layer would ignore:
        // the rewrite then fragments at the source (see `rewrite`).
        info.saturating_sub(HEADER_LEN as u32).max(MIN_MTU)
    } else {
        info
    };
    // Out of memory: the upper layer misses this error, as if it were lost.
    let _ = skb.notify_translated(&ulids.local, &ulids.peer, icmp_type, code, info);
}

/// The handler of IPv6 next header 140: control messages go to their
/// namespace's control plane.
pub(crate) struct ShimProtocol;

impl crate::kext::inet6::Handler for ShimProtocol {
    const PROTOCOL: u8 = PROTOCOL;

    fn receive(skb: &mut Skb<'_>) -> Verdict {
        let (src, dst, _) = skb.ipv6();
        let Some(net) = skb.net() else { return Verdict::Consumed };
        let ctl = &crate::netns::NetState::of(net).ctl;
        if !ctl.enabled() {
            return Verdict::Unrecognized;
        }
        let path = Path { src, dst };
        let Some(first) = skb.data(HEADER_LEN) else { return Verdict::Consumed };
        let payload = match Header::peek(first) {
            Ok(Peek::Payload(p)) => p,
            Ok(Peek::Control { len }) => {
                if let Some(bytes) = skb.data(len) {
                    ctl.receive(path, bytes);
                }
                return Verdict::Consumed;
            }
            Err(_) => return Verdict::Consumed,
        };
        let len = skb.packet_len();
        let Some(ulids) = ctl.payload_in(payload.context_tag, &path, len) else {
            return Verdict::Consumed;
        };
        // For SHIM_LOC_*_RECV, which only datagram sockets report, and
        // only when a socket of the namespace asked: other packets do
        // without the allocation.  Out of memory: the locators are not
        // reported, the packet still goes.
        if payload.next_header != TCP && crate::netns::NetState::of(net).has_receivers() {
            let _ = skb.record_locators(&dst, &src);
        }
        match skb.remove_ext(&ulids.peer, &ulids.local) {
            Ok(()) => Verdict::Resubmit,
            Err(_) => Verdict::Consumed,
        }
    }

    fn error(skb: &mut Skb<'_>, icmp_type: u8, code: u8, offset: usize, info: u32) {
        let Some(net) = skb.net() else { return };
        let ctl = &crate::netns::NetState::of(net).ctl;
        if (icmp_type, code) != PARAM_PROBLEM {
            translate_error(ctl, skb, icmp_type, code, offset, info);
            return;
        }
        let Some(quoted) = skb.data(offset + 4) else { return };
        // The pointer must name the Next Header octet that says 140 in
        // front of the Shim6 header, as a host without SHIM6 would.
        let pointer = info as usize;
        if pointer >= offset || quoted.get(pointer) != Some(&PROTOCOL) {
            ctl.dropped(DataDrop::IcmpUnmatched);
            return;
        }
        let Ok(ip) = ipv6::Packet::new_checked(quoted) else { return };
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        // The whole quoted Shim6 header, as far as the error carries it.
        let total = skb.lengths().0 as usize;
        let Some(quoted) = skb.data(total) else { return };
        let shim = quoted.get(offset..).unwrap_or(&[]);
        ctl.icmp_error(&src, &dst, shim);
    }
}
