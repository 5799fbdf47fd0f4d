// SPDX-License-Identifier: GPL-2.0

//! `shimctl monitor`: the changes of each context, multicast to the
//! `shim6` family's events group of its namespace.

use kernel::prelude::*;

use crate::kext::genl::{Msg, Multicast};
use crate::kext::net::Net;
use crate::proto::context::reap::ReapState;
use crate::proto::context::{Change, Event, State, UlidPair};
use crate::uapi;

const EVENT: u8 = uapi::shim6_genl_cmd_SHIM6_CMD_EVENT as u8;

/// The events group: the first of the family's.
const EVENTS: u32 = 0;

/// The family, to multicast on.
pub(crate) static MULTICAST: Multicast = Multicast::new();

/// An attribute's number, as netlink has it.
pub(crate) fn attr(a: uapi::shim6_genl_attr) -> u16 {
    a as u16
}

/// A context state, as the UAPI numbers it.
pub(crate) fn state(s: State) -> u8 {
    (match s {
        State::I1Sent => uapi::shim6_ctx_state_SHIM6_CTX_I1_SENT,
        State::I2Sent => uapi::shim6_ctx_state_SHIM6_CTX_I2_SENT,
        State::I2bisSent => uapi::shim6_ctx_state_SHIM6_CTX_I2BIS_SENT,
        State::Established => uapi::shim6_ctx_state_SHIM6_CTX_ESTABLISHED,
        State::EFailed => uapi::shim6_ctx_state_SHIM6_CTX_E_FAILED,
        State::NoSupport => uapi::shim6_ctx_state_SHIM6_CTX_NO_SUPPORT,
    }) as u8
}

/// A REAP state, as the UAPI numbers it.
pub(crate) fn reap_state(s: ReapState) -> u8 {
    (match s {
        ReapState::Operational => uapi::shim6_reap_state_SHIM6_REAP_OPERATIONAL,
        ReapState::Exploring => uapi::shim6_reap_state_SHIM6_REAP_EXPLORING,
        ReapState::InboundOk => uapi::shim6_reap_state_SHIM6_REAP_INBOUND_OK,
    }) as u8
}

fn event_type(t: uapi::shim6_event) -> u8 {
    t as u8
}

/// Tells `net`'s listeners of the events group that a context changed, at
/// `at` (ns, `CLOCK_REALTIME`).
pub(crate) fn event(net: &Net, at: u64, e: &Event) -> Result {
    MULTICAST.send(net, EVENTS, EVENT, |msg| {
        let t = match e.change {
            Change::State(_) => uapi::shim6_event_SHIM6_EV_STATE,
            Change::Reap(_) => uapi::shim6_event_SHIM6_EV_REAP,
            Change::Moved { .. } => uapi::shim6_event_SHIM6_EV_MOVED,
            Change::ProbeSent { .. } => uapi::shim6_event_SHIM6_EV_PROBE_SENT,
            Change::ProbeHeard { .. } => uapi::shim6_event_SHIM6_EV_PROBE_HEARD,
            Change::Feedback { .. } => uapi::shim6_event_SHIM6_EV_FEEDBACK,
        };
        put_context(msg, t, at, &e.ulids, e.fii)?;
        let count = |msg: &mut Msg, n: u32| msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_EV_COUNT), n);
        let pair = |msg: &mut Msg, local: &[u8; 16], peer: &[u8; 16]| -> Result {
            msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_LOC_LOCAL), local)?;
            msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_LOC_PEER), peer)
        };
        match e.change {
            Change::State(s) => msg.put_u8(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_STATE), state(s)),
            Change::Reap(s) => msg.put_u8(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_REAP_STATE), reap_state(s)),
            Change::Moved { from, to } => {
                pair(msg, &to.src, &to.dst)?;
                msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_EV_FROM_LOCAL), &from.src)?;
                msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_EV_FROM_PEER), &from.dst)
            }
            Change::ProbeSent { path, state, count: n } => {
                pair(msg, &path.src, &path.dst)?;
                msg.put_u8(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_REAP_STATE), reap_state(state))?;
                count(msg, n)
            }
            // The pair as the peer sent it on: ours is its destination.
            Change::ProbeHeard { path, state, count: n } => {
                pair(msg, &path.dst, &path.src)?;
                msg.put_u8(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_REAP_STATE), reap_state(state))?;
                count(msg, n)
            }
            Change::Feedback { reachable, count: n } => {
                msg.put_u8(attr(uapi::shim6_genl_attr_SHIM6_A_EV_REACHABLE), u8::from(reachable))?;
                count(msg, n)
            }
        }
    })
}

/// Tells `net`'s listeners that the context of `ulids` and `fii` left the
/// table, at `at`.
pub(crate) fn gone(net: &Net, at: u64, ulids: &UlidPair, fii: u32) -> Result {
    MULTICAST.send(net, EVENTS, EVENT, |msg| put_context(msg, uapi::shim6_event_SHIM6_EV_GONE, at, ulids, fii))
}

/// Tells `net`'s listeners that `n` events were not told, at `at`.
pub(crate) fn lost(net: &Net, at: u64, n: u32) -> Result {
    MULTICAST.send(net, EVENTS, EVENT, |msg| {
        put_type(msg, uapi::shim6_event_SHIM6_EV_LOST, at)?;
        msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_EV_COUNT), n)
    })
}

fn put_type(msg: &mut Msg, t: uapi::shim6_event, at: u64) -> Result {
    msg.put_u8(attr(uapi::shim6_genl_attr_SHIM6_A_EV_TYPE), event_type(t))?;
    msg.put_u64(attr(uapi::shim6_genl_attr_SHIM6_A_EV_TIME), at, attr(uapi::shim6_genl_attr_SHIM6_A_PAD))
}

fn put_context(msg: &mut Msg, t: uapi::shim6_event, at: u64, ulids: &UlidPair, fii: u32) -> Result {
    put_type(msg, t, at)?;
    msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_ULID_LOCAL), &ulids.local)?;
    msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_ULID_PEER), &ulids.peer)?;
    msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_FII), fii)
}
