// SPDX-License-Identifier: GPL-2.0

//! The fixed IPv6 header (RFC 8200 §3), as far as the shim reads and
//! rewrites it: addresses, Next Header, Payload Length.
//!
//! ```text
//!  octet 0..4                       4..6             6             7
//! +---------------------------------+----------------+-------------+-----------+
//! | Version | Traffic Class | Flow  | Payload Length | Next Header | Hop Limit |
//! +---------------------------------+----------------+-------------+-----------+
//! | Source Address (8..24)                                                     |
//! | Destination Address (24..40)                                               |
//! +----------------------------------------------------------------------------+
//! ```

use super::field;
use super::{Error, Result};

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;

/// An IPv6 address.
pub type Address = [u8; 16];

/// Offsets of the header's fields.
pub mod offset {
    /// Version (high 4 bits), Traffic Class, Flow Label.
    pub const VER_TC_FLOW: usize = 0;
    /// Payload Length (0 in a jumbogram).
    pub const PAYLOAD_LEN: usize = 4;
    /// Next Header.
    pub const NEXT_HEADER: usize = 6;
    /// Hop Limit.
    pub const HOP_LIMIT: usize = 7;
    /// Source Address.
    pub const SRC_ADDR: usize = 8;
    /// Destination Address.
    pub const DST_ADDR: usize = 24;
}

/// A view of an IPv6 header at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks; the accessors read zeros and the
    /// setters write nothing outside it.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps `buffer` once it holds a version 6 header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        if p.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else if p.version() != 6 {
            Err(Error::Malformed)
        } else {
            Ok(p)
        }
    }

    /// The IP version.
    pub fn version(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), offset::VER_TC_FLOW) >> 4
    }

    /// Payload Length: what follows the fixed header; 0 in a jumbogram.
    pub fn payload_len(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), offset::PAYLOAD_LEN)
    }

    /// Whether this is a jumbogram (RFC 2675: Payload Length 0, the length
    /// in a Hop-by-Hop option).
    pub fn is_jumbogram(&self) -> bool {
        self.payload_len() == 0
    }

    /// Next Header: what follows the fixed header.
    pub fn next_header(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), offset::NEXT_HEADER)
    }

    /// Source Address.
    pub fn src_addr(&self) -> Address {
        field::bytes(self.buffer.as_ref(), offset::SRC_ADDR)
    }

    /// Destination Address.
    pub fn dst_addr(&self) -> Address {
        field::bytes(self.buffer.as_ref(), offset::DST_ADDR)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets Payload Length.
    pub fn set_payload_len(&mut self, v: u16) {
        field::put_u16(self.buffer.as_mut(), offset::PAYLOAD_LEN, v);
    }

    /// Sets Next Header.
    pub fn set_next_header(&mut self, v: u8) {
        field::put_u8(self.buffer.as_mut(), offset::NEXT_HEADER, v);
    }

    /// Sets the Source Address.
    pub fn set_src_addr(&mut self, a: &Address) {
        field::put(self.buffer.as_mut(), offset::SRC_ADDR, a);
    }

    /// Sets the Destination Address.
    pub fn set_dst_addr(&mut self, a: &Address) {
        field::put(self.buffer.as_mut(), offset::DST_ADDR, a);
    }

    /// Readdresses the packet `src` -> `dst` and changes its Payload
    /// Length by `grow` octets (an extension header put in or taken out).
    /// A jumbogram, or a length that would leave 16 bits, is refused.
    pub fn readdress(&mut self, src: &Address, dst: &Address, grow: i16) -> Result<()> {
        let len = self.payload_len();
        if len == 0 {
            return Err(Error::Malformed);
        }
        let new = len.checked_add_signed(grow).ok_or(Error::Malformed)?;
        self.set_payload_len(new);
        self.set_src_addr(src);
        self.set_dst_addr(dst);
        Ok(())
    }
}

/// The fields of an IPv6 header the shim sends with (no traffic class,
/// no flow label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Source Address.
    pub src: Address,
    /// Destination Address.
    pub dst: Address,
    /// Next Header.
    pub next_header: u8,
    /// Payload Length.
    pub payload_len: u16,
    /// Hop Limit.
    pub hop_limit: u8,
}

impl Repr {
    /// Parses a checked view.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            src: p.src_addr(),
            dst: p.dst_addr(),
            next_header: p.next_header(),
            payload_len: p.payload_len(),
            hop_limit: field::u8_at(p.buffer.as_ref(), offset::HOP_LIMIT),
        }
    }

    /// The header's 40 octets.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        field::put_u8(&mut h, offset::VER_TC_FLOW, 6 << 4);
        field::put_u16(&mut h, offset::PAYLOAD_LEN, self.payload_len);
        field::put_u8(&mut h, offset::NEXT_HEADER, self.next_header);
        field::put_u8(&mut h, offset::HOP_LIMIT, self.hop_limit);
        field::put(&mut h, offset::SRC_ADDR, &self.src);
        field::put(&mut h, offset::DST_ADDR, &self.dst);
        h
    }
}
