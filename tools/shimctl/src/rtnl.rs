// SPDX-License-Identifier: GPL-2.0

//! The interfaces' IPv6 addresses over rtnetlink: what `hba apply` reads,
//! adds and removes.

use std::ffi::CString;
use std::io;
use std::net::{IpAddr, Ipv6Addr};

use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::netlink::Netlink;

/// The index of interface `name` in the current namespace.
pub fn ifindex(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: `c` is a valid C string for the call.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}

/// The name of interface `index`, or its number when it has gone.
pub fn ifname(index: u32) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE octets if_indextoname writes at most.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return format!("if{index}");
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name into `buf`.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}

/// An IPv6 address of an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address {
    pub index: u32,
    pub addr: Ipv6Addr,
}

pub struct Rtnl(Netlink);

impl Rtnl {
    pub fn open() -> io::Result<Self> {
        Netlink::open(netlink_sys::protocols::NETLINK_ROUTE).map(Rtnl)
    }

    /// Every IPv6 address of the namespace.
    pub fn addresses(&mut self) -> io::Result<Vec<Address>> {
        let mut ask = AddressMessage::default();
        ask.header.family = AddressFamily::Inet6;
        let mut out = Vec::new();
        self.0.exchange(RouteNetlinkMessage::GetAddress(ask), NLM_F_DUMP, |m| {
            let RouteNetlinkMessage::NewAddress(a) = m else { return };
            // IFA_LOCAL, else IFA_ADDRESS, as the kernel reads them.
            let addr = a.attributes.iter().fold(None, |found, at| match (found, at) {
                (_, AddressAttribute::Local(IpAddr::V6(l))) => Some(*l),
                (None, AddressAttribute::Address(IpAddr::V6(l))) => Some(*l),
                (f, _) => f,
            });
            out.extend(addr.map(|addr| Address { index: a.header.index, addr }));
        })?;
        Ok(out)
    }

    fn message(index: u32, addr: Ipv6Addr) -> AddressMessage {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet6;
        m.header.prefix_len = 64;
        m.header.index = index;
        m.header.scope = AddressScope::Universe;
        m.attributes.push(AddressAttribute::Local(IpAddr::V6(addr)));
        m
    }

    /// Adds `addr`/64 to interface `index`, without Duplicate Address
    /// Detection (see `hba apply`); `EEXIST` if it has it.
    pub fn add(&mut self, index: u32, addr: Ipv6Addr) -> io::Result<()> {
        let mut m = Self::message(index, addr);
        m.header.flags = AddressHeaderFlags::Nodad;
        m.attributes.push(AddressAttribute::Address(IpAddr::V6(addr)));
        m.attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
        self.0.exchange(RouteNetlinkMessage::NewAddress(m), NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, |_| {})
    }

    /// Removes `addr` from interface `index`.
    pub fn delete(&mut self, index: u32, addr: Ipv6Addr) -> io::Result<()> {
        self.0.exchange(RouteNetlinkMessage::DelAddress(Self::message(index, addr)), NLM_F_ACK, |_| {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adds, lists and removes an address on the loopback of a namespace
    /// of this thread's own; skipped without CAP_SYS_ADMIN to make one.
    #[test]
    fn adds_lists_and_removes_an_address() {
        std::thread::spawn(|| {
            // SAFETY: unshare only moves this thread, which the test owns, into a new
            // network namespace.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                eprintln!("skipped: unshare: {}", io::Error::last_os_error());
                return;
            }
            let lo = ifindex("lo").expect("a new namespace has lo");
            assert_eq!(ifname(lo), "lo");
            assert_eq!(ifindex("no-such-if0"), None);
            let a: Ipv6Addr = "2001:db8:1:0:1c07:21c4:a3c8:bac3".parse().unwrap();
            let mut rt = Rtnl::open().unwrap();
            assert!(!rt.addresses().unwrap().contains(&Address { index: lo, addr: a }));
            rt.add(lo, a).unwrap();
            assert!(rt.addresses().unwrap().contains(&Address { index: lo, addr: a }));
            assert_eq!(rt.add(lo, a).unwrap_err().raw_os_error(), Some(libc::EEXIST));
            rt.delete(lo, a).unwrap();
            assert!(!rt.addresses().unwrap().contains(&Address { index: lo, addr: a }));
        })
        .join()
        .unwrap();
    }
}
