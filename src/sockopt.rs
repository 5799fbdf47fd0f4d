// SPDX-License-Identifier: GPL-2.0

//! `SOL_SHIM` socket options and ancillary data: the kernel side of
//! `proto::sockopt`.

use core::sync::atomic::{AtomicU32, Ordering};

use kernel::error::code::{E2BIG, EAGAIN, EINVAL, ENODEV, ENOENT, ERANGE};
use kernel::prelude::*;

use crate::kext::net::PernetState;
use crate::kext::bh::bh_disabled;
use crate::kext::shim::{CmsgOut, ShimOps, SkbExt, SockWords};
use crate::kext::skb::Addr;
use crate::kext::sock::{OptIn, OptOut, Sock};
use crate::netns::NetState;
use crate::proto::context::reap::ReapConfig;
use crate::proto::context::{Explore, Flow, Millis, UlidPair, Want};
use crate::proto::sockopt::{self as so, Cmsg, Flavour, Indicator, Opt, Side, SockFlags};
use crate::uapi;

// The core's numbering is the header's.
const _: () = {
    assert!(Opt::Associated as u32 == uapi::SHIM_ASSOCIATED);
    assert!(Opt::DontShim as u32 == uapi::SHIM_DONTSHIM);
    assert!(Opt::HotStandby as u32 == uapi::SHIM_HOT_STANDBY);
    assert!(Opt::LocLocalPref as u32 == uapi::SHIM_LOC_LOCAL_PREF);
    assert!(Opt::LocPeerPref as u32 == uapi::SHIM_LOC_PEER_PREF);
    assert!(Opt::LocLocalRecv as u32 == uapi::SHIM_LOC_LOCAL_RECV);
    assert!(Opt::LocPeerRecv as u32 == uapi::SHIM_LOC_PEER_RECV);
    assert!(Opt::LocLocalSend as u32 == uapi::SHIM_LOC_LOCAL_SEND);
    assert!(Opt::LocPeerSend as u32 == uapi::SHIM_LOC_PEER_SEND);
    assert!(Opt::LoclistLocal as u32 == uapi::SHIM_LOCLIST_LOCAL);
    assert!(Opt::LoclistPeer as u32 == uapi::SHIM_LOCLIST_PEER);
    assert!(Opt::AppTimeout as u32 == uapi::SHIM_APP_TIMEOUT);
    assert!(Opt::PathExplore as u32 == uapi::SHIM_PATHEXPLORE);
    assert!(Opt::DeferredSetup as u32 == uapi::SHIM_CONTEXT_DEFERRED_SETUP);
    assert!(so::CMSG_FEEDBACK as u32 == uapi::SHIM_FEEDBACK);
    assert!(so::CMSG_IF_SEND as u32 == uapi::SHIM_IF_SEND);
    assert!(so::MAX_LOCATORS as u32 == uapi::SHIM_MAX_LOCATORS);
    assert!(so::LOCATOR_LEN == core::mem::size_of::<uapi::shim_locator>());
    assert!(so::PATHEXPLORE_LEN == core::mem::size_of::<uapi::shim_pathexplore>());
    assert!(so::FEEDBACK_LEN == core::mem::size_of::<uapi::shim_feedback>());
    assert!(so::RFC6316_OFFSET as u32 == uapi::SHIM_RFC6316_OFFSET);
    assert!(Flavour::Rfc6316.number(Opt::Associated as i32) as u32 == uapi::SHIM_ASSOCIATED_RFC6316);
    assert!(Flavour::Rfc6316.number(Opt::DeferredSetup as i32) as u32 == uapi::SHIM_CONTEXT_DEFERRED_SETUP_RFC6316);
    assert!(Flavour::Rfc6316.number(so::CMSG_FEEDBACK) as u32 == uapi::SHIM_FEEDBACK_RFC6316);
    assert!(so::LOCATOR_RFC6316_LEN == core::mem::size_of::<uapi::shim_locator_rfc6316>());
    assert!(so::PATHEXPLORE_RFC6316_LEN == core::mem::size_of::<uapi::shim_pathexplore_rfc6316>());
};

/// The owner of `SOL_SHIM`.
pub(crate) struct SolShim;

/// What a socket remembers: [`FLAGS`], [`COUNTED`], its sticky locators,
/// and its own context if it forked one.
pub(crate) type SockOpts = SockWords<13>;
/// [`SockFlags`]: zero is the draft's defaults.
const FLAGS: usize = 0;
/// Non-zero once the socket is counted in its namespace.
const COUNTED: usize = 1;
/// Sequence count of the sticky locators: odd while one is written.
const SEND_SEQ: usize = 2;
/// `SHIM_LOC_LOCAL_SEND`, four words; all-zero when unset.
const LOCAL_SEND: usize = 3;
/// `SHIM_LOC_PEER_SEND`, four words; all-zero when unset.
const PEER_SEND: usize = 7;
/// The FII of the context the socket forked (0: none).
const FII: usize = 11;
/// The socket as its contexts know it (its inode number), once it steered
/// one: 0 until then.
const OWNER: usize = 12;

fn words_of(state: &SockOpts, side: Side) -> Option<&[AtomicU32; 4]> {
    match side {
        Side::Local => state.words::<LOCAL_SEND, 4>(),
        Side::Peer => state.words::<PEER_SEND, 4>(),
    }
}

/// Stores a sticky locator (all-zero clears it).  Writers take the
/// sequence count odd, so readers retry rather than see half an address.
///
/// Readers spin while the count is odd, and one runs in the LOCAL_OUT
/// hook, in softirq too: the writer runs with softirqs (and so
/// preemption) off, so that no reader can interrupt it on its own CPU and
/// spin forever, and readers elsewhere wait at most a few stores.
fn store_send(state: &SockOpts, side: Side, addr: &Addr) {
    bh_disabled(|| write_send(state, side, addr))
}

fn write_send(state: &SockOpts, side: Side, addr: &Addr) {
    let seq = state.word::<SEND_SEQ>();
    let mut cur = seq.load(Ordering::Relaxed);
    loop {
        if cur % 2 == 1 {
            core::hint::spin_loop();
            cur = seq.load(Ordering::Relaxed);
            continue;
        }
        match seq.compare_exchange_weak(cur, cur.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => break,
            Err(now) => cur = now,
        }
    }
    if let Some(words) = words_of(state, side) {
        for (i, w) in words.iter().enumerate() {
            let b = addr.get(4 * i..4 * i + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).unwrap_or_default();
            w.store(u32::from_ne_bytes(b), Ordering::Relaxed);
        }
    }
    seq.store(cur.wrapping_add(2), Ordering::Release);
}

/// A sticky locator, if set.
fn load_send(state: &SockOpts, side: Side) -> Option<Addr> {
    let seq = state.word::<SEND_SEQ>();
    loop {
        let before = seq.load(Ordering::Acquire);
        if before % 2 == 1 {
            core::hint::spin_loop();
            continue;
        }
        let mut addr = [0u8; 16];
        for (i, w) in words_of(state, side)?.iter().enumerate() {
            if let Some(b) = addr.get_mut(4 * i..4 * i + 4) {
                b.copy_from_slice(&w.load(Ordering::Relaxed).to_ne_bytes());
            }
        }
        core::sync::atomic::fence(Ordering::Acquire);
        if seq.load(Ordering::Relaxed) == before {
            return (addr != [0; 16]).then_some(addr);
        }
    }
}

/// The socket's sticky locators (`SHIM_LOC_LOCAL_SEND`, `SHIM_LOC_PEER_SEND`).
pub(crate) fn send_locators(sk: &Sock) -> (Option<Addr>, Option<Addr>) {
    SolShim::state(sk).map_or((None, None), |s| (load_send(s, Side::Local), load_send(s, Side::Peer)))
}

/// The FII of the socket's own context (0: it forked none).
pub(crate) fn fii(sk: &Sock) -> u32 {
    SolShim::state(sk).map_or(0, |s| s.word::<FII>().load(Ordering::Relaxed))
}

/// A socket option asks `want` of the socket's context: applied, or the
/// context forked for this socket (draft §9.1), which it uses from then on.
fn steer(sk: &Sock, want: &Want) -> Result<(), so::Error> {
    let ulids = ulids_of(sk)?;
    let state = SolShim::state_or_create(sk).map_err(|_| so::Error::NoRoom)?;
    let mut owner = state.word::<OWNER>().load(Ordering::Relaxed);
    if owner == 0 {
        // No inode (0): the socket never forks, it steers the shared context.
        owner = u32::try_from(sk.inode()).unwrap_or(0);
        state.word::<OWNER>().store(owner, Ordering::Relaxed);
    }
    let fii = state.word::<FII>().load(Ordering::Relaxed);
    if let Some(new) = NetState::of(sk.net()).ctl.steer(&ulids, fii, owner, want)? {
        state.word::<FII>().store(new, Ordering::Relaxed);
    }
    Ok(())
}

fn errno(e: so::Error) -> Error {
    match e {
        so::Error::NoProtoOpt => Error::from_errno(-(kernel::bindings::ENOPROTOOPT as i32)),
        so::Error::Invalid => EINVAL,
        so::Error::TooBig => E2BIG,
        so::Error::NoContext => ENOENT,
        so::Error::InvalidLocator => Error::from_errno(-(uapi::EINVALIDLOCATOR as i32)),
        so::Error::NoDevice => ENODEV,
        so::Error::Range(_) => ERANGE,
        so::Error::Ipv4Locator => Error::from_errno(-(kernel::bindings::EAFNOSUPPORT as i32)),
        so::Error::Again => EAGAIN,
        so::Error::NoRoom => Error::from_errno(-(kernel::bindings::ENOBUFS as i32)),
    }
}

/// The errno of `e` in flavour `f`: RFC 6316 says ETOOMANYLOCATORS where
/// the draft's numbers say E2BIG (a list too long) or ERANGE (a buffer too
/// small for the list).
fn errno_in(e: so::Error, f: Flavour) -> Error {
    match (e, f) {
        (so::Error::TooBig | so::Error::Range(_), Flavour::Rfc6316) => {
            Error::from_errno(-(uapi::ETOOMANYLOCATORS as i32))
        }
        (e, _) => errno(e),
    }
}

/// `EOPNOTSUPP`, which userspace knows (the kernel's `ENOTSUPP` it does not).
fn eopnotsupp() -> Error {
    Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32))
}

/// RFC 6316 (§6.15, §7.4): its numbers serve connected sockets only, but
/// for `SHIM_DONTSHIM`; EOPNOTSUPP on another, checked just before the
/// context is.
fn rfc_connected(sk: &Sock, opt: Option<Opt>, f: Flavour) -> Result {
    if f == Flavour::Rfc6316 && opt != Some(Opt::DontShim) && sk.v6_pair().is_none() {
        return Err(eopnotsupp());
    }
    Ok(())
}

/// `SHIM_APP_TIMEOUT` or `SHIM_HOT_STANDBY` set: REAP of the socket's
/// context runs as `f` makes its parameters.  These never fork: the
/// context's are the last writer's (`SHIM_PATHEXPLORE` forks, see
/// [`steer`]).
fn set_reap(sk: &Sock, f: impl FnOnce(ReapConfig) -> ReapConfig) -> Result {
    let ulids = ulids_of(sk).map_err(errno)?;
    NetState::of(sk.net()).ctl.set_reap(&ulids, fii(sk), |cfg| Ok(f(cfg))).map_err(errno)
}

/// How REAP runs on the socket's context.
fn reap_config(sk: &Sock) -> Result<ReapConfig> {
    let ulids = ulids_of(sk).map_err(errno)?;
    NetState::of(sk.net()).ctl.reap_config(&ulids, fii(sk)).map_err(errno)
}

/// The ULID pair of a socket's context: a connected IPv6 socket that does
/// not bypass the shim has one once it is established.
fn ulids_of(sk: &Sock) -> Result<UlidPair, so::Error> {
    if dont_shim(sk) {
        return Err(so::Error::NoContext);
    }
    let (local, peer) = sk.v6_pair().ok_or(so::Error::NoContext)?;
    Ok(UlidPair { local, peer })
}

/// The context a `SHIM_LOC_*_RECV` option or a datagram's own locators
/// are checked against now: the connected socket's, which must exist
/// (`None` once checked); an unconnected datagram socket has none yet
/// (draft §6): its datagrams' locators are reported as they come, and
/// those it chooses are checked against each datagram's own context on
/// its way out (`Ok(None)`).
fn context_of(sk: &Sock) -> Result<Option<UlidPair>, so::Error> {
    match ulids_of(sk) {
        Ok(ulids) => Ok(Some(ulids)),
        Err(_) if !dont_shim(sk) && sk.unconnected_v6_datagram() => Ok(None),
        Err(e) => Err(e),
    }
}

/// setsockopt() of an option that acts on the socket's context.
fn set_with_context(sk: &Sock, opt: Opt, f: Flavour, buf: &[u8]) -> Result<(), so::Error> {
    let ctl = &NetState::of(sk.net()).ctl;
    let side = opt.side().unwrap_or(Side::Local);
    match opt {
        Opt::LocLocalPref | Opt::LocPeerPref => {
            // The all-zero locator only clears the sticky SEND options.
            let l = so::Locator::decode(buf, f)?.ok_or(so::Error::Invalid)?;
            // The context first (ENOENT), then the locator against it.
            ulids_of(sk)?;
            let a = so::shim6_addr(&l)?;
            steer(sk, &if side == Side::Local { Want::PreferLocal(a) } else { Want::PreferPeer(a) })
        }
        Opt::LocLocalSend | Opt::LocPeerSend => {
            let ulids = ulids_of(sk)?;
            let fii = fii(sk);
            let addr = match so::Locator::decode(buf, f)? {
                Some(l) => {
                    let a = so::shim6_addr(&l)?;
                    ctl.check_locator(&ulids, fii, side, &a)?;
                    a
                }
                // All-zero clears the choice.
                None => {
                    ctl.path(&ulids, fii)?;
                    [0; 16]
                }
            };
            let state = SolShim::state_or_create(sk).map_err(|_| so::Error::NoContext)?;
            store_send(state, side, &addr);
            Ok(())
        }
        Opt::LoclistLocal | Opt::LoclistPeer => {
            let mut list = [so::locator_of(&[0; 16]); so::MAX_LOCATORS];
            let n = so::decode_locator_list(buf, f, &mut list)?;
            ulids_of(sk)?;
            let (keep, prefs) = so::by_preference(list.get(..n).unwrap_or(&[]))?;
            steer(sk, &if side == Side::Local { Want::RestrictLocal(keep, prefs) } else { Want::RestrictPeer(keep, prefs) })
        }
        _ => Err(so::Error::NoContext),
    }
}

/// getsockopt() of an option read from the socket's context.
fn get_with_context(sk: &Sock, opt: Opt, f: Flavour, val: &OptOut) -> Result {
    let ctl = &NetState::of(sk.net()).ctl;
    let ulids = ulids_of(sk).map_err(errno)?;
    let fii = fii(sk);
    let side = opt.side().unwrap_or(Side::Local);
    match opt {
        Opt::LocLocalPref | Opt::LocPeerPref => {
            let path = ctl.path(&ulids, fii).map_err(errno)?;
            let a = match side {
                Side::Local => path.src,
                Side::Peer => path.dst,
            };
            val.write(&so::locator_of(&a).encode(f))
        }
        Opt::LoclistLocal | Opt::LoclistPeer => {
            let mut locs = ctl.locator_list(&ulids, fii, side).map_err(errno)?;
            if side == Side::Local {
                for l in locs.iter_mut() {
                    l.ifidx = sk.net().ifindex_of(&l.addr).and_then(|i| u32::try_from(i).ok()).unwrap_or(0);
                }
            }
            let optlen = usize::try_from(val.len()?).map_err(|_| EINVAL)?;
            let mut buf = KVec::from_elem(0u8, locs.len() * f.locator_len(), GFP_KERNEL)?;
            match so::encode_locator_list(&locs, f, optlen, &mut buf) {
                Ok(Some(n)) => val.write(buf.get(..n).unwrap_or(&[])),
                Ok(None) => val.set_len(buf.len()),
                Err(e @ so::Error::Range(need)) => {
                    val.set_len(need)?;
                    Err(errno_in(e, f))
                }
                Err(e) => Err(errno(e)),
            }
        }
        Opt::LocLocalSend | Opt::LocPeerSend => {
            // A socket with a context and no choice reads the all-zero locator.
            ctl.path(&ulids, fii).map_err(errno)?;
            let a = SolShim::state(sk).and_then(|s| load_send(s, side));
            let zero = so::Locator { family: 0, ..so::locator_of(&[0; 16]) };
            val.write(&a.map_or(zero, |a| so::locator_of(&a)).encode(f))
        }
        _ => Err(ENOENT),
    }
}

/// Whether a socket with `f` asks for the locators its datagrams come on.
fn receives(f: SockFlags) -> bool {
    f.get(Opt::LocLocalRecv) == Some(true) || f.get(Opt::LocPeerRecv) == Some(true)
}

/// Whether the socket asked to bypass the shim (`SHIM_DONTSHIM`).
pub(crate) fn dont_shim(sk: &Sock) -> bool {
    flags(sk).get(Opt::DontShim) == Some(true)
}

/// Whether the socket's packets wait for their context
/// (`SHIM_DEFERRED_CONTEXT_SETUP` 0).
pub(crate) fn setup_first(sk: &Sock) -> bool {
    flags(sk).get(Opt::DeferredSetup) == Some(false)
}

fn flags(sk: &Sock) -> SockFlags {
    SolShim::state(sk).map_or(SockFlags::default(), |s| SockFlags(s.word::<FLAGS>().load(Ordering::Relaxed)))
}

impl ShimOps for SolShim {
    type State = SockOpts;

    fn setsockopt(sk: &Sock, optname: i32, val: &OptIn) -> Result {
        // RFC 6316's deferred setup is a capability, read only.
        let writable = |&(o, f): &(Opt, Flavour)| o.writable() && !(f == Flavour::Rfc6316 && o == Opt::DeferredSetup);
        let (opt, f) = so::option(optname).filter(writable).ok_or(errno(so::Error::NoProtoOpt))?;
        let len = so::check_set_len(opt, f, val.len()).map_err(|e| errno_in(e, f))?;
        let mut buf = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        val.read(&mut buf)?;
        let value = so::decode_value(opt, f, &buf).map_err(errno)?;
        rfc_connected(sk, Some(opt), f)?;
        if f == Flavour::Rfc6316 {
            // SHIM_DONTSHIM is chosen before connect() (§6.2); a
            // SHIM_APP_TIMEOUT needs REAP, which a namespace with SHIM6
            // off does not run.
            let changes = value != so::Value::Bool(dont_shim(sk));
            if (opt == Opt::DontShim && changes && sk.v6_pair().is_some())
                || (opt == Opt::AppTimeout && !NetState::of(sk.net()).ctl.enabled())
            {
                return Err(eopnotsupp());
            }
        }
        match (opt, value) {
            (Opt::HotStandby, so::Value::Bool(on)) => return set_reap(sk, |cfg| ReapConfig { hot_standby: on, ..cfg }),
            (Opt::PathExplore, so::Value::PathExplore(pe)) => {
                let explore = Explore::of(&pe.config(ReapConfig::default()).map_err(errno)?);
                return steer(sk, &Want::Explore(explore)).map_err(errno);
            }
            (Opt::AppTimeout, so::Value::Uint(secs)) => {
                return set_reap(sk, |cfg| ReapConfig { app_timeout: Millis::from(secs) * 1000, ..cfg });
            }
            _ => {}
        }

        if opt.needs_context() && matches!(value, so::Value::Locator(_) | so::Value::LocatorList(_)) {
            return set_with_context(sk, opt, f, &buf).map_err(errno);
        }
        let with_context = matches!(opt, Opt::LocLocalRecv | Opt::LocPeerRecv);
        let set = |flags: SockFlags| {
            if with_context {
                so::set_bool_with_context(opt, f, value, flags)
            } else {
                so::set_without_context(opt, value, flags)
            }
        };
        if with_context {
            if let Some(ulids) = context_of(sk).map_err(errno)? {
                NetState::of(sk.net()).ctl.path(&ulids, fii(sk)).map_err(errno)?;
            }
        }
        // Validate before creating state: a refused option leaves the socket as it was.
        set(flags(sk)).map_err(errno)?;
        let state = Self::state_or_create(sk)?;
        if state.word::<COUNTED>().swap(1, Ordering::Relaxed) == 0 {
            NetState::of(sk.net()).socket_added();
        }
        // Other options of the socket may change concurrently: update only ours.
        let mut cur = state.word::<FLAGS>().load(Ordering::Relaxed);
        loop {
            let new = set(SockFlags(cur)).map_err(errno)?;
            match state.word::<FLAGS>().compare_exchange_weak(cur, new.0, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    if receives(SockFlags(cur)) != receives(new) {
                        NetState::of(sk.net()).receiver(receives(new));
                    }
                    return Ok(());
                }
                Err(now) => cur = now,
            }
        }
    }

    fn getsockopt(sk: &Sock, optname: i32, val: &OptOut) -> Result {
        let (opt, f) = so::option(optname).ok_or(errno(so::Error::NoProtoOpt))?;
        so::check_get_len(opt, f, val.len()?).map_err(errno)?;
        if (opt, f) == (Opt::DeferredSetup, Flavour::Rfc6316) {
            // RFC 6316: whether the shim can defer (SHIM6 can, while on).
            return val.write(&so::encode_int(i32::from(NetState::of(sk.net()).ctl.enabled())));
        }
        rfc_connected(sk, Some(opt), f)?;
        match opt {
            Opt::HotStandby => return val.write(&so::encode_int(i32::from(reap_config(sk)?.hot_standby))),
            Opt::PathExplore => return val.write(&so::PathExplore::of(&reap_config(sk)?).encode(f)),
            Opt::AppTimeout => {
                let secs = reap_config(sk)?.app_timeout / 1000;
                return val.write(&so::encode_int(i32::try_from(secs).unwrap_or(i32::MAX)));
            }
            _ => {}
        }
        if opt == Opt::Associated {
            let ctl = &NetState::of(sk.net()).ctl;
            // A socket that bypasses the shim is never associated.
            let yes = !dont_shim(sk) && sk.v6_pair().is_some_and(|(l, p)| ctl.associated(&UlidPair { local: l, peer: p }, fii(sk)));
            return val.write(&so::encode_int(i32::from(yes)));
        }
        if matches!(
            opt,
            Opt::LocLocalPref | Opt::LocPeerPref | Opt::LocLocalSend | Opt::LocPeerSend | Opt::LoclistLocal | Opt::LoclistPeer
        ) {
            return get_with_context(sk, opt, f, val);
        }
        if matches!(opt, Opt::LocLocalRecv | Opt::LocPeerRecv) {
            if let Some(ulids) = context_of(sk).map_err(errno)? {
                NetState::of(sk.net()).ctl.path(&ulids, fii(sk)).map_err(errno)?;
            }
            return val.write(&so::encode_int(so::get_bool_with_context(opt, flags(sk)).map_err(errno)?));
        }
        let v = so::get_without_context(opt, flags(sk)).map_err(errno)?;
        val.write(&so::encode_int(v))
    }

    fn cmsg_send(sk: &Sock, ty: i32, data: &[u8], ext: &mut SkbExt<'_>) -> Result {
        let (cmsg, f) = so::decode_cmsg(ty, data).map_err(errno)?;
        rfc_connected(sk, None, f)?;
        let (side, addr) = match cmsg {
            Cmsg::IfIndex(i) => {
                // The interface first (ENODEV), then the context (ENOENT).
                let addrs = sk.net().ipv6_addresses_on(i)?;
                let ulids = ulids_of(sk).map_err(errno)?;
                let a = NetState::of(sk.net()).ctl.local_among(&ulids, fii(sk), &addrs).map_err(errno)?;
                ext.set_local(&a);
                return Ok(());
            }
            Cmsg::LocalLocator(a) => (Side::Local, a),
            Cmsg::PeerLocator(a) => (Side::Peer, a),
            Cmsg::Feedback(fb) => {
                let ulids = ulids_of(sk).map_err(errno)?;
                let reachable = match fb.indicator {
                    // Must not be processed (draft §7.3), once the context is there.
                    Indicator::Default => return NetState::of(sk.net()).ctl.path(&ulids, fii(sk)).map(|_| ()).map_err(errno),
                    Indicator::UnableToConnect | Indicator::Unsatisfactory => false,
                    Indicator::Satisfactory => true,
                };
                return NetState::of(sk.net()).ctl.feedback(&ulids, fii(sk), reachable).map_err(errno);
            }
        };
        let ulids = context_of(sk).map_err(errno)?;
        let l = so::locator_of(&addr);
        let a = so::shim6_addr(&l).map_err(errno)?;
        if let Some(ulids) = ulids {
            NetState::of(sk.net()).ctl.check_locator(&ulids, fii(sk), side, &a).map_err(errno)?;
        }
        match side {
            Side::Local => ext.set_local(&a),
            Side::Peer => ext.set_peer(&a),
        }
        Ok(())
    }

    fn cmsg_recv(sk: &Sock, (local, peer): (Addr, Addr), out: &mut CmsgOut<'_>) {
        let f = flags(sk);
        for (opt, addr) in [(Opt::LocLocalRecv, &local), (Opt::LocPeerRecv, &peer)] {
            if f.get(opt) == Some(true) {
                out.put(f.recv_type(opt), &so::encode_sockaddr_in6(addr));
            }
        }
    }

    fn sk_clone(sk: &Sock, parent: &SockOpts) {
        let flags = SockFlags(parent.word::<FLAGS>().load(Ordering::Relaxed)).inherited();
        if flags == SockFlags::default() {
            return;
        }
        // Out of memory: the connection starts with the defaults.
        let Ok(state) = Self::state_or_create_atomic(sk) else { return };
        state.word::<FLAGS>().store(flags.0, Ordering::Relaxed);
        if state.word::<COUNTED>().swap(1, Ordering::Relaxed) == 0 {
            NetState::of(sk.net()).socket_added();
        }
    }

    fn tcp_timeout(sk: &Sock, sent_ms: u32) {
        // A socket that bypasses the shim says nothing about its context.
        if dont_shim(sk) {
            return;
        }
        let Some((local, peer)) = sk.v6_pair() else { return };
        let (local_port, peer_port) = sk.ports();
        NetState::of(sk.net()).ctl.unreachable(&UlidPair { local, peer }, fii(sk), Flow { local_port, peer_port }, sent_ms);
    }

    fn sk_release(sk: &Sock, state: &SockOpts) {
        let owner = state.word::<OWNER>().load(Ordering::Relaxed);
        if owner != 0 {
            NetState::of(sk.net()).ctl.socket_closed(owner);
        }
        if state.word::<COUNTED>().load(Ordering::Relaxed) != 0 {
            NetState::of(sk.net()).socket_released();
        }
        if receives(SockFlags(state.word::<FLAGS>().load(Ordering::Relaxed))) {
            NetState::of(sk.net()).receiver(false);
        }
    }
}
