// SPDX-License-Identifier: GPL-2.0

//! The common header of control messages (RFC 5533 §5.3).
//!
//! ```text
//!  octet 0       1             2            3                4..5
//! +-------------+-------------+-+----------+--------------+-+----------+
//! | Next Header | Hdr Ext Len |P| Type (7) | Type-spec(7) |S| Checksum |
//! |             |             |0|          |              |0|          |
//! +-------------+-------------+-+----------+--------------+-+----------+
//! | type-specific fields from octet 6, then options (8-aligned)        |
//! ```
//!
//! The message is `(Hdr Ext Len + 1) * 8` octets; the checksum covers
//! exactly those, no pseudo-header and nothing after them.

use super::options::Options;
use super::{checksum, field, msg_type, Error, Result, MAX_HEADER_LEN, NO_NEXT_HEADER};

/// Offsets of the common header fields.
pub(crate) mod offset {
    /// Next Header.
    pub(crate) const NEXT_HEADER: usize = 0;
    /// Hdr Ext Len.
    pub(crate) const HDR_EXT_LEN: usize = 1;
    /// P bit and Type.
    pub(crate) const TYPE: usize = 2;
    /// Type-specific bits and S bit.
    pub(crate) const TYPE_SPECIFIC: usize = 3;
    /// Checksum.
    pub(crate) const CHECKSUM: usize = 4;
}

/// Shortest Shim6 header: 8 octets.
pub const MIN_HEADER_LEN: usize = 8;

/// Minimum length, in octets, of a message of type `t` (its minimum Hdr
/// Ext Len plus one, times 8); `None` for an unknown type.
pub const fn min_len(t: u8) -> Option<usize> {
    match t {
        msg_type::I2 => Some(24),
        msg_type::I2BIS => Some(32),
        // Psent >= 1: one 40-octet report after the 16 fixed octets.
        msg_type::PROBE => Some(56),
        msg_type::I1
        | msg_type::R1
        | msg_type::R2
        | msg_type::R1BIS
        | msg_type::UPDATE_REQUEST
        | msg_type::UPDATE_ACK
        | msg_type::KEEPALIVE
        | msg_type::ERROR => Some(16),
        _ => None,
    }
}

/// Total header length for a Hdr Ext Len.
pub const fn header_len(hdr_ext_len: u8) -> usize {
    (hdr_ext_len as usize + 1) * 8
}

/// Hdr Ext Len for a total length: `None` unless `len` is a multiple of
/// 8 between 8 and [`MAX_HEADER_LEN`].
pub fn hdr_ext_len(len: usize) -> Option<u8> {
    if len < MIN_HEADER_LEN || !len.is_multiple_of(8) {
        return None;
    }
    u8::try_from(len / 8 - 1).ok()
}

/// A view of a control message at the start of a buffer; the buffer may
/// go on past the message.
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

    /// Wraps `buffer` once [`Packet::check_len`] passes.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the buffer holds at least 8 octets, that P = 0, and
    /// that the message `(Hdr Ext Len + 1) * 8` octets long fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < MIN_HEADER_LEN {
            Err(Error::Truncated)
        } else if self.payload_bit() {
            Err(Error::Malformed)
        } else if self.header_len() > len {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The checks every message passes before its type is looked at
    /// (RFC 5533 §12.3): lengths, checksum, S = 0.
    pub fn check(&self) -> Result<()> {
        self.check_len()?;
        if !self.verify_checksum() {
            Err(Error::BadChecksum)
        } else if self.s_bit() {
            Err(Error::Malformed)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next Header, normally [`NO_NEXT_HEADER`].
    pub fn next_header(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), offset::NEXT_HEADER)
    }

    /// Hdr Ext Len.
    pub fn hdr_ext_len(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), offset::HDR_EXT_LEN)
    }

    /// Message length given by Hdr Ext Len.
    pub fn header_len(&self) -> usize {
        header_len(self.hdr_ext_len())
    }

    /// The P bit, 0 for control messages.
    pub fn payload_bit(&self) -> bool {
        field::u8_at(self.buffer.as_ref(), offset::TYPE) & 0x80 != 0
    }

    /// Message Type (7 bits).
    pub fn msg_type(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), offset::TYPE) & 0x7f
    }

    /// The 7 type-specific bits (the Error Code of an Error message).
    pub fn type_specific(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), offset::TYPE_SPECIFIC) >> 1
    }

    /// The S bit, 0 for Shim6 (1 would be HIP's).
    pub fn s_bit(&self) -> bool {
        field::u8_at(self.buffer.as_ref(), offset::TYPE_SPECIFIC) & 1 != 0
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), offset::CHECKSUM)
    }

    /// The message: its first `(Hdr Ext Len + 1) * 8` octets, or the
    /// whole buffer if that is shorter.
    pub fn header(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        buf.get(..self.header_len()).unwrap_or(buf)
    }

    /// What follows the message.
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }

    /// Whether the checksum over the message verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(self.header())
    }
}

impl<'a> Packet<&'a [u8]> {
    /// [`Packet::header`], borrowed for the buffer's lifetime.
    pub fn header_bytes(&self) -> &'a [u8] {
        let buf: &'a [u8] = self.buffer;
        buf.get(..self.header_len()).unwrap_or(buf)
    }

    /// Offset of the options of the message: `None` for a message without
    /// an option area (Error).
    pub fn options_offset(&self) -> Result<Option<usize>> {
        options_offset(self.header_bytes())
    }

    /// The options of the message, to iterate over; empty for an Error
    /// message.
    pub fn options(&self) -> Result<Options<'a>> {
        let hdr = self.header_bytes();
        match options_offset(hdr)? {
            Some(at) => {
                let area = hdr.get(at..).ok_or(Error::Truncated)?;
                Ok(Options::new(area, at))
            }
            None => Ok(Options::new(&[], hdr.len())),
        }
    }
}

/// Where the options of the message `hdr` start.
pub(crate) fn options_offset(hdr: &[u8]) -> Result<Option<usize>> {
    let t = field::u8_at(hdr, offset::TYPE) & 0x7f;
    let min = min_len(t).ok_or(Error::UnknownType)?;
    if hdr.len() < min {
        return Err(Error::Truncated);
    }
    Ok(match t {
        msg_type::ERROR => None,
        msg_type::I2 => Some(24),
        msg_type::I2BIS => Some(32),
        msg_type::PROBE => {
            let at = super::message::probe_options_offset(hdr);
            if at > hdr.len() {
                return Err(Error::Truncated);
            }
            Some(at)
        }
        _ => Some(16),
    })
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets Next Header.
    pub fn set_next_header(&mut self, v: u8) {
        field::put_u8(self.buffer.as_mut(), offset::NEXT_HEADER, v);
    }

    /// Sets Hdr Ext Len.
    pub fn set_hdr_ext_len(&mut self, v: u8) {
        field::put_u8(self.buffer.as_mut(), offset::HDR_EXT_LEN, v);
    }

    /// Sets the message type (7 bits) and P = 0.
    pub fn set_msg_type(&mut self, t: u8) {
        field::put_u8(self.buffer.as_mut(), offset::TYPE, t & 0x7f);
    }

    /// Sets the 7 type-specific bits and S = 0.
    pub fn set_type_specific(&mut self, v: u8) {
        field::put_u8(self.buffer.as_mut(), offset::TYPE_SPECIFIC, (v & 0x7f) << 1);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        field::put_u16(self.buffer.as_mut(), offset::CHECKSUM, v);
    }

    /// The message, mutable ([`Packet::header`]).
    pub fn header_mut(&mut self) -> &mut [u8] {
        let len = self.header_len();
        let buf = self.buffer.as_mut();
        let n = len.min(buf.len());
        buf.get_mut(..n).unwrap_or_default()
    }

    /// Computes and sets the checksum over the message.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::compute(self.header());
        self.set_checksum(c);
    }
}

/// Writes the common header of a message of `len` octets to `buf`,
/// zeroing the rest of the message; returns the message slice.  The
/// checksum is left zero: [`finish`] sets it.
pub(crate) fn begin(buf: &mut [u8], len: usize, t: u8, type_specific: u8) -> Result<&mut [u8]> {
    if len > MAX_HEADER_LEN || min_len(t).is_none_or(|m| len < m) {
        return Err(Error::Malformed);
    }
    let hel = hdr_ext_len(len).ok_or(Error::Malformed)?;
    let hdr = buf.get_mut(..len).ok_or(Error::Truncated)?;
    hdr.fill(0);
    let mut p = Packet::new_unchecked(&mut *hdr);
    p.set_next_header(NO_NEXT_HEADER);
    p.set_hdr_ext_len(hel);
    p.set_msg_type(t);
    p.set_type_specific(type_specific);
    Ok(hdr)
}

/// Sets the checksum of the message `hdr` written by [`begin`].
pub(crate) fn finish(hdr: &mut [u8]) -> usize {
    Packet::new_unchecked(&mut *hdr).fill_checksum();
    hdr.len()
}
