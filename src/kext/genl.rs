// SPDX-License-Identifier: GPL-2.0

//! A generic netlink family with dump commands.

use core::marker::PhantomData;

use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::bindings;
use kernel::error::{code::EINVAL, to_result, Result};
use kernel::ffi::{c_int, c_long};
use kernel::ThisModule;

use super::net::Net;

/// One message of a dump being written.
///
/// # Invariants
///
/// `skb` is the dump's reply skb and `hdr` the header `genlmsg_put` returned in it.
pub(crate) struct DumpMsg {
    skb: *mut bindings::sk_buff,
}

impl DumpMsg {
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
}

/// A family whose one command dumps items of a namespace.
pub(crate) trait Dump: 'static {
    /// Family name (`GENL_NAMSIZ` at most, NUL included).
    const NAME: &'static [u8];
    /// Version.
    const VERSION: u32;
    /// Highest attribute.
    const MAXATTR: u32;
    /// The dump command.
    const CMD: u8;
    /// Writes item `index` of `net` into `msg`; `Ok(false)` past the last.
    fn item(net: &Net, index: usize, msg: &mut DumpMsg) -> Result<bool>;
}

/// The registered family; unregistered on drop.
///
/// # Invariants
///
/// `family` and `ops` are registered (`family.small_ops` points at `ops`) until drop.
pub(crate) struct Family<T: Dump> {
    family: KBox<bindings::genl_family>,
    _ops: KBox<[bindings::genl_small_ops; 1]>,
    _p: PhantomData<T>,
}

// SAFETY: Tables of constants and function pointers, read by the kernel from any thread.
unsafe impl<T: Dump> Send for Family<T> {}
// SAFETY: `&Family` gives access to nothing.
unsafe impl<T: Dump> Sync for Family<T> {}

impl<T: Dump> Family<T> {
    /// Registers the family.
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        let ops = KBox::new(
            [bindings::genl_small_ops {
                doit: None,
                dumpit: Some(Self::dumpit),
                cmd: T::CMD,
                internal_flags: 0,
                flags: 0,
                validate: (bindings::genl_validate_flags_GENL_DONT_VALIDATE_STRICT
                    | bindings::genl_validate_flags_GENL_DONT_VALIDATE_DUMP) as u8,
            }],
            GFP_KERNEL,
        )?;
        let mut f = bindings::genl_family::default();
        for (d, s) in f.name.iter_mut().zip(T::NAME) {
            *d = *s;
        }
        f.version = T::VERSION;
        f.maxattr = T::MAXATTR;
        f.set_netnsok(1);
        f.small_ops = ops.as_ptr();
        f.n_small_ops = 1;
        f.resv_start_op = T::CMD + 1;
        f.module = module.as_ptr();
        let mut family = KBox::new(f, GFP_KERNEL)?;
        // SAFETY: `family` and `ops` are valid and stay at their addresses until drop.
        to_result(unsafe { bindings::genl_register_family(&mut *family) })?;
        // INVARIANT: Registered above.
        Ok(Self { family, _ops: ops, _p: PhantomData })
    }

    unsafe extern "C" fn dumpit(skb: *mut bindings::sk_buff, cb: *mut bindings::netlink_callback) -> c_int {
        // SAFETY: Netlink passes a valid reply skb owned by the requesting socket and a valid
        // callback state; the socket holds its namespace. `args[0]` is ours: the next index.
        unsafe {
            let net = Net::from_raw(bindings::sock_net((*skb).sk));
            let parms = (*(*cb).skb).cb.as_ptr().cast::<bindings::netlink_skb_parms>();
            let portid = (*parms).portid;
            let seq = (*(*cb).nlh).nlmsg_seq;
            let cursor = &mut (*cb).__bindgen_anon_1.args[0];
            let family = Self::family_of(cb);
            loop {
                let index = usize::try_from(*cursor).unwrap_or(usize::MAX);
                let hdr = bindings::genlmsg_put(skb, portid, seq, family, bindings::NLM_F_MULTI as c_int, T::CMD);
                if hdr.is_null() {
                    break;
                }
                let mut msg = DumpMsg { skb };
                match T::item(net, index, &mut msg) {
                    Ok(true) => {
                        bindings::genlmsg_end(skb, hdr);
                        *cursor = cursor.saturating_add(1) as c_long;
                    }
                    Ok(false) => {
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

    /// # Safety
    ///
    /// `cb` is a dump of this family.
    unsafe fn family_of(cb: *mut bindings::netlink_callback) -> *const bindings::genl_family {
        // SAFETY: A generic netlink dump's `data` points at its `genl_dumpit_info`, whose
        // `info.family` is the family (`genl_info_dump()`).
        unsafe { (*(*cb).data.cast::<bindings::genl_dumpit_info>()).info.family }
    }
}

impl<T: Dump> Drop for Family<T> {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; returns once no operation runs.
        unsafe { bindings::genl_unregister_family(&*self.family) };
    }
}
