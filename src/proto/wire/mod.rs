// SPDX-License-Identifier: GPL-2.0

//! SHIM6 wire formats (RFC 5533 §5, RFC 5534 §5).
//!
//! Every format comes in two parts, after smoltcp's `wire` module:
//!
//! - a *view* over bytes ([`PayloadHeader`], [`Packet`], [`options::Tlv`])
//!   whose `new_checked` validates the lengths once, with field accessors
//!   and setters;
//! - a *representation* ([`PayloadRepr`], [`options::OptionRepr`], the
//!   message structs, [`Repr`]) with `parse` from a view, `emit` into a
//!   byte slice and `buffer_len`.
//!
//! Variable parts are borrowed from the buffer (locators, validators,
//! probe reports), so nothing here allocates.  No parser indexes a slice
//! it has not measured, and none panics: malformed input is an [`Error`].
//!
//! Layout of the module:
//!
//! - [`ipv6`]: the fixed IPv6 header, as far as the shim rewrites it;
//! - [`payload`]: the 8-octet payload extension header (P = 1);
//! - [`control`]: the common control header (P = 0), checksum, lengths;
//! - [`options`]: the option TLVs and their iterator;
//! - [`message`]: the eleven control messages.

pub mod control;
pub mod ipv6;
pub mod message;
pub mod options;
pub mod payload;

use control::Packet;
use message::Repr;
use payload::{PayloadHeader, PayloadRepr};

/// IPv6 Next Header value of every Shim6 header, payload or control.
pub const PROTOCOL: u8 = 140;
/// IPv6 "No Next Header", the Next Header of control messages.
pub const NO_NEXT_HEADER: u8 = 59;
/// Longest Shim6 header: Hdr Ext Len 255, `(255 + 1) * 8` octets.
pub const MAX_HEADER_LEN: usize = 2048;
/// Cap on a signalling packet, IPv6 header and the headers between it
/// and the Shim6 header included (RFC 5533 §5.1).
pub const MAX_SIGNALLING_LEN: usize = 1280;

/// Control message types (RFC 5533 §5.3 Table 1, RFC 5534 §5).
pub mod msg_type {
    /// I1, first message of the context establishment.
    pub const I1: u8 = 1;
    /// R1, the responder's stateless answer to I1.
    pub const R1: u8 = 2;
    /// I2, the initiator's answer to R1.
    pub const I2: u8 = 3;
    /// R2, the responder's answer to I2 or I2bis.
    pub const R2: u8 = 4;
    /// R1bis, "I have no context for this tag".
    pub const R1BIS: u8 = 5;
    /// I2bis, the answer to R1bis.
    pub const I2BIS: u8 = 6;
    /// Update Request.
    pub const UPDATE_REQUEST: u8 = 64;
    /// Update Acknowledgement.
    pub const UPDATE_ACK: u8 = 65;
    /// Keepalive (REAP).
    pub const KEEPALIVE: u8 = 66;
    /// Probe (REAP).
    pub const PROBE: u8 = 67;
    /// Error.
    pub const ERROR: u8 = 68;

    /// Whether a message of type `t` whose context tag is unknown
    /// triggers an R1bis: types 64 to 127 do, 0 to 63 never.
    pub const fn triggers_r1bis(t: u8) -> bool {
        t >= 64
    }
}

/// Option types, the 15-bit type field of the TLV (RFC 5533 §5.15,
/// RFC 5534 §5.3).
pub mod option_type {
    /// Responder Validator.
    pub const RESPONDER_VALIDATOR: u16 = 1;
    /// Locator List.
    pub const LOCATOR_LIST: u16 = 2;
    /// Locator Preferences.
    pub const LOCATOR_PREFERENCES: u16 = 3;
    /// CGA Parameter Data Structure.
    pub const CGA_PARAMETERS: u16 = 4;
    /// CGA Signature.
    pub const CGA_SIGNATURE: u16 = 5;
    /// ULID Pair.
    pub const ULID_PAIR: u16 = 6;
    /// Forked Instance Identifier.
    pub const FORKED_INSTANCE: u16 = 7;
    /// Keepalive Timeout (RFC 5534 §5.3).
    pub const KEEPALIVE_TIMEOUT: u16 = 10;
}

/// Error codes of the Error message (RFC 5533 §5.14).
pub mod error_code {
    /// Unknown Shim6 message type; the pointer names its type octet.
    pub const UNKNOWN_TYPE: u8 = 0;
    /// Critical option not recognised; the pointer names its Type field.
    pub const CRITICAL_OPTION: u8 = 1;
    /// Locator verification method failed; the pointer names the
    /// Verification Method octet.
    pub const VERIFICATION_FAILED: u8 = 2;
    /// Locator List Generation out of sync; the pointer names the
    /// Generation field of the Locator Preferences option.
    pub const GENERATION_OUT_OF_SYNC: u8 = 3;
    /// Wrong number of locators in a Locator Preferences option; the
    /// pointer names its Length field.
    pub const WRONG_PREFERENCE_COUNT: u8 = 4;
}

/// Locator verification methods of the Locator List.
///
/// RFC 5533 §5.15.2 Table 4 and §17 disagree; these are Table 4's, as
/// Wireshark and LinShim6 use them.
pub mod verification {
    /// Hash-Based Address (RFC 5535).
    pub const HBA: u8 = 1;
    /// Cryptographically Generated Address (RFC 3972), signed.
    pub const CGA: u8 = 2;
}

/// Flags of a Locator Preferences element (RFC 5533 §5.15.3).
pub mod pref_flags {
    /// The locator is known not to work.
    pub const BROKEN: u8 = 0x01;
    /// A less stable locator, such as a care-of address.
    pub const TRANSIENT: u8 = 0x02;
}

/// Why bytes could not be parsed or a representation emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Too short: the buffer is shorter than the format or a length field
    /// says, or Hdr Ext Len is below its message type's minimum (such a
    /// message is silently discarded).
    Truncated,
    /// A field holds a value the format does not allow (wrong P or S bit,
    /// bad option length, Sta 3, ...), or a representation holds one that
    /// cannot be encoded.
    Malformed,
    /// The control message checksum does not verify.
    BadChecksum,
    /// Unknown control message type: answer with Error code
    /// [`error_code::UNKNOWN_TYPE`], pointer at octet 2.
    UnknownType,
    /// An option the message type does not know carries C = 1: the rest of
    /// the message must not be processed; answer with Error code
    /// [`error_code::CRITICAL_OPTION`].
    Unrecognized {
        /// Offset of the option's Type field from the first octet of the
        /// Shim6 header.
        pointer: usize,
    },
}

impl Error {
    /// The Error message this error calls for, as (code, pointer), the
    /// pointer counted from the first octet of the Shim6 header: the
    /// caller adds the offset of that header in the packet it copies into
    /// "Packet in error".  `None` for errors that are dropped silently.
    pub const fn error_message(self) -> Option<(u8, usize)> {
        match self {
            Error::UnknownType => Some((error_code::UNKNOWN_TYPE, control::offset::TYPE)),
            Error::Unrecognized { pointer } => Some((error_code::CRITICAL_OPTION, pointer)),
            Error::Truncated | Error::Malformed | Error::BadChecksum => None,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Truncated => f.write_str("truncated"),
            Error::Malformed => f.write_str("malformed"),
            Error::BadChecksum => f.write_str("bad checksum"),
            Error::UnknownType => f.write_str("unknown message type"),
            Error::Unrecognized { pointer } => write!(f, "critical option at {pointer}"),
        }
    }
}

/// Result of the codecs.
pub type Result<T> = core::result::Result<T, Error>;

/// A 47-bit context tag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContextTag(u64);

impl ContextTag {
    /// Largest tag, `2^47 - 1`.
    pub const MAX: u64 = (1 << 47) - 1;

    /// The tag `v`, `None` if it does not fit in 47 bits.
    pub const fn new(v: u64) -> Option<ContextTag> {
        if v <= Self::MAX {
            Some(ContextTag(v))
        } else {
            None
        }
    }

    /// The low 47 bits of `v`.
    pub const fn from_masked(v: u64) -> ContextTag {
        ContextTag(v & Self::MAX)
    }

    /// The tag as a number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The 6 octets of an `R | Context Tag` field, R = 0.
    pub const fn to_bytes(self) -> [u8; 6] {
        let b = self.0.to_be_bytes();
        [b[2], b[3], b[4], b[5], b[6], b[7]]
    }

    /// Decodes the 6 octets of an `R | Context Tag` field; the reserved
    /// most significant bit is ignored (so is the P bit of the payload
    /// header, which sits there).
    pub const fn from_bytes(b: [u8; 6]) -> ContextTag {
        ContextTag::from_masked(u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]))
    }
}

/// The Internet checksum (RFC 1071) as Shim6 control messages use it:
/// over the Shim6 header only, no pseudo-header.
pub mod checksum {
    /// One's-complement sum of `data` as big-endian 16-bit words, an odd
    /// last octet padded with zero.
    pub fn sum(data: &[u8]) -> u16 {
        let mut acc: u64 = 0;
        let mut words = data.chunks_exact(2);
        for w in &mut words {
            if let Some(&[hi, lo]) = w.first_chunk::<2>() {
                acc += u64::from(u16::from_be_bytes([hi, lo]));
            }
        }
        if let Some(&last) = words.remainder().first() {
            acc += u64::from(last) << 8;
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        // The loop leaves at most 16 bits.
        acc as u16
    }

    /// The checksum field for `data`, computed with the field zero.
    pub fn compute(data: &[u8]) -> u16 {
        !sum(data)
    }

    /// Whether `data`, checksum field included, sums to 0xFFFF.
    pub fn verify(data: &[u8]) -> bool {
        sum(data) == 0xffff
    }
}

/// Any Shim6 header, told apart by its P bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header<'a> {
    /// P = 1: the payload extension header.
    Payload(PayloadRepr),
    /// P = 0: a control message.
    Control(Repr<'a>),
}

impl<'a> Header<'a> {
    /// Parses the Shim6 header at the start of `buf` (the octet that
    /// holds its Next Header).
    pub fn parse(buf: &'a [u8]) -> Result<Header<'a>> {
        match Self::peek(buf)? {
            Peek::Payload(p) => Ok(Header::Payload(p)),
            Peek::Control { .. } => Repr::parse(&Packet::new_checked(buf)?).map(Header::Control),
        }
    }

    /// What the first 8 octets of a Shim6 header announce, before the rest
    /// is read (the receive path pulls no more of a packet than it needs).
    pub fn peek(buf: &[u8]) -> Result<Peek> {
        let first = buf.first_chunk::<8>().ok_or(Error::Truncated)?;
        if field::u8_at(first, control::offset::TYPE) & 0x80 != 0 {
            PayloadRepr::parse(&PayloadHeader::new_checked(&first[..])?).map(Peek::Payload)
        } else {
            Ok(Peek::Control { len: Packet::new_unchecked(&first[..]).header_len() })
        }
    }
}

/// What a Shim6 header's first 8 octets say ([`Header::peek`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peek {
    /// P = 1: the whole payload extension header.
    Payload(PayloadRepr),
    /// P = 0: a control message of `len` octets.
    Control {
        /// Its length from Hdr Ext Len.
        len: usize,
    },
}

/// Reads and writes of fixed-size fields that cannot panic: the views
/// validate lengths before they read, and a read out of range (which the
/// validation rules out) yields zeros rather than a panic; a write out of
/// range is dropped.
pub(crate) mod field {
    /// `N` octets at `at`, zeros if out of range.
    pub(crate) fn bytes<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
        buf.get(at..).and_then(|b| b.first_chunk::<N>()).copied().unwrap_or([0; N])
    }

    /// The octet at `at`, 0 if out of range.
    pub(crate) fn u8_at(buf: &[u8], at: usize) -> u8 {
        buf.get(at).copied().unwrap_or(0)
    }

    /// Big-endian `u16` at `at`.
    pub(crate) fn u16_at(buf: &[u8], at: usize) -> u16 {
        u16::from_be_bytes(bytes(buf, at))
    }

    /// Big-endian `u32` at `at`.
    pub(crate) fn u32_at(buf: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(bytes(buf, at))
    }

    /// Copies `src` to `at`; nothing if it does not fit.
    pub(crate) fn put(buf: &mut [u8], at: usize, src: &[u8]) {
        if let Some(dst) = buf.get_mut(at..).and_then(|b| b.get_mut(..src.len())) {
            dst.copy_from_slice(src);
        }
    }

    /// Writes the octet at `at`.
    pub(crate) fn put_u8(buf: &mut [u8], at: usize, v: u8) {
        if let Some(b) = buf.get_mut(at) {
            *b = v;
        }
    }

    /// Writes a big-endian `u16` at `at`.
    pub(crate) fn put_u16(buf: &mut [u8], at: usize, v: u16) {
        put(buf, at, &v.to_be_bytes());
    }

    /// Writes a big-endian `u32` at `at`.
    pub(crate) fn put_u32(buf: &mut [u8], at: usize, v: u32) {
        put(buf, at, &v.to_be_bytes());
    }
}
