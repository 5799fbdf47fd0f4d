// SPDX-License-Identifier: GPL-2.0

//! The control plane of one network namespace: its contexts, its
//! responder, and the control messages they exchange.  Driven by received
//! control messages (softirq), outgoing traffic (the LOCAL_OUT hook) and a
//! timer; every decision is the core's (`proto::context`).
//!
//! One spinlock guards the state; it is taken with softirqs disabled and
//! never held while sending, since what we send passes our own hook.  The
//! packet path does not take it: it reads, under RCU, the sorted ULID
//! pairs that have a context, republished on every change of the table.

use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::sync::SpinLock;

use crate::crypto::{KernelMac, KernelRandom, KernelSha1};
use crate::kext::crypto::now_ms;
use crate::kext::net::PernetState;
use crate::kext::netctl::{bh_disabled, NetCtl, NetOps};
use crate::kext::rcu::Rcu;
use crate::kext::skb::{send_ipv6, Skb};
use crate::proto::codec::{self, Inbound, Local};
use crate::proto::context::{shimmable, Context, Host, Locators, Path, Responder, State as CtxState, Table, Tag, Transmit, UlidPair};
use crate::proto::wire::PROTOCOL;

/// Most contexts a namespace keeps; beyond it, new peers go unshimmed.
const MAX_CONTEXTS: usize = 1024;
/// How often the timer runs while contexts exist (retransmissions, hold-down).
const TICK_MS: u32 = 100;
/// IPv6 next header of ICMPv6.
const ICMPV6: u8 = 58;
/// Largest control message we emit (RFC 5533 §5.1: packets stay within 1280).
const MAX_MESSAGE: usize = 1280 - 40;

/// The contexts of a namespace, in slots.
struct Slots(KVec<Option<Context>>);

impl Slots {
    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Context> {
        self.0.iter_mut().flatten()
    }

    fn len(&self) -> usize {
        self.0.iter().flatten().count()
    }
}

impl Table for Slots {
    fn by_ulids(&mut self, ulids: &UlidPair, fii: u32) -> Option<&mut Context> {
        self.iter_mut().find(|c| c.ulids() == *ulids && c.fii() == fii)
    }
    fn by_nonce(&mut self, init_nonce: u32, path: &Path) -> Option<&mut Context> {
        self.iter_mut().find(|c| c.answered_by(init_nonce, path))
    }
    fn by_peer_tag(&mut self, ct: Tag, path: &Path) -> Option<&mut Context> {
        self.iter_mut()
            .find(|c| c.ct_peer() == Some(ct) && c.path().src == path.dst && c.path().dst == path.src)
    }
    fn by_local_tag(&mut self, ct: Tag) -> Option<&mut Context> {
        self.iter_mut().find(|c| c.ct_local() == ct)
    }
    fn tag_in_use(&self, ct: Tag) -> bool {
        self.0.iter().flatten().any(|c| c.ct_local() == ct)
    }
    fn insert(&mut self, ctx: Context) -> bool {
        if self.len() >= MAX_CONTEXTS {
            return false;
        }
        if let Some(slot) = self.0.iter_mut().find(|s| s.is_none()) {
            *slot = Some(ctx);
            return true;
        }
        self.0.push(Some(ctx), GFP_ATOMIC).is_ok()
    }
    fn drop_confused(&mut self, new: &Context) {
        for slot in self.0.iter_mut() {
            if slot.as_ref().is_some_and(|c| c.confused_with(new)) {
                *slot = None;
            }
        }
    }
}

struct State {
    host: Host,
    table: Slots,
    mac: KernelMac,
    sha1: KernelSha1,
    rng: KernelRandom,
}

/// Up to two messages to send once the lock is dropped.
type Out = [Option<Transmit>; 2];

/// The control plane of one namespace.
#[pin_data]
pub(crate) struct Control {
    #[pin]
    state: SpinLock<State>,
    /// The ULID pairs of every context, sorted; written under `state`.
    pairs: Rcu<KVec<UlidPair>>,
}

impl Control {
    pub(crate) fn new() -> Result<impl PinInit<Self, Error>> {
        let mut rng = KernelRandom;
        let state = State {
            host: Host { responder: Responder::new(now_ms(), &mut rng), locators: Locators::default() },
            table: Slots(KVec::new()),
            mac: KernelMac::new()?,
            sha1: KernelSha1::new()?,
            rng,
        };
        let pairs = Rcu::new(KVec::new(), GFP_KERNEL)?;
        Ok(try_pin_init!(Self { state <- new_spinlock!(state, "shim6_control"), pairs }))
    }

    fn locked<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        bh_disabled(|| f(&mut self.state.lock()))
    }

    /// Republishes the ULID pairs of `table` (call with the lock held).
    fn publish(&self, table: &Slots) {
        let mut pairs = KVec::new();
        for c in table.0.iter().flatten() {
            if pairs.push(c.ulids(), GFP_ATOMIC).is_err() {
                // Out of memory: keep the old set; the packet path then takes the
                // lock for pairs it does not know, which is only slower.
                return;
            }
        }
        pairs.sort_unstable();
        let _ = self.pairs.replace(pairs, GFP_ATOMIC);
    }

    /// Whether the ULID pair `(local, peer)` has an established context.
    pub(crate) fn associated(&self, local: &[u8; 16], peer: &[u8; 16]) -> bool {
        let ulids = UlidPair { local: *local, peer: *peer };
        self.locked(|st| st.table.by_ulids(&ulids, 0).is_some_and(|c| c.state() == CtxState::Established))
    }

    /// A copy of the `index`-th context, for shimctl.
    pub(crate) fn context(&self, index: usize) -> Option<Context> {
        self.locked(|st| st.table.0.iter().flatten().nth(index).cloned())
    }

    /// A Shim6 control message arrived on `path`.
    pub(crate) fn receive(&self, ctl: &NetCtl<Self>, path: Path, bytes: &[u8]) {
        let out = self.locked(|st| match codec::parse(bytes, path, &mut st.sha1) {
            Ok(Inbound::Context(rx)) => {
                let out = st.host.receive(&mut st.table, &rx, now_ms(), &mut st.rng, &mut st.mac);
                self.publish(&st.table);
                out
            }
            // Keepalive, Probe and Error belong to REAP, not there yet.
            Ok(Inbound::Other(_)) | Err(_) => [None, None],
        });
        send(ctl, &out);
        ctl.arm(TICK_MS);
    }
}

fn send(ctl: &NetCtl<Control>, out: &Out) {
    for tx in out.iter().flatten() {
        let Ok(mut buf) = KVec::from_elem(0u8, MAX_MESSAGE, GFP_ATOMIC) else { return };
        // A host without an HBA set sends no Locator List (see codec).
        let Ok(n) = codec::emit(tx, &Local { pds: None }, &mut buf) else { continue };
        // A lost control message is retransmitted by its sender's timers.
        let _ = send_ipv6(ctl.net(), &tx.path.src, &tx.path.dst, PROTOCOL, buf.get(..n).unwrap_or(&[]));
    }
}

impl NetOps for Control {
    fn local_out(&self, ctl: &NetCtl<Self>, skb: &mut Skb<'_>) {
        let (src, dst, nexthdr) = skb.ipv6();
        // Our own control messages and ICMPv6 (errors, neighbour discovery)
        // are no reason to set up a context: only upper-layer traffic is.
        if nexthdr == PROTOCOL || nexthdr == ICMPV6 || !shimmable(&src) || !shimmable(&dst) || src == dst {
            return;
        }
        if skb.sk().is_some_and(crate::sockopt::dont_shim) {
            return;
        }
        // Deferred setup (the draft's default): the packet leaves at once,
        // the context is set up beside it.
        let ulids = UlidPair { local: src, peer: dst };
        if self.pairs.read(|p| p.binary_search(&ulids).is_ok()) {
            return;
        }
        let out = self.locked(|st| {
            if st.table.by_ulids(&ulids, 0).is_some() {
                return [None, None];
            }
            let ct = Host::fresh_tag(&st.table, &mut st.rng);
            let path = Path { src, dst };
            let (ctx, i1) = Context::initiate(ulids, 0, ct, Locators::new(&[src]), path, now_ms(), &mut st.rng);
            if st.table.insert(ctx) {
                self.publish(&st.table);
                [Some(i1), None]
            } else {
                [None, None]
            }
        });
        if out[0].is_some() {
            send(ctl, &out);
            ctl.arm(TICK_MS);
        }
    }

    fn tick(&self, ctl: &NetCtl<Self>) {
        let mut out = KVec::new();
        let busy = self.locked(|st| {
            let now = now_ms();
            let mut removed = false;
            for slot in st.table.0.iter_mut() {
                let Some(ctx) = slot else { continue };
                match ctx.on_timeout(now, &mut st.rng) {
                    Ok(Some(tx)) => {
                        // Out of memory: this retransmission is lost like any other.
                        let _ = out.push(tx, GFP_ATOMIC);
                    }
                    Ok(None) => {}
                    // Hold-down over: back to IDLE.
                    Err(()) => {
                        *slot = None;
                        removed = true;
                    }
                }
            }
            if removed {
                self.publish(&st.table);
            }
            st.table.0.iter().flatten().any(|c| c.deadline().is_some())
        });
        for tx in out.iter() {
            send(ctl, &[Some(*tx), None]);
        }
        if busy {
            ctl.arm(TICK_MS);
        }
    }
}

/// The handler of IPv6 next header 140: control messages go to their
/// namespace's control plane.
pub(crate) struct ShimProtocol;

impl crate::kext::inet6::Handler for ShimProtocol {
    const PROTOCOL: u8 = PROTOCOL;

    fn receive(skb: &mut Skb<'_>) {
        let (src, dst, _) = skb.ipv6();
        let Some(net) = skb.net() else { return };
        let ctl = &crate::netns::NetState::of(net).ctl;
        let Some(&[_, hel, p, ..]) = skb.data(8).and_then(|h| h.first_chunk::<4>()) else {
            return;
        };
        // The payload extension header (P = 1) belongs to the data path.
        if p & 0x80 != 0 {
            return;
        }
        let len = (usize::from(hel) + 1) * 8;
        let Some(bytes) = skb.data(len) else { return };
        ctl.data().receive(ctl, Path { src, dst }, bytes);
    }
}
