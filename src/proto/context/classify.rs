// SPDX-License-Identifier: GPL-2.0

//! The packet path's decisions, pure: what becomes of a packet leaving
//! the host, given what the packet and its socket say and the route of its
//! context (if any); what becomes of payload arriving with our tag.  The
//! kernel's LOCAL_OUT hook and next-header-140 handler gather the facts,
//! ask here, and carry out the answer.

use super::*;

/// IPv6 next header of ICMPv6.
const ICMPV6: u8 = 58;

/// What the packet path knows of an outgoing IPv6 packet and its socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// Its addresses: the ULIDs, if it belongs to a context.
    pub src: Addr,
    /// See `src`.
    pub dst: Addr,
    /// The upper layer's header (behind a Hop-by-Hop header, if any).
    pub next_header: u8,
    /// Its socket (or the listener of a SYN-ACK) set `SHIM_DONTSHIM`.
    pub dont_shim: bool,
    /// Its socket may start a context: a full socket that picked its peer
    /// or showed the peer's return routability (not a TCP socket in
    /// SYN-RECV, whose peer is only a source that may be spoofed; not
    /// what the stack sends on nobody's behalf, such as resets).
    pub may_initiate: bool,
    /// Its socket set `SHIM_DEFERRED_CONTEXT_SETUP` 0: its packets wait
    /// for their context.
    pub setup_first: bool,
}

/// What becomes of an outgoing packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Out {
    /// It leaves as it is.
    Pass,
    /// It takes the payload extension header with the peer's tag and
    /// leaves on the locator pair.
    Rewrite(Path, ContextTag),
    /// It waits for its context's setup to end.
    Hold,
    /// It starts a context for its ULID pair, and leaves as it is (or
    /// waits for that context, `hold`).
    Initiate {
        /// See [`Out::Hold`].
        hold: bool,
    },
}

impl Outgoing {
    /// Whether the packet may belong to a context at all: not a control
    /// message of ours, global unicast addresses, not to itself, its
    /// socket not opted out.  Only such packets are looked up.
    pub fn shimmable(&self) -> bool {
        self.next_header != super::super::wire::PROTOCOL
            && shimmable(&self.src)
            && shimmable(&self.dst)
            && self.src != self.dst
            && !self.dont_shim
    }

    /// The decision for a [`Outgoing::shimmable`] packet, given the route
    /// of its ULID pair's context (if any) and, asked only for a packet
    /// that has one, the locators chosen by the datagram or its socket
    /// (`SHIM_LOC_*_SEND`).
    pub fn classify(&self, route: Option<&Route>, chosen: impl FnOnce() -> (Option<Addr>, Option<Addr>)) -> Out {
        // Only upper-layer traffic waits or sets up: never ICMPv6, which
        // may be the very error that ends a setup.
        let upper = self.next_header != ICMPV6;
        let hold = upper && self.setup_first;
        match route {
            Some(r) => {
                let (src, dst) = chosen();
                match r.out(src, dst) {
                    Some((path, ct)) => Out::Rewrite(path, ct),
                    None if r.setting_up && hold => Out::Hold,
                    None => Out::Pass,
                }
            }
            None if upper && self.may_initiate => Out::Initiate { hold },
            None => Out::Pass,
        }
    }
}

/// What becomes of payload that arrived with our tag on `path`, given the
/// tag's route: its ULIDs when the route alone vouches for the pair, or
/// `None` to ask the endpoint ([`Endpoint::payload_in`]).
pub fn classify_in(route: Option<&Route>, path: &Path) -> Option<UlidPair> {
    route?.restore(path)
}
