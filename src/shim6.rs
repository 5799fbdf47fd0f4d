// SPDX-License-Identifier: GPL-2.0

//! shim6: identifier/locator separation for Linux (RFC 5533).
//!
//! Applications keep talking to one address, the identifier (ULID), while
//! the shim moves their packets between the host's locators.  They steer
//! it through socket level `SOL_SHIM` (draft-ietf-shim6-multihome-shim-api).

use kernel::prelude::*;

mod bench;
mod control;
mod crypto;
mod datapath;
mod genl;
mod kext;
mod monitor;
mod netns;
// The core is a library shared with the host test crate: its API is `pub`
// for that crate, and parts of it serve options that need a context.
#[allow(unreachable_pub, dead_code)]
#[path = "proto/mod.rs"]
mod proto;
mod routes;
mod sockopt;
mod tests;
mod uapi;

module! {
    type: Shim6,
    name: "shim6",
    author: "shim6 developers",
    description: "SHIM6 multihoming shim layer (RFC 5533) and its socket API",
    license: "GPL",
}

struct Shim6 {
    // Dropped in declaration order: the socket level goes first, so no
    // call can reach a namespace's state after it is gone.
    _sol_shim: kext::shim::Registration<sockopt::SolShim>,
    _genl: kext::genl::Family<genl::Shim6Genl>,
    _protocol: kext::inet6::Protocol<datapath::ShimProtocol>,
    _addr: kext::net::AddrNotifier<netns::AddrEvents>,
    _pernet: kext::net::PernetRegistration<netns::NetState>,
    // After the hooks that insert the header it describes.
    _offload: kext::inet6::Offload,
    // Last: RCU callbacks freeing our objects must run before the code goes.
    _rcu: kext::rcu::RcuBarrier,
}

impl kernel::Module for Shim6 {
    fn init(module: &'static ThisModule) -> Result<Self> {
        // First, so that it is dropped last on an error path as well.
        let rcu = kext::rcu::RcuBarrier;
        let offload = kext::inet6::Offload::new(proto::wire::PROTOCOL)?;
        let pernet = kext::net::PernetRegistration::new()?;
        let addr = kext::net::AddrNotifier::new()?;
        let protocol = kext::inet6::Protocol::new()?;
        let genl = kext::genl::Family::new(module)?;
        let sol_shim = kext::shim::Registration::new(module)?;
        pr_info!("SOL_SHIM socket level registered\n");
        Ok(Shim6 { _sol_shim: sol_shim, _genl: genl, _protocol: protocol, _addr: addr, _pernet: pernet, _offload: offload, _rcu: rcu })
    }
}
