// SPDX-License-Identifier: GPL-2.0

//! The `shim6` generic netlink family: what shimctl shows and sets.

use core::sync::atomic::Ordering;

use kernel::prelude::*;

use kernel::error::code::{EINVAL, ERANGE};

use crate::kext::genl::{Attrs, Commands, Kind, Msg, Multicast};
use crate::monitor::{attr, reap_state, state, MULTICAST};
use crate::kext::net::{Net, PernetState};
use crate::netns::NetState;
use crate::proto::context::State;
use crate::uapi;

/// The family.
pub(crate) struct Shim6Genl;

const CONTEXT_GET: u8 = uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_GET as u8;
const HBA_SET: u8 = uapi::shim6_genl_cmd_SHIM6_CMD_HBA_SET as u8;
const LOCATOR_GET: u8 = uapi::shim6_genl_cmd_SHIM6_CMD_LOCATOR_GET as u8;
const CONTEXT_FLUSH: u8 = uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_FLUSH as u8;
const NETNS_SET: u8 = uapi::shim6_genl_cmd_SHIM6_CMD_NETNS_SET as u8;
const STATS_GET: u8 = uapi::shim6_genl_cmd_SHIM6_CMD_STATS_GET as u8;
const HBA_GET: u8 = uapi::shim6_genl_cmd_SHIM6_CMD_HBA_GET as u8;

impl Commands for Shim6Genl {
    const NAME: &'static [u8] = uapi::SHIM6_GENL_NAME;
    const VERSION: u32 = uapi::SHIM6_GENL_VERSION;
    const MAXATTR: u32 = uapi::shim6_genl_attr___SHIM6_A_MAX - 1;
    const OPS: &'static [(u8, Kind)] = &[
        (CONTEXT_GET, Kind::Dump),
        (HBA_SET, Kind::Do),
        (LOCATOR_GET, Kind::Dump),
        (CONTEXT_FLUSH, Kind::Do),
        (NETNS_SET, Kind::Do),
        (STATS_GET, Kind::Dump),
        (HBA_GET, Kind::Dump),
    ];

    fn dump(cmd: u8, net: &Net, cursor: usize, msg: &mut Msg) -> Result<Option<usize>> {
        match cmd {
            CONTEXT_GET => context(net, cursor, msg),
            LOCATOR_GET => locator(net, cursor, msg),
            STATS_GET => stat(net, cursor, msg),
            HBA_GET => hba_set(net, cursor, msg),
            _ => Err(EINVAL),
        }
    }

    const MCGRPS: &'static [&'static [u8]] = &[uapi::SHIM6_GENL_MCGRP_EVENTS];

    fn multicast() -> &'static Multicast {
        &MULTICAST
    }

    fn doit(cmd: u8, net: &Net, attrs: &Attrs<'_>) -> Result {
        match cmd {
            HBA_SET => {
                let ctl = &NetState::of(net).ctl;
                let pds = attrs.get(attr(uapi::shim6_genl_attr_SHIM6_A_HBA_PDS));
                ctl.set_hba(pds, net.ipv6_addresses()?)
            }
            CONTEXT_FLUSH => {
                let ctl = &NetState::of(net).ctl;
                ctl.flush();
                Ok(())
            }
            NETNS_SET => {
                let on = match attrs.get(attr(uapi::shim6_genl_attr_SHIM6_A_ENABLED)) {
                    None => None,
                    Some(&[v]) if v <= 1 => Some(v == 1),
                    Some(_) => return Err(EINVAL),
                };
                let max = match attrs.get(attr(uapi::shim6_genl_attr_SHIM6_A_MAX_CONTEXTS)) {
                    None => None,
                    Some(v) => {
                        let v = u32::from_ne_bytes(v.try_into().map_err(|_| EINVAL)?);
                        if v == 0 || v > uapi::SHIM6_MAX_CONTEXTS_LIMIT {
                            return Err(ERANGE);
                        }
                        Some(v as usize)
                    }
                };
                if on.is_none() && max.is_none() {
                    return Err(EINVAL);
                }
                let ctl = &NetState::of(net).ctl;
                if let Some(max) = max {
                    ctl.set_max_contexts(max);
                }
                if let Some(on) = on {
                    ctl.set_enabled(on);
                }
                Ok(())
            }
            _ => Err(EINVAL),
        }
    }
}

/// One counter of what the namespace dropped or refused.
fn stat(net: &Net, index: usize, msg: &mut Msg) -> Result<Option<usize>> {
    let Some((name, value)) = NetState::of(net).ctl.drop_counter(index) else { return Ok(None) };
    msg.put_string(attr(uapi::shim6_genl_attr_SHIM6_A_STAT_NAME), name)?;
    msg.put_u64(attr(uapi::shim6_genl_attr_SHIM6_A_STAT_VALUE), value, attr(uapi::shim6_genl_attr_SHIM6_A_PAD))?;
    Ok(Some(index + 1))
}

/// The namespace's HBA set, in one message, if it has one.
fn hba_set(net: &Net, cursor: usize, msg: &mut Msg) -> Result<Option<usize>> {
    if cursor > 0 {
        return Ok(None);
    }
    NetState::of(net).ctl.with_pds(|pds| match pds {
        Some(p) => msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_HBA_PDS), p).map(|()| Some(1)),
        None => Ok(None),
    })
}

/// One address of the namespace and whether it is a locator.
fn locator(net: &Net, index: usize, msg: &mut Msg) -> Result<Option<usize>> {
    let (locators, addrs, _) = NetState::of(net).ctl.locators();
    let Some(a) = addrs.get(index) else { return Ok(None) };
    let flags = if locators.contains(a) { uapi::SHIM6_LOC_F_LOCATOR } else { 0 };
    msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_LOC_ADDR), a)?;
    msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_LOC_FLAGS), flags)?;
    Ok(Some(index + 1))
}

/// The namespace's first context at or after `cursor` (a slot).
fn context(net: &Net, cursor: usize, msg: &mut Msg) -> Result<Option<usize>> {
        let Some((slot, c, stats)) = NetState::of(net).ctl.context_from(cursor) else { return Ok(None) };
        let pad = attr(uapi::shim6_genl_attr_SHIM6_A_PAD);
        msg.put_u8(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_STATE), state(c.state()))?;
        msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_ULID_LOCAL), &c.ulids().local)?;
        msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_ULID_PEER), &c.ulids().peer)?;
        msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_FII), c.fii())?;
        if c.owner() != 0 {
            msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_OWNER), c.owner())?;
        }
        // The tags are all that keeps an off-path host from injecting into
        // a context: only an administrator of the namespace sees them.
        if msg.admin() {
            msg.put_u64(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_CT_LOCAL), c.ct_local().get(), pad)?;
            if let Some(ct) = c.ct_peer() {
                msg.put_u64(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_CT_PEER), ct.get(), pad)?;
            }
        }
        msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_LOC_LOCAL), &c.path().src)?;
        msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_LOC_PEER), &c.path().dst)?;
        for l in c.peer_locators().as_slice() {
            msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_PEER_LOCATOR), l)?;
        }
        for l in c.local_locators().as_slice() {
            msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_LOCAL_LOCATOR), l)?;
        }
        if c.state() == State::Established {
            let ms = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
            msg.put_u8(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_REAP_STATE), reap_state(c.reap_state()))?;
            msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_SEND_TIMEOUT), ms(c.reap_config().send_timeout))?;
            msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_KEEPALIVE_TIMEOUT), ms(c.peer_send_timeout()))?;
            let now = crate::kext::crypto::now_ms();
            let (standby, switches) = c.reap_standby();
            if c.reap_config().hot_standby {
                msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_STANDBY_SWITCHES), switches)?;
            }
            if let Some(s) = standby {
                msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_STANDBY_LOCAL), &s.path.src)?;
                msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_STANDBY_PEER), &s.path.dst)?;
                if let Some(v) = s.verified {
                    msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_STANDBY_AGE), ms(now.saturating_sub(v)))?;
                }
            }
        }
        for (a, v) in [
            (uapi::shim6_genl_attr_SHIM6_A_CTX_PKTS_OUT, &stats.out_packets),
            (uapi::shim6_genl_attr_SHIM6_A_CTX_BYTES_OUT, &stats.out_octets),
            (uapi::shim6_genl_attr_SHIM6_A_CTX_PKTS_IN, &stats.in_packets),
            (uapi::shim6_genl_attr_SHIM6_A_CTX_BYTES_IN, &stats.in_octets),
        ] {
            msg.put_u64(attr(a), v.load(Ordering::Relaxed), pad)?;
        }
        Ok(Some(slot + 1))
}
