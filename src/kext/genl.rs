// SPDX-License-Identifier: GPL-2.0

//! A generic netlink family: dump commands, (admin) do commands, and
//! multicast groups.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KBox, KVec};
use kernel::bindings;
use kernel::error::{
    code::{EINVAL, ENOMEM, ESRCH},
    to_result, Error, Result,
};
use kernel::ffi::{c_int, c_long};
use kernel::ThisModule;

use super::net::Net;

/// One message being written: of a dump, or to multicast.
///
/// # Invariants
///
/// `skb` is a netlink skb whose last message, a generic netlink one, is being written.
pub(crate) struct Msg {
    skb: *mut bindings::sk_buff,
    admin: bool,
}

impl Msg {
    /// Whether the requester has `CAP_NET_ADMIN` over the namespace (in
    /// its user namespace): only it may see secrets such as context tags.
    pub(crate) fn admin(&self) -> bool {
        self.admin
    }

    fn put(&mut self, attr: u16, data: &[u8]) -> Result {
        let len = c_int::try_from(data.len()).map_err(|_| EINVAL)?;
        // SAFETY: `skb` is a valid reply skb (type invariant); `data` is valid for `len`.
        to_result(unsafe { bindings::nla_put(self.skb, c_int::from(attr), len, data.as_ptr().cast()) })
    }

    /// A `u8` attribute.
    pub(crate) fn put_u8(&mut self, attr: u16, v: u8) -> Result {
        self.put(attr, &[v])
    }

    /// A `u32` attribute (host order, as netlink has it).
    pub(crate) fn put_u32(&mut self, attr: u16, v: u32) -> Result {
        self.put(attr, &v.to_ne_bytes())
    }

    /// A `u64` attribute, 64-bit aligned with `pad`.
    pub(crate) fn put_u64(&mut self, attr: u16, v: u64, pad: u16) -> Result {
        // SAFETY: `skb` is a valid reply skb (type invariant).
        to_result(unsafe {
            bindings::nla_put_64bit(self.skb, c_int::from(attr), 8, v.to_ne_bytes().as_ptr().cast(), c_int::from(pad))
        })
    }

    /// A binary attribute.
    pub(crate) fn put_bytes(&mut self, attr: u16, data: &[u8]) -> Result {
        self.put(attr, data)
    }

    /// A string attribute (NUL-terminated, as `NLA_NUL_STRING` readers expect).
    pub(crate) fn put_string(&mut self, attr: u16, s: &str) -> Result {
        let mut buf = [0u8; 64];
        let b = s.as_bytes();
        buf.get_mut(..b.len()).ok_or(EINVAL)?.copy_from_slice(b);
        self.put(attr, buf.get(..=b.len()).ok_or(EINVAL)?)
    }
}

/// The attributes of a do command's request.
///
/// # Invariants
///
/// `attrs` has `len` entries, each NULL or a valid attribute of the request, for `'a`.
pub(crate) struct Attrs<'a> {
    attrs: *mut *mut bindings::nlattr,
    len: usize,
    _p: PhantomData<&'a bindings::nlattr>,
}

impl Attrs<'_> {
    /// The payload of attribute `attr`, if present.
    pub(crate) fn get(&self, attr: u16) -> Option<&[u8]> {
        let i = usize::from(attr);
        if i >= self.len {
            return None;
        }
        // SAFETY: `i < len` (type invariant); a present attribute's payload is `nla_len`
        // octets at `nla_data` inside the request, which outlives `self`.
        unsafe {
            let nla = *self.attrs.add(i);
            if nla.is_null() {
                return None;
            }
            let len = usize::try_from(bindings::nla_len(nla)).ok()?;
            Some(core::slice::from_raw_parts(bindings::nla_data(nla).cast::<u8>(), len))
        }
    }
}

/// What a command does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Dumps items of the namespace, one message each.
    Dump,
    /// Changes the namespace; needs `CAP_NET_ADMIN` in its user namespace.
    Do,
}

/// A family of dump and do commands on a namespace.
pub(crate) trait Commands: 'static {
    /// Family name (`GENL_NAMSIZ` at most, NUL included).
    const NAME: &'static [u8];
    /// Version.
    const VERSION: u32;
    /// Highest attribute.
    const MAXATTR: u32;
    /// Every command and its kind.
    const OPS: &'static [(u8, Kind)];
    /// Writes the first item at or after `cursor` (0 to start) of dump
    /// `cmd` of `net` into `msg`: the cursor of the next, `Ok(None)` past
    /// the last.  A cursor lets a table with holes go on where it stopped,
    /// instead of counting from its start for each message.
    fn dump(cmd: u8, net: &Net, cursor: usize, msg: &mut Msg) -> Result<Option<usize>>;
    /// Runs do command `cmd` on `net`.
    fn doit(cmd: u8, net: &Net, attrs: &Attrs<'_>) -> Result;
    /// Multicast groups, by name; a group is its index here.
    const MCGRPS: &'static [&'static [u8]];
    /// Where the registered family is found to multicast.
    fn multicast() -> &'static Multicast;
}

/// Room for one multicast message's attributes: events are small.
const MULTICAST_SIZE: usize = 512;

/// A family's multicast side, usable from any context while the family
/// is registered, a no-op before and after.
///
/// # Invariants
///
/// `family` is NULL or points to a registered family; it is set NULL, and a
/// grace period passes, before the family is unregistered.
pub(crate) struct Multicast {
    family: AtomicPtr<bindings::genl_family>,
}

impl Multicast {
    /// Not registered yet.
    pub(crate) const fn new() -> Self {
        // INVARIANT: NULL.
        Self { family: AtomicPtr::new(core::ptr::null_mut()) }
    }

    /// Sends a message of command `cmd`, written by `f`, to the listeners of
    /// `group` in `net`; nothing, and `f` is not called, without one.
    /// `GFP_ATOMIC`: may be called under a spinlock.
    pub(crate) fn send(&self, net: &Net, group: u32, cmd: u8, f: impl FnOnce(&mut Msg) -> Result) -> Result {
        // SAFETY: Inside the read-side section the family stays registered (type invariant),
        // and `net`, valid for the call, has its generic netlink socket.
        unsafe {
            bindings::rcu_read_lock();
            let r = Self::send_locked(self.family.load(Ordering::Acquire), net, group, cmd, f);
            bindings::rcu_read_unlock();
            r
        }
    }

    /// # Safety
    ///
    /// `family` is NULL or a family that stays registered for the call.
    unsafe fn send_locked(
        family: *mut bindings::genl_family,
        net: &Net,
        group: u32,
        cmd: u8,
        f: impl FnOnce(&mut Msg) -> Result,
    ) -> Result {
        if family.is_null() {
            return Ok(());
        }
        // SAFETY: `family` is registered (the caller's guarantee) with more than `group`
        // groups (checked), and `net` is valid.
        let listening = unsafe {
            group < u32::from((*family).n_mcgrps)
                && bindings::netlink_has_listeners((*net.as_ptr()).genl_sock, (*family).mcgrp_offset + group) != 0
        };
        if !listening {
            return Ok(());
        }
        // SAFETY: Allocates a netlink skb of a page; NULL on failure.
        let skb = unsafe { bindings::genlmsg_new(MULTICAST_SIZE, bindings::GFP_ATOMIC) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `skb` is a fresh netlink skb and `family` registered.
        let hdr = unsafe { bindings::genlmsg_put(skb, 0, 0, family, 0, cmd) };
        // INVARIANT: `skb` is a netlink skb with a generic netlink message begun.
        let mut msg = Msg { skb, admin: false };
        let written = if hdr.is_null() { Err(Error::from_errno(-(bindings::EMSGSIZE as i32))) } else { f(&mut msg) };
        match written {
            // SAFETY: `hdr` is the message begun in `skb`; the multicast consumes `skb`.
            Ok(()) => to_result(unsafe {
                bindings::genlmsg_end(skb, hdr);
                bindings::genlmsg_multicast_netns(family, net.as_ptr(), skb, 0, group, bindings::GFP_ATOMIC)
            })
            // No listener left since: as good as sent.
            .or_else(|e| if e == ESRCH { Ok(()) } else { Err(e) }),
            Err(e) => {
                // SAFETY: `skb` is ours, not sent.
                unsafe { bindings::nlmsg_free(skb) };
                Err(e)
            }
        }
    }
}

/// The registered family; unregistered on drop.
///
/// # Invariants
///
/// `family`, `ops` and `groups` are registered (`family.small_ops` points at `ops`,
/// `family.mcgrps` at `groups`) until drop.
pub(crate) struct Family<T: Commands> {
    family: KBox<bindings::genl_family>,
    _ops: KVec<bindings::genl_small_ops>,
    _groups: KVec<bindings::genl_multicast_group>,
    _p: PhantomData<T>,
}

// SAFETY: Tables of constants and function pointers, read by the kernel from any thread.
unsafe impl<T: Commands> Send for Family<T> {}
// SAFETY: `&Family` gives access to nothing.
unsafe impl<T: Commands> Sync for Family<T> {}

impl<T: Commands> Family<T> {
    /// Registers the family.
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        let mut ops = KVec::with_capacity(T::OPS.len(), GFP_KERNEL)?;
        let mut last = 0;
        for &(cmd, kind) in T::OPS {
            last = last.max(cmd);
            let dump = kind == Kind::Dump;
            ops.push(
                bindings::genl_small_ops {
                    doit: if dump { None } else { Some(Self::doit) },
                    dumpit: if dump { Some(Self::dumpit) } else { None },
                    cmd,
                    internal_flags: 0,
                    flags: if dump { 0 } else { bindings::GENL_UNS_ADMIN_PERM as u8 },
                    validate: (bindings::genl_validate_flags_GENL_DONT_VALIDATE_STRICT
                        | bindings::genl_validate_flags_GENL_DONT_VALIDATE_DUMP) as u8,
                },
                GFP_KERNEL,
            )?;
        }
        let mut groups = KVec::with_capacity(T::MCGRPS.len(), GFP_KERNEL)?;
        for name in T::MCGRPS {
            let mut g = bindings::genl_multicast_group::default();
            for (d, s) in g.name.iter_mut().zip(name.iter()) {
                *d = *s;
            }
            groups.push(g, GFP_KERNEL)?;
        }
        let mut f = bindings::genl_family::default();
        for (d, s) in f.name.iter_mut().zip(T::NAME) {
            *d = *s;
        }
        f.version = T::VERSION;
        f.maxattr = T::MAXATTR;
        f.set_netnsok(1);
        f.small_ops = ops.as_ptr();
        f.n_small_ops = u8::try_from(ops.len()).map_err(|_| EINVAL)?;
        f.resv_start_op = last + 1;
        f.mcgrps = groups.as_ptr();
        f.n_mcgrps = u8::try_from(groups.len()).map_err(|_| EINVAL)?;
        f.module = module.as_ptr();
        let mut family = KBox::new(f, GFP_KERNEL)?;
        // SAFETY: `family`, `ops` and `groups` are valid and stay at their addresses until
        // drop (a `KVec`'s buffer does not move with it).
        to_result(unsafe { bindings::genl_register_family(&mut *family) })?;
        // INVARIANT (of `Multicast`): registered above, unregistered only by drop, which
        // clears it first.
        T::multicast().family.store(&mut *family, Ordering::Release);
        // INVARIANT: Registered above.
        Ok(Self { family, _ops: ops, _groups: groups, _p: PhantomData })
    }

    unsafe extern "C" fn doit(_skb: *mut bindings::sk_buff, info: *mut bindings::genl_info) -> c_int {
        // SAFETY: Generic netlink passes a valid `info` of a request to this family, its
        // attributes parsed into `attrs` (`MAXATTR + 1` entries, NULL when the request has
        // none), for the duration of the call.
        let (net, cmd, attrs) = unsafe {
            let attrs = Attrs {
                attrs: (*info).attrs,
                len: if (*info).attrs.is_null() { 0 } else { T::MAXATTR as usize + 1 },
                _p: PhantomData,
            };
            (Net::from_raw(bindings::genl_info_net(info)), (*(*info).genlhdr).cmd, attrs)
        };
        match T::doit(cmd, net, &attrs) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    unsafe extern "C" fn dumpit(skb: *mut bindings::sk_buff, cb: *mut bindings::netlink_callback) -> c_int {
        // SAFETY: Netlink passes a valid reply skb owned by the requesting socket and a valid
        // callback state; the socket holds its namespace. `args[0]` is ours: the cursor.
        // A generic netlink dump's `data` is its `genl_dumpit_info` (`genl_info_dump()`).
        unsafe {
            let net = Net::from_raw(bindings::sock_net((*skb).sk));
            let parms = (*(*cb).skb).cb.as_ptr().cast::<bindings::netlink_skb_parms>();
            let portid = (*parms).portid;
            let seq = (*(*cb).nlh).nlmsg_seq;
            let cursor = &mut (*cb).__bindgen_anon_1.args[0];
            let dump = (*cb).data.cast::<bindings::genl_dumpit_info>();
            let family = (*dump).info.family;
            let cmd = (*dump).op.cmd;
            // The credentials the request was sent with, against the user
            // namespace that owns the dumped namespace.
            let admin = bindings::netlink_net_capable((*cb).skb, bindings::CAP_NET_ADMIN as c_int);
            loop {
                let at = usize::try_from(*cursor).unwrap_or(usize::MAX);
                let hdr = bindings::genlmsg_put(skb, portid, seq, family, bindings::NLM_F_MULTI as c_int, cmd);
                if hdr.is_null() {
                    break;
                }
                let mut msg = Msg { skb, admin };
                match T::dump(cmd, net, at, &mut msg) {
                    Ok(Some(next)) => {
                        bindings::genlmsg_end(skb, hdr);
                        *cursor = c_long::try_from(next).unwrap_or(c_long::MAX);
                    }
                    Ok(None) => {
                        bindings::genlmsg_cancel(skb, hdr);
                        break;
                    }
                    // The skb is full: the rest goes in the next round.
                    Err(_) => {
                        bindings::genlmsg_cancel(skb, hdr);
                        break;
                    }
                }
            }
            (*skb).len as c_int
        }
    }
}

impl<T: Commands> Drop for Family<T> {
    fn drop(&mut self) {
        // Senders that still see the family finish before it goes (`Multicast`'s invariant).
        T::multicast().family.store(core::ptr::null_mut(), Ordering::Release);
        // SAFETY: Waits for a grace period; drop runs in process context.
        unsafe { bindings::synchronize_rcu() };
        // SAFETY: Registered by the type invariant; returns once no operation runs.
        unsafe { bindings::genl_unregister_family(&*self.family) };
    }
}
