// SPDX-License-Identifier: GPL-2.0

//! The `shim6` generic netlink family: what shimctl shows.

use kernel::prelude::*;

use crate::kext::genl::{Dump, DumpMsg};
use crate::kext::net::{Net, PernetState};
use crate::netns::NetState;
use crate::proto::context::State;
use crate::uapi;

/// `SHIM6_CMD_CONTEXT_GET`: one message per context of the namespace.
pub(crate) struct Contexts;

fn attr(a: uapi::shim6_genl_attr) -> u16 {
    a as u16
}

fn state(s: State) -> u8 {
    (match s {
        State::I1Sent => uapi::shim6_ctx_state_SHIM6_CTX_I1_SENT,
        State::I2Sent => uapi::shim6_ctx_state_SHIM6_CTX_I2_SENT,
        State::I2bisSent => uapi::shim6_ctx_state_SHIM6_CTX_I2BIS_SENT,
        State::Established => uapi::shim6_ctx_state_SHIM6_CTX_ESTABLISHED,
        State::EFailed => uapi::shim6_ctx_state_SHIM6_CTX_E_FAILED,
        State::NoSupport => uapi::shim6_ctx_state_SHIM6_CTX_NO_SUPPORT,
    }) as u8
}

impl Dump for Contexts {
    const NAME: &'static [u8] = uapi::SHIM6_GENL_NAME;
    const VERSION: u32 = uapi::SHIM6_GENL_VERSION;
    const MAXATTR: u32 = uapi::shim6_genl_attr___SHIM6_A_MAX - 1;
    const CMD: u8 = uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_GET as u8;

    fn item(net: &Net, index: usize, msg: &mut DumpMsg) -> Result<bool> {
        let Some(c) = NetState::of(net).ctl.data().context(index) else { return Ok(false) };
        let pad = attr(uapi::shim6_genl_attr_SHIM6_A_PAD);
        msg.put_u8(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_STATE), state(c.state()))?;
        msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_ULID_LOCAL), &c.ulids().local)?;
        msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_ULID_PEER), &c.ulids().peer)?;
        msg.put_u32(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_FII), c.fii())?;
        msg.put_u64(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_CT_LOCAL), c.ct_local(), pad)?;
        if let Some(ct) = c.ct_peer() {
            msg.put_u64(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_CT_PEER), ct, pad)?;
        }
        msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_LOC_LOCAL), &c.path().src)?;
        msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_LOC_PEER), &c.path().dst)?;
        for l in c.peer_locators().as_slice() {
            msg.put_bytes(attr(uapi::shim6_genl_attr_SHIM6_A_CTX_PEER_LOCATOR), l)?;
        }
        Ok(true)
    }
}
