// SPDX-License-Identifier: GPL-2.0

//! Socket options and ancillary data of level `SOL_SHIM`: which options
//! exist, what they accept, and the codecs of their values.
//!
//! The numbers and layouts are those of `include/uapi/linux/shim6.h`:
//! draft-ietf-shim6-multihome-shim-api-08's at 1-16, RFC 6316's at the
//! same names plus 16 ([`Flavour`]); the host tests check them against
//! the bindgen output of that header.  Both flavours act on one state;
//! the flavour decides only the layouts, the errors and a few rules.

/// Address families as Linux numbers them.
pub const AF_INET: u8 = 2;
/// IPv6.
pub const AF_INET6: u8 = 10;

/// Size of `int`, the type of most options.
pub const INT_LEN: usize = 4;
/// Size of `struct shim_locator`.
pub const LOCATOR_LEN: usize = 20;
/// Size of `struct shim_locator_rfc6316`.
pub const LOCATOR_RFC6316_LEN: usize = 32;
/// Size of `struct shim_pathexplore`.
pub const PATHEXPLORE_LEN: usize = 8;
/// Size of `struct shim_pathexplore_rfc6316`.
pub const PATHEXPLORE_RFC6316_LEN: usize = 12;
/// RFC 6316's option and control message numbers are the draft's plus this.
pub const RFC6316_OFFSET: i32 = 16;
/// Size of `struct shim_feedback`.
pub const FEEDBACK_LEN: usize = 4;
/// Size of `struct sockaddr_in`.
pub const SOCKADDR_IN_LEN: usize = 16;
/// Size of `struct sockaddr_in6`.
pub const SOCKADDR_IN6_LEN: usize = 28;
/// `SHIM_MAX_LOCATORS`.
pub const MAX_LOCATORS: usize = 32;
/// `SHIM_LOC_FLAG_HBA`: the locator is verified by its Hash Based Address
/// set.
pub const SHIM_LOC_FLAG_HBA: u16 = 0x01;
/// The shortest `pe_initprobeto` accepted, in milliseconds.
pub const MIN_INITPROBETO: u16 = 100;

use crate::proto::context::reap::ReapConfig;
use crate::proto::context::{Locators, Millis, Preferences, Rank};

/// Why a socket option or control message was refused.  The kernel glue
/// maps each to its errno (see the UAPI header for the contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// `ENOPROTOOPT`: unknown option, or a read-only option was set.
    NoProtoOpt,
    /// `EINVAL`: length or value of the wrong form.
    Invalid,
    /// `E2BIG`: a locator list longer than [`MAX_LOCATORS`].
    TooBig,
    /// `ENOENT`: the option needs a context and there is none.
    NoContext,
    /// `EINVALIDLOCATOR`: a locator failed validation.
    InvalidLocator,
    /// `ENODEV`: the interface named does not exist.
    NoDevice,
    /// `ERANGE`: the buffer cannot hold the list, which needs this many
    /// octets (written back to `*optlen`).
    Range(usize),
    /// `EAFNOSUPPORT`: an IPv4 locator, which SHIM6 cannot use.
    Ipv4Locator,
    /// `EAGAIN`: the context must fork, and the namespace's rate limit on
    /// new contexts says not now.
    Again,
    /// `ENOBUFS`: the context must fork, and the table has no room.
    NoRoom,
}

/// Result of the codecs.
pub type Result<T> = core::result::Result<T, Error>;

/// The text an option or control message number follows: its layouts,
/// its errors, and the few rules in which the two differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// draft-ietf-shim6-multihome-shim-api-08: numbers 1-16.
    Draft,
    /// RFC 6316: numbers 17-31.
    Rfc6316,
}

impl Flavour {
    /// Size of its `struct shim_locator`.
    pub const fn locator_len(self) -> usize {
        match self {
            Flavour::Draft => LOCATOR_LEN,
            Flavour::Rfc6316 => LOCATOR_RFC6316_LEN,
        }
    }

    /// Size of its `struct shim_pathexplore`.
    pub const fn pathexplore_len(self) -> usize {
        match self {
            Flavour::Draft => PATHEXPLORE_LEN,
            Flavour::Rfc6316 => PATHEXPLORE_RFC6316_LEN,
        }
    }

    /// The number it gives the draft's number `n`.
    pub const fn number(self, n: i32) -> i32 {
        match self {
            Flavour::Draft => n,
            Flavour::Rfc6316 => n + RFC6316_OFFSET,
        }
    }
}

/// The option numbered `optname`, and the text it follows.
pub fn option(optname: i32) -> Option<(Opt, Flavour)> {
    match Opt::from_raw(optname) {
        Some(o) => Some((o, Flavour::Draft)),
        None => Opt::from_raw(optname.checked_sub(RFC6316_OFFSET)?).map(|o| (o, Flavour::Rfc6316)),
    }
}

/// An encoded structure, as long as its flavour's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    buf: [u8; LOCATOR_RFC6316_LEN],
    len: usize,
}

impl core::ops::Deref for Encoded {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// The value type of an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `int` holding 0 or 1.
    Bool,
    /// `int`, any non-negative value.
    Int,
    /// `struct shim_locator`.
    Locator,
    /// array of `struct shim_locator`.
    LocatorList,
    /// `struct shim_pathexplore`.
    PathExplore,
}

impl Kind {
    /// Smallest optlen the option accepts in flavour `f` (`optlen` of a
    /// list is checked by [`locator_count`]).
    pub const fn min_len(self, f: Flavour) -> usize {
        match self {
            Kind::Bool | Kind::Int => INT_LEN,
            Kind::Locator => f.locator_len(),
            Kind::LocatorList => 0,
            Kind::PathExplore => f.pathexplore_len(),
        }
    }
}

macro_rules! options {
    ($($(#[$doc:meta])* $name:ident = $num:literal, $kind:ident, writable: $w:literal, context: $c:literal;)*) => {
        /// A `SOL_SHIM` socket option (draft Table 1).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(i32)]
        pub enum Opt {
            $($(#[$doc])* $name = $num,)*
        }

        impl Opt {
            /// Every option, in numeric order.
            pub const ALL: &'static [Opt] = &[$(Opt::$name,)*];

            /// The option called `optname`, if any.
            pub const fn from_raw(optname: i32) -> Option<Opt> {
                match optname {
                    $($num => Some(Opt::$name),)*
                    _ => None,
                }
            }

            /// Type of the option's value.
            pub const fn kind(self) -> Kind {
                match self { $(Opt::$name => Kind::$kind,)* }
            }

            /// Whether setsockopt() may change it.
            pub const fn writable(self) -> bool {
                match self { $(Opt::$name => $w,)* }
            }

            /// Whether the option only makes sense with a context behind
            /// the socket (ENOENT without one).
            pub const fn needs_context(self) -> bool {
                match self { $(Opt::$name => $c,)* }
            }
        }
    };
}

options! {
    /// `SHIM_ASSOCIATED`
    Associated = 1, Bool, writable: false, context: false;
    /// `SHIM_DONTSHIM`
    DontShim = 2, Bool, writable: true, context: false;
    /// `SHIM_HOT_STANDBY`
    HotStandby = 3, Bool, writable: true, context: true;
    /// `SHIM_LOC_LOCAL_PREF`
    LocLocalPref = 4, Locator, writable: true, context: true;
    /// `SHIM_LOC_PEER_PREF`
    LocPeerPref = 5, Locator, writable: true, context: true;
    /// `SHIM_LOC_LOCAL_RECV`
    LocLocalRecv = 6, Bool, writable: true, context: true;
    /// `SHIM_LOC_PEER_RECV`
    LocPeerRecv = 7, Bool, writable: true, context: true;
    /// `SHIM_LOC_LOCAL_SEND`
    LocLocalSend = 8, Locator, writable: true, context: true;
    /// `SHIM_LOC_PEER_SEND`
    LocPeerSend = 9, Locator, writable: true, context: true;
    /// `SHIM_LOCLIST_LOCAL`
    LoclistLocal = 10, LocatorList, writable: true, context: true;
    /// `SHIM_LOCLIST_PEER`
    LoclistPeer = 11, LocatorList, writable: true, context: true;
    /// `SHIM_APP_TIMEOUT`
    AppTimeout = 12, Int, writable: true, context: true;
    /// `SHIM_PATHEXPLORE`
    PathExplore = 13, PathExplore, writable: true, context: true;
    /// `SHIM_DEFERRED_CONTEXT_SETUP`, also spelt `SHIM_CONTEXT_DEFERRED_SETUP`
    DeferredSetup = 14, Bool, writable: true, context: false;
}

/// Which end of a context an option or a locator is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// This host.
    Local,
    /// The peer.
    Peer,
}

impl Opt {
    /// The end a `SHIM_LOC*` option is about; `None` for the others.
    pub const fn side(self) -> Option<Side> {
        match self {
            Opt::LocLocalPref | Opt::LocLocalRecv | Opt::LocLocalSend | Opt::LoclistLocal => Some(Side::Local),
            Opt::LocPeerPref | Opt::LocPeerRecv | Opt::LocPeerSend | Opt::LoclistPeer => Some(Side::Peer),
            _ => None,
        }
    }
}

/// `SHIM_FEEDBACK` ancillary data type (RFC 6316: plus
/// [`RFC6316_OFFSET`]).
pub const CMSG_FEEDBACK: i32 = 15;
/// `SHIM_IF_SEND` ancillary data type.
pub const CMSG_IF_SEND: i32 = 16;

fn int_at(buf: &[u8]) -> Result<i32> {
    match buf.first_chunk::<INT_LEN>() {
        Some(b) => Ok(i32::from_ne_bytes(*b)),
        None => Err(Error::Invalid),
    }
}

/// Checks the optlen of a setsockopt() in flavour `f`; returns how many
/// octets of optval to read.  RFC 6316 structures take their exact size.
pub fn check_set_len(opt: Opt, f: Flavour, optlen: u32) -> Result<usize> {
    let len = usize::try_from(optlen).map_err(|_| Error::Invalid)?;
    match opt.kind() {
        Kind::LocatorList => Ok(locator_count(len, f)? * f.locator_len()),
        k @ (Kind::Locator | Kind::PathExplore) if f == Flavour::Rfc6316 && len != k.min_len(f) => Err(Error::Invalid),
        k if len < k.min_len(f) => Err(Error::Invalid),
        k => Ok(k.min_len(f)),
    }
}

/// Checks the optlen of a getsockopt() of a fixed-size option in flavour
/// `f`; returns the size of the value it gets.
pub fn check_get_len(opt: Opt, f: Flavour, optlen: i32) -> Result<usize> {
    let len = usize::try_from(optlen).map_err(|_| Error::Invalid)?;
    match opt.kind() {
        // The list's own size decides (ERANGE, probe with 0), once a
        // context holds one.
        Kind::LocatorList => Ok(len),
        k if len < k.min_len(f) => Err(Error::Invalid),
        k => Ok(k.min_len(f)),
    }
}

/// A decoded setsockopt() value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// [`Kind::Bool`]
    Bool(bool),
    /// [`Kind::Int`]
    Uint(u32),
    /// [`Kind::Locator`]; `None` is the all-zero locator.
    Locator(Option<Locator>),
    /// [`Kind::LocatorList`] of this many well-formed locators.
    LocatorList(usize),
    /// [`Kind::PathExplore`]
    PathExplore(PathExplore),
}

/// Decodes the value of a setsockopt() of `opt` in flavour `f`, as many
/// octets as [`check_set_len`] said.
pub fn decode_value(opt: Opt, f: Flavour, buf: &[u8]) -> Result<Value> {
    Ok(match opt.kind() {
        Kind::Bool => Value::Bool(decode_bool(buf)?),
        Kind::Int => Value::Uint(decode_uint(buf)?),
        Kind::Locator => Value::Locator(Locator::decode(buf, f)?),
        Kind::PathExplore => Value::PathExplore(PathExplore::decode(buf, f)?),
        Kind::LocatorList => {
            let n = locator_count(buf.len(), f)?;
            for chunk in buf.chunks_exact(f.locator_len()) {
                Locator::decode(chunk, f)?.ok_or(Error::Invalid)?;
            }
            Value::LocatorList(n)
        }
    })
}

/// setsockopt() of a socket that has no context: the new flags.
pub fn set_without_context(opt: Opt, value: Value, flags: SockFlags) -> Result<SockFlags> {
    if !opt.writable() {
        return Err(Error::NoProtoOpt);
    }
    match value {
        Value::Bool(b) if !opt.needs_context() => flags.set(opt, b).ok_or(Error::NoContext),
        _ => Err(Error::NoContext),
    }
}

/// getsockopt() of a socket that has no context: the `int` value.
pub fn get_without_context(opt: Opt, flags: SockFlags) -> Result<i32> {
    match opt {
        Opt::Associated => Ok(0),
        _ if opt.needs_context() => Err(Error::NoContext),
        _ => flags.get(opt).map(i32::from).ok_or(Error::NoContext),
    }
}

/// setsockopt() of a boolean option kept per socket but meaningful only
/// with a context (`SHIM_LOC_*_RECV`), in flavour `f`, once the caller
/// found the context: the new flags.  The flavour it was enabled in names
/// its control messages ([`SockFlags::recv_type`]).
pub fn set_bool_with_context(opt: Opt, f: Flavour, value: Value, flags: SockFlags) -> Result<SockFlags> {
    match value {
        Value::Bool(b) => flags.set(opt, b).and_then(|n| n.set_recv_flavour(opt, f)).ok_or(Error::NoContext),
        _ => Err(Error::Invalid),
    }
}

/// getsockopt() of such an option, once the caller found the context.
pub fn get_bool_with_context(opt: Opt, flags: SockFlags) -> Result<i32> {
    flags.get(opt).map(i32::from).ok_or(Error::NoContext)
}

/// A decoded `SOL_SHIM` control message of sendmsg().
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmsg {
    /// `SHIM_LOC_LOCAL_SEND`: source locator of this datagram.
    LocalLocator(Addr),
    /// `SHIM_LOC_PEER_SEND`: destination locator of this datagram.
    PeerLocator(Addr),
    /// `SHIM_IF_SEND`: outgoing interface of this datagram.
    IfIndex(i32),
    /// `SHIM_FEEDBACK`
    Feedback(Feedback),
}

/// Decodes a `SOL_SHIM` control message of type `ty` whose data is
/// `data`, and the text its number follows (`SHIM_IF_SEND` has no RFC
/// 6316 twin).
pub fn decode_cmsg(ty: i32, data: &[u8]) -> Result<(Cmsg, Flavour)> {
    let (base, f) = match ty {
        t if t > CMSG_IF_SEND && t != Flavour::Rfc6316.number(CMSG_IF_SEND) => (t - RFC6316_OFFSET, Flavour::Rfc6316),
        t => (t, Flavour::Draft),
    };
    let cmsg = match base {
        t if t == Opt::LocLocalSend as i32 => Cmsg::LocalLocator(decode_sockaddr(data)?),
        t if t == Opt::LocPeerSend as i32 => Cmsg::PeerLocator(decode_sockaddr(data)?),
        CMSG_IF_SEND => match int_at(data)? {
            i if i > 0 => Cmsg::IfIndex(i),
            _ => return Err(Error::NoDevice),
        },
        CMSG_FEEDBACK => Cmsg::Feedback(Feedback::decode(data)?),
        _ => return Err(Error::Invalid),
    };
    Ok((cmsg, f))
}

/// Decodes a boolean option value: an `int` that is 0 or 1.
pub fn decode_bool(buf: &[u8]) -> Result<bool> {
    match int_at(buf)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::Invalid),
    }
}

/// Decodes a non-negative `int` option value.
pub fn decode_uint(buf: &[u8]) -> Result<u32> {
    u32::try_from(int_at(buf)?).map_err(|_| Error::Invalid)
}

/// Encodes an `int` option value.
pub fn encode_int(v: i32) -> [u8; INT_LEN] {
    v.to_ne_bytes()
}

/// An address a locator may hold, always in IPv6 form (IPv4 v4-mapped).
pub type Addr = [u8; 16];

/// Whether `a` is an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
pub fn is_v4_mapped(a: &Addr) -> bool {
    a[..10].iter().all(|&b| b == 0) && a[10] == 0xff && a[11] == 0xff
}

/// `struct shim_locator`, in either layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locator {
    /// [`AF_INET6`], or [`AF_INET`] with a v4-mapped [`Locator::addr`].
    pub family: u8,
    /// Interface index (ours); meaningful on read only.  The draft's
    /// one octet reads 0 (unknown) above 255.
    pub ifidx: u32,
    /// `SHIM_LOC_FLAG_*`; meaningful on read only.
    pub flags: u16,
    /// Its rank: the draft's `lc_preference`, RFC 6316's `lc_prio` and
    /// `lc_weight`.
    pub rank: Rank,
    /// The locator.
    pub addr: Addr,
}

impl Locator {
    /// Decodes a `struct shim_locator` of flavour `f` given by the
    /// application.  RFC 6316's `lc_proto` must be 0 (SHIM6 has no
    /// locators behind a NAT); its `lc_port`, `lc_ifidx` and `lc_flags`
    /// are ignored.
    ///
    /// Returns `None` for the all-zero locator, which clears the sticky
    /// `SHIM_LOC_*_SEND` options.
    pub fn decode(buf: &[u8], f: Flavour) -> Result<Option<Locator>> {
        let src = buf.get(..f.locator_len()).ok_or(Error::Invalid)?;
        if src.iter().all(|&x| x == 0) {
            return Ok(None);
        }
        // The layout's octets in a buffer of the largest: fixed offsets.
        let mut b = [0u8; LOCATOR_RFC6316_LEN];
        for (d, s) in b.iter_mut().zip(src) {
            *d = *s;
        }
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        let addr_at = |i: usize| -> Addr { core::array::from_fn(|j| b[i + j]) };
        let loc = match f {
            Flavour::Draft => {
                Locator { family: b[0], ifidx: u32::from(b[1]), flags: u16::from(b[2]), rank: Rank::draft(b[3]), addr: addr_at(4) }
            }
            // lc_port, lc_ifidx and lc_flags are ignored on set.
            Flavour::Rfc6316 if b[1] == 0 => {
                Locator { family: b[0], ifidx: 0, flags: 0, rank: Rank { prio: u16_at(4), weight: u16_at(6) }, addr: addr_at(12) }
            }
            Flavour::Rfc6316 => return Err(Error::Invalid),
        };
        match loc.family {
            AF_INET6 => Ok(Some(loc)),
            AF_INET if is_v4_mapped(&loc.addr) => Ok(Some(loc)),
            _ => Err(Error::Invalid),
        }
    }

    /// Encodes as flavour `f`'s `struct shim_locator`.
    pub fn encode(&self, f: Flavour) -> Encoded {
        let mut b = [0u8; LOCATOR_RFC6316_LEN];
        b[0] = self.family;
        match f {
            Flavour::Draft => {
                b[1] = u8::try_from(self.ifidx).unwrap_or(0);
                b[2] = u8::try_from(self.flags).unwrap_or(0);
                b[3] = self.rank.preference();
                b[4..20].copy_from_slice(&self.addr);
            }
            Flavour::Rfc6316 => {
                b[4..6].copy_from_slice(&self.rank.prio.to_ne_bytes());
                b[6..8].copy_from_slice(&self.rank.weight.to_ne_bytes());
                b[8..12].copy_from_slice(&self.ifidx.to_ne_bytes());
                b[12..28].copy_from_slice(&self.addr);
                b[28..30].copy_from_slice(&self.flags.to_ne_bytes());
            }
        }
        Encoded { buf: b, len: f.locator_len() }
    }
}

/// Number of locators in a `SHIM_LOCLIST_*` value of `optlen` octets in
/// flavour `f`: `TooBig` beyond [`MAX_LOCATORS`].
pub fn locator_count(optlen: usize, f: Flavour) -> Result<usize> {
    let len = f.locator_len();
    if optlen == 0 || optlen % len != 0 {
        return Err(Error::Invalid);
    }
    let n = optlen / len;
    if n > MAX_LOCATORS {
        return Err(Error::TooBig);
    }
    Ok(n)
}

/// The IPv6 address of a locator given to a SHIM6 context: IPv4 ones
/// (`AF_INET`, v4-mapped) have no use there.
pub fn shim6_addr(l: &Locator) -> Result<Addr> {
    if l.family == AF_INET || is_v4_mapped(&l.addr) {
        return Err(Error::Ipv4Locator);
    }
    Ok(l.addr)
}

/// A locator of a context as getsockopt() reports it.
pub fn locator_of(addr: &Addr) -> Locator {
    Locator { family: AF_INET6, ifidx: 0, flags: 0, rank: Rank::default(), addr: *addr }
}

/// getsockopt() of a `SHIM_LOCLIST_*` in flavour `f` with `optlen`
/// octets of room: `Ok(Some(n))` when `out[..n]` holds the list;
/// `Ok(None)` when `optlen` is 0, a query of the size, which is then
/// `list.len()` locators.
pub fn encode_locator_list(list: &[Locator], f: Flavour, optlen: usize, out: &mut [u8]) -> Result<Option<usize>> {
    let len = f.locator_len();
    let need = list.len() * len;
    if optlen == 0 {
        return Ok(None);
    }
    if optlen < need || out.len() < need {
        return Err(Error::Range(need));
    }
    for (i, l) in list.iter().enumerate() {
        if let Some(chunk) = out.get_mut(i * len..(i + 1) * len) {
            for (d, s) in chunk.iter_mut().zip(l.encode(f).iter()) {
                *d = *s;
            }
        }
    }
    Ok(Some(need))
}

/// Decodes a `SHIM_LOCLIST_*` value of flavour `f` into `out`; returns how
/// many were decoded.  Every locator must be well formed and non-zero.
pub fn decode_locator_list(buf: &[u8], f: Flavour, out: &mut [Locator; MAX_LOCATORS]) -> Result<usize> {
    let n = locator_count(buf.len(), f)?;
    for (i, slot) in out.iter_mut().enumerate().take(n) {
        let chunk = buf.get(i * f.locator_len()..).ok_or(Error::Invalid)?;
        *slot = Locator::decode(chunk, f)?.ok_or(Error::Invalid)?;
    }
    Ok(n)
}

/// The locators of a `SHIM_LOCLIST_*` set, best [`Rank`] first (highest
/// `lc_preference`; lowest `lc_prio`, then highest `lc_weight`; equal ones
/// in the order given; a repeat counts once, at its first place), with
/// their ranks: the order REAP tries them in.  IPv4
/// locators have no place in a SHIM6 context; more distinct locators than
/// a context holds cannot all be its own.
pub fn by_preference(list: &[Locator]) -> Result<(Locators, Preferences)> {
    let mut order = [0usize; MAX_LOCATORS];
    let n = list.len().min(MAX_LOCATORS);
    let rank = |j: usize| list.get(j).map_or(Rank::default(), |l: &Locator| l.rank);
    for (i, l) in list.iter().take(n).enumerate() {
        shim6_addr(l)?;
        // Insertion sort, stable: it goes after those it does not beat.
        if let Some(slot) = order.get_mut(i) {
            *slot = i;
        }
        let mut at = i;
        while at > 0 && order.get(at - 1).is_some_and(|&j| l.rank.before(rank(j))) {
            order.swap(at - 1, at);
            at -= 1;
        }
    }
    let mut keep = Locators::default();
    let mut prefs = [Rank::default(); crate::proto::context::MAX_LOCATORS];
    for &i in order.iter().take(n) {
        let Some(l) = list.get(i) else { continue };
        let before = keep.as_slice().len();
        if !keep.push(l.addr) {
            return Err(Error::InvalidLocator);
        }
        if keep.as_slice().len() > before {
            if let Some(p) = prefs.get_mut(before) {
                *p = l.rank;
            }
        }
    }
    Ok((keep, Preferences::ranked(&prefs)))
}

/// `struct shim_pathexplore`, in either layout (the draft's fields are
/// one octet, but for `pe_initprobeto`, and it has no `pe_keepaliveint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathExplore {
    /// Number of initial probes.
    pub probenum: u16,
    /// Keepalive Timeout (our Send Timeout), seconds.
    pub keepaliveto: u16,
    /// Keepalive Interval, seconds (RFC 6316 only).
    pub keepaliveint: u16,
    /// Initial Probe Timeout, milliseconds.
    pub initprobeto: u16,
}

impl PathExplore {
    /// Decodes flavour `f`'s layout; `pe_reserved` must be zero.
    pub fn decode(buf: &[u8], f: Flavour) -> Result<PathExplore> {
        let b = buf.get(..f.pathexplore_len()).ok_or(Error::Invalid)?;
        let u16_at = |i: usize| b.get(i..i + 2).map_or(0, |v| u16::from_ne_bytes([v[0], v[1]]));
        let (pe, reserved) = match f {
            Flavour::Draft => {
                let pe = PathExplore { probenum: b[0].into(), keepaliveto: b[1].into(), keepaliveint: 0, initprobeto: u16_at(2) };
                (pe, b.get(4..))
            }
            Flavour::Rfc6316 => {
                let pe = PathExplore { probenum: u16_at(0), keepaliveto: u16_at(2), keepaliveint: u16_at(4), initprobeto: u16_at(6) };
                (pe, b.get(8..))
            }
        };
        if reserved.unwrap_or(&[]).iter().any(|&x| x != 0) {
            return Err(Error::Invalid);
        }
        Ok(pe)
    }

    /// The REAP parameters it asks for on top of `base`, a field of 0
    /// keeping RFC 5534's default: `Invalid` for an Initial Probe Timeout
    /// under 100 ms, which would make exploration a storm.
    pub fn config(&self, base: ReapConfig) -> Result<ReapConfig> {
        let defaults = ReapConfig::default();
        if self.initprobeto != 0 && self.initprobeto < MIN_INITPROBETO {
            return Err(Error::Invalid);
        }
        let or = |v: Millis, default: Millis| if v == 0 { default } else { v };
        Ok(ReapConfig {
            initial_probes: if self.probenum == 0 { defaults.initial_probes } else { self.probenum.into() },
            send_timeout: or(Millis::from(self.keepaliveto) * 1000, defaults.send_timeout),
            initial_probe_timeout: or(self.initprobeto.into(), defaults.initial_probe_timeout),
            keepalive_interval: Millis::from(self.keepaliveint) * 1000,
            ..base
        })
    }

    /// The parameters in force, each clamped to its field (the draft's
    /// one-octet fields at 255 when they are read).
    pub fn of(config: &ReapConfig) -> PathExplore {
        let u16_of = |v: Millis| u16::try_from(v).unwrap_or(u16::MAX);
        PathExplore {
            probenum: u16::try_from(config.initial_probes).unwrap_or(u16::MAX),
            keepaliveto: u16_of(config.send_timeout / 1000),
            keepaliveint: u16_of(config.keepalive_interval / 1000),
            initprobeto: u16_of(config.initial_probe_timeout),
        }
    }

    /// Encodes as flavour `f`'s `struct shim_pathexplore`.
    pub fn encode(&self, f: Flavour) -> Encoded {
        let mut b = [0u8; LOCATOR_RFC6316_LEN];
        let u8_of = |v: u16| u8::try_from(v).unwrap_or(u8::MAX);
        match f {
            Flavour::Draft => {
                b[0] = u8_of(self.probenum);
                b[1] = u8_of(self.keepaliveto);
                b[2..4].copy_from_slice(&self.initprobeto.to_ne_bytes());
            }
            Flavour::Rfc6316 => {
                let fields = [self.probenum, self.keepaliveto, self.keepaliveint, self.initprobeto];
                for (d, v) in b.chunks_exact_mut(2).zip(fields) {
                    d.copy_from_slice(&v.to_ne_bytes());
                }
            }
        }
        Encoded { buf: b, len: f.pathexplore_len() }
    }
}

/// Direction of a `struct shim_feedback`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `SHIM_FB_DIR_OUTBOUND`
    Outbound,
    /// `SHIM_FB_DIR_INBOUND`
    Inbound,
}

/// Indicator of a `struct shim_feedback`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indicator {
    /// `SHIM_FB_DEFAULT`: must not be processed.
    Default,
    /// `SHIM_FB_UNABLE_TO_CONNECT`
    UnableToConnect,
    /// `SHIM_FB_UNSATISFACTORY`
    Unsatisfactory,
    /// `SHIM_FB_SATISFACTORY`
    Satisfactory,
}

/// `struct shim_feedback`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Feedback {
    /// Direction of traffic.
    pub direction: Direction,
    /// Degree of satisfaction.
    pub indicator: Indicator,
}

impl Feedback {
    /// Decodes; `fb_reserved` is ignored as the draft says.
    pub fn decode(buf: &[u8]) -> Result<Feedback> {
        let b = buf.first_chunk::<FEEDBACK_LEN>().ok_or(Error::Invalid)?;
        let direction = match b[0] {
            0 => Direction::Outbound,
            1 => Direction::Inbound,
            _ => return Err(Error::Invalid),
        };
        let indicator = match b[1] {
            0 => Indicator::Default,
            1 => Indicator::UnableToConnect,
            2 => Indicator::Unsatisfactory,
            3 => Indicator::Satisfactory,
            _ => return Err(Error::Invalid),
        };
        Ok(Feedback { direction, indicator })
    }
}

/// Decodes the `struct sockaddr_in6` or `struct sockaddr_in` of a
/// locator control message into an address (IPv4 v4-mapped).
pub fn decode_sockaddr(buf: &[u8]) -> Result<Addr> {
    // sa_family is a native-endian u16 at the start of both.
    let family = buf.first_chunk::<2>().map(|f| u16::from_ne_bytes(*f)).ok_or(Error::Invalid)?;
    let mut addr = [0u8; 16];
    match family {
        f if f == u16::from(AF_INET6) && buf.len() >= SOCKADDR_IN6_LEN => {
            addr.copy_from_slice(&buf[8..24]);
        }
        f if f == u16::from(AF_INET) && buf.len() >= SOCKADDR_IN_LEN => {
            addr[10] = 0xff;
            addr[11] = 0xff;
            addr[12..].copy_from_slice(&buf[4..8]);
        }
        _ => return Err(Error::Invalid),
    }
    Ok(addr)
}

/// Encodes `addr` as the `struct sockaddr_in6` of a received-locator
/// control message.
pub fn encode_sockaddr_in6(addr: &Addr) -> [u8; SOCKADDR_IN6_LEN] {
    let mut b = [0u8; SOCKADDR_IN6_LEN];
    b[..2].copy_from_slice(&u16::from(AF_INET6).to_ne_bytes());
    b[8..24].copy_from_slice(addr);
    b
}

/// Per-socket option values that exist without a context.  Zero is the
/// draft's default for every field, so a zero-filled state is a fresh
/// socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockFlags(pub u32);

impl SockFlags {
    const DONTSHIM: u32 = 1 << 0;
    /// Stored inverted: the draft's default for deferred setup is 1.
    const NOT_DEFERRED: u32 = 1 << 1;
    const LOCAL_RECV: u32 = 1 << 2;
    const PEER_RECV: u32 = 1 << 3;
    /// `SHIM_LOC_*_RECV` last set with RFC 6316's number.
    const LOCAL_RECV_RFC: u32 = 1 << 4;
    const PEER_RECV_RFC: u32 = 1 << 5;

    fn rfc_bit(opt: Opt) -> Option<u32> {
        match opt {
            Opt::LocLocalRecv => Some(Self::LOCAL_RECV_RFC),
            Opt::LocPeerRecv => Some(Self::PEER_RECV_RFC),
            _ => None,
        }
    }

    /// `SHIM_LOC_*_RECV` (`opt`) set in flavour `f`; `None` for others.
    fn set_recv_flavour(self, opt: Opt, f: Flavour) -> Option<SockFlags> {
        let bit = Self::rfc_bit(opt)?;
        Some(if f == Flavour::Rfc6316 { SockFlags(self.0 | bit) } else { SockFlags(self.0 & !bit) })
    }

    /// The cmsg_type of the control messages of `SHIM_LOC_*_RECV` (`opt`):
    /// its number in the flavour it was enabled in.
    pub fn recv_type(self, opt: Opt) -> i32 {
        let rfc = Self::rfc_bit(opt).is_some_and(|bit| self.0 & bit != 0);
        (if rfc { Flavour::Rfc6316 } else { Flavour::Draft }).number(opt as i32)
    }

    fn bit(opt: Opt) -> Option<(u32, bool)> {
        match opt {
            Opt::DontShim => Some((Self::DONTSHIM, false)),
            Opt::DeferredSetup => Some((Self::NOT_DEFERRED, true)),
            Opt::LocLocalRecv => Some((Self::LOCAL_RECV, false)),
            Opt::LocPeerRecv => Some((Self::PEER_RECV, false)),
            _ => None,
        }
    }

    /// The value of a context-free boolean option, `None` for others.
    pub fn get(self, opt: Opt) -> Option<bool> {
        let (bit, inverted) = Self::bit(opt)?;
        Some((self.0 & bit != 0) != inverted)
    }

    /// What a socket accept() returns takes from its listener: only
    /// `SHIM_DONTSHIM`, the listener's policy for its connections (their
    /// SYN-ACKs already follow it).  Deferred setup and the RECV options
    /// are per-connection choices: the defaults.
    pub fn inherited(self) -> SockFlags {
        SockFlags(self.0 & Self::DONTSHIM)
    }

    /// Sets a context-free boolean option; `None` for others.
    pub fn set(self, opt: Opt, value: bool) -> Option<SockFlags> {
        let (bit, inverted) = Self::bit(opt)?;
        Some(if value != inverted { SockFlags(self.0 | bit) } else { SockFlags(self.0 & !bit) })
    }
}
