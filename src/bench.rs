// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `shim6_bench`: what the data path's cost does and does not
//! depend on, measured in the kernel on the code that runs.  `make bench`
//! runs it (tools/bench/datapath.sh); it is marked `speed=slow`, and
//! `make check` leaves it out (`kunit.filter_glob=shim6`, tools/vm).
//!
//! It prints one `shim6_bench:` line per measurement to the kernel log and
//! asserts only what it measured: that every lookup found its context and
//! every handshake ended established.  Times are never asserted.

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::{kunit_assert, kunit_assert_eq};

use crate::control::Slots;
use crate::crypto::{KernelMac, KernelRandom};
use crate::kext::sock::rcu_barrier;
use crate::proto::context::{Connect, Context, ContextTag, Endpoint, Host, Locators, Path, Responder, State, Table, UlidPair};
use crate::routes::Routes;

crate::kunit_suite!(slow "shim6_bench", [lookup_scales, packet_surgery, setup_rate]);

/// `kunit_assert!` for a case of this file.
macro_rules! check {
    ($case:literal, $cond:expr $(,)?) => {
        kunit_assert!($case, "src/bench.rs", 0, $cond)
    };
}

fn ns() -> u64 {
    // SAFETY: No preconditions.
    unsafe { bindings::ktime_get_ns() }
}

/// Free memory in octets.
fn free_memory() -> u64 {
    let mut info = bindings::sysinfo::default();
    // SAFETY: `info` is a valid `sysinfo` to fill.
    unsafe { bindings::si_meminfo(&mut info) };
    info.freeram as u64 * u64::from(info.mem_unit)
}

/// Address `i` of a side: 2001:db8:side::i.
fn addr(side: u8, i: u32) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    a[5] = side;
    a[12..].copy_from_slice(&i.to_be_bytes());
    a
}

fn ulids(i: u32) -> UlidPair {
    UlidPair { local: addr(1, i), peer: addr(2, i) }
}

/// The local tag of context `i`, unique in its table.
fn tag(i: u32) -> ContextTag {
    ContextTag::from_masked(0x1000 + u64::from(i))
}

/// Lookups per measurement.
const LOOKUPS: u32 = 100_000;

/// The hot few contexts: a server's active flows among its contexts.
const HOT: u32 = 64;

/// Table sizes measured: one context, a busy host, a busy server.
const SIZES: [u32; 3] = [1, 1_000, 100_000];

/// A namespace's table (`Slots`, publishing to `Routes`) filled with `n`
/// contexts; then `LOOKUPS` lookups of contexts picked at random, as the
/// output hook (by ULID pair) and the input handler (by tag) make them:
/// over all `n` (over 100 000 they miss the caches, and under TCG the
/// emulated TLB), then over `HOT` of them (the table's size is all that
/// differs from one context).  Also the time to add a context, and the memory a
/// context takes (free memory before and after, after RCU callbacks ran;
/// a KASAN kernel's red zones count).
fn lookup_scales() {
    let mut rng = KernelRandom;
    let mut base = None;
    for n in SIZES {
        let Ok(routes) = Routes::new((0x0123_4567, 0x89ab_cdef)).and_then(|r| Ok(Arc::new(r, GFP_KERNEL)?)) else {
            check!("lookup_scales", false);
            return;
        };
        let mut slots = Slots::new(n as usize, routes.clone());
        let local = Locators::new(&[addr(1, 0)]);
        rcu_barrier();
        let (free, start) = (free_memory(), ns());
        let mut added = 0;
        for i in 0..n {
            let path = Path { src: addr(3, i), dst: addr(4, i) };
            let (ctx, _) = Context::initiate(ulids(i), 0, tag(i), local, path, 0, &mut rng);
            added += u32::from(slots.insert(&ctx));
        }
        let add_ns = (ns() - start) / u64::from(n);
        rcu_barrier();
        let octets = free.saturating_sub(free_memory()) / u64::from(n);
        kunit_assert_eq!("lookup_scales", "src/bench.rs", 0, added, n);

        // A multiplicative congruential sequence: no crypto in the loop.
        let mut x: u32 = 0x2545_f491;
        let mut pick = || {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            x
        };
        // Every context at random, then a hot few: what a lookup costs
        // from memory, and what it costs when the table's size is all
        // that changed.
        let mut found = 0;
        let mut time = |of: u32, by_tag: bool| {
            let start = ns();
            for _ in 0..LOOKUPS {
                let i = pick() % of;
                found += u32::from(if by_tag {
                    routes.by_tag(tag(i), |e| e.slot).is_some()
                } else {
                    routes.by_ulids(&ulids(i), 0, |e| e.slot).is_some()
                });
            }
            (ns() - start) / u64::from(LOOKUPS)
        };
        let (out_ns, in_ns) = (time(n, false), time(n, true));
        let hot = n.min(HOT);
        let (hot_out_ns, hot_in_ns) = (time(hot, false), time(hot, true));
        kunit_assert_eq!("lookup_scales", "src/bench.rs", 0, found, 4 * LOOKUPS);

        let (out_1, in_1) = *base.get_or_insert((out_ns, in_ns));
        let ratio = |x: u64, one: u64| (x / one.max(1), x * 100 / one.max(1) % 100);
        let ((ro, ro2), (ri, ri2)) = (ratio(out_ns, out_1), ratio(in_ns, in_1));
        let ((ho, ho2), (hi, hi2)) = (ratio(hot_out_ns, out_1), ratio(hot_in_ns, in_1));
        let (ulid_buckets, tag_buckets) = routes.buckets();
        pr_info!(
            "shim6_bench: contexts {} buckets {}/{} add_ns {} out_lookup_ns {} in_lookup_ns {} out_ratio {}.{:02} in_ratio {}.{:02} hot_out_ns {} hot_in_ns {} hot_out_ratio {}.{:02} hot_in_ratio {}.{:02} octets_per_context {}\n",
            n,
            ulid_buckets,
            tag_buckets,
            add_ns,
            out_ns,
            in_ns,
            ro,
            ro2,
            ri,
            ri2,
            hot_out_ns,
            hot_in_ns,
            ho,
            ho2,
            hi,
            hi2,
            octets
        );
        slots.clear();
    }
    pr_info!(
        "shim6_bench: slot_octets {} entry_octets {}\n",
        core::mem::size_of::<crate::control::Slot>(),
        core::mem::size_of::<crate::routes::Entry>()
    );
}

/// Packets through the header surgery.
const PACKETS: u32 = 20_000;

/// The per-packet work on the data path besides the lookup, on a
/// 1400-octet UDP datagram: the payload extension header in and the
/// locators on (output), then out and the ULIDs back (input), the
/// functions the hook and the handler call.  The packet is built anew
/// for each round, outside the measured time.
fn packet_surgery() {
    use crate::kext::skb::OwnedSkb;
    use crate::proto::wire::ContextTag;
    let (ulid_a, ulid_b, loc_a, loc_b) = (addr(1, 1), addr(2, 1), addr(3, 1), addr(4, 1));
    let Ok(payload) = KVec::from_elem(0x5au8, 1400, GFP_KERNEL) else {
        check!("packet_surgery", false);
        return;
    };
    let tag = ContextTag::from_masked(0x1234_5678_9abc);
    let (mut out_ns, mut in_ns, mut done) = (0, 0, 0u32);
    for _ in 0..PACKETS {
        let Ok(mut skb) = OwnedSkb::ipv6(&ulid_a, &ulid_b, 17, &payload) else { break };
        let start = ns();
        let inserted = skb.view().insert_ext(40, tag, &loc_a, &loc_b);
        out_ns += ns() - start;
        skb.as_received(40, false);
        let start = ns();
        let removed = skb.view().remove_ext(&ulid_a, &ulid_b);
        in_ns += ns() - start;
        done += u32::from(inserted.is_ok() && removed.is_ok());
    }
    kunit_assert_eq!("packet_surgery", "src/bench.rs", 0, done, PACKETS);
    pr_info!(
        "shim6_bench: packets {} output_ns {} input_ns {}\n",
        PACKETS,
        out_ns / u64::from(PACKETS),
        in_ns / u64::from(PACKETS)
    );
}

/// Handshakes to run.
const HANDSHAKES: u32 = 200;

/// Context setup: I1, R1, I2, R2 between two hosts with the kernel's
/// HMAC, both tables the namespace's own (`Slots`), each handshake on a
/// new ULID pair.  Both ends run on this CPU, so a host that is only one
/// end does each in about half the time.
fn setup_rate() {
    let (Ok(mut mac), mut rng) = (KernelMac::new(), KernelRandom) else {
        check!("setup_rate", false);
        return;
    };
    let tables = || -> Result<(Slots, Slots)> {
        let seed = (0x0123_4567, 0x89ab_cdef);
        let a = Arc::new(Routes::new(seed)?, GFP_KERNEL)?;
        let b = Arc::new(Routes::new(seed)?, GFP_KERNEL)?;
        Ok((Slots::new(HANDSHAKES as usize, a), Slots::new(HANDSHAKES as usize, b)))
    };
    let Ok((ta, tb)) = tables() else {
        check!("setup_rate", false);
        return;
    };
    let (a1, b1) = (addr(1, 0), addr(2, 0));
    // On the heap: a handshake's own frames take much of a kernel stack.
    let endpoints = KBox::new(
        (
            Endpoint::new(Host::new(Responder::new(0, &mut rng), Locators::new(&[a1])), ta),
            Endpoint::new(Host::new(Responder::new(0, &mut rng), Locators::new(&[b1])), tb),
        ),
        GFP_KERNEL,
    );
    let Ok(mut endpoints) = endpoints else {
        check!("setup_rate", false);
        return;
    };
    let (a, b) = &mut *endpoints;
    let mut established = 0;
    let start = ns();
    for i in 0..HANDSHAKES {
        // 40 handshakes a second of simulated time: under the namespace's
        // limits on new contexts and on answers (Limits::default()).
        let now = u64::from(i) * 25;
        let ulids = UlidPair { local: addr(1, i), peer: addr(2, i) };
        let Connect::Started(i1) = a.connect(ulids, now, &mut rng) else { break };
        crate::tests::exchange(a, b, i1, now, &mut rng, &mut mac);
        established += u32::from(a.table.by_ulids(&ulids, 0).is_some_and(|c| c.state() == State::Established));
    }
    let elapsed = (ns() - start).max(1);
    kunit_assert_eq!("setup_rate", "src/bench.rs", 0, established, HANDSHAKES);
    pr_info!(
        "shim6_bench: handshakes {} ns_per_handshake {} handshakes_per_s {}\n",
        HANDSHAKES,
        elapsed / u64::from(HANDSHAKES),
        u64::from(HANDSHAKES) * 1_000_000_000 / elapsed
    );
}
