// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `shim6`: runs when the module loads.
//!
//! The codec cases run the host-tested core inside the kernel build; the
//! socket cases drive real kernel sockets through the socket layer
//! (`do_sock_setsockopt`), so they cover the C dispatch, the per-socket
//! state and the per-namespace accounting together.

use kernel::bindings;
use kernel::{kunit_assert, kunit_assert_eq};

use crate::kext::net::{Net, PernetState};
use crate::kext::shim::{Registration, ShimOps, SkbExt};
use crate::kext::sock::{OptIn, OptOut, Sock};
use crate::kext::sock::{is_errno, rcu_barrier, KernelSocket};
use crate::netns::NetState;
use crate::proto::sockopt::{self as so, Opt};
use crate::uapi;

crate::kunit_suite!("shim6", [
    option_table,
    bool_codec,
    locator_codec,
    sockopt_defaults,
    sockopt_set_get,
    sockopt_errors,
    socket_accounting,
    level_has_one_owner,
]);

const SOL_SHIM: i32 = uapi::SOL_SHIM as i32;

fn option_table() {
    for &opt in Opt::ALL {
        kunit_assert_eq!("option_table", "src/tests.rs", 0, Opt::from_raw(opt as i32), Some(opt));
    }
    kunit_assert_eq!("option_table", "src/tests.rs", 0, Opt::from_raw(0), None);
    kunit_assert_eq!("option_table", "src/tests.rs", 0, Opt::from_raw(15), None);
    kunit_assert!("option_table", "src/tests.rs", 0, !Opt::Associated.writable());
}

fn bool_codec() {
    kunit_assert_eq!("bool_codec", "src/tests.rs", 0, so::decode_bool(&1i32.to_ne_bytes()), Ok(true));
    kunit_assert_eq!("bool_codec", "src/tests.rs", 0, so::decode_bool(&0i32.to_ne_bytes()), Ok(false));
    kunit_assert_eq!(
        "bool_codec", "src/tests.rs", 0,
        so::decode_bool(&2i32.to_ne_bytes()),
        Err(so::Error::Invalid)
    );
    kunit_assert_eq!("bool_codec", "src/tests.rs", 0, so::decode_bool(&[1, 0]), Err(so::Error::Invalid));
}

fn locator_codec() {
    let mut raw = [0u8; so::LOCATOR_LEN];
    raw[0] = so::AF_INET6;
    raw[3] = 7;
    raw[4] = 0x20;
    raw[5] = 0x01;
    let loc = so::Locator::decode(&raw);
    kunit_assert!("locator_codec", "src/tests.rs", 0, matches!(loc, Ok(Some(_))));
    if let Ok(Some(l)) = loc {
        kunit_assert_eq!("locator_codec", "src/tests.rs", 0, l.encode(), raw);
    }
    raw[0] = so::AF_INET;
    kunit_assert_eq!("locator_codec", "src/tests.rs", 0, so::Locator::decode(&raw), Err(so::Error::Invalid));
    kunit_assert_eq!("locator_codec", "src/tests.rs", 0, so::Locator::decode(&[0; so::LOCATOR_LEN]), Ok(None));
}

fn udp6() -> Option<KernelSocket> {
    KernelSocket::new(
        Net::init(),
        bindings::AF_INET6 as i32,
        bindings::sock_type_SOCK_DGRAM as i32,
        bindings::IPPROTO_UDP as i32,
    )
    .ok()
}

fn get_int(s: &KernelSocket, opt: Opt) -> Result<i32, kernel::error::Error> {
    let mut buf = [0u8; 4];
    let len = s.getsockopt(SOL_SHIM, opt as i32, &mut buf)?;
    kunit_assert_eq!("get_int", "src/tests.rs", 0, len, 4);
    Ok(i32::from_ne_bytes(buf))
}

fn set_int(s: &KernelSocket, opt: Opt, v: i32) -> Result<(), kernel::error::Error> {
    s.setsockopt(SOL_SHIM, opt as i32, &v.to_ne_bytes())
}

fn sockopt_defaults() {
    let s = udp6();
    kunit_assert!("sockopt_defaults", "src/tests.rs", 0, s.is_some());
    let Some(s) = s else { return };
    kunit_assert_eq!("sockopt_defaults", "src/tests.rs", 0, get_int(&s, Opt::Associated), Ok(0));
    kunit_assert_eq!("sockopt_defaults", "src/tests.rs", 0, get_int(&s, Opt::DontShim), Ok(0));
    kunit_assert_eq!("sockopt_defaults", "src/tests.rs", 0, get_int(&s, Opt::DeferredSetup), Ok(1));
}

fn sockopt_set_get() {
    let Some(s) = udp6() else { return };
    kunit_assert_eq!("sockopt_set_get", "src/tests.rs", 0, set_int(&s, Opt::DontShim, 1), Ok(()));
    kunit_assert_eq!("sockopt_set_get", "src/tests.rs", 0, set_int(&s, Opt::DeferredSetup, 0), Ok(()));
    kunit_assert_eq!("sockopt_set_get", "src/tests.rs", 0, get_int(&s, Opt::DontShim), Ok(1));
    kunit_assert_eq!("sockopt_set_get", "src/tests.rs", 0, get_int(&s, Opt::DeferredSetup), Ok(0));
    kunit_assert_eq!("sockopt_set_get", "src/tests.rs", 0, set_int(&s, Opt::DontShim, 0), Ok(()));
    kunit_assert_eq!("sockopt_set_get", "src/tests.rs", 0, get_int(&s, Opt::DontShim), Ok(0));
    kunit_assert_eq!("sockopt_set_get", "src/tests.rs", 0, get_int(&s, Opt::DeferredSetup), Ok(0));
}

fn fails_with(r: Result<(), kernel::error::Error>, errno: u32) -> bool {
    matches!(r, Err(e) if is_errno(e, errno))
}

fn sockopt_errors() {
    let Some(s) = udp6() else { return };
    let r = set_int(&s, Opt::DontShim, 2);
    kunit_assert!("sockopt_errors", "src/tests.rs", 0, fails_with(r, bindings::EINVAL));
    let r = set_int(&s, Opt::Associated, 1);
    kunit_assert!("sockopt_errors", "src/tests.rs", 0, fails_with(r, bindings::ENOPROTOOPT));
    let r = set_int(&s, Opt::HotStandby, 1);
    kunit_assert!("sockopt_errors", "src/tests.rs", 0, fails_with(r, bindings::ENOENT));
    let r = s.setsockopt(SOL_SHIM, 99, &1i32.to_ne_bytes());
    kunit_assert!("sockopt_errors", "src/tests.rs", 0, fails_with(r, bindings::ENOPROTOOPT));
    let r = s.setsockopt(SOL_SHIM, Opt::DontShim as i32, &[1, 0]);
    kunit_assert!("sockopt_errors", "src/tests.rs", 0, fails_with(r, bindings::EINVAL));
    let mut short = [0u8; 2];
    let r = s.getsockopt(SOL_SHIM, Opt::DontShim as i32, &mut short).map(|_| ());
    kunit_assert!("sockopt_errors", "src/tests.rs", 0, fails_with(r, bindings::EINVAL));
    // A refused option leaves the value as it was.
    kunit_assert_eq!("sockopt_errors", "src/tests.rs", 0, get_int(&s, Opt::DontShim), Ok(0));
}

fn socket_accounting() {
    let net = NetState::of(Net::init());
    rcu_barrier();
    let before = net.sockets();
    {
        let Some(s) = udp6() else { return };
        // Reading creates no state; setting does, once.
        let _ = get_int(&s, Opt::DontShim);
        kunit_assert_eq!("socket_accounting", "src/tests.rs", 0, net.sockets(), before);
        let _ = set_int(&s, Opt::DontShim, 1);
        let _ = set_int(&s, Opt::DeferredSetup, 0);
        kunit_assert_eq!("socket_accounting", "src/tests.rs", 0, net.sockets(), before + 1);
    }
    // UDP sockets are freed after an RCU grace period; the release hook runs then.
    rcu_barrier();
    kunit_assert_eq!("socket_accounting", "src/tests.rs", 0, net.sockets(), before);
}

/// A second would-be owner of `SOL_SHIM`; never gets to run.
struct Intruder;

impl ShimOps for Intruder {
    type State = crate::sockopt::SockOpts;

    fn setsockopt(_sk: &Sock, _optname: i32, _val: &OptIn) -> kernel::error::Result {
        Err(kernel::error::code::EPERM)
    }

    fn getsockopt(_sk: &Sock, _optname: i32, _val: &OptOut) -> kernel::error::Result {
        Err(kernel::error::code::EPERM)
    }

    fn cmsg_send(_sk: &Sock, _ty: i32, _data: &[u8], _ext: &mut SkbExt<'_>) -> kernel::error::Result {
        Err(kernel::error::code::EPERM)
    }

    fn sk_release(_sk: &Sock, _state: &Self::State) {}
}

fn level_has_one_owner() {
    // This module owns the level while its suite runs: a second owner is refused.
    let r = Registration::<Intruder>::new(&crate::THIS_MODULE);
    kunit_assert!("level_has_one_owner", "src/tests.rs", 0, fails_with(r.map(|_| ()), bindings::EBUSY));
    // And the level still answers as this module says.
    let Some(s) = udp6() else { return };
    kunit_assert_eq!("level_has_one_owner", "src/tests.rs", 0, get_int(&s, Opt::DeferredSetup), Ok(1));
}
