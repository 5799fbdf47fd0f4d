// SPDX-License-Identifier: GPL-2.0

//! The SHIM6 context state machine (RFC 5533 §6, §7, App B), sans-IO.
//!
//! Nothing here sends, sleeps or reads a clock.  The caller hands in the
//! control messages it received (already parsed, their locators already
//! verified), the time `now` and a source of randomness, and gets back
//! at most one message to send.  A context tells when it next wants
//! [`Context::on_timeout`] through [`Context::deadline`]; the host's
//! [`Endpoint`] gathers those into one timer.
//!
//! Contexts live in the caller's table ([`Table`]): the kernel keeps them
//! in a per-namespace table read under RCU, the host tests in a `Vec`.
//! [`Host::receive`] is the whole receive-side dispatch, so the kernel
//! glue only parses, looks up and sends.
//!
//! Where the RFC contradicts itself the choices are those of the
//! reference (`shared/spec/shim6-protocol-reference.md`): a Parameter
//! Problem for our I1 leads to NO-SUPPORT; the Initiator Nonce is not a
//! validator input; I1 and I2 reuse one Initiator Nonce; I2bis goes out on
//! the R1bis locator pair reversed.
//!
//! By concern: [`types`] (value types), [`machine`] (one context),
//! [`responder`] (the stateless responder and rate limits), [`host`] (the
//! table and the receive-side dispatch), [`endpoint`] (every event of a
//! host, and when its timer is next due), [`classify`] (the packet path's
//! decisions), [`reap`] (failure detection and exploration, RFC 5534).

mod classify;
mod endpoint;
mod events;
mod fork;
mod host;
mod machine;
pub mod reap;
mod responder;
mod types;

pub use classify::*;
pub use endpoint::*;
pub use events::*;
pub use fork::*;
pub use host::*;
pub use machine::*;
use reap::{Pairs, PeerProbe, Reap, ReapConfig, ReapOut, ReapState, Signal, Traffic};
pub use responder::*;
pub use types::*;
/// Context tags are the wire's: 47 bits, checked where they are made.
pub use super::wire::ContextTag;

/// An IPv6 address (ULID or locator).
pub type Addr = [u8; 16];
/// Monotonic time in milliseconds.
pub type Millis = u64;

/// Most locators a context keeps per side.
pub const MAX_LOCATORS: usize = 16;
/// Octets of a Responder Validator.
pub const VALIDATOR_LEN: usize = 32;

/// RFC 5533 §14 constants, in milliseconds where they are times.
pub mod consts {
    use super::Millis;
    /// First I1 retransmission timeout (nominal).
    pub const I1_TIMEOUT: Millis = 4_000;
    /// I1 retransmissions before E-FAILED.
    pub const I1_RETRIES_MAX: u8 = 4;
    /// Negative cache after no answer (E-FAILED).
    pub const NO_R1_HOLDDOWN_TIME: Millis = 60_000;
    /// Negative cache after an ICMPv6 Parameter Problem (NO-SUPPORT).
    pub const ICMP_HOLDDOWN_TIME: Millis = 600_000;
    /// First I2 retransmission timeout (nominal).
    pub const I2_TIMEOUT: Millis = 4_000;
    /// I2 retransmissions before falling back to I1.
    pub const I2_RETRIES_MAX: u8 = 2;
    /// First I2bis retransmission timeout (nominal).
    pub const I2BIS_TIMEOUT: Millis = 4_000;
    /// I2bis retransmissions before falling back to I1.
    pub const I2BIS_RETRIES_MAX: u8 = 2;
    /// Responder nonces at least this old are still accepted.
    pub const VALIDATOR_MIN_LIFETIME: Millis = 30_000;
    /// First Update Request retransmission timeout (nominal).
    pub const UPDATE_TIMEOUT: Millis = 4_000;
    /// Cap of the Update Request backoff (before randomization).
    pub const MAX_UPDATE_TIMEOUT: Millis = 120_000;
    /// An established context nobody used for this long is forgotten
    /// (not an RFC constant: RFC 5533 leaves garbage collection to the
    /// host; the peer recovers with R1bis if it still needs it).
    pub const IDLE_TIMEOUT: Millis = 600_000;
    /// An established context idle this long gives its slot to a new one
    /// when the table is full.
    pub const EVICT_IDLE: Millis = 30_000;
}

/// Whether `a` may be a ULID or a locator: a unicast address of global
/// scope (not unspecified, loopback, link-local, multicast or v4-mapped).
pub fn shimmable(a: &Addr) -> bool {
    let loopback = a[..15].iter().all(|&b| b == 0) && a[15] <= 1;
    let link_local = a[0] == 0xfe && a[1] & 0xc0 == 0x80;
    let multicast = a[0] == 0xff;
    let v4_mapped = a[..10].iter().all(|&b| b == 0) && a[10] == 0xff && a[11] == 0xff;
    !(loopback || link_local || multicast || v4_mapped)
}

/// Randomness, from the caller (`get_random_bytes()` in the kernel).
pub trait Random {
    /// 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// The keyed one-way function behind Responder Validators (the kernel
/// uses `hmac(sha256)`); never hand-written here.
pub trait Mac {
    /// MAC of the concatenation of `parts` under `key`; `None` when the
    /// implementation failed (then no validator is sent or accepted).
    fn mac(&mut self, key: &[u8; 32], parts: &[&[u8]]) -> Option<[u8; VALIDATOR_LEN]>;
}
