// SPDX-License-Identifier: GPL-2.0

//! `SOL_SHIM` ancillary data (draft Table 2): the locators a datagram
//! came on, the locators, interface or feedback one goes out with.  They
//! apply to UDP and raw sockets; on TCP sendmsg(2) fails with
//! `EOPNOTSUPP`.
//!
//! ```
//! use shim6::{Ancillary, Direction, Feedback, Indicator};
//!
//! let out = [
//!     Ancillary::PeerSend("2001:db8:b2::1".parse().unwrap()),
//!     Ancillary::Feedback(Feedback { direction: Direction::Outbound, indicator: Indicator::Unsatisfactory }),
//! ];
//! let control = shim6::cmsg::encode(&out);
//! assert_eq!(shim6::cmsg::parse(&control), out);
//! ```

use std::io;
use std::mem::{align_of, size_of, MaybeUninit};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd};

use shim6_core::proto::sockopt as codec;
use shim6_core::uapi;

pub use codec::{Direction, Feedback, Indicator};

use crate::{last_error, SOL_SHIM};

/// One `SOL_SHIM` control message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ancillary {
    /// `SHIM_LOC_LOCAL_RECV`: the locator of ours a datagram came to.
    LocalRecv(Ipv6Addr),
    /// `SHIM_LOC_PEER_RECV`: the peer's locator a datagram came from.
    PeerRecv(Ipv6Addr),
    /// `SHIM_LOC_LOCAL_SEND`: send this datagram from our locator.
    LocalSend(Ipv6Addr),
    /// `SHIM_LOC_PEER_SEND`: send this datagram to the peer's locator.
    PeerSend(Ipv6Addr),
    /// `SHIM_IF_SEND`: send this datagram from the context's locator on
    /// the interface of this index.
    IfSend(u32),
    /// `SHIM_FEEDBACK`: how the application finds the path.
    Feedback(Feedback),
}

/// What recvmsg(2) gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// Octets of the datagram in the buffer.
    pub len: usize,
    /// Its sender (its ULID), on an unconnected socket.
    pub from: Option<SocketAddrV6>,
    /// The `SOL_SHIM` control messages that came with it.
    pub ancillary: Vec<Ancillary>,
    /// The datagram was longer than the buffer (`MSG_TRUNC`).
    pub truncated: bool,
}

impl Received {
    /// The locators it came on (ours, the peer's), when reported.
    pub fn locators(&self) -> (Option<Ipv6Addr>, Option<Ipv6Addr>) {
        let mut r = (None, None);
        for a in &self.ancillary {
            match *a {
                Ancillary::LocalRecv(l) => r.0 = Some(l),
                Ancillary::PeerRecv(p) => r.1 = Some(p),
                _ => {}
            }
        }
        r
    }
}

const HDR: usize = size_of::<libc::cmsghdr>();

/// `CMSG_ALIGN`: control messages start on a `long` boundary.
const fn align(n: usize) -> usize {
    (n + align_of::<libc::c_long>() - 1) & !(align_of::<libc::c_long>() - 1)
}

fn payload(a: &Ancillary) -> (u32, Vec<u8>) {
    let addr = |ty, a: &Ipv6Addr| (ty, codec::encode_sockaddr_in6(&a.octets()).to_vec());
    match a {
        Ancillary::LocalRecv(l) => addr(uapi::SHIM_LOC_LOCAL_RECV, l),
        Ancillary::PeerRecv(p) => addr(uapi::SHIM_LOC_PEER_RECV, p),
        Ancillary::LocalSend(l) => addr(uapi::SHIM_LOC_LOCAL_SEND, l),
        Ancillary::PeerSend(p) => addr(uapi::SHIM_LOC_PEER_SEND, p),
        Ancillary::IfSend(i) => (uapi::SHIM_IF_SEND, i.to_ne_bytes().to_vec()),
        Ancillary::Feedback(f) => {
            let direction = match f.direction {
                Direction::Outbound => uapi::SHIM_FB_DIR_OUTBOUND,
                Direction::Inbound => uapi::SHIM_FB_DIR_INBOUND,
            };
            let indicator = match f.indicator {
                Indicator::Default => uapi::SHIM_FB_DEFAULT,
                Indicator::UnableToConnect => uapi::SHIM_FB_UNABLE_TO_CONNECT,
                Indicator::Unsatisfactory => uapi::SHIM_FB_UNSATISFACTORY,
                Indicator::Satisfactory => uapi::SHIM_FB_SATISFACTORY,
            };
            (uapi::SHIM_FEEDBACK, vec![direction as u8, indicator as u8, 0, 0])
        }
    }
}

/// The control buffer of a sendmsg(2) carrying `ancillary`.
pub fn encode(ancillary: &[Ancillary]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in ancillary {
        let (ty, data) = payload(a);
        let len = HDR + data.len();
        out.extend_from_slice(&len.to_ne_bytes());
        out.extend_from_slice(&SOL_SHIM.to_ne_bytes());
        out.extend_from_slice(&(ty as libc::c_int).to_ne_bytes());
        out.extend_from_slice(&data);
        out.resize(out.len() + align(len) - len, 0);
    }
    out
}

/// The `SOL_SHIM` control messages in a control buffer recvmsg(2) filled
/// (others, and any the shim does not define, are passed over).
pub fn parse(control: &[u8]) -> Vec<Ancillary> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(h) = control.get(at..at + HDR) {
        let word = |i: usize, n: usize| h.get(i..i + n).unwrap_or(&[]);
        let len = usize::from_ne_bytes(word(0, size_of::<usize>()).try_into().unwrap_or_default());
        let level = libc::c_int::from_ne_bytes(word(size_of::<usize>(), 4).try_into().unwrap_or_default());
        let ty = libc::c_int::from_ne_bytes(word(size_of::<usize>() + 4, 4).try_into().unwrap_or_default());
        let Some(data) = (len >= HDR).then(|| control.get(at + HDR..at + len)).flatten() else { break };
        if level == SOL_SHIM {
            if let Some(a) = decode(ty as u32, data) {
                out.push(a);
            }
        }
        at += align(len);
    }
    out
}

fn decode(ty: u32, data: &[u8]) -> Option<Ancillary> {
    let addr = || codec::decode_sockaddr(data).ok().map(Ipv6Addr::from);
    Some(match ty {
        uapi::SHIM_LOC_LOCAL_RECV => Ancillary::LocalRecv(addr()?),
        uapi::SHIM_LOC_PEER_RECV => Ancillary::PeerRecv(addr()?),
        uapi::SHIM_LOC_LOCAL_SEND => Ancillary::LocalSend(addr()?),
        uapi::SHIM_LOC_PEER_SEND => Ancillary::PeerSend(addr()?),
        uapi::SHIM_IF_SEND => Ancillary::IfSend(u32::from_ne_bytes(data.get(..4)?.try_into().ok()?)),
        uapi::SHIM_FEEDBACK => Ancillary::Feedback(Feedback::decode(data).ok()?),
        _ => return None,
    })
}

fn sockaddr(a: &SocketAddrV6) -> libc::sockaddr_in6 {
    libc::sockaddr_in6 {
        sin6_family: libc::AF_INET6 as libc::sa_family_t,
        sin6_port: a.port().to_be(),
        sin6_flowinfo: a.flowinfo(),
        sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
        sin6_scope_id: a.scope_id(),
    }
}

pub(crate) fn send(fd: BorrowedFd<'_>, buf: &[u8], to: Option<&SocketAddrV6>, ancillary: &[Ancillary]) -> io::Result<usize> {
    let mut control = encode(ancillary);
    let mut name = to.map(sockaddr);
    let mut iov = libc::iovec { iov_base: buf.as_ptr().cast_mut().cast(), iov_len: buf.len() };
    // SAFETY: all-zero is a valid msghdr (no name, no iovec, no control).
    let mut msg: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
    if let Some(n) = name.as_mut() {
        msg.msg_name = (n as *mut libc::sockaddr_in6).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
    }
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !control.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = control.len() as _;
    }
    // SAFETY: `msg` points at `iov`, `name` and `control`, all alive and
    // as long as it says; the kernel only reads them.
    let n = unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, 0) };
    usize::try_from(n).map_err(|_| last_error())
}

pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Received> {
    // Room for every SOL_SHIM message a datagram can bring, and others.
    let mut control = [0u8; 512];
    // SAFETY: all-zero is a valid sockaddr_in6 and msghdr.
    let mut name: libc::sockaddr_in6 = unsafe { MaybeUninit::zeroed().assume_init() };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    msg.msg_name = (&mut name as *mut libc::sockaddr_in6).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len() as _;
    // SAFETY: `msg` points at `iov` (over `buf`), `name` and `control`,
    // all alive and writable for the lengths it gives.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, 0) };
    let len = usize::try_from(n).map_err(|_| last_error())?;
    let from = (msg.msg_namelen as usize >= size_of::<libc::sockaddr_in6>() && name.sin6_family == libc::AF_INET6 as libc::sa_family_t)
        .then(|| SocketAddrV6::new(name.sin6_addr.s6_addr.into(), u16::from_be(name.sin6_port), name.sin6_flowinfo, name.sin6_scope_id));
    // msg_controllen is size_t on glibc, socklen_t on musl.
    #[allow(clippy::unnecessary_cast)]
    let filled = control.get(..msg.msg_controllen as usize).unwrap_or(&control);
    Ok(Received { len, from, ancillary: parse(filled), truncated: msg.msg_flags & libc::MSG_TRUNC != 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every() -> Vec<Ancillary> {
        vec![
            Ancillary::LocalRecv("2001:db8:a1::1".parse().unwrap()),
            Ancillary::PeerRecv("2001:db8:b1::1".parse().unwrap()),
            Ancillary::LocalSend("2001:db8:a2::1".parse().unwrap()),
            Ancillary::PeerSend("::ffff:192.0.2.7".parse().unwrap()),
            Ancillary::IfSend(3),
            Ancillary::Feedback(Feedback { direction: Direction::Inbound, indicator: Indicator::Satisfactory }),
        ]
    }

    #[test]
    fn every_message_round_trips_in_the_kernels_layout() {
        let buf = encode(&every());
        assert_eq!(parse(&buf), every());
        // As CMSG_SPACE lays them out: header, sockaddr_in6 padded to 8.
        assert_eq!(&buf[..HDR], &[(HDR + 28).to_ne_bytes().to_vec(), 288i32.to_ne_bytes().to_vec(), 6i32.to_ne_bytes().to_vec()].concat()[..]);
        assert_eq!(buf.len(), 4 * align(HDR + 28) + align(HDR + 4) + align(HDR + 4));
    }

    #[test]
    fn foreign_unknown_and_cut_messages_are_passed_over() {
        let mut buf = Vec::new();
        // An IPV6_PKTINFO-like message of another level first.
        buf.extend_from_slice(&(HDR + 20).to_ne_bytes());
        buf.extend_from_slice(&libc::IPPROTO_IPV6.to_ne_bytes());
        buf.extend_from_slice(&50i32.to_ne_bytes());
        buf.resize(align(HDR + 20), 0);
        let known = encode(&every()[..1]);
        buf.extend_from_slice(&known);
        // A SOL_SHIM type the shim does not define.
        let mut unknown = encode(&[Ancillary::IfSend(1)]);
        unknown[size_of::<usize>() + 4..HDR].copy_from_slice(&99i32.to_ne_bytes());
        buf.extend_from_slice(&unknown);
        // A message whose length runs past the buffer ends the walk.
        let mut cut = encode(&every()[1..2]);
        cut.truncate(HDR + 10);
        buf.extend_from_slice(&cut);
        assert_eq!(parse(&buf), every()[..1]);
        assert_eq!(parse(&buf[..5]), []);
    }

    #[test]
    fn feedback_is_what_the_kernel_decodes() {
        for (d, i) in [(Direction::Outbound, Indicator::UnableToConnect), (Direction::Inbound, Indicator::Unsatisfactory)] {
            let (ty, data) = payload(&Ancillary::Feedback(Feedback { direction: d, indicator: i }));
            assert_eq!(ty, uapi::SHIM_FEEDBACK);
            assert_eq!(data.len(), size_of::<uapi::shim_feedback>());
            assert_eq!(Feedback::decode(&data), Ok(Feedback { direction: d, indicator: i }));
        }
    }
}
