// SPDX-License-Identifier: GPL-2.0

//! Typed access to the shim6 module's socket level, `SOL_SHIM`, for
//! applications in Rust: the socket options and ancillary data of
//! draft-ietf-shim6-multihome-shim-api-08 as `include/uapi/linux/shim6.h`
//! defines them, on any socket that has a file descriptor (`std::net`,
//! `socket2`, tokio's through `AsFd`).
//!
//! ```no_run
//! use std::net::{Ipv6Addr, UdpSocket};
//! use shim6::{Locator, ShimSocket};
//!
//! let sock = UdpSocket::bind("[2001:db8:a::1]:0")?;
//! sock.connect("[2001:db8:b::1]:7")?;
//! sock.send(b"hello")?;
//! // The context is set up beside the first packets (deferred setup).
//! if sock.associated()? {
//!     for l in sock.peer_locators()? {
//!         println!("peer locator {} preference {}", l.addr, l.preference);
//!     }
//!     let other: Ipv6Addr = "2001:db8:b2::1".parse().unwrap();
//!     match sock.set_peer_pref(&Locator::new(other)) {
//!         Err(e) if shim6::is_invalid_locator(&e) => eprintln!("not a locator of the peer"),
//!         r => r?,
//!     }
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Errors are the kernel's, as [`io::Error`]s with their errno, but for
//! `EINVALIDLOCATOR` (200), which no `io::ErrorKind` names: it comes as
//! kind [`io::ErrorKind::AddrNotAvailable`] carrying an [`InvalidLocator`]
//! ([`is_invalid_locator`] tells it apart).  Without the module every
//! option fails with `ENOPROTOOPT`.

use std::fmt;
use std::io;
use std::mem::size_of;
use std::net::Ipv6Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use shim6_core::proto::context::Rank;
use shim6_core::proto::sockopt::{self as codec, Flavour};
use shim6_core::uapi;

pub mod cmsg;

pub use cmsg::{Ancillary, Direction, Feedback, Indicator, Received};

/// The socket level of the shim (`SOL_SHIM`).
pub const SOL_SHIM: libc::c_int = uapi::SOL_SHIM as libc::c_int;

/// `EINVALIDLOCATOR`: a locator failed the shim's validation.
pub const EINVALIDLOCATOR: i32 = uapi::EINVALIDLOCATOR as i32;

/// Most locators one list holds (`SHIM_MAX_LOCATORS`).
pub const MAX_LOCATORS: usize = uapi::SHIM_MAX_LOCATORS as usize;

/// The error inside an [`io::Error`] for `EINVALIDLOCATOR`: the locator is
/// not one of the context's (ours, or the peer's that passed HBA
/// verification), or SHIM6 cannot use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidLocator;

impl fmt::Display for InvalidLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid locator (EINVALIDLOCATOR)")
    }
}

impl std::error::Error for InvalidLocator {}

/// Whether `e` is the shim's `EINVALIDLOCATOR`.
pub fn is_invalid_locator(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<InvalidLocator>())
}

/// The error of the call that just failed, `EINVALIDLOCATOR` made
/// recognisable.
pub(crate) fn last_error() -> io::Error {
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(EINVALIDLOCATOR) {
        io::Error::new(io::ErrorKind::AddrNotAvailable, InvalidLocator)
    } else {
        e
    }
}

/// A locator: an address of ours or of the peer, as a context holds it
/// (`struct shim_locator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locator {
    /// The address (IPv4 ones v4-mapped; a SHIM6 context refuses them).
    pub addr: Ipv6Addr,
    /// Higher is tried first; 0 when none was set.
    pub preference: u8,
    /// [`Locator::HBA`], [`Locator::CGA`]: how the shim verified it
    /// (read only).
    pub flags: u8,
    /// Of our locators, the index of the interface that has it; 0 when
    /// none has or above 255 (read only).
    pub ifindex: u8,
}

impl Locator {
    /// Verified by the HBA set it belongs to (`SHIM_LOC_FLAG_HBA`).
    pub const HBA: u8 = uapi::SHIM_LOC_FLAG_HBA as u8;
    /// A CGA (`SHIM_LOC_FLAG_CGA`).
    pub const CGA: u8 = uapi::SHIM_LOC_FLAG_CGA as u8;

    /// The locator `addr`, no preference.
    pub fn new(addr: Ipv6Addr) -> Self {
        Locator { addr, preference: 0, flags: 0, ifindex: 0 }
    }

    /// The locator `addr` with preference `preference`.
    pub fn with_preference(addr: Ipv6Addr, preference: u8) -> Self {
        Locator { preference, ..Locator::new(addr) }
    }

    fn to_codec(self) -> codec::Locator {
        let family = if self.addr.to_ipv4_mapped().is_some() { codec::AF_INET } else { codec::AF_INET6 };
        codec::Locator {
            family,
            ifidx: 0,
            flags: 0,
            rank: Rank::draft(self.preference),
            addr: self.addr.octets(),
        }
    }

    fn from_codec(l: &codec::Locator) -> Self {
        Locator {
            addr: Ipv6Addr::from(l.addr),
            preference: l.rank.preference(),
            flags: u8::try_from(l.flags).unwrap_or(0),
            ifindex: u8::try_from(l.ifidx).unwrap_or(0),
        }
    }
}

/// REAP's path exploration parameters of a context (`struct
/// shim_pathexplore`).  A field of 0 keeps RFC 5534's default when set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathExplore {
    /// Initial probes before exploration slows down (default 4).
    pub probes: u8,
    /// Our Send Timeout in seconds, announced to the peer as its
    /// Keepalive Timeout (default 15).
    pub keepalive_timeout: u8,
    /// Initial Probe Timeout in milliseconds, 0 or at least 100 (default
    /// 500).
    pub initial_probe_timeout: u16,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("the kernel returned {what}"))
}

/// `SOL_SHIM` on a socket.  Implemented for everything with a file
/// descriptor; the calls fail as the kernel says (see the UAPI header for
/// every errno), most with `ENOENT` while the socket has no context.
pub trait ShimSocket: AsFd {
    /// `SHIM_ASSOCIATED`: whether the socket's packets go through an
    /// established context.
    fn associated(&self) -> io::Result<bool> {
        Ok(get_int(self.as_fd(), uapi::SHIM_ASSOCIATED)? != 0)
    }

    /// `SHIM_DONTSHIM`: whether the socket bypasses the shim.
    fn dont_shim(&self) -> io::Result<bool> {
        Ok(get_int(self.as_fd(), uapi::SHIM_DONTSHIM)? != 0)
    }

    /// Sets `SHIM_DONTSHIM` (before connect() or the first packet: a
    /// context already made stays).
    fn set_dont_shim(&self, on: bool) -> io::Result<()> {
        set_int(self.as_fd(), uapi::SHIM_DONTSHIM, on.into())
    }

    /// `SHIM_HOT_STANDBY`: whether the context keeps a verified
    /// alternative pair to switch to at once.
    fn hot_standby(&self) -> io::Result<bool> {
        Ok(get_int(self.as_fd(), uapi::SHIM_HOT_STANDBY)? != 0)
    }

    /// Sets `SHIM_HOT_STANDBY` for the socket's context.
    fn set_hot_standby(&self, on: bool) -> io::Result<()> {
        set_int(self.as_fd(), uapi::SHIM_HOT_STANDBY, on.into())
    }

    /// `SHIM_LOC_LOCAL_PREF`: the locator of ours the context sends from.
    fn local_pref(&self) -> io::Result<Locator> {
        get_locator(self.as_fd(), uapi::SHIM_LOC_LOCAL_PREF)
    }

    /// Moves the context to our locator `l` (may fork the context when
    /// another socket set ours first).
    fn set_local_pref(&self, l: &Locator) -> io::Result<()> {
        set_raw(self.as_fd(), uapi::SHIM_LOC_LOCAL_PREF, &l.to_codec().encode(Flavour::Draft))
    }

    /// `SHIM_LOC_PEER_PREF`: the peer's locator the context sends to.
    fn peer_pref(&self) -> io::Result<Locator> {
        get_locator(self.as_fd(), uapi::SHIM_LOC_PEER_PREF)
    }

    /// Moves the context to the peer's locator `l`, which must be a
    /// verified one of the peer's ([`is_invalid_locator`] otherwise).
    fn set_peer_pref(&self, l: &Locator) -> io::Result<()> {
        set_raw(self.as_fd(), uapi::SHIM_LOC_PEER_PREF, &l.to_codec().encode(Flavour::Draft))
    }

    /// `SHIM_LOC_LOCAL_RECV` and `SHIM_LOC_PEER_RECV`: each datagram
    /// received reports the locators it came on ([`Ancillary::LocalRecv`],
    /// [`Ancillary::PeerRecv`]).  Works on unconnected sockets too.
    fn set_recv_locators(&self, local: bool, peer: bool) -> io::Result<()> {
        set_int(self.as_fd(), uapi::SHIM_LOC_LOCAL_RECV, local.into())?;
        set_int(self.as_fd(), uapi::SHIM_LOC_PEER_RECV, peer.into())
    }

    /// `SHIM_LOC_LOCAL_SEND` and `SHIM_LOC_PEER_SEND`, sticky: the
    /// socket's packets leave on these locators (`None` clears one).
    fn set_send_locators(&self, local: Option<&Locator>, peer: Option<&Locator>) -> io::Result<()> {
        let enc = |l: Option<&Locator>| l.map_or([0; codec::LOCATOR_LEN].to_vec(), |l| l.to_codec().encode(Flavour::Draft).to_vec());
        set_raw(self.as_fd(), uapi::SHIM_LOC_LOCAL_SEND, &enc(local))?;
        set_raw(self.as_fd(), uapi::SHIM_LOC_PEER_SEND, &enc(peer))
    }

    /// `SHIM_LOCLIST_LOCAL`: our locators in the context, best first.
    fn local_locators(&self) -> io::Result<Vec<Locator>> {
        get_list(self.as_fd(), uapi::SHIM_LOCLIST_LOCAL)
    }

    /// Restricts the context to these locators of ours (and ranks them).
    fn set_local_locators(&self, list: &[Locator]) -> io::Result<()> {
        set_list(self.as_fd(), uapi::SHIM_LOCLIST_LOCAL, list)
    }

    /// `SHIM_LOCLIST_PEER`: the peer's verified locators, best first.
    fn peer_locators(&self) -> io::Result<Vec<Locator>> {
        get_list(self.as_fd(), uapi::SHIM_LOCLIST_PEER)
    }

    /// Restricts the context to these locators of the peer.
    fn set_peer_locators(&self, list: &[Locator]) -> io::Result<()> {
        set_list(self.as_fd(), uapi::SHIM_LOCLIST_PEER, list)
    }

    /// `SHIM_PATHEXPLORE`: the parameters in force, defaults filled in.
    fn path_explore(&self) -> io::Result<PathExplore> {
        let mut buf = [0u8; codec::PATHEXPLORE_LEN];
        let n = get_raw(self.as_fd(), uapi::SHIM_PATHEXPLORE, &mut buf)?;
        let pe = buf.get(..n).and_then(|b| codec::PathExplore::decode(b, Flavour::Draft).ok()).ok_or_else(|| invalid("a malformed shim_pathexplore"))?;
        let u8_of = |v: u16| u8::try_from(v).unwrap_or(u8::MAX);
        Ok(PathExplore { probes: u8_of(pe.probenum), keepalive_timeout: u8_of(pe.keepaliveto), initial_probe_timeout: pe.initprobeto })
    }

    /// Sets the socket's context's exploration parameters.
    fn set_path_explore(&self, pe: &PathExplore) -> io::Result<()> {
        let pe = codec::PathExplore {
            probenum: pe.probes.into(),
            keepaliveto: pe.keepalive_timeout.into(),
            keepaliveint: 0,
            initprobeto: pe.initial_probe_timeout,
        };
        set_raw(self.as_fd(), uapi::SHIM_PATHEXPLORE, &pe.encode(Flavour::Draft))
    }

    /// `SHIM_APP_TIMEOUT`, in seconds (0: none).
    fn app_timeout(&self) -> io::Result<u32> {
        u32::try_from(get_int(self.as_fd(), uapi::SHIM_APP_TIMEOUT)?).map_err(|_| invalid("a negative timeout"))
    }

    /// Sets `SHIM_APP_TIMEOUT`: how long the application tolerates
    /// silence; longer than the Send Timeout, it suppresses Keepalives.
    fn set_app_timeout(&self, seconds: u32) -> io::Result<()> {
        set_int(self.as_fd(), uapi::SHIM_APP_TIMEOUT, i32::try_from(seconds).unwrap_or(i32::MAX))
    }

    /// `SHIM_DEFERRED_CONTEXT_SETUP`: whether packets leave before their
    /// context is set up (the default).
    fn deferred_context_setup(&self) -> io::Result<bool> {
        Ok(get_int(self.as_fd(), uapi::SHIM_CONTEXT_DEFERRED_SETUP)? != 0)
    }

    /// Sets `SHIM_DEFERRED_CONTEXT_SETUP`; `false` makes the socket's
    /// packets wait for the context.
    fn set_deferred_context_setup(&self, on: bool) -> io::Result<()> {
        set_int(self.as_fd(), uapi::SHIM_CONTEXT_DEFERRED_SETUP, on.into())
    }

    /// sendmsg(2) of `buf` to `to` (`None` on a connected socket) with
    /// `SOL_SHIM` ancillary data.
    fn send_shim(&self, buf: &[u8], to: Option<&std::net::SocketAddrV6>, ancillary: &[Ancillary]) -> io::Result<usize> {
        cmsg::send(self.as_fd(), buf, to, ancillary)
    }

    /// recvmsg(2) into `buf`, with the `SOL_SHIM` ancillary data that came
    /// with it (the locators, after [`ShimSocket::set_recv_locators`]).
    fn recv_shim(&self, buf: &mut [u8]) -> io::Result<Received> {
        cmsg::recv(self.as_fd(), buf)
    }
}

impl<T: AsFd + ?Sized> ShimSocket for T {}

fn set_raw(fd: BorrowedFd<'_>, opt: u32, val: &[u8]) -> io::Result<()> {
    let len = libc::socklen_t::try_from(val.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `val` is readable for `len` octets and `fd` is open.
    let r = unsafe { libc::setsockopt(fd.as_raw_fd(), SOL_SHIM, opt as libc::c_int, val.as_ptr().cast(), len) };
    if r < 0 {
        return Err(last_error());
    }
    Ok(())
}

fn get_raw(fd: BorrowedFd<'_>, opt: u32, buf: &mut [u8]) -> io::Result<usize> {
    let mut len = libc::socklen_t::try_from(buf.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `buf` is writable for `len` octets, `len` is writable and `fd` is open.
    let r = unsafe { libc::getsockopt(fd.as_raw_fd(), SOL_SHIM, opt as libc::c_int, buf.as_mut_ptr().cast(), &mut len) };
    if r < 0 {
        return Err(last_error());
    }
    Ok(usize::try_from(len).unwrap_or(0).min(buf.len()))
}

fn set_int(fd: BorrowedFd<'_>, opt: u32, v: i32) -> io::Result<()> {
    set_raw(fd, opt, &v.to_ne_bytes())
}

fn get_int(fd: BorrowedFd<'_>, opt: u32) -> io::Result<i32> {
    let mut b = [0u8; size_of::<i32>()];
    if get_raw(fd, opt, &mut b)? != b.len() {
        return Err(invalid("a short int"));
    }
    Ok(i32::from_ne_bytes(b))
}

fn get_locator(fd: BorrowedFd<'_>, opt: u32) -> io::Result<Locator> {
    let mut b = [0u8; codec::LOCATOR_LEN];
    let n = get_raw(fd, opt, &mut b)?;
    match b.get(..n).map(|b| codec::Locator::decode(b, Flavour::Draft)) {
        Some(Ok(Some(l))) => Ok(Locator::from_codec(&l)),
        _ => Err(invalid("a malformed shim_locator")),
    }
}

fn get_list(fd: BorrowedFd<'_>, opt: u32) -> io::Result<Vec<Locator>> {
    // Room for the longest list: the kernel says ERANGE for nothing less.
    let mut b = [0u8; codec::LOCATOR_LEN * codec::MAX_LOCATORS];
    let n = get_raw(fd, opt, &mut b)?;
    b.get(..n)
        .unwrap_or(&[])
        .chunks(codec::LOCATOR_LEN)
        .map(|c| match codec::Locator::decode(c, Flavour::Draft) {
            Ok(Some(l)) => Ok(Locator::from_codec(&l)),
            _ => Err(invalid("a malformed shim_locator list")),
        })
        .collect()
}

fn set_list(fd: BorrowedFd<'_>, opt: u32, list: &[Locator]) -> io::Result<()> {
    let buf: Vec<u8> = list.iter().flat_map(|l| l.to_codec().encode(Flavour::Draft).to_vec()).collect();
    set_raw(fd, opt, &buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_keep_what_the_draft_layout_holds() {
        let l = Locator::with_preference("2001:db8::1".parse().unwrap(), 7);
        let enc = l.to_codec().encode(Flavour::Draft);
        assert_eq!(enc.len(), size_of::<uapi::shim_locator>());
        assert_eq!(enc[0], libc::AF_INET6 as u8);
        assert_eq!(enc[3], 7);
        let back = codec::Locator::decode(&enc, Flavour::Draft).unwrap().unwrap();
        assert_eq!(Locator::from_codec(&back), l);
        let v4 = Locator::new("::ffff:192.0.2.1".parse().unwrap()).to_codec();
        assert_eq!(v4.family, libc::AF_INET as u8);
    }

    #[test]
    fn only_the_shims_own_errno_is_wrapped() {
        let e = io::Error::new(io::ErrorKind::AddrNotAvailable, InvalidLocator);
        assert!(is_invalid_locator(&e));
        assert_eq!(e.to_string(), "invalid locator (EINVALIDLOCATOR)");
        assert!(!is_invalid_locator(&io::Error::from_raw_os_error(libc::ENOENT)));
        assert!(!is_invalid_locator(&io::Error::from_raw_os_error(EINVALIDLOCATOR)));
    }
}
