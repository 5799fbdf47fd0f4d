// SPDX-License-Identifier: GPL-2.0

//! Netlink over the rust-netlink crates: requests and dumps on one
//! socket, the `shim6` generic netlink family's messages, and listening to
//! its multicast group.

use std::io;

use netlink_packet_core::{
    DecodeError, Emitable, NetlinkBuffer, NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable, Nla, NlaBuffer, NlasIterator, Parseable, ParseableParametrized, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::{GenlCtrlAttrs, McastGrpAttrs};
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::Socket;
use shim6_core::uapi;

/// One netlink attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    /// Type (without the nested/byte-order flags).
    pub kind: u16,
    /// Payload.
    pub data: Vec<u8>,
}

impl Attr {
    pub fn new(kind: u32, data: &[u8]) -> Self {
        Attr { kind: kind as u16, data: data.to_vec() }
    }

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

impl Nla for Attr {
    fn value_len(&self) -> usize {
        self.data.len()
    }

    fn kind(&self) -> u16 {
        self.kind
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        buffer.copy_from_slice(&self.data);
    }
}

impl<T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&T>> for Attr {
    fn parse(buf: &NlaBuffer<&T>) -> Result<Self, DecodeError> {
        Ok(Attr { kind: buf.kind(), data: buf.value().to_vec() })
    }
}

/// The family's name without the C string's NUL.
const SHIM6_NAME: &str = match uapi::SHIM6_GENL_NAME.split_last() {
    Some((0, name)) => match std::str::from_utf8(name) {
        Ok(s) => s,
        Err(_) => panic!("SHIM6_GENL_NAME is not UTF-8"),
    },
    _ => panic!("SHIM6_GENL_NAME is not a C string"),
};

/// A message of the `shim6` family: its command and attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shim6 {
    pub cmd: u8,
    pub attrs: Vec<Attr>,
}

impl Shim6 {
    pub fn new(cmd: u32, attrs: Vec<Attr>) -> Self {
        Shim6 { cmd: cmd as u8, attrs }
    }
}

impl GenlFamily for Shim6 {
    fn family_name() -> &'static str {
        SHIM6_NAME
    }

    fn command(&self) -> u8 {
        self.cmd
    }

    fn version(&self) -> u8 {
        uapi::SHIM6_GENL_VERSION as u8
    }
}

impl Emitable for Shim6 {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for Shim6 {
    /// Reads the attributes up to the first malformed one: what comes
    /// before it is still worth showing.
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let attrs = NlasIterator::new(buf).map_while(Result::ok).filter_map(|nla| Attr::parse(&nla).ok()).collect();
        Ok(Shim6 { cmd: header.cmd, attrs })
    }
}

/// The messages in one datagram.
pub fn messages<I: NetlinkDeserializable>(mut buf: &[u8]) -> io::Result<Vec<NetlinkMessage<I>>> {
    let bad = |e: DecodeError| io::Error::new(io::ErrorKind::InvalidData, format!("malformed netlink message: {e}"));
    let mut out = Vec::new();
    while !buf.is_empty() {
        let len = NetlinkBuffer::new_checked(buf).map_err(bad)?.length() as usize;
        out.push(NetlinkMessage::deserialize(&buf[..len]).map_err(bad)?);
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or(&[]);
    }
    Ok(out)
}

/// A netlink socket of one protocol.
pub struct Netlink {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Netlink {
    /// A socket of `protocol` (`NETLINK_GENERIC`, `NETLINK_ROUTE`) in the
    /// current network namespace.
    pub fn open(protocol: isize) -> io::Result<Self> {
        // Netlink datagrams are at most 32 KiB (NLMSG_GOODSIZE) unless the
        // kernel's page is larger; 64 KiB holds any.
        Ok(Netlink { sock: Socket::new(protocol)?, seq: 1, buf: Vec::with_capacity(65536) })
    }

    fn send<I: NetlinkSerializable>(&mut self, payload: I, flags: u16) -> io::Result<u32> {
        self.seq += 1;
        let mut header = NetlinkHeader::default();
        header.flags = flags | NLM_F_REQUEST;
        header.sequence_number = self.seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(payload));
        msg.finalize();
        let mut bytes = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut bytes);
        self.sock.send(&bytes, 0)?;
        Ok(self.seq)
    }

    /// Receives datagrams, handing `f` each message, until `f` returns
    /// what to end with.
    fn receive<I: NetlinkDeserializable>(
        &mut self,
        mut f: impl FnMut(NetlinkMessage<I>) -> Option<io::Result<()>>,
    ) -> io::Result<()> {
        loop {
            self.buf.clear();
            self.sock.recv(&mut self.buf, 0)?;
            for m in messages(&self.buf)? {
                if let Some(r) = f(m) {
                    return r;
                }
            }
        }
    }

    /// Sends `payload` with `flags` and hands `each` every message of the
    /// answer, until the kernel's acknowledgement, its error or the end of
    /// the dump.
    pub fn exchange<I: NetlinkSerializable + NetlinkDeserializable>(
        &mut self,
        payload: I,
        flags: u16,
        mut each: impl FnMut(I),
    ) -> io::Result<()> {
        let seq = self.send(payload, flags)?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        self.receive(|m: NetlinkMessage<I>| {
            if m.header.sequence_number != seq {
                return None;
            }
            match m.payload {
                NetlinkPayload::Done(_) => Some(Ok(())),
                NetlinkPayload::Error(e) => Some(e.code.map_or(Ok(()), |_| Err(e.to_io()))),
                NetlinkPayload::InnerMessage(i) => {
                    each(i);
                    (!dump && flags & NLM_F_ACK == 0).then_some(Ok(()))
                }
                _ => None,
            }
        })
    }

    /// The id of the generic netlink family `name` and its multicast
    /// groups (name, id); `ENOENT` when no such family is registered.
    pub fn family(&mut self, name: &str) -> io::Result<(u16, Vec<(String, u32)>)> {
        let ask = GenlCtrl { cmd: GenlCtrlCmd::GetFamily, nlas: vec![GenlCtrlAttrs::FamilyName(name.into())] };
        let mut id = None;
        let mut groups = Vec::new();
        self.exchange(GenlMessage::from_payload(ask), 0, |m| {
            for a in m.payload.nlas {
                match a {
                    GenlCtrlAttrs::FamilyId(i) => id = Some(i),
                    GenlCtrlAttrs::McastGroups(gs) => {
                        for g in gs {
                            let name = g.iter().find_map(|x| match x {
                                McastGrpAttrs::Name(n) => Some(n.clone()),
                                McastGrpAttrs::Id(_) => None,
                            });
                            let gid = g.iter().find_map(|x| match x {
                                McastGrpAttrs::Id(i) => Some(*i),
                                McastGrpAttrs::Name(_) => None,
                            });
                            groups.extend(name.zip(gid));
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
        self.sock.add_membership(group)
    }

    /// Receives the messages of `family` sent to the groups joined, calling
    /// `each` with each, until `each` says stop or an error (`ENOBUFS`:
    /// messages were lost, the caller may go on).
    pub fn listen(&mut self, family: u16, mut each: impl FnMut(Shim6) -> bool) -> io::Result<()> {
        self.receive(|m: NetlinkMessage<GenlMessage<Shim6>>| match m.payload {
            NetlinkPayload::InnerMessage(g) if m.header.message_type == family => (!each(g.payload)).then_some(Ok(())),
            _ => None,
        })
    }
}

/// A socket on the `shim6` family of the current namespace.
pub struct Shim6Socket {
    pub nl: Netlink,
    pub family: u16,
    /// The family's multicast groups (name, id).
    pub groups: Vec<(String, u32)>,
}

impl Shim6Socket {
    /// The family's socket; the message users see when the module is
    /// not loaded.
    pub fn open() -> Result<Self, String> {
        let mut nl = Netlink::open(netlink_sys::protocols::NETLINK_GENERIC).map_err(|e| format!("netlink socket: {e}"))?;
        match nl.family(SHIM6_NAME) {
            Ok((family, groups)) => Ok(Shim6Socket { nl, family, groups }),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                Err("the shim6 module is not loaded (no generic netlink family \"shim6\")".into())
            }
            Err(e) => Err(format!("looking up the shim6 family: {e}")),
        }
    }

    fn message(&self, cmd: u32, attrs: Vec<Attr>) -> GenlMessage<Shim6> {
        let mut m = GenlMessage::from_payload(Shim6::new(cmd, attrs));
        m.set_resolved_family_id(self.family);
        m
    }

    /// Every message of dump command `cmd`.
    pub fn dump(&mut self, cmd: u32) -> io::Result<Vec<Shim6>> {
        let mut out = Vec::new();
        let m = self.message(cmd, Vec::new());
        self.nl.exchange(m, NLM_F_DUMP, |g| out.push(g.payload))?;
        Ok(out)
    }

    /// Runs do command `cmd` with `attrs`; the kernel's error if it
    /// refuses.
    pub fn request(&mut self, cmd: u32, attrs: Vec<Attr>) -> io::Result<()> {
        let m = self.message(cmd, attrs);
        self.nl.exchange(m, NLM_F_ACK, |_| {})
    }
}
