// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state: each namespace is an independent host.

use core::sync::atomic::{AtomicU64, Ordering};

use kernel::prelude::*;

use crate::control::Control;
use kernel::sync::Arc;

use crate::kext::net::{Net, NetRef, PernetId, PernetState};
use crate::datapath::{Input, Output};
use crate::kext::netfilter::Hook;

static NET_ID: PernetId = PernetId::new();

/// The shim's state of one network namespace.
pub(crate) struct NetState {
    /// The data path's hooks on outgoing and incoming packets.  First:
    /// unregistered before anything else goes.
    _out: Hook<Output>,
    _in: Hook<Input>,
    /// The control plane, with its timer; the hook holds it too.
    pub(crate) ctl: Arc<Control>,
    /// Sockets of this namespace that hold shim state.
    sockets: AtomicU64,
    /// Sockets that asked for `SHIM_LOC_LOCAL_RECV` or `SHIM_LOC_PEER_RECV`:
    /// without any, received packets need not record their locators.
    receivers: AtomicU64,
}

impl NetState {
    pub(crate) fn socket_added(&self) {
        self.sockets.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn socket_released(&self) {
        self.sockets.fetch_sub(1, Ordering::Relaxed);
    }

    /// Sockets of this namespace that hold shim state.
    pub(crate) fn sockets(&self) -> u64 {
        self.sockets.load(Ordering::Relaxed)
    }

    /// A socket started (`true`) or stopped asking for the locators its
    /// datagrams come on.
    pub(crate) fn receiver(&self, wants: bool) {
        if wants {
            self.receivers.fetch_add(1, Ordering::Relaxed);
        } else {
            self.receivers.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Whether some socket asks for the locators its datagrams come on.
    pub(crate) fn has_receivers(&self) -> bool {
        self.receivers.load(Ordering::Relaxed) != 0
    }
}

/// Address events go to their namespace's control plane.
pub(crate) struct AddrEvents;

impl crate::kext::net::AddrEvents for AddrEvents {
    fn event(net: &Net, addr: &crate::kext::skb::Addr, up: bool) {
        NetState::of(net).ctl.address_event(addr, up);
    }
}

impl PernetState for NetState {
    fn id() -> &'static PernetId {
        &NET_ID
    }

    fn init(net: NetRef) -> Result<Self> {
        let ctl = Arc::pin_init(Control::new(net)?, GFP_KERNEL)?;
        let out = Hook::register(net, ctl.clone())?;
        let inp = Hook::register(net, ctl.clone())?;
        Ok(NetState { _out: out, _in: inp, ctl, sockets: AtomicU64::new(0), receivers: AtomicU64::new(0) })
    }
}
