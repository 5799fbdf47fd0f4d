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

/// Inserts a payload header at `offset` into the packet `buf[..len]`.
///
/// The octet at `next_header_at` (before `offset`) is the Next Header of
/// the preceding header: the new header takes over its value and it
/// becomes [`PROTOCOL`].  Moves `buf[offset..len]` up by 8 octets, so
/// `buf` needs room for them.  Returns the new packet length.
pub fn insert(
    buf: &mut [u8],
    len: usize,
    next_header_at: usize,
    offset: usize,
    context_tag: ContextTag,
) -> Result<usize> {
    if next_header_at >= offset || offset > len {
        return Err(Error::Malformed);
    }
    let new_len = len.checked_add(HEADER_LEN).ok_or(Error::Truncated)?;
    if new_len > buf.len() {
        return Err(Error::Truncated);
    }
    let next_header = field::u8_at(buf, next_header_at);
    let region = buf.get_mut(offset..new_len).ok_or(Error::Truncated)?;
    // region.len() == len - offset + 8, validated above.
    region.copy_within(..len - offset, HEADER_LEN);
    PayloadRepr { next_header, context_tag }.emit(region)?;
    field::put_u8(buf, next_header_at, PROTOCOL);
    Ok(new_len)
}

/// Removes the payload header at `offset` from the packet `buf[..len]`.
///
/// The octet at `next_header_at` (before `offset`) must be [`PROTOCOL`];
/// it gets the removed header's Next Header.  Moves `buf[offset + 8..len]`
/// down by 8 octets.  Returns the header's context tag and the new packet
/// length.
pub fn remove(
    buf: &mut [u8],
    len: usize,
    next_header_at: usize,
    offset: usize,
) -> Result<(ContextTag, usize)> {
    if next_header_at >= offset {
        return Err(Error::Malformed);
    }
    let packet = buf.get_mut(..len).ok_or(Error::Truncated)?;
    if field::u8_at(packet, next_header_at) != PROTOCOL {
        return Err(Error::Malformed);
    }
    let region = packet.get_mut(offset..).ok_or(Error::Truncated)?;
    let repr = PayloadRepr::parse(&PayloadHeader::new_checked(&*region)?)?;
    // region.len() >= 8, checked by new_checked.
    region.copy_within(HEADER_LEN.., 0);
    field::put_u8(packet, next_header_at, repr.next_header);
    Ok((repr.context_tag, len - HEADER_LEN))
}
