// SPDX-License-Identifier: GPL-2.0

//! Just enough generic netlink: resolve a family and its multicast
//! groups, run a dump, listen to a group, read the attributes of each
//! message.

use std::io;

const NLMSG_HDRLEN: usize = 16;
const GENL_HDRLEN: usize = 4;
const NLA_HDRLEN: usize = 4;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_ADD_MEMBERSHIP: libc::c_int = 1;

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One netlink attribute.
pub struct Attr<'a> {
    /// Type (without the nested/byte-order flags).
    pub kind: u16,
    /// Payload.
    pub data: &'a [u8],
}

impl Attr<'_> {
    pub fn u8(&self) -> Option<u8> {
        self.data.first().copied()
    }

    pub fn u32(&self) -> Option<u32> {
        self.data.get(..4)?.try_into().ok().map(u32::from_ne_bytes)
    }

    pub fn u64(&self) -> Option<u64> {
        self.data.get(..8)?.try_into().ok().map(u64::from_ne_bytes)
    }
}

/// The attributes of `buf`, stopping at the first malformed one.
pub(crate) fn attrs(mut buf: &[u8]) -> Vec<Attr<'_>> {
    let mut out = Vec::new();
    while buf.len() >= NLA_HDRLEN {
        let len = usize::from(u16::from_ne_bytes([buf[0], buf[1]]));
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < NLA_HDRLEN || len > buf.len() {
            break;
        }
        out.push(Attr { kind, data: &buf[NLA_HDRLEN..len] });
        buf = buf.get(align4(len)..).unwrap_or(&[]);
    }
    out
}

/// A generic netlink socket.
pub struct GenlSocket {
    fd: libc::c_int,
    seq: u32,
}

impl Drop for GenlSocket {
    fn drop(&mut self) {
        // SAFETY: `fd` is ours.
        unsafe { libc::close(self.fd) };
    }
}

impl GenlSocket {
    pub fn open() -> io::Result<Self> {
        // SAFETY: Plain socket creation; the result is checked.
        let fd = unsafe {
            libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_GENERIC)
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self { fd, seq: 1 })
    }

    fn send(&mut self, family: u16, flags: u16, cmd: u8, version: u8, attrs: &[(u16, &[u8])]) -> io::Result<u32> {
        let mut msg = vec![0u8; NLMSG_HDRLEN + GENL_HDRLEN];
        for (kind, data) in attrs {
            let len = NLA_HDRLEN + data.len();
            msg.extend_from_slice(&(len as u16).to_ne_bytes());
            msg.extend_from_slice(&kind.to_ne_bytes());
            msg.extend_from_slice(data);
            msg.resize(align4(msg.len()), 0);
        }
        self.seq += 1;
        let len = msg.len() as u32;
        msg[0..4].copy_from_slice(&len.to_ne_bytes());
        msg[4..6].copy_from_slice(&family.to_ne_bytes());
        msg[6..8].copy_from_slice(&(flags | libc::NLM_F_REQUEST as u16).to_ne_bytes());
        msg[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        msg[NLMSG_HDRLEN] = cmd;
        msg[NLMSG_HDRLEN + 1] = version;
        // SAFETY: `msg` is valid for its length; the kernel is the default destination.
        let n = unsafe { libc::send(self.fd, msg.as_ptr().cast(), msg.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(self.seq)
    }

    /// Receives messages, handing `f` the type, sequence number and body
    /// of each, until `f` returns what to end with.
    fn receive(&mut self, mut f: impl FnMut(u16, u32, &[u8]) -> Option<io::Result<()>>) -> io::Result<()> {
        let mut buf = vec![0u8; 65536];
        loop {
            // SAFETY: `buf` is valid for its length.
            let n = unsafe { libc::recv(self.fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut rest = &buf[..n as usize];
            while rest.len() >= NLMSG_HDRLEN {
                let len = u32::from_ne_bytes(rest[0..4].try_into().unwrap_or_default()) as usize;
                let kind = u16::from_ne_bytes([rest[4], rest[5]]);
                let seq = u32::from_ne_bytes(rest[8..12].try_into().unwrap_or_default());
                if len < NLMSG_HDRLEN || len > rest.len() {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "truncated netlink message"));
                }
                let body = &rest[NLMSG_HDRLEN..len];
                rest = rest.get(align4(len)..).unwrap_or(&[]);
                if let Some(r) = f(kind, seq, body) {
                    return r;
                }
            }
        }
    }

    /// Receives the answers to request `seq`, calling `each` with the
    /// attributes of every message, until the reply (or dump) is done.
    fn recv(&mut self, seq: u32, dump: bool, mut each: impl FnMut(&[Attr<'_>])) -> io::Result<()> {
        self.receive(|kind, mseq, body| {
            if mseq != seq {
                return None;
            }
            match i32::from(kind) {
                libc::NLMSG_DONE => Some(Ok(())),
                libc::NLMSG_ERROR => {
                    let err = i32::from_ne_bytes(body.get(..4).and_then(|b| b.try_into().ok()).unwrap_or_default());
                    Some(if err == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(-err)) })
                }
                _ => {
                    each(&attrs(body.get(GENL_HDRLEN..).unwrap_or(&[])));
                    (!dump).then_some(Ok(()))
                }
            }
        })
    }

    /// The id of the family called `name` (NUL-terminated); `ENOENT` when
    /// no such family is registered.
    pub fn family_id(&mut self, name: &[u8]) -> io::Result<u16> {
        self.family(name).map(|(id, _)| id)
    }

    /// The id of the family called `name` (NUL-terminated) and its
    /// multicast groups (name, id); `ENOENT` when no such family is
    /// registered.
    pub fn family(&mut self, name: &[u8]) -> io::Result<(u16, Vec<(Vec<u8>, u32)>)> {
        let seq = self.send(GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1, &[(CTRL_ATTR_FAMILY_NAME, name)])?;
        let mut id = None;
        let mut groups = Vec::new();
        self.recv(seq, false, |attrs| {
            for a in attrs {
                match a.kind {
                    CTRL_ATTR_FAMILY_ID => id = a.data.get(..2).map(|b| u16::from_ne_bytes([b[0], b[1]])),
                    CTRL_ATTR_MCAST_GROUPS => {
                        for g in self::attrs(a.data) {
                            let inner = self::attrs(g.data);
                            let name = inner.iter().find(|x| x.kind == CTRL_ATTR_MCAST_GRP_NAME);
                            let gid = inner.iter().find(|x| x.kind == CTRL_ATTR_MCAST_GRP_ID).and_then(Attr::u32);
                            if let (Some(n), Some(gid)) = (name, gid) {
                                groups.push((n.data.to_vec(), gid));
                            }
                        }
                    }
                    _ => {}
                }
            }
        })?;
        let id = id.ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        Ok((id, groups))
    }

    /// Joins multicast group `group` (its id).
    pub fn join(&mut self, group: u32) -> io::Result<()> {
        // SAFETY: `group` is a valid `u32` for the option's length.
        let r = unsafe {
            libc::setsockopt(
                self.fd,
                SOL_NETLINK,
                NETLINK_ADD_MEMBERSHIP,
                (&group as *const u32).cast(),
                core::mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Receives the messages of `family` sent to the groups joined, calling
    /// `each` with the command and attributes of each, until `each` says
    /// stop or an error (`ENOBUFS`: messages were lost, the caller may go
    /// on).
    pub fn listen(&mut self, family: u16, mut each: impl FnMut(u8, &[Attr<'_>]) -> bool) -> io::Result<()> {
        self.receive(|kind, _, body| {
            let (Some(&cmd), Some(a)) = (body.first(), body.get(GENL_HDRLEN..)) else { return None };
            (kind == family && !each(cmd, &attrs(a))).then_some(Ok(()))
        })
    }

    /// Runs do command `cmd` of `family` with `attrs`; the kernel's error
    /// if it refuses.
    pub fn request(&mut self, family: u16, cmd: u8, version: u8, attrs: &[(u16, &[u8])]) -> io::Result<()> {
        let seq = self.send(family, libc::NLM_F_ACK as u16, cmd, version, attrs)?;
        self.recv(seq, false, |_| {})
    }

    /// Dumps `cmd` of `family`, calling `each` per message.
    pub fn dump(&mut self, family: u16, cmd: u8, version: u8, each: impl FnMut(&[Attr<'_>])) -> io::Result<()> {
        let seq = self.send(family, libc::NLM_F_DUMP as u16, cmd, version, &[])?;
        self.recv(seq, true, each)
    }
}
