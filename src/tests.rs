// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `shim6`: runs when the module loads.
//!
//! The codec cases run the host-tested core inside the kernel build; the
//! socket cases drive real kernel sockets through the socket layer
//! (`do_sock_setsockopt`), so they cover the C dispatch, the per-socket
//! state and the per-namespace accounting together.

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::{kunit_assert, kunit_assert_eq};

/// `kunit_assert!` for a case of this file.
macro_rules! check {
    ($case:literal, $cond:expr $(,)?) => {
        kunit_assert!($case, "src/tests.rs", 0, $cond)
    };
}

/// `kunit_assert_eq!` for a case of this file.
macro_rules! check_eq {
    ($case:literal, $left:expr, $right:expr $(,)?) => {
        kunit_assert_eq!($case, "src/tests.rs", 0, $left, $right)
    };
}

use crate::crypto::{KernelMac, KernelRandom, KernelSha1};
use crate::kext::crypto::now_ms;
use crate::kext::net::{Net, PernetState};
use crate::proto::hba;
use crate::proto::context::{self as cx, Confusion, Connect, Context, Endpoint, Host, Locators, Mac, Path, Responder, State, Table, UlidPair};
use crate::kext::shim::{Registration, ShimOps, SkbExt};
use crate::kext::sock::{OptIn, OptOut, Sock};
use crate::kext::sock::{is_errno, rcu_barrier, KernelSocket};
use crate::netns::NetState;
use crate::proto::sockopt::{self as so, Opt};
use crate::uapi;

crate::kunit_suite!("shim6", [
    // The socket-option codec of the core, in the kernel build.
    option_table,
    bool_codec,
    locator_codec,
    // Real sockets through the socket layer.
    sockopt_defaults,
    sockopt_set_get,
    sockopt_errors,
    socket_accounting,
    level_has_one_owner,
    // The core with the kernel's crypto.
    hmac_sha256_known_answer,
    handshake_with_kernel_crypto,
    hba_verification_with_kernel_sha1,
    // Kernel abstractions: RCU and the skb surgery of the data path.
    rcu_cell_replaces,
    route_tables,
    payload_header_out_and_back,
    gso_segments_carry_the_header,
]);

const SOL_SHIM: i32 = uapi::SOL_SHIM as i32;

fn option_table() {
    for &opt in Opt::ALL {
        check_eq!("option_table", Opt::from_raw(opt as i32), Some(opt));
    }
    check_eq!("option_table", Opt::from_raw(0), None);
    check_eq!("option_table", Opt::from_raw(15), None);
    check!("option_table", !Opt::Associated.writable());
}

fn bool_codec() {
    check_eq!("bool_codec", so::decode_bool(&1i32.to_ne_bytes()), Ok(true));
    check_eq!("bool_codec", so::decode_bool(&0i32.to_ne_bytes()), Ok(false));
    check_eq!("bool_codec", so::decode_bool(&2i32.to_ne_bytes()),
        Err(so::Error::Invalid)
    );
    check_eq!("bool_codec", so::decode_bool(&[1, 0]), Err(so::Error::Invalid));
}

fn locator_codec() {
    let mut raw = [0u8; so::LOCATOR_LEN];
    raw[0] = so::AF_INET6;
    raw[3] = 7;
    raw[4] = 0x20;
    raw[5] = 0x01;
    let loc = so::Locator::decode(&raw, so::Flavour::Draft);
    check!("locator_codec", matches!(loc, Ok(Some(_))));
    if let Ok(Some(l)) = loc {
        check_eq!("locator_codec", &*l.encode(so::Flavour::Draft), &raw[..]);
    }
    raw[0] = so::AF_INET;
    check_eq!("locator_codec", so::Locator::decode(&raw, so::Flavour::Draft), Err(so::Error::Invalid));
    check_eq!("locator_codec", so::Locator::decode(&[0; so::LOCATOR_LEN], so::Flavour::Draft), Ok(None));
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
    check_eq!("get_int", len, 4);
    Ok(i32::from_ne_bytes(buf))
}

fn set_int(s: &KernelSocket, opt: Opt, v: i32) -> Result<(), kernel::error::Error> {
    s.setsockopt(SOL_SHIM, opt as i32, &v.to_ne_bytes())
}

fn sockopt_defaults() {
    let s = udp6();
    check!("sockopt_defaults", s.is_some());
    let Some(s) = s else { return };
    check_eq!("sockopt_defaults", get_int(&s, Opt::Associated), Ok(0));
    check_eq!("sockopt_defaults", get_int(&s, Opt::DontShim), Ok(0));
    check_eq!("sockopt_defaults", get_int(&s, Opt::DeferredSetup), Ok(1));
}

fn sockopt_set_get() {
    let Some(s) = udp6() else { return };
    check_eq!("sockopt_set_get", set_int(&s, Opt::DontShim, 1), Ok(()));
    check_eq!("sockopt_set_get", set_int(&s, Opt::DeferredSetup, 0), Ok(()));
    check_eq!("sockopt_set_get", get_int(&s, Opt::DontShim), Ok(1));
    check_eq!("sockopt_set_get", get_int(&s, Opt::DeferredSetup), Ok(0));
    check_eq!("sockopt_set_get", set_int(&s, Opt::DontShim, 0), Ok(()));
    check_eq!("sockopt_set_get", get_int(&s, Opt::DontShim), Ok(0));
    check_eq!("sockopt_set_get", get_int(&s, Opt::DeferredSetup), Ok(0));
}

fn fails_with(r: Result<(), kernel::error::Error>, errno: u32) -> bool {
    matches!(r, Err(e) if is_errno(e, errno))
}

fn sockopt_errors() {
    let Some(s) = udp6() else { return };
    let r = set_int(&s, Opt::DontShim, 2);
    check!("sockopt_errors", fails_with(r, bindings::EINVAL));
    let r = set_int(&s, Opt::Associated, 1);
    check!("sockopt_errors", fails_with(r, bindings::ENOPROTOOPT));
    let r = set_int(&s, Opt::HotStandby, 1);
    check!("sockopt_errors", fails_with(r, bindings::ENOENT));
    let r = s.setsockopt(SOL_SHIM, 99, &1i32.to_ne_bytes());
    check!("sockopt_errors", fails_with(r, bindings::ENOPROTOOPT));
    let r = s.setsockopt(SOL_SHIM, Opt::DontShim as i32, &[1, 0]);
    check!("sockopt_errors", fails_with(r, bindings::EINVAL));
    let mut short = [0u8; 2];
    let r = s.getsockopt(SOL_SHIM, Opt::DontShim as i32, &mut short).map(|_| ());
    check!("sockopt_errors", fails_with(r, bindings::EINVAL));
    // A refused option leaves the value as it was.
    check_eq!("sockopt_errors", get_int(&s, Opt::DontShim), Ok(0));
}

fn socket_accounting() {
    let net = NetState::of(Net::init());
    rcu_barrier();
    let before = net.sockets();
    {
        let Some(s) = udp6() else { return };
        // Reading creates no state; setting does, once.
        let _ = get_int(&s, Opt::DontShim);
        check_eq!("socket_accounting", net.sockets(), before);
        let _ = set_int(&s, Opt::DontShim, 1);
        let _ = set_int(&s, Opt::DeferredSetup, 0);
        check_eq!("socket_accounting", net.sockets(), before + 1);
    }
    // UDP sockets are freed after an RCU grace period; the release hook runs then.
    rcu_barrier();
    check_eq!("socket_accounting", net.sockets(), before);
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

    fn cmsg_recv(_sk: &Sock, _locators: ([u8; 16], [u8; 16]), _out: &mut crate::kext::shim::CmsgOut<'_>) {}

    fn sk_release(_sk: &Sock, _state: &Self::State) {}

    fn sk_clone(_sk: &Sock, _parent: &Self::State) {}

    fn tcp_timeout(_sk: &Sock, _sent_ms: u32) {}
}

fn level_has_one_owner() {
    // This module owns the level while its suite runs: a second owner is refused.
    let r = Registration::<Intruder>::new(&crate::THIS_MODULE);
    check!("level_has_one_owner", fails_with(r.map(|_| ()), bindings::EBUSY));
    // And the level still answers as this module says.
    let Some(s) = udp6() else { return };
    check_eq!("level_has_one_owner", get_int(&s, Opt::DeferredSetup), Ok(1));
}

fn hmac_sha256_known_answer() {
    // RFC 4231, test case 1.
    let Ok(mut mac) = KernelMac::new() else {
        check!("hmac_sha256_known_answer", false);
        return;
    };
    let mut key = [0u8; 32];
    key[..20].fill(0x0b);
    // HMAC pads the key with zeros to the block size: 20 octets of 0x0b
    // and 32 octets with 12 zeros give the same MAC.
    let got = mac.mac(&key, &[b"Hi ", b"There"]);
    let want = [
        0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53, 0x5c, 0xa8, 0xaf, 0xce, 0xaf, 0x0b, 0xf1, 0x2b,
        0x88, 0x1d, 0xc2, 0x00, 0xc9, 0x83, 0x3d, 0xa7, 0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32, 0xcf, 0xf7,
    ];
    check_eq!("hmac_sha256_known_answer", got, Some(want));
}

/// A table of contexts in a vector, for the handshake case.
struct VecTable(kernel::alloc::KVec<Context>);

impl Table for VecTable {
    fn contexts(&self) -> impl Iterator<Item = &Context> {
        self.0.iter()
    }
    fn contexts_mut(&mut self) -> impl Iterator<Item = &mut Context> {
        self.0.iter_mut()
    }
    fn sweep(&mut self, mut f: impl FnMut(&mut Context, &cx::reap::Traffic) -> bool) {
        // Every context counts as just used.
        let traffic = cx::reap::Traffic::used_at(now_ms());
        for mut c in core::mem::replace(&mut self.0, KVec::new()) {
            // Out of memory: the context is forgotten, as if collected.
            if f(&mut c, &traffic) {
                let _ = self.0.push(c, GFP_KERNEL);
            }
        }
    }
    fn insert(&mut self, ctx: &Context) -> bool {
        self.0.push(ctx.clone(), kernel::alloc::flags::GFP_KERNEL).is_ok()
    }
    fn drop_confused(&mut self, new: &Confusion) {
        let mut kept = kernel::alloc::KVec::new();
        for c in self.0.iter().filter(|c| !c.confused_with(new)) {
            if kept.push(c.clone(), kernel::alloc::flags::GFP_KERNEL).is_err() {
                // Out of memory: leave the table as it was.
                return;
            }
        }
        self.0 = kept;
    }
}

/// Carries `first`, from A to B, and every answer back and forth between
/// the two hosts until neither has more to say: how many messages went.
pub(crate) fn exchange(
    a: &mut Endpoint<impl Table>,
    b: &mut Endpoint<impl Table>,
    first: cx::Transmit,
    now: u64,
    rng: &mut KernelRandom,
    mac: &mut KernelMac,
) -> usize {
    let (mut msg, mut to_b, mut sent) = (Some(first), true, 0);
    // A handshake is four messages; more would be a loop.
    while let Some(tx) = msg.take().filter(|_| sent < 8) {
        sent += 1;
        let rx = cx::Received { path: tx.path, msg: tx.msg };
        let [reply, _] = if to_b { b.receive(&rx, now, rng, mac) } else { a.receive(&rx, now, rng, mac) }.tx;
        msg = reply;
        to_b = !to_b;
    }
    sent
}

fn handshake_with_kernel_crypto() {
    let (Ok(mut mac), mut rng) = (KernelMac::new(), KernelRandom) else {
        check!("handshake_with_kernel_crypto", false);
        return;
    };
    let a1 = [0x20, 1, 0xd, 0xb8, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let b1 = [0x20, 1, 0xd, 0xb8, 0xb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let now = now_ms();
    let host_b = Host::new(Responder::new(now, &mut rng), Locators::new(&[b1]));
    let host_a = Host::new(Responder::new(now, &mut rng), Locators::new(&[a1]));
    // On the heap: a handshake's own frames take much of a kernel stack.
    let endpoints = kernel::alloc::KBox::new(
        (
            Endpoint::new(host_a, VecTable(kernel::alloc::KVec::new())),
            Endpoint::new(host_b, VecTable(kernel::alloc::KVec::new())),
        ),
        kernel::alloc::flags::GFP_KERNEL,
    );
    let Ok(mut endpoints) = endpoints else {
        check!("handshake_with_kernel_crypto", false);
        return;
    };
    let (a, b) = &mut *endpoints;

    let ulids = UlidPair { local: a1, peer: b1 };
    let Connect::Started(i1) = a.connect(ulids, now, &mut rng) else {
        check!("handshake_with_kernel_crypto", false);
        return;
    };
    // I1, R1, I2, R2: four messages, then nothing left to say.
    let sent = exchange(a, b, i1, now, &mut rng, &mut mac);
    check_eq!("handshake_with_kernel_crypto", sent, 4);
    let (Some(ca), Some(cb)) = (a.table.0.first(), b.table.0.first()) else {
        check!("handshake_with_kernel_crypto", false);
        return;
    };
    check_eq!("handshake_with_kernel_crypto", ca.state(), State::Established);
    check_eq!("handshake_with_kernel_crypto", cb.state(), State::Established);
    check_eq!("handshake_with_kernel_crypto", ca.ct_peer(), Some(cb.ct_local()));
    check_eq!("handshake_with_kernel_crypto", cb.ct_peer(), Some(ca.ct_local()));
}

/// Decodes the hex of a known answer (test input only).
fn unhex<const N: usize>(s: &str) -> [u8; N] {
    let digit = |i: usize| s.as_bytes().get(i).and_then(|c| (*c as char).to_digit(16)).unwrap_or(0) as u8;
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = digit(2 * i) << 4 | digit(2 * i + 1);
    }
    out
}

fn hba_verification_with_kernel_sha1() {
    // Vector V1 of core/tests/hba_vectors.py (Python hashlib): a PDS and
    // the address of its first prefix.
    let pds: [u8; 135] = unhex(
        "000102030405060708090a0b0c0d0e0f20010db80001000000304c300d06092a864886f70d0101010500033b003038023100a5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7ee02030100010012001c0000000020010db80001000020010db80002000020010db8ffff0001",
    );
    let addr: [u8; 16] = unhex("20010db8000100001cfac3e0c23af34b");
    let Ok(mut sha1) = KernelSha1::new() else {
        check!("hba_verification_with_kernel_sha1", false);
        return;
    };
    let ok = hba::verify(&mut sha1, &pds, &addr);
    check!("hba_verification_with_kernel_sha1", ok.is_ok());
    let mut forged = addr;
    forged[15] ^= 1;
    let bad = hba::verify(&mut sha1, &pds, &forged);
    check!("hba_verification_with_kernel_sha1", bad.is_err());
}

fn rcu_cell_replaces() {
    use crate::kext::rcu::Rcu;
    let Ok(cell) = Rcu::new(1u32, kernel::alloc::flags::GFP_KERNEL) else {
        check!("rcu_cell_replaces", false);
        return;
    };
    check_eq!("rcu_cell_replaces", cell.read(|v| *v), 1);
    for v in 2..10 {
        check!("rcu_cell_replaces", cell.replace(v, kernel::alloc::flags::GFP_KERNEL).is_ok());
        check_eq!("rcu_cell_replaces", cell.read(|v| *v), v);
    }
    drop(cell);
    // Every retired value is freed once its grace period is over (kmemleak
    // checks that nothing stays behind).
    rcu_barrier();
}

/// The data path's RCU hash tables: 300 contexts (the tables grow from 16
/// buckets), found by ULID pair, by our tag and by the peer's; a context
/// whose peer tag changes is found by the new one only; one that goes is
/// found no more, by any key.
fn route_tables() {
    use crate::control::Stats;
    use crate::proto::context::Route;
    use crate::routes::Routes;
    use kernel::sync::Arc;
    const N: u32 = 300;
    let tag = crate::proto::wire::ContextTag::from_masked;
    let Ok(routes) = Routes::new((0x0123_4567, 0x89ab_cdef)) else {
        check!("route_tables", false);
        return;
    };
    let addr = |side: u8, i: u32| {
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        a[4] = side;
        a[12..].copy_from_slice(&i.to_be_bytes());
        a
    };
    let route = |i: u32| Route {
        ulids: UlidPair { local: addr(1, i), peer: addr(2, i) },
        fii: 0,
        ct_local: tag(1000 + u64::from(i)),
        ct_peer: Some(tag(50_000 + u64::from(i))),
        path: Path { src: addr(3, i), dst: addr(4, i) },
        established: true,
        setting_up: false,
        exploring: false,
        heard: None,
        init_nonce: None,
        reap_timers: (15_000, 5_000),
    };
    let mut entries = KVec::new();
    for i in 0..N {
        let Ok(stats) = Arc::new(Stats::new(0), GFP_KERNEL) else {
            check!("route_tables", false);
            return;
        };
        match routes.insert(route(i), stats.clone(), i as usize) {
            Ok(()) => check!("route_tables", entries.push(stats, GFP_KERNEL).is_ok()),
            Err(_) => check!("route_tables", false),
        }
    }
    for i in 0..N {
        let r = route(i);
        let slot = Some(i as usize);
        check_eq!("route_tables", routes.by_ulids(&r.ulids, 0, |e| e.slot), slot);
        check_eq!("route_tables", routes.by_tag(r.ct_local, |e| e.slot), slot);
        check_eq!("route_tables", routes.by_peer_tag(tag(50_000 + u64::from(i)), &r.path, |e| e.slot), slot);
    }
    check!("route_tables", routes.by_ulids(&route(1).ulids, 1, |_| ()).is_none());
    check!("route_tables", routes.by_peer_tag(tag(50_001), &route(2).path, |_| ()).is_none());

    let (Some(stats7), Some(stats8)) = (entries.get(7), entries.get(8)) else {
        check!("route_tables", false);
        return;
    };
    let mut moved = route(7);
    moved.ct_peer = Some(tag(99_999));
    check!("route_tables", routes.update(&route(7), moved, stats7.clone(), 7).is_ok());
    check!("route_tables", routes.by_peer_tag(tag(50_007), &moved.path, |_| ()).is_none());
    check_eq!("route_tables", routes.by_peer_tag(tag(99_999), &moved.path, |e| e.slot), Some(7));
    check_eq!("route_tables", routes.by_ulids(&moved.ulids, 0, |e| e.route.ct_peer), Some(Some(tag(99_999))));

    // Established again after an I2bis: findable by its nonce only while
    // it waits for the R2.
    let waiting = Route { init_nonce: Some(77), established: false, ..moved };
    check!("route_tables", routes.update(&moved, waiting, stats7.clone(), 7).is_ok());
    check_eq!("route_tables", routes.by_nonce(77, &waiting.path.src, |e| e.slot), Some(7));
    check!("route_tables", routes.by_nonce(77, &waiting.path.dst, |_| ()).is_none());
    check!("route_tables", routes.update(&waiting, moved, stats7.clone(), 7).is_ok());
    check!("route_tables", routes.by_nonce(77, &moved.path.src, |_| ()).is_none());

    routes.remove(&route(8), 8, stats8);
    check!("route_tables", routes.by_ulids(&route(8).ulids, 0, |_| ()).is_none());
    check!("route_tables", routes.by_tag(tag(1008), |_| ()).is_none());
    check!("route_tables", routes.by_peer_tag(tag(50_008), &route(8).path, |_| ()).is_none());
    check_eq!("route_tables", routes.by_tag(tag(1009), |e| e.slot), Some(9));
    drop(routes);
    drop(entries);
    rcu_barrier();
}

/// The skb surgery of the data path: the payload extension header goes in
/// after the IPv6 header on output and comes out on input, the addresses
/// swap, and a `CHECKSUM_COMPLETE` sum still matches the packet after.
fn payload_header_out_and_back() {
    use crate::kext::skb::OwnedSkb;
    let (ulid_a, ulid_b): ([u8; 16], [u8; 16]) =
        (unhex("20010db80001000000000000000000aa"), unhex("20010db80001000000000000000000bb"));
    let (loc_a, loc_b): ([u8; 16], [u8; 16]) =
        (unhex("20010db80002000000000000000000aa"), unhex("20010db80002000000000000000000bb"));
    // A UDP header and an odd-length payload, so that sums cross octet pairs.
    let udp = [0x12, 0x34, 0x00, 0x07, 0x00, 0x0d, 0xab, 0xcd, b'h', b'e', b'l', b'l', b'o'];
    let ext = [17, 0, 0x80 | 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc];
    for complete in [false, true] {
        let Ok(mut skb) = OwnedSkb::ipv6(&ulid_a, &ulid_b, 17, &udp) else {
            check!("payload_header_out_and_back", false);
            return;
        };
        let tag = crate::proto::wire::ContextTag::from_masked(0x1234_5678_9abc);
        let inserted = skb.view().insert_ext(40, tag, &loc_a, &loc_b);
        check!("payload_header_out_and_back", inserted.is_ok());
        let b = skb.bytes();
        check_eq!("payload_header_out_and_back", b.len(), 40 + 8 + udp.len());
        check_eq!("payload_header_out_and_back", (b[4], b[5], b[6]), (0, (8 + udp.len()) as u8, 140));
        check!("payload_header_out_and_back", b[8..24] == loc_a && b[24..40] == loc_b);
        check!("payload_header_out_and_back", b[40..48] == ext && b[48..] == udp);

        // Received: the handler finds it at the extension header.
        skb.as_received(40, complete);
        let removed = skb.view().remove_ext(&ulid_a, &ulid_b);
        check!("payload_header_out_and_back", removed.is_ok());
        let b = skb.bytes();
        check_eq!("payload_header_out_and_back", b.len(), 40 + udp.len());
        check_eq!("payload_header_out_and_back", (b[4], b[5], b[6]), (0, udp.len() as u8, 17));
        check!("payload_header_out_and_back", b[8..24] == ulid_a && b[24..40] == ulid_b && b[40..] == udp);
        if complete {
            check!("payload_header_out_and_back", skb.complete_sum_holds());
        }
    }
}

/// A TCP GSO packet that got the payload extension header is segmented
/// (in software, as for a device without offloads) into segments that all
/// carry the header and the locators, with TCP checksums that hold over
/// the ULIDs: what the peer checks once it restored them.
fn gso_segments_carry_the_header() {
    use crate::kext::skb::OwnedSkb;
    let (ulid_a, ulid_b): ([u8; 16], [u8; 16]) =
        (unhex("20010db80001000000000000000000aa"), unhex("20010db80001000000000000000000bb"));
    let (loc_a, loc_b): ([u8; 16], [u8; 16]) =
        (unhex("20010db80002000000000000000000aa"), unhex("20010db80002000000000000000000bb"));
    const MSS: usize = 1000;
    const DATA: usize = 2 * MSS + 345;
    let Ok(mut tcp) = KVec::from_elem(0u8, 20 + DATA, GFP_KERNEL) else {
        check!("gso_segments_carry_the_header", false);
        return;
    };
    tcp[0..4].copy_from_slice(&[0x30, 0x39, 0x00, 0x50]);
    tcp[12] = 5 << 4;
    tcp[13] = 0x10;
    for (i, b) in tcp.iter_mut().enumerate().skip(20) {
        *b = i as u8;
    }
    let ext = [6, 0, 0x80 | 0x01, 0x02, 0x03, 0x04, 0x05, 0x06];
    let Ok(mut skb) = OwnedSkb::ipv6(&ulid_a, &ulid_b, 6, &tcp) else {
        check!("gso_segments_carry_the_header", false);
        return;
    };
    skb.make_tcp_gso(MSS as u16);
    let tag = crate::proto::wire::ContextTag::from_masked(0x0102_0304_0506);
    let inserted = skb.view().insert_ext(40, tag, &loc_a, &loc_b);
    check!("gso_segments_carry_the_header", inserted.is_ok());
    let segs = match skb.segment() {
        Ok(s) => s,
        Err(_) => {
            check!("gso_segments_carry_the_header", false);
            return;
        }
    };
    check_eq!("gso_segments_carry_the_header", segs.len(), 3);
    let mut carried = 0;
    for seg in segs.iter() {
        let b = seg.bytes();
        let l4 = b.get(48..).unwrap_or(&[]);
        check_eq!("gso_segments_carry_the_header", usize::from(u16::from_be_bytes([b[4], b[5]])), 8 + l4.len());
        check!("gso_segments_carry_the_header", b[6] == 140 && b[40..48] == ext);
        check!("gso_segments_carry_the_header", b[8..24] == loc_a && b[24..40] == loc_b);
        check!("gso_segments_carry_the_header", l4.len() <= 20 + MSS);
        let holds = crate::kext::skb::testing::l4_checksum_holds(&ulid_a, &ulid_b, 6, l4);
        check!("gso_segments_carry_the_header", holds);
        carried += l4.len() - 20;
    }
    check_eq!("gso_segments_carry_the_header", carried, DATA);
}
