// SPDX-License-Identifier: GPL-2.0

//! Network namespaces and per-namespace state.

use kernel::ffi::{c_int, c_uint};
use core::marker::PhantomData;

use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::bindings;
use kernel::error::{from_result, to_result, Result};
use kernel::types::Opaque;

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

    /// Whether an interface with index `ifindex` exists in this namespace.
    pub(crate) fn has_device(&self, ifindex: c_int) -> bool {
        // SAFETY: The namespace is valid; the device is only compared with NULL, inside the
        // RCU read-side section `dev_get_by_index_rcu` requires.
        unsafe {
            bindings::rcu_read_lock();
            let found = !bindings::dev_get_by_index_rcu(self.as_ptr(), ifindex).is_null();
            bindings::rcu_read_unlock();
            found
        }
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
    fn init(net: &Net) -> Result<Self>;

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
            // SAFETY: The kernel passes a valid namespace.
            let state = S::init(unsafe { Net::from_raw(net) })?;
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
