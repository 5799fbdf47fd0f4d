// SPDX-License-Identifier: GPL-2.0

//! The control messages (RFC 5533 §5.4 to §5.14, RFC 5534 §5.1, §5.2).
//!
//! Each message is a struct of its fixed fields and its options that
//! implements [`Message`]; [`Repr`] is any of them.  After the common
//! header (octets 0 to 5) come these fields, `R | Tag` being a reserved
//! bit and a 47-bit context tag in 6 octets:
//!
//! ```text
//! type            6..12          12..16           16..20    20..32          options
//! I1      (1)     R|Initiator CT Initiator Nonce                            16
//! R1      (2)     Rsvd(2) Initiator Nonce(4) | Responder Nonce              16
//! I2      (3)     R|Initiator CT Initiator Nonce  Resp. N.  Rsvd(4)         24
//! R2      (4)     R|Responder CT Initiator Nonce                            16
//! R1bis   (5)     R|Packet CT    Responder Nonce                            16
//! I2bis   (6)     R|Initiator CT Initiator Nonce  Resp. N.  Rsvd|Packet CT  32
//! UpdReq  (64)    R|Receiver CT  Request Nonce                              16
//! UpdAck  (65)    R|Receiver CT  Request Nonce                              16
//! Keepalive (66)  R|Receiver CT  Reserved                                   16
//! Probe   (67)    R|Receiver CT  Precvd|Psent, Sta|Rsvd; then reports       after
//! Error   (68)    Pointer(2) | Packet in error (code in the type bits)      none
//! ```
//!
//! Reserved fields are written as zero and ignored on receipt.

use super::control::{self, min_len, Packet};
use super::options::{Addr, OptionSet, Options, ADDR_LEN};
use super::{field, msg_type, ContextTag, Error, Result, MAX_SIGNALLING_LEN};

/// A control message: parsing and emitting around its type-specific
/// part.
pub trait Message<'a>: Sized {
    /// Its message type.
    const TYPE: u8;

    /// Parses the type-specific part of `hdr`, the whole message, which
    /// passed the common checks and is at least as long as the type's
    /// minimum.
    fn parse_fields(hdr: &'a [u8]) -> Result<Self>;

    /// Writes the type-specific part into `hdr`, the whole message,
    /// zero-filled but for its common header.
    fn emit_fields(&self, hdr: &mut [u8]) -> Result<()>;

    /// Length of the message.
    fn buffer_len(&self) -> usize;

    /// The 7 type-specific bits of the common header.
    fn type_specific(&self) -> u8 {
        0
    }

    /// Parses a message of this type: lengths, checksum and S bit, the
    /// type (Malformed if another), the minimum length, then every field
    /// and option.
    fn parse(packet: &Packet<&'a [u8]>) -> Result<Self> {
        packet.check()?;
        if packet.msg_type() != Self::TYPE {
            return Err(Error::Malformed);
        }
        parse_checked(packet.header_bytes())
    }

    /// Writes the message to the start of `buf`: Next Header 59, Hdr Ext
    /// Len, zero reserved fields and padding, checksum.  Returns its
    /// length.  Truncated if `buf` is shorter than
    /// [`Message::buffer_len`], Malformed if a field does not fit the
    /// format (or the message exceeds [`super::MAX_HEADER_LEN`]); the
    /// contents of `buf` are then unspecified.
    fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let hdr = control::begin(buf, self.buffer_len(), Self::TYPE, self.type_specific())?;
        self.emit_fields(hdr)?;
        Ok(control::finish(hdr))
    }
}

fn parse_checked<'a, M: Message<'a>>(hdr: &'a [u8]) -> Result<M> {
    match min_len(M::TYPE) {
        Some(m) if hdr.len() >= m => M::parse_fields(hdr),
        _ => Err(Error::Truncated),
    }
}

fn tag_at(hdr: &[u8], at: usize) -> ContextTag {
    ContextTag::from_bytes(field::bytes(hdr, at))
}

/// The options of message `hdr` of type `t`, starting at `at`.
fn parse_options(hdr: &[u8], at: usize, t: u8) -> Result<OptionSet<'_>> {
    let area = hdr.get(at..).ok_or(Error::Truncated)?;
    OptionSet::parse(Options::new(area, at), t)
}

fn emit_options(options: &OptionSet<'_>, hdr: &mut [u8], at: usize, t: u8) -> Result<()> {
    options.check_allowed(t)?;
    options.emit(hdr.get_mut(at..).ok_or(Error::Truncated)?).map(|_| ())
}

/// Messages whose fields are a context tag at 6 and a nonce at 12,
/// options at 16.
macro_rules! tag_nonce_message {
    ($(#[$doc:meta])* $name:ident = $t:path;
     $(#[$tag_doc:meta])* $tag:ident; $(#[$nonce_doc:meta])* $nonce:ident;) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name<'a> {
            $(#[$tag_doc])*
            pub $tag: ContextTag,
            $(#[$nonce_doc])*
            pub $nonce: u32,
            /// Options.
            pub options: OptionSet<'a>,
        }

        impl<'a> Message<'a> for $name<'a> {
            const TYPE: u8 = $t;

            fn parse_fields(hdr: &'a [u8]) -> Result<Self> {
                Ok($name {
                    $tag: tag_at(hdr, 6),
                    $nonce: field::u32_at(hdr, 12),
                    options: parse_options(hdr, 16, $t)?,
                })
            }

            fn emit_fields(&self, hdr: &mut [u8]) -> Result<()> {
                field::put(hdr, 6, &self.$tag.to_bytes());
                field::put_u32(hdr, 12, self.$nonce);
                emit_options(&self.options, hdr, 16, $t)
            }

            fn buffer_len(&self) -> usize {
                self.options.buffer_len().saturating_add(16)
            }
        }
    };
}

tag_nonce_message! {
    /// I1 (type 1): starts the context establishment.  Options: ULID
    /// Pair, Forked Instance Identifier.
    I1 = msg_type::I1;
    /// The initiator's tag, CT(local) of the sender.
    initiator_tag;
    /// A fresh random nonce.
    initiator_nonce;
}

tag_nonce_message! {
    /// R2 (type 4): completes the establishment.  Options: Locator List,
    /// Locator Preferences, CGA Parameter Data Structure, CGA Signature,
    /// Keepalive Timeout.
    R2 = msg_type::R2;
    /// The responder's tag, CT(local) of the sender.
    responder_tag;
    /// The Initiator Nonce of the I1, I2 or I2bis it answers.
    initiator_nonce;
}

tag_nonce_message! {
    /// R1bis (type 5): the sender has no context for a tag it received.
    /// Options: Responder Validator.
    R1bis = msg_type::R1BIS;
    /// The tag found in the packet that triggered it.
    packet_tag;
    /// The responder's nonce.
    responder_nonce;
}

tag_nonce_message! {
    /// Update Request (type 64): new locators or preferences.  Options:
    /// Locator List, Locator Preferences, CGA Parameter Data Structure,
    /// CGA Signature, Keepalive Timeout.
    UpdateRequest = msg_type::UPDATE_REQUEST;
    /// The receiver's tag, CT(peer) of the sender.
    receiver_tag;
    /// Random per update, the same across retransmissions.
    request_nonce;
}

/// R1 (type 2): the responder's stateless answer to I1.  Options:
/// Responder Validator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct R1<'a> {
    /// Copied from the I1.
    pub initiator_nonce: u32,
    /// The responder's nonce.
    pub responder_nonce: u32,
    /// Options.
    pub options: OptionSet<'a>,
}

impl<'a> Message<'a> for R1<'a> {
    const TYPE: u8 = msg_type::R1;

    fn parse_fields(hdr: &'a [u8]) -> Result<Self> {
        Ok(R1 {
            initiator_nonce: field::u32_at(hdr, 8),
            responder_nonce: field::u32_at(hdr, 12),
            options: parse_options(hdr, 16, Self::TYPE)?,
        })
    }

    fn emit_fields(&self, hdr: &mut [u8]) -> Result<()> {
        field::put_u32(hdr, 8, self.initiator_nonce);
        field::put_u32(hdr, 12, self.responder_nonce);
        emit_options(&self.options, hdr, 16, Self::TYPE)
    }

    fn buffer_len(&self) -> usize {
        self.options.buffer_len().saturating_add(16)
    }
}

/// I2 (type 3): the initiator's answer to R1.  Options: Responder
/// Validator, Locator List, Locator Preferences, CGA Parameter Data
/// Structure, CGA Signature, ULID Pair, Forked Instance Identifier,
/// Keepalive Timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct I2<'a> {
    /// The initiator's tag, CT(local) of the sender.
    pub initiator_tag: ContextTag,
    /// The initiator's nonce (need not be the I1's).
    pub initiator_nonce: u32,
    /// Copied from the R1.
    pub responder_nonce: u32,
    /// Options.
    pub options: OptionSet<'a>,
}

impl<'a> Message<'a> for I2<'a> {
    const TYPE: u8 = msg_type::I2;

    fn parse_fields(hdr: &'a [u8]) -> Result<Self> {
        Ok(I2 {
            initiator_tag: tag_at(hdr, 6),
            initiator_nonce: field::u32_at(hdr, 12),
            responder_nonce: field::u32_at(hdr, 16),
            options: parse_options(hdr, 24, Self::TYPE)?,
        })
    }

    fn emit_fields(&self, hdr: &mut [u8]) -> Result<()> {
        field::put(hdr, 6, &self.initiator_tag.to_bytes());
        field::put_u32(hdr, 12, self.initiator_nonce);
        field::put_u32(hdr, 16, self.responder_nonce);
        emit_options(&self.options, hdr, 24, Self::TYPE)
    }

    fn buffer_len(&self) -> usize {
        self.options.buffer_len().saturating_add(24)
    }
}

/// I2bis (type 6): the answer to R1bis.  Options: as I2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct I2bis<'a> {
    /// The initiator's tag, CT(local) of the sender.
    pub initiator_tag: ContextTag,
    /// A fresh initiator nonce.
    pub initiator_nonce: u32,
    /// Copied from the R1bis.
    pub responder_nonce: u32,
    /// Copied from the R1bis.
    pub packet_tag: ContextTag,
    /// Options.
    pub options: OptionSet<'a>,
}

impl<'a> Message<'a> for I2bis<'a> {
    const TYPE: u8 = msg_type::I2BIS;

    fn parse_fields(hdr: &'a [u8]) -> Result<Self> {
        Ok(I2bis {
            initiator_tag: tag_at(hdr, 6),
            initiator_nonce: field::u32_at(hdr, 12),
            responder_nonce: field::u32_at(hdr, 16),
            // 49 reserved bits, then the tag in the low 47 bits of 26..32.
            packet_tag: tag_at(hdr, 26),
            options: parse_options(hdr, 32, Self::TYPE)?,
        })
    }

    fn emit_fields(&self, hdr: &mut [u8]) -> Result<()> {
        field::put(hdr, 6, &self.initiator_tag.to_bytes());
        field::put_u32(hdr, 12, self.initiator_nonce);
        field::put_u32(hdr, 16, self.responder_nonce);
        field::put(hdr, 26, &self.packet_tag.to_bytes());
        emit_options(&self.options, hdr, 32, Self::TYPE)
    }

    fn buffer_len(&self) -> usize {
        self.options.buffer_len().saturating_add(32)
    }
}

/// Update Acknowledgement (type 65).  No options are defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateAck {
    /// The receiver's tag, CT(peer) of the sender.
    pub receiver_tag: ContextTag,
    /// Copied from the Update Request.
    pub request_nonce: u32,
}

impl<'a> Message<'a> for UpdateAck {
    const TYPE: u8 = msg_type::UPDATE_ACK;

    fn parse_fields(hdr: &'a [u8]) -> Result<Self> {
        parse_options(hdr, 16, Self::TYPE)?;
        Ok(UpdateAck { receiver_tag: tag_at(hdr, 6), request_nonce: field::u32_at(hdr, 12) })
    }

    fn emit_fields(&self, hdr: &mut [u8]) -> Result<()> {
        field::put(hdr, 6, &self.receiver_tag.to_bytes());
        field::put_u32(hdr, 12, self.request_nonce);
        Ok(())
    }

    fn buffer_len(&self) -> usize {
        16
    }
}

/// Keepalive (type 66, RFC 5534 §5.1).  No nonce; no options defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    /// The receiver's tag, CT(peer) of the sender.
    pub receiver_tag: ContextTag,
}

impl<'a> Message<'a> for Keepalive {
    const TYPE: u8 = msg_type::KEEPALIVE;

    fn parse_fields(hdr: &'a [u8]) -> Result<Self> {
        parse_options(hdr, 16, Self::TYPE)?;
        Ok(Keepalive { receiver_tag: tag_at(hdr, 6) })
    }

    fn emit_fields(&self, hdr: &mut [u8]) -> Result<()> {
        field::put(hdr, 6, &self.receiver_tag.to_bytes());
        Ok(())
    }

    fn buffer_len(&self) -> usize {
        16
    }
}

/// The REAP state a Probe reports (Sta, RFC 5534 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReapState {
    /// No problem seen on either side.
    Operational = 0,
    /// The sender receives nothing from the peer.
    Exploring = 1,
    /// The sender receives from the peer, which has not confirmed it
    /// receives from the sender.
    InboundOk = 2,
}

impl ReapState {
    /// The state of a Sta value; `None` for 3, which is undefined.
    pub const fn from_bits(v: u8) -> Option<ReapState> {
        match v {
            0 => Some(ReapState::Operational),
            1 => Some(ReapState::Exploring),
            2 => Some(ReapState::InboundOk),
            _ => None,
        }
    }
}

/// Length of a probe report.
pub const REPORT_LEN: usize = 40;

/// A report of a sent or received probe (RFC 5534 §5.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeReport {
    /// The probe's source address.
    pub source: Addr,
    /// The probe's destination address.
    pub destination: Addr,
    /// The probe's nonce.
    pub nonce: u32,
    /// Probe Data, echoed unchanged.
    pub data: u32,
}

impl ProbeReport {
    /// The report's 40 octets.
    pub fn to_bytes(&self) -> [u8; REPORT_LEN] {
        let mut b = [0; REPORT_LEN];
        field::put(&mut b, 0, &self.source);
        field::put(&mut b, ADDR_LEN, &self.destination);
        field::put_u32(&mut b, 2 * ADDR_LEN, self.nonce);
        field::put_u32(&mut b, 2 * ADDR_LEN + 4, self.data);
        b
    }

    /// Decodes 40 octets.
    pub fn from_bytes(b: &[u8; REPORT_LEN]) -> ProbeReport {
        ProbeReport {
            source: field::bytes(b, 0),
            destination: field::bytes(b, ADDR_LEN),
            nonce: field::u32_at(b, 2 * ADDR_LEN),
            data: field::u32_at(b, 2 * ADDR_LEN + 4),
        }
    }
}

/// Up to 15 probe reports, as on the wire ([`ProbeReport::to_bytes`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reports<'a>(&'a [[u8; REPORT_LEN]]);

impl<'a> Reports<'a> {
    /// Most reports of one kind in a Probe (a 4-bit count).
    pub const MAX: usize = 15;

    /// The reports `r`; Malformed if more than [`Reports::MAX`].
    pub fn new(r: &'a [[u8; REPORT_LEN]]) -> Result<Self> {
        if r.len() > Self::MAX {
            return Err(Error::Malformed);
        }
        Ok(Reports(r))
    }

    /// Number of reports.
    pub const fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The reports as on the wire.
    pub const fn as_slice(&self) -> &'a [[u8; REPORT_LEN]] {
        self.0
    }

    /// The `i`-th report.
    pub fn get(&self, i: usize) -> Option<ProbeReport> {
        self.0.get(i).map(ProbeReport::from_bytes)
    }

    /// The reports in order.
    pub fn iter(&self) -> impl Iterator<Item = ProbeReport> + 'a {
        self.0.iter().map(ProbeReport::from_bytes)
    }

    /// Reads `n` reports from `hdr` at `at`.
    fn parse(hdr: &'a [u8], at: usize, n: usize) -> Result<Self> {
        let bytes = hdr.get(at..at + n * REPORT_LEN).ok_or(Error::Truncated)?;
        Self::new(bytes.as_chunks::<REPORT_LEN>().0)
    }
}

/// Offset of the options of the Probe `hdr`: after its reports.
pub(crate) fn probe_options_offset(hdr: &[u8]) -> usize {
    let counts = field::u8_at(hdr, 12);
    16 + REPORT_LEN * usize::from((counts >> 4) + (counts & 0x0f))
}

/// Probe (type 67, RFC 5534 §5.2).  No options are defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe<'a> {
    /// The receiver's tag, CT(peer) of the sender.
    pub receiver_tag: ContextTag,
    /// Sta: the sender's state after sending this probe.
    pub state: ReapState,
    /// Reports of sent probes, the first this probe (at least one).
    pub sent: Reports<'a>,
    /// Reports of probes received from the peer.
    pub received: Reports<'a>,
}

impl<'a> Message<'a> for Probe<'a> {
    const TYPE: u8 = msg_type::PROBE;

    fn parse_fields(hdr: &'a [u8]) -> Result<Self> {
        let counts = field::u8_at(hdr, 12);
        let (precvd, psent) = (usize::from(counts >> 4), usize::from(counts & 0x0f));
        if psent == 0 {
            return Err(Error::Malformed);
        }
        let state = ReapState::from_bits(field::u8_at(hdr, 13) >> 6).ok_or(Error::Malformed)?;
        let sent = Reports::parse(hdr, 16, psent)?;
        let received = Reports::parse(hdr, 16 + REPORT_LEN * psent, precvd)?;
        parse_options(hdr, probe_options_offset(hdr), Self::TYPE)?;
        Ok(Probe { receiver_tag: tag_at(hdr, 6), state, sent, received })
    }

    fn emit_fields(&self, hdr: &mut [u8]) -> Result<()> {
        // Reports::new() bounds both counts to 15.
        if self.sent.is_empty()
            || self.sent.len() > Reports::MAX
            || self.received.len() > Reports::MAX
        {
            return Err(Error::Malformed);
        }
        field::put(hdr, 6, &self.receiver_tag.to_bytes());
        field::put_u8(hdr, 12, ((self.received.len() as u8) << 4) | self.sent.len() as u8);
        field::put_u8(hdr, 13, (self.state as u8) << 6);
        field::put(hdr, 16, self.sent.as_slice().as_flattened());
        field::put(hdr, 16 + REPORT_LEN * self.sent.len(), self.received.as_slice().as_flattened());
        Ok(())
    }

    fn buffer_len(&self) -> usize {
        16 + REPORT_LEN * (self.sent.len() + self.received.len())
    }
}

/// Error (type 68, RFC 5533 §5.14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorMessage<'a> {
    /// Error Code (7 bits), [`super::error_code`].
    pub code: u8,
    /// Offset in the invoking packet where the error was detected.
    pub pointer: u16,
    /// The start of the invoking packet, a multiple of 8 octets long
    /// (at least 8).
    pub packet: &'a [u8],
}

impl<'a> ErrorMessage<'a> {
    /// Most octets of "Packet in error": the Error message, behind an
    /// IPv6 header, stays within 1280 octets.
    pub const MAX_PACKET_LEN: usize = MAX_SIGNALLING_LEN - 40 - 8;

    /// An Error message quoting as much of `invoking` (from its IPv6
    /// header on) as fits: at most [`ErrorMessage::MAX_PACKET_LEN`]
    /// octets, truncated to a multiple of 8.  `pointer` counts from the
    /// first octet of `invoking`.
    pub fn new(code: u8, pointer: u16, invoking: &'a [u8]) -> Self {
        let n = invoking.len().min(Self::MAX_PACKET_LEN) & !7;
        ErrorMessage { code, pointer, packet: invoking.get(..n).unwrap_or(&[]) }
    }
}

impl<'a> Message<'a> for ErrorMessage<'a> {
    const TYPE: u8 = msg_type::ERROR;

    fn parse_fields(hdr: &'a [u8]) -> Result<Self> {
        Ok(ErrorMessage {
            code: Packet::new_unchecked(hdr).type_specific(),
            pointer: field::u16_at(hdr, 6),
            packet: hdr.get(8..).ok_or(Error::Truncated)?,
        })
    }

    fn emit_fields(&self, hdr: &mut [u8]) -> Result<()> {
        if self.code > 0x7f || self.packet.is_empty() || !self.packet.len().is_multiple_of(8) {
            return Err(Error::Malformed);
        }
        field::put_u16(hdr, 6, self.pointer);
        field::put(hdr, 8, self.packet);
        Ok(())
    }

    fn buffer_len(&self) -> usize {
        self.packet.len().saturating_add(8)
    }

    fn type_specific(&self) -> u8 {
        self.code
    }
}

/// Any control message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repr<'a> {
    /// I1.
    I1(I1<'a>),
    /// R1.
    R1(R1<'a>),
    /// I2.
    I2(I2<'a>),
    /// R2.
    R2(R2<'a>),
    /// R1bis.
    R1bis(R1bis<'a>),
    /// I2bis.
    I2bis(I2bis<'a>),
    /// Update Request.
    UpdateRequest(UpdateRequest<'a>),
    /// Update Acknowledgement.
    UpdateAck(UpdateAck),
    /// Keepalive.
    Keepalive(Keepalive),
    /// Probe.
    Probe(Probe<'a>),
    /// Error.
    Error(ErrorMessage<'a>),
}

/// Applies `$f` to the message inside a [`Repr`].
macro_rules! each {
    ($r:expr, $m:ident => $e:expr) => {
        match $r {
            Repr::I1($m) => $e,
            Repr::R1($m) => $e,
            Repr::I2($m) => $e,
            Repr::R2($m) => $e,
            Repr::R1bis($m) => $e,
            Repr::I2bis($m) => $e,
            Repr::UpdateRequest($m) => $e,
            Repr::UpdateAck($m) => $e,
            Repr::Keepalive($m) => $e,
            Repr::Probe($m) => $e,
            Repr::Error($m) => $e,
        }
    };
}

impl<'a> Repr<'a> {
    /// Parses any control message: lengths, checksum, S bit, then the
    /// type ([`Error::UnknownType`] for one not defined), its minimum
    /// length and every field and option.
    pub fn parse(packet: &Packet<&'a [u8]>) -> Result<Repr<'a>> {
        packet.check()?;
        let hdr = packet.header_bytes();
        Ok(match packet.msg_type() {
            msg_type::I1 => Repr::I1(parse_checked(hdr)?),
            msg_type::R1 => Repr::R1(parse_checked(hdr)?),
            msg_type::I2 => Repr::I2(parse_checked(hdr)?),
            msg_type::R2 => Repr::R2(parse_checked(hdr)?),
            msg_type::R1BIS => Repr::R1bis(parse_checked(hdr)?),
            msg_type::I2BIS => Repr::I2bis(parse_checked(hdr)?),
            msg_type::UPDATE_REQUEST => Repr::UpdateRequest(parse_checked(hdr)?),
            msg_type::UPDATE_ACK => Repr::UpdateAck(parse_checked(hdr)?),
            msg_type::KEEPALIVE => Repr::Keepalive(parse_checked(hdr)?),
            msg_type::PROBE => Repr::Probe(parse_checked(hdr)?),
            msg_type::ERROR => Repr::Error(parse_checked(hdr)?),
            _ => return Err(Error::UnknownType),
        })
    }

    /// Its message type.
    pub fn msg_type(&self) -> u8 {
        fn t<'a, M: Message<'a>>(_: &M) -> u8 {
            M::TYPE
        }
        each!(self, m => t(m))
    }

    /// Length of the message.
    pub fn buffer_len(&self) -> usize {
        each!(self, m => m.buffer_len())
    }

    /// Writes the message ([`Message::emit`]).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        each!(self, m => m.emit(buf))
    }
}
