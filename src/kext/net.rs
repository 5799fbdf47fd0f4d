// SPDX-License-Identifier: GPL-2.0

//! Network namespaces and per-namespace state.

use core::marker::PhantomData;
use core::ptr::NonNull;

use kernel::alloc::{
    flags::{GFP_ATOMIC, GFP_KERNEL},
    KBox, KVec,
};
use kernel::ffi::{c_int, c_uint, c_ulong, c_void};
use kernel::bindings;
use kernel::error::{code::{EINVAL, ENODEV}, from_result, to_result, Result};
use kernel::types::Opaque;

use super::skb::Addr;

/// A network namespace (`struct net`).
///
/// # Invariants
///
/// The wrapped `struct net` is valid for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

impl Net {
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct net` that stays valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::net) -> &'a Net {
        // CAST: `Net` is `repr(transparent)` over `Opaque<net>`, which has the layout of `net`.
        // SAFETY: By the safety requirements.
        unsafe { &*ptr.cast::<Net>() }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// The initial network namespace.
    pub(crate) fn init() -> &'static Net {
        // SAFETY: `init_net` is static and lives forever.
        unsafe { Net::from_raw(core::ptr::addr_of_mut!(bindings::init_net)) }
    }

    /// The IPv6 addresses of this namespace's devices that are usable
    /// (neither tentative nor failed duplicate address detection).
    pub(crate) fn ipv6_addresses(&self) -> Result<KVec<Addr>> {
        let mut out = KVec::new();
        // SAFETY: The device list is walked under RCU, as `first_net_device_rcu` and
        // `next_net_device_rcu` require; each device is valid inside that section.
        unsafe {
            bindings::rcu_read_lock();
            let mut res = Ok(());
            let mut dev = bindings::first_net_device_rcu(self.as_ptr());
            while !dev.is_null() && res.is_ok() {
                res = Self::push_ipv6_addresses(dev, &mut out);
                dev = bindings::next_net_device_rcu(dev);
            }
            bindings::rcu_read_unlock();
            res?;
        }
        Ok(out)
    }

    /// The usable IPv6 addresses of the interface `ifindex`; `ENODEV`
    /// when there is none of that index.
    pub(crate) fn ipv6_addresses_on(&self, ifindex: c_int) -> Result<KVec<Addr>> {
        let mut out = KVec::new();
        // SAFETY: The device is looked up and used inside one RCU read-side section, as
        // `dev_get_by_index_rcu` requires.
        unsafe {
            bindings::rcu_read_lock();
            let dev = bindings::dev_get_by_index_rcu(self.as_ptr(), ifindex);
            let res = if dev.is_null() { Err(ENODEV) } else { Self::push_ipv6_addresses(dev, &mut out) };
            bindings::rcu_read_unlock();
            res?;
        }
        Ok(out)
    }

    /// The index of the interface that has the address `addr`, if one
    /// has.
    pub(crate) fn ifindex_of(&self, addr: &Addr) -> Option<c_int> {
        let mut a = bindings::in6_addr::default();
        a.in6_u.u6_addr8 = *addr;
        // SAFETY: The device is looked up and read inside one RCU read-side section, as
        // `ipv6_dev_find` requires; `a` is valid for the call.
        unsafe {
            bindings::rcu_read_lock();
            let dev = bindings::ipv6_dev_find(self.as_ptr(), &a, core::ptr::null_mut());
            let i = (!dev.is_null()).then(|| (*dev).ifindex);
            bindings::rcu_read_unlock();
            i
        }
    }

    /// Appends the usable IPv6 addresses of `dev` to `out`.
    ///
    /// # Safety
    ///
    /// `dev` is a valid device, and the caller holds the RCU read lock.
    unsafe fn push_ipv6_addresses(dev: *mut bindings::net_device, out: &mut KVec<Addr>) -> Result {
        let mut res = Ok(());
        // SAFETY: `dev` is valid under RCU (the caller's contract); its address list is walked
        // under its `inet6_dev` lock, read side, with bottom halves off as addrconf requires.
        // Entries are `inet6_ifaddr`s linked through `if_list`.
        unsafe {
            let idev = bindings::__in6_dev_get(dev);
            if idev.is_null() {
                return Ok(());
            }
            bindings::read_lock_bh(&mut (*idev).lock);
            let head = core::ptr::addr_of_mut!((*idev).addr_list);
            let mut pos = (*head).next;
            while pos != head {
                let ifa = pos.cast::<u8>().sub(core::mem::offset_of!(bindings::inet6_ifaddr, if_list));
                let ifa = ifa.cast::<bindings::inet6_ifaddr>();
                let unusable = bindings::IFA_F_TENTATIVE | bindings::IFA_F_DADFAILED;
                if (*ifa).flags & unusable == 0 && res.is_ok() {
                    res = out.push((*ifa).addr.in6_u.u6_addr8, GFP_ATOMIC);
                }
                pos = (*pos).next;
            }
            bindings::read_unlock_bh(&mut (*idev).lock);
        }
        Ok(res?)
    }
}

/// The namespace of a per-namespace state, kept by that state.
///
/// # Invariants
///
/// The namespace outlives the value: one is made only for a pernet state's `init`, and
/// that state, with whatever it hands the value to, is dropped by the namespace's pernet
/// exit, before the namespace goes.
#[derive(Clone, Copy)]
pub(crate) struct NetRef(NonNull<bindings::net>);

// SAFETY: A `struct net` may be used from any thread.
unsafe impl Send for NetRef {}
// SAFETY: As above.
unsafe impl Sync for NetRef {}

impl core::ops::Deref for NetRef {
    type Target = Net;

    fn deref(&self) -> &Net {
        // SAFETY: The namespace outlives the value (type invariant).
        unsafe { Net::from_raw(self.0.as_ptr()) }
    }
}

/// What receives IPv6 address events.
pub(crate) trait AddrEvents: 'static {
    /// `addr` came up (`up`, after duplicate address detection) or went
    /// down in `net`.  Atomic context.
    fn event(net: &Net, addr: &Addr, up: bool);
}

/// A registration on the IPv6 address notifier chain; removed on drop.
///
/// # Invariants
///
/// `nb` is registered with `register_inet6addr_notifier()` until drop.
pub(crate) struct AddrNotifier<T: AddrEvents> {
    nb: KBox<bindings::notifier_block>,
    _p: PhantomData<T>,
}

// SAFETY: The block holds a function pointer only.
unsafe impl<T: AddrEvents> Send for AddrNotifier<T> {}
// SAFETY: `&AddrNotifier` gives access to nothing.
unsafe impl<T: AddrEvents> Sync for AddrNotifier<T> {}

impl<T: AddrEvents> AddrNotifier<T> {
    /// Registers `T` for the address events of every namespace.
    pub(crate) fn new() -> Result<Self> {
        let mut nb = bindings::notifier_block::default();
        nb.notifier_call = Some(Self::call);
        let mut nb = KBox::new(nb, GFP_KERNEL)?;
        // SAFETY: `nb` is valid and stays at this address until drop unregisters it.
        to_result(unsafe { bindings::register_inet6addr_notifier(&mut *nb) })?;
        // INVARIANT: Registered above.
        Ok(Self { nb, _p: PhantomData })
    }

    unsafe extern "C" fn call(_nb: *mut bindings::notifier_block, event: c_ulong, ptr: *mut c_void) -> c_int {
        let up = match u32::try_from(event) {
            Ok(bindings::netdev_cmd_NETDEV_UP) => true,
            Ok(bindings::netdev_cmd_NETDEV_DOWN) => false,
            _ => return bindings::NOTIFY_DONE as c_int,
        };
        // SAFETY: The chain passes the `inet6_ifaddr` concerned, valid for the call, whose
        // `idev` and device are alive with it; a device holds its namespace.
        unsafe {
            let ifa = ptr.cast::<bindings::inet6_ifaddr>();
            let dev = (*(*ifa).idev).dev;
            let net = Net::from_raw(bindings::dev_net(dev));
            T::event(net, &(*ifa).addr.in6_u.u6_addr8, up);
        }
        bindings::NOTIFY_DONE as c_int
    }
}

impl<T: AddrEvents> Drop for AddrNotifier<T> {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; the chain is an atomic one, whose
        // unregistration waits (synchronize_rcu) for callbacks in flight.
        unsafe { bindings::unregister_inet6addr_notifier(&mut *self.nb) };
    }
}

/// Where `register_pernet_subsys()` stores the id of a per-namespace state.
pub(crate) struct PernetId(Opaque<c_uint>);

// SAFETY: The id is written once by `register_pernet_subsys()` before any reader can run and
// only read afterwards.
unsafe impl Sync for PernetId {}

impl PernetId {
    /// An id slot, for a `static`.
    pub(crate) const fn new() -> Self {
        Self(Opaque::new(0))
    }

    fn get(&self) -> c_uint {
        // SAFETY: See the `Sync` impl: the value is stable once registration returned.
        unsafe { *self.0.get() }
    }
}

/// State kept for every network namespace.
pub(crate) trait PernetState: Sized + Send + Sync + 'static {
    /// The slot of this state's id; one `static` per state type.
    fn id() -> &'static PernetId;

    /// Creates the state of `net`.
    fn init(net: NetRef) -> Result<Self>;

    /// The state of `net`.
    fn of(net: &Net) -> &Self {
        // SAFETY: While the registration exists every live namespace has an initialised
        // state at this id, and it lives as long as the namespace.
        unsafe { &*bindings::net_generic(net.as_ptr(), Self::id().get()).cast::<Self>() }
    }
}

/// A registered per-namespace state; unregistered (and every state dropped) on drop.
///
/// # Invariants
///
/// `ops` was registered with `register_pernet_subsys()` and stays so until drop.
pub(crate) struct PernetRegistration<S: PernetState> {
    ops: KBox<bindings::pernet_operations>,
    _p: PhantomData<S>,
}

// SAFETY: The registration only holds the operations table, which the kernel reads from any
// thread; `S` is `Send + Sync`.
unsafe impl<S: PernetState> Send for PernetRegistration<S> {}
// SAFETY: As above; `&PernetRegistration` gives no access to anything.
unsafe impl<S: PernetState> Sync for PernetRegistration<S> {}

impl<S: PernetState> PernetRegistration<S> {
    /// Registers `S`: its `init` runs for every existing and future namespace.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: All-zero is a valid `pernet_operations` (no callbacks, empty list head that
        // registration initialises).
        let mut ops: bindings::pernet_operations = unsafe { core::mem::zeroed() };
        ops.init = Some(Self::init_callback);
        ops.exit = Some(Self::exit_callback);
        ops.id = S::id().0.get();
        ops.size = core::mem::size_of::<S>();
        let mut ops = KBox::new(ops, GFP_KERNEL)?;
        // SAFETY: `ops` is a valid table whose address is stable (boxed) until drop, where it
        // is unregistered.
        to_result(unsafe { bindings::register_pernet_subsys(&mut *ops) })?;
        // INVARIANT: Registered above.
        Ok(Self { ops, _p: PhantomData })
    }

    unsafe extern "C" fn init_callback(net: *mut bindings::net) -> c_int {
        from_result(|| {
            let ptr = NonNull::new(net).ok_or(EINVAL)?;
            // INVARIANT: The state made here is dropped by `exit_callback`, before `net` goes.
            let state = S::init(NetRef(ptr))?;
            // SAFETY: The kernel allocated `size_of::<S>()` octets, suitably aligned, at this
            // id for this namespace; they hold nothing yet.
            unsafe { bindings::net_generic(net, S::id().get()).cast::<S>().write(state) };
            Ok(0)
        })
    }

    unsafe extern "C" fn exit_callback(net: *mut bindings::net) {
        // SAFETY: `init_callback` wrote a state here, which is dropped exactly once, when the
        // namespace (or the registration) goes away.
        unsafe { core::ptr::drop_in_place(bindings::net_generic(net, S::id().get()).cast::<S>()) };
    }
}

impl<S: PernetState> Drop for PernetRegistration<S> {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant.
        unsafe { bindings::unregister_pernet_subsys(&mut *self.ops) };
    }
}
