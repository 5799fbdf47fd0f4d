// SPDX-License-Identifier: GPL-2.0

//! The Shim6 payload extension header (RFC 5533 §5.2).
//!
//! ```text
//!  octet 0       1             2                 3..7
//! +-------------+-------------+-+---------------------------------+
//! | Next Header | Hdr Ext Len |P|  Receiver Context Tag (47 bits) |
//! |             |      0      |1|                                 |
//! +-------------+-------------+-+---------------------------------+
//! ```
//!
//! No checksum.  The sender inserts it after the routing-sublayer headers
//! when the locators differ from the ULIDs; the receiver removes it.

use super::field;
use super::{ContextTag, Error, Result, PROTOCOL};

/// Length of the payload extension header.
pub const HEADER_LEN: usize = 8;

mod off {
    pub(super) const NEXT_HEADER: usize = 0;
    pub(super) const HDR_EXT_LEN: usize = 1;
    pub(super) const TAG: usize = 2;
}

/// A view of a payload extension header at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> PayloadHeader<T> {
    /// Wraps `buffer` without checks; the accessors read zeros and the
    /// setters write nothing outside it.
    pub const fn new_unchecked(buffer: T) -> Self {
        PayloadHeader { buffer }
    }

    /// Wraps `buffer` once [`PayloadHeader::check`] passes.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let h = Self::new_unchecked(buffer);
        h.check()?;
        Ok(h)
    }

    /// Checks that the buffer holds 8 octets, P = 1 and Hdr Ext Len = 0.
    pub fn check(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else if !self.payload_bit() || self.hdr_ext_len() != 0 {
            Err(Error::Malformed)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next Header: protocol of what follows.
    pub fn next_header(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), off::NEXT_HEADER)
    }

    /// Hdr Ext Len, 0 for this header.
    pub fn hdr_ext_len(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), off::HDR_EXT_LEN)
    }

    /// The P bit, 1 for this header.
    pub fn payload_bit(&self) -> bool {
        field::u8_at(self.buffer.as_ref(), off::TAG) & 0x80 != 0
    }

    /// Receiver Context Tag.
    pub fn context_tag(&self) -> ContextTag {
        ContextTag::from_bytes(field::bytes(self.buffer.as_ref(), off::TAG))
    }

    /// What follows the header.
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> PayloadHeader<T> {
    /// Sets Next Header.
    pub fn set_next_header(&mut self, v: u8) {
        field::put_u8(self.buffer.as_mut(), off::NEXT_HEADER, v);
    }

    /// Sets Hdr Ext Len.
    pub fn set_hdr_ext_len(&mut self, v: u8) {
        field::put_u8(self.buffer.as_mut(), off::HDR_EXT_LEN, v);
    }

    /// Sets the Receiver Context Tag and the P bit.
    pub fn set_context_tag(&mut self, tag: ContextTag) {
        let mut b = tag.to_bytes();
        b[0] |= 0x80;
        field::put(self.buffer.as_mut(), off::TAG, &b);
    }
}

/// The contents of a payload extension header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadRepr {
    /// Protocol of what follows.
    pub next_header: u8,
    /// The receiver's context tag, CT(peer) of the sender.
    pub context_tag: ContextTag,
}

impl PayloadRepr {
    /// Parses a checked header.
    pub fn parse<T: AsRef<[u8]>>(header: &PayloadHeader<T>) -> Result<PayloadRepr> {
        header.check()?;
        Ok(PayloadRepr { next_header: header.next_header(), context_tag: header.context_tag() })
    }

    /// Octets [`PayloadRepr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// The header's 8 octets.
    pub const fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let t = self.context_tag.to_bytes();
        [self.next_header, 0, t[0] | 0x80, t[1], t[2], t[3], t[4], t[5]]
    }

    /// Writes the header to the start of `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let dst = buf.first_chunk_mut::<HEADER_LEN>().ok_or(Error::Truncated)?;
        *dst = self.to_bytes();
        Ok(HEADER_LEN)
    }
}

/// Inserts a payload header behind the first `at` octets of a packet's
/// headers, the way the kernel does it: the headers move, the rest of the
/// packet (maybe not even in the buffer) stays where it is.
///
/// `buf` is [`HEADER_LEN`] octets of room followed by the `at` octets of
/// headers.  They move down into the room and the new header fills the
/// gap they leave, so the packet then starts at `buf[0]`.  The octet at
/// `next_header_at` of the headers (before `at`) named what followed
/// them: the new header takes over its value and it becomes
/// [`PROTOCOL`].
pub fn insert(buf: &mut [u8], at: usize, next_header_at: usize, context_tag: ContextTag) -> Result<()> {
    if next_header_at >= at {
        return Err(Error::Malformed);
    }
    let end = at.checked_add(HEADER_LEN).ok_or(Error::Truncated)?;
    let packet = buf.get_mut(..end).ok_or(Error::Truncated)?;
    let next_header = field::u8_at(packet, HEADER_LEN + next_header_at);
    packet.copy_within(HEADER_LEN.., 0);
    let gap = packet.get_mut(at..).ok_or(Error::Truncated)?;
    PayloadRepr { next_header, context_tag }.emit(gap)?;
    field::put_u8(packet, next_header_at, PROTOCOL);
    Ok(())
}

/// Removes the payload header that follows the first `at` octets of a
/// packet's headers, the way the kernel does it: the headers move up
/// over it, the rest of the packet stays.
///
/// `buf` starts with the headers; the payload header is at `buf[at..]`.
/// The octet at `next_header_at` of the headers must be [`PROTOCOL`]; it
/// gets the removed header's Next Header.  The headers then start at
/// `buf[HEADER_LEN]`.  Returns the header's context tag.
pub fn remove(buf: &mut [u8], at: usize, next_header_at: usize) -> Result<ContextTag> {
    if next_header_at >= at {
        return Err(Error::Malformed);
    }
    let end = at.checked_add(HEADER_LEN).ok_or(Error::Truncated)?;
    let packet = buf.get_mut(..end).ok_or(Error::Truncated)?;
    if field::u8_at(packet, next_header_at) != PROTOCOL {
        return Err(Error::Malformed);
    }
    let header = packet.get(at..).ok_or(Error::Truncated)?;
    let repr = PayloadRepr::parse(&PayloadHeader::new_checked(header)?)?;
    packet.copy_within(..at, HEADER_LEN);
    field::put_u8(packet, HEADER_LEN + next_header_at, repr.next_header);
    Ok(repr.context_tag)
}
