// SPDX-License-Identifier: GPL-2.0

//! Sockets, socket option buffers and kernel sockets.

use kernel::ffi::{c_int, c_uint, c_void};
use core::ptr;

use kernel::bindings;
use kernel::error::{code::EFAULT, to_result, Error, Result};
use kernel::types::Opaque;

use super::net::Net;

/// An inet socket (`struct sock`).
///
/// # Invariants
///
/// The wrapped `struct sock` is valid for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct Sock(Opaque<bindings::sock>);

impl Sock {
    /// Creates a reference to a [`Sock`] from a pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct sock` that stays valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::sock) -> &'a Sock {
        // CAST: `Sock` is `repr(transparent)` over `Opaque<sock>`, which has the layout of `sock`.
        // SAFETY: By the safety requirements, the pointee is valid for `'a`.
        unsafe { &*ptr.cast::<Sock>() }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::sock {
        self.0.get()
    }

    /// (local, peer) addresses of a connected IPv6 socket.
    pub(crate) fn v6_pair(&self) -> Option<([u8; 16], [u8; 16])> {
        // SAFETY: By the type invariant the socket is valid; a torn read of the addresses
        // during a concurrent connect() gives a pair that matches no context, which is
        // what an unconnected socket answers anyway.
        let c = unsafe { &(*self.as_ptr()).__sk_common };
        if u32::from(c.skc_family) != bindings::AF_INET6 {
            return None;
        }
        // SAFETY: Reading the byte view of the address unions is always valid.
        let (l, p) = unsafe { (c.skc_v6_rcv_saddr.in6_u.u6_addr8, c.skc_v6_daddr.in6_u.u6_addr8) };
        (p != [0; 16]).then_some((l, p))
    }

    /// Whether this is an IPv6 datagram socket (UDP, raw) without a
    /// connected peer.
    pub(crate) fn unconnected_v6_datagram(&self) -> bool {
        // SAFETY: By the type invariant the socket is valid; family and type are fixed at
        // creation.
        let (family, ty) = unsafe { ((*self.as_ptr()).__sk_common.skc_family, (*self.as_ptr()).sk_type) };
        u32::from(family) == bindings::AF_INET6 && u32::from(ty) != bindings::sock_type_SOCK_STREAM && self.v6_pair().is_none()
    }

    /// (local, peer) ports of a connected inet socket.
    pub(crate) fn ports(&self) -> (u16, u16) {
        // SAFETY: By the type invariant the socket is valid; the ports are plain integers,
        // set before the socket is connected and fixed from then on.
        let p = unsafe { (*self.as_ptr()).__sk_common.__bindgen_anon_3.__bindgen_anon_1 };
        (p.skc_num, u16::from_be(p.skc_dport))
    }

    /// Whether this is a TCP socket in SYN-RECV (a fast-open child that has
    /// not had the peer's ACK yet).
    pub(crate) fn tcp_syn_recv(&self) -> bool {
        // SAFETY: By the type invariant the socket is valid and a full one; both fields
        // are plain integers, and a stale state only delays a context by one packet.
        let (protocol, state) = unsafe {
            let sk = self.as_ptr();
            (u32::from((*sk).sk_protocol), u32::from((*sk).__sk_common.skc_state))
        };
        protocol == bindings::IPPROTO_TCP && state == bindings::TCP_SYN_RECV
    }

    /// Makes the socket build packets of at most 64 KiB, without a Jumbo
    /// Payload option (no BIG TCP), from its next transmission on.
    pub(crate) fn limit_gso_legacy(&self) {
        // SAFETY: By the type invariant the socket is valid and a full one. The stack reads
        // `sk_gso_max_size` locklessly (`READ_ONCE`), and `sk_setup_caps()` may set it
        // again on a new route, which brings the next jumbogram back here.
        unsafe { core::ptr::write_volatile(&raw mut (*self.as_ptr()).sk_gso_max_size, bindings::GSO_LEGACY_MAX_SIZE) };
    }

    /// The inode number of the socket's file, as `ss -e` (`ino:`) and
    /// `/proc/PID/fd` (`socket:[N]`) show it; 0 without one.
    pub(crate) fn inode(&self) -> usize {
        // SAFETY: By the type invariant the socket is valid; `sock_i_ino` takes the
        // socket's callback lock itself, and answers 0 for a socket without a file.
        unsafe { bindings::sock_i_ino(self.as_ptr()) }
    }

    /// The network namespace of the socket.
    pub(crate) fn net(&self) -> &Net {
        // SAFETY: By the type invariant the socket is valid; a socket holds its namespace
        // for as long as it exists, so the namespace outlives the reference.
        unsafe { Net::from_raw(bindings::sock_net(self.as_ptr())) }
    }
}

/// The option value of a setsockopt() call.
///
/// # Invariants
///
/// `ptr` is a user pointer, or a kernel pointer valid for reading `len` octets.
pub(crate) struct OptIn {
    ptr: bindings::sockptr_t,
    len: u32,
}

impl OptIn {
    /// # Safety
    ///
    /// If `ptr` is a kernel pointer, it must be valid for reading `len` octets for the
    /// lifetime of the returned value.
    pub(crate) unsafe fn new(ptr: bindings::sockptr_t, len: c_uint) -> Self {
        // INVARIANT: By the safety requirements.
        Self { ptr, len }
    }

    /// optlen.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Copies the first `buf.len()` octets of the value into `buf`.
    ///
    /// Fails with `EINVAL` past optlen, `EFAULT` for a bad user pointer.
    pub(crate) fn read(&self, buf: &mut [u8]) -> Result {
        if buf.len() > self.len as usize {
            return Err(kernel::error::code::EINVAL);
        }
        // SAFETY: `buf` is valid for writing `buf.len()` octets; by the type invariant a
        // kernel source is valid for `self.len >= buf.len()` octets and a user source is
        // checked by `copy_from_user`.
        copied(unsafe {
            bindings::copy_from_sockptr(buf.as_mut_ptr().cast::<c_void>(), self.ptr, buf.len())
        })
    }
}

/// The result of `copy_{from,to}_sockptr()`: the number of octets left uncopied.
fn copied(left: c_int) -> Result {
    if left == 0 {
        Ok(())
    } else {
        Err(EFAULT)
    }
}

/// The option value and length of a getsockopt() call.
///
/// # Invariants
///
/// `val` and `len` are user pointers, or kernel pointers valid for writing `*len` and
/// `size_of::<c_int>()` octets respectively.
pub(crate) struct OptOut {
    val: bindings::sockptr_t,
    len: bindings::sockptr_t,
}

impl OptOut {
    /// # Safety
    ///
    /// Kernel pointers among `val` and `len` must be valid for reading and writing
    /// `*len` octets and one `int` for the lifetime of the returned value.
    pub(crate) unsafe fn new(val: bindings::sockptr_t, len: bindings::sockptr_t) -> Self {
        // INVARIANT: By the safety requirements.
        Self { val, len }
    }

    /// Reads `*optlen`.
    pub(crate) fn len(&self) -> Result<c_int> {
        let mut n: c_int = 0;
        // SAFETY: `n` is valid for writing an `int`; `self.len` is valid for reading one by
        // the type invariant (or checked by `copy_from_user`).
        copied(unsafe {
            bindings::copy_from_sockptr(
                ptr::from_mut(&mut n).cast::<c_void>(),
                self.len,
                core::mem::size_of::<c_int>(),
            )
        })?;
        Ok(n)
    }

    /// Writes `*optlen`.
    pub(crate) fn set_len(&self, n: usize) -> Result {
        let n = c_int::try_from(n).map_err(|_| kernel::error::code::EINVAL)?;
        // SAFETY: As in `len`, for writing.
        copied(unsafe {
            bindings::copy_to_sockptr(
                self.len,
                ptr::from_ref(&n).cast::<c_void>(),
                core::mem::size_of::<c_int>(),
            )
        })
    }

    /// Writes `data` as the value and its length as `*optlen`.
    ///
    /// The caller has checked that `*optlen` is at least `data.len()`.
    pub(crate) fn write(&self, data: &[u8]) -> Result {
        // SAFETY: `data` is valid for reading; by the type invariant and the caller's check,
        // a kernel destination is valid for writing `data.len()` octets, and a user one is
        // checked by `copy_to_user`.
        copied(unsafe {
            bindings::copy_to_sockptr(self.val, data.as_ptr().cast::<c_void>(), data.len())
        })?;
        self.set_len(data.len())
    }
}

/// A socket owned by the kernel (`sock_create_kern()`), released on drop.
///
/// # Invariants
///
/// `sock` points to a valid `struct socket` with a valid `sk`, owned by this value.
pub(crate) struct KernelSocket {
    sock: *mut bindings::socket,
}

impl KernelSocket {
    /// Creates a socket in `net`.
    pub(crate) fn new(net: &Net, family: c_int, ty: c_int, protocol: c_int) -> Result<Self> {
        let mut sock = ptr::null_mut();
        // SAFETY: `net` is valid; `sock` is valid for writing the result.
        to_result(unsafe {
            bindings::sock_create_kern(net.as_ptr(), family, ty, protocol, &mut sock)
        })?;
        // INVARIANT: `sock_create_kern` succeeded, so `sock` and its `sk` are valid and ours.
        Ok(Self { sock })
    }

    /// setsockopt() through the socket layer, as a system call would.
    pub(crate) fn setsockopt(&self, level: c_int, optname: c_int, val: &[u8]) -> Result {
        let len = c_int::try_from(val.len()).map_err(|_| kernel::error::code::EINVAL)?;
        // SAFETY: The socket is valid by the type invariant; the kernel pointer is valid for
        // reading `len` octets during the call.
        to_result(unsafe {
            bindings::do_sock_setsockopt(
                self.sock,
                false,
                level,
                optname,
                kernel_sockptr(val.as_ptr().cast_mut()),
                len,
            )
        })
    }

    /// getsockopt() through the socket layer into `buf`; returns the length written.
    pub(crate) fn getsockopt(&self, level: c_int, optname: c_int, buf: &mut [u8]) -> Result<usize> {
        let mut len = c_int::try_from(buf.len()).map_err(|_| kernel::error::code::EINVAL)?;
        // SAFETY: The socket is valid by the type invariant; both kernel pointers are valid
        // for the lengths the call may use during the call.
        to_result(unsafe {
            bindings::do_sock_getsockopt(
                self.sock,
                false,
                level,
                optname,
                kernel_sockptr(buf.as_mut_ptr()),
                kernel_sockptr(ptr::from_mut(&mut len).cast::<u8>()),
            )
        })?;
        usize::try_from(len).map_err(|_| kernel::error::code::EINVAL)
    }
}

impl Drop for KernelSocket {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the socket; it is not used after this.
        unsafe { bindings::sock_release(self.sock) };
    }
}

/// `KERNEL_SOCKPTR(p)`.
fn kernel_sockptr(p: *mut u8) -> bindings::sockptr_t {
    // SAFETY: All-zero is a valid `sockptr_t` (a NULL user pointer).
    let mut s: bindings::sockptr_t = unsafe { core::mem::zeroed() };
    s.__bindgen_anon_1.kernel = p.cast::<c_void>();
    s.set_is_kernel(true);
    s
}

/// Waits until every pending RCU callback ran (sockets freed with RCU among them).
pub(crate) fn rcu_barrier() {
    // SAFETY: Called from process context, as `rcu_barrier` requires.
    unsafe { bindings::rcu_barrier() };
}

/// Whether `err` is the negated errno `errno`.
pub(crate) fn is_errno(err: Error, errno: u32) -> bool {
    i64::from(err.to_errno()) == -i64::from(errno)
}

/// Makes the established TCP connection `local`:`lport` to `peer`:`pport`
/// in `net` retransmit now what it waits to resend, its path having
/// changed under it.  `ENOENT` without such a connection, `EAGAIN` when it
/// has nothing to resend or is busy.
pub(crate) fn tcp_retransmit(net: &Net, local: &[u8; 16], lport: u16, peer: &[u8; 16], pport: u16) -> Result {
    let mut l = bindings::in6_addr::default();
    let mut p = bindings::in6_addr::default();
    l.in6_u.u6_addr8 = *local;
    p.in6_u.u6_addr8 = *peer;
    // SAFETY: `net` is valid; the addresses live across the call, which takes the socket's
    // lock itself and must not be called with a socket locked (the caller holds none).
    to_result(unsafe { bindings::shim_tcp_retransmit(net.as_ptr(), &l, lport.to_be(), &p, pport.to_be()) })
}
