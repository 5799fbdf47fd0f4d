// SPDX-License-Identifier: GPL-2.0

//! Options (RFC 5533 §5.15, RFC 5534 §5.3).
//!
//! ```text
//! +-----------------------------+-+-------------------------------+
//! |        Type (15 bits)       |C|        Length (16 bits)       |
//! +-----------------------------+-+-------------------------------+
//! |   Contents (Length octets)   ...   | Padding (0-7 octets, zero) |
//! +---------------------------------------------------------------+
//! ```
//!
//! Length counts the contents only; each option is padded to a multiple
//! of 8 octets and options follow each other back to back, 8-aligned.
//! A message ignores an option it does not know (or that its type does
//! not define) when C = 0, and is rejected with
//! [`Error::Unrecognized`] when C = 1.

use super::{field, msg_type, option_type, verification, Error, Result};

/// Length of the Type/C/Length header of an option.
pub const TLV_HEADER_LEN: usize = 4;

/// Total size of an option whose contents are `length` octets long:
/// `4 + length` rounded up to a multiple of 8.
pub const fn padded_len(length: usize) -> usize {
    length.saturating_add(TLV_HEADER_LEN + 7) & !7
}

/// Whether messages of type `t` define options of type `o`
/// (RFC 5533 §5.4 to §5.11, RFC 5534 §5.3).
pub const fn allowed(t: u8, o: u16) -> bool {
    use option_type::*;
    match t {
        msg_type::I1 => matches!(o, ULID_PAIR | FORKED_INSTANCE),
        msg_type::R1 | msg_type::R1BIS => o == RESPONDER_VALIDATOR,
        msg_type::I2 | msg_type::I2BIS => matches!(
            o,
            RESPONDER_VALIDATOR
                | LOCATOR_LIST
                | LOCATOR_PREFERENCES
                | CGA_PARAMETERS
                | CGA_SIGNATURE
                | ULID_PAIR
                | FORKED_INSTANCE
                | KEEPALIVE_TIMEOUT
        ),
        msg_type::R2 | msg_type::UPDATE_REQUEST => matches!(
            o,
            LOCATOR_LIST | LOCATOR_PREFERENCES | CGA_PARAMETERS | CGA_SIGNATURE | KEEPALIVE_TIMEOUT
        ),
        _ => false,
    }
}

/// A view of one option at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Tlv<T> {
    /// Wraps `buffer` without checks; the accessors read zeros and the
    /// setters write nothing outside it.
    pub const fn new_unchecked(buffer: T) -> Self {
        Tlv { buffer }
    }

    /// Wraps `buffer` once [`Tlv::check_len`] passes.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let t = Self::new_unchecked(buffer);
        t.check_len()?;
        Ok(t)
    }

    /// Checks that the buffer holds the option, padding included.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < TLV_HEADER_LEN || self.total_len() > len {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Option type (15 bits).
    pub fn option_type(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), 0) >> 1
    }

    /// The C (critical) bit.
    pub fn critical(&self) -> bool {
        field::u16_at(self.buffer.as_ref(), 0) & 1 != 0
    }

    /// Length of the contents.
    pub fn length(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), 2)
    }

    /// Size of the option, header and padding included.
    pub fn total_len(&self) -> usize {
        padded_len(usize::from(self.length()))
    }

    /// The contents (empty if the buffer does not hold them).
    pub fn contents(&self) -> &[u8] {
        contents(self.buffer.as_ref(), self.length())
    }
}

fn contents(buf: &[u8], length: u16) -> &[u8] {
    buf.get(TLV_HEADER_LEN..TLV_HEADER_LEN + usize::from(length)).unwrap_or(&[])
}

impl<'a> Tlv<&'a [u8]> {
    /// [`Tlv::contents`], borrowed for the buffer's lifetime.
    pub fn contents_bytes(&self) -> &'a [u8] {
        contents(self.buffer, self.length())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Tlv<T> {
    /// Sets the option type (15 bits), keeping C.
    pub fn set_option_type(&mut self, o: u16) {
        let c = u16::from(self.critical());
        field::put_u16(self.buffer.as_mut(), 0, (o << 1) | c);
    }

    /// Sets the C bit.
    pub fn set_critical(&mut self, c: bool) {
        let o = self.option_type();
        field::put_u16(self.buffer.as_mut(), 0, (o << 1) | u16::from(c));
    }

    /// Sets Length.
    pub fn set_length(&mut self, len: u16) {
        field::put_u16(self.buffer.as_mut(), 2, len);
    }

    /// The contents, mutable.
    pub fn contents_mut(&mut self) -> &mut [u8] {
        let end = TLV_HEADER_LEN + usize::from(self.length());
        self.buffer.as_mut().get_mut(TLV_HEADER_LEN..end).unwrap_or_default()
    }

    /// Zeroes the padding after the contents.
    pub fn clear_padding(&mut self) {
        let start = TLV_HEADER_LEN + usize::from(self.length());
        let end = self.total_len();
        if let Some(pad) = self.buffer.as_mut().get_mut(start..end) {
            pad.fill(0);
        }
    }
}

/// Iterator over the options of a message, validating each TLV's length.
///
/// Yields each option with its offset from the first octet of the Shim6
/// header; after an error it yields nothing more.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Options<'a> {
    /// Options in `area`, which starts `offset` octets into the Shim6
    /// header.
    pub const fn new(area: &'a [u8], offset: usize) -> Options<'a> {
        Options { rest: area, offset }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<(usize, Tlv<&'a [u8]>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let split = Tlv::new_checked(self.rest)
            .and_then(|t| self.rest.split_at_checked(t.total_len()).ok_or(Error::Truncated));
        match split {
            Ok((this, rest)) => {
                let at = self.offset;
                self.offset = self.offset.saturating_add(this.len());
                self.rest = rest;
                Some(Ok((at, Tlv::new_unchecked(this))))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Length of an IPv6 address.
pub const ADDR_LEN: usize = 16;

/// An IPv6 address (locator or ULID).
pub type Addr = [u8; ADDR_LEN];

/// Locator List option: the sender's locators, each with its
/// verification method (RFC 5533 §5.15.2).
///
/// ```text
/// Generation (4) | N (1) | Verification Method (N) | pad (7 - N mod 8)
/// | Locators (16 N)
/// ```
///
/// The internal padding is counted in Length, and the option needs no
/// trailing padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocatorList<'a> {
    generation: u32,
    methods: &'a [u8],
    locators: &'a [Addr],
}

impl<'a> LocatorList<'a> {
    /// Most locators in one list.
    pub const MAX_LOCATORS: usize = 255;

    /// A list of `locators.len()` locators, `methods[i]` the verification
    /// method of `locators[i]`.  Malformed unless both have the same
    /// length of at most [`LocatorList::MAX_LOCATORS`].
    pub fn new(generation: u32, methods: &'a [u8], locators: &'a [Addr]) -> Result<Self> {
        if methods.len() != locators.len() || locators.len() > Self::MAX_LOCATORS {
            return Err(Error::Malformed);
        }
        Ok(LocatorList { generation, methods, locators })
    }

    /// Internal padding after the methods of `n` locators.
    pub const fn internal_padding(n: usize) -> usize {
        7 - n % 8
    }

    /// Length field (contents) of a list of `n` locators.
    pub const fn contents_len_for(n: usize) -> usize {
        // 5 + n + (7 - n mod 8) + 16 n, saturating for absurd n.
        (n - n % 8).saturating_add(12).saturating_add(ADDR_LEN.saturating_mul(n))
    }

    /// Locator List Generation.
    pub const fn generation(&self) -> u32 {
        self.generation
    }

    /// Number of locators.
    pub const fn len(&self) -> usize {
        self.locators.len()
    }

    /// Whether the list is empty.
    pub const fn is_empty(&self) -> bool {
        self.locators.is_empty()
    }

    /// The verification methods, one per locator.
    pub const fn methods(&self) -> &'a [u8] {
        self.methods
    }

    /// The locators, in list order.
    pub const fn locators(&self) -> &'a [Addr] {
        self.locators
    }

    /// The `i`-th locator and its method.
    pub fn get(&self, i: usize) -> Option<(u8, Addr)> {
        Some((*self.methods.get(i)?, *self.locators.get(i)?))
    }

    /// Position of `addr` in the list.
    pub fn position(&self, addr: &Addr) -> Option<usize> {
        self.locators.iter().position(|l| l == addr)
    }

    /// (verification method, locator) in list order.
    pub fn iter(&self) -> impl Iterator<Item = (u8, Addr)> + 'a {
        self.methods.iter().copied().zip(self.locators.iter().copied())
    }

    /// The locators whose method is CGA, in list order: what the CGA
    /// Signature covers after the generation.
    pub fn cga_locators(&self) -> impl Iterator<Item = Addr> + 'a {
        self.iter().filter(|&(m, _)| m == verification::CGA).map(|(_, l)| l)
    }

    /// Octets of the contents (the Length field).
    pub const fn contents_len(&self) -> usize {
        Self::contents_len_for(self.len())
    }

    fn parse(c: &'a [u8]) -> Result<Self> {
        let n = usize::from(field::u8_at(c, 4));
        if c.len() < 5 || c.len() != Self::contents_len_for(n) {
            return Err(Error::Malformed);
        }
        let methods = c.get(5..5 + n).ok_or(Error::Malformed)?;
        let at = 5 + n + Self::internal_padding(n);
        let (locators, rest) = c.get(at..).ok_or(Error::Malformed)?.as_chunks::<ADDR_LEN>();
        if !rest.is_empty() {
            return Err(Error::Malformed);
        }
        Self::new(field::u32_at(c, 0), methods, locators)
    }

    fn emit(&self, c: &mut [u8]) {
        field::put_u32(c, 0, self.generation);
        // new() bounds the count to 255.
        field::put_u8(c, 4, self.len() as u8);
        field::put(c, 5, self.methods);
        let at = 5 + self.len() + Self::internal_padding(self.len());
        field::put(c, at, self.locators.as_flattened());
    }
}

/// One element of a Locator Preferences option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Preference {
    /// [`super::pref_flags`].
    pub flags: u8,
    /// Priority (lower is preferred), for elements of 2 octets or more.
    pub priority: Option<u8>,
    /// Weight, for elements of 3 octets or more.
    pub weight: Option<u8>,
}

impl Preference {
    fn from_element(e: &[u8]) -> Preference {
        Preference {
            flags: field::u8_at(e, 0),
            priority: e.get(1).copied(),
            weight: e.get(2).copied(),
        }
    }
}

/// Locator Preferences option (RFC 5533 §5.15.3): one element per
/// locator of the Locator List of the same generation, in its order.
///
/// ```text
/// Generation (4) | Element Len (1) | Elements (N * Element Len) | pad
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocatorPreferences<'a> {
    generation: u32,
    element_len: u8,
    elements: &'a [u8],
}

impl<'a> LocatorPreferences<'a> {
    /// Preferences of elements `element_len` octets long (1: flags,
    /// 2: and priority, 3: and weight; longer ones start with those
    /// three), laid out back to back in `elements`.  Malformed if
    /// `element_len` is 0, `elements` not a whole number of elements, or
    /// the option longer than Length can say.
    pub fn new(generation: u32, element_len: u8, elements: &'a [u8]) -> Result<Self> {
        let el = usize::from(element_len);
        if el == 0
            || !elements.len().is_multiple_of(el)
            || elements.len() > usize::from(u16::MAX) - 5
        {
            return Err(Error::Malformed);
        }
        Ok(LocatorPreferences { generation, element_len, elements })
    }

    /// Locator List Generation the preferences apply to.
    pub const fn generation(&self) -> u32 {
        self.generation
    }

    /// Element Len.
    pub const fn element_len(&self) -> u8 {
        self.element_len
    }

    /// The elements, back to back.
    pub const fn elements(&self) -> &'a [u8] {
        self.elements
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.elements.len() / usize::from(self.element_len.max(1))
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// The `i`-th element's preference.
    pub fn get(&self, i: usize) -> Option<Preference> {
        self.iter().nth(i)
    }

    /// The preferences in locator order.
    pub fn iter(&self) -> impl Iterator<Item = Preference> + 'a {
        self.elements
            .chunks_exact(usize::from(self.element_len.max(1)))
            .map(Preference::from_element)
    }

    /// Octets of the contents (the Length field).
    pub const fn contents_len(&self) -> usize {
        5 + self.elements.len()
    }

    fn parse(c: &'a [u8]) -> Result<Self> {
        let elements = c.get(5..).ok_or(Error::Malformed)?;
        Self::new(field::u32_at(c, 0), field::u8_at(c, 4), elements)
    }

    fn emit(&self, c: &mut [u8]) {
        field::put_u32(c, 0, self.generation);
        field::put_u8(c, 4, self.element_len);
        field::put(c, 5, self.elements);
    }
}

/// ULID Pair option (RFC 5533 §5.15.6): the ULIDs when they differ from
/// the IPv6 addresses of the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UlidPair {
    /// The sender's ULID.
    pub sender: Addr,
    /// The receiver's ULID.
    pub receiver: Addr,
}

/// Length of the ULID Pair contents: 4 reserved octets and 2 addresses.
pub const ULID_PAIR_LEN: usize = 36;

/// One known option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionRepr<'a> {
    /// Responder Validator: opaque to all but the responder.
    ResponderValidator(&'a [u8]),
    /// Locator List.
    LocatorList(LocatorList<'a>),
    /// Locator Preferences.
    LocatorPreferences(LocatorPreferences<'a>),
    /// CGA Parameter Data Structure (RFC 3972 §3), opaque here.
    CgaParameters(&'a [u8]),
    /// CGA Signature (RSA PKCS#1 v1.5), opaque here.
    CgaSignature(&'a [u8]),
    /// ULID Pair.
    UlidPair(UlidPair),
    /// Forked Instance Identifier.
    ForkedInstance(u32),
    /// Keepalive Timeout: the sender's Send Timeout, in seconds.
    KeepaliveTimeout(u16),
}

impl<'a> OptionRepr<'a> {
    /// Its option type.
    pub const fn option_type(&self) -> u16 {
        match self {
            OptionRepr::ResponderValidator(_) => option_type::RESPONDER_VALIDATOR,
            OptionRepr::LocatorList(_) => option_type::LOCATOR_LIST,
            OptionRepr::LocatorPreferences(_) => option_type::LOCATOR_PREFERENCES,
            OptionRepr::CgaParameters(_) => option_type::CGA_PARAMETERS,
            OptionRepr::CgaSignature(_) => option_type::CGA_SIGNATURE,
            OptionRepr::UlidPair(_) => option_type::ULID_PAIR,
            OptionRepr::ForkedInstance(_) => option_type::FORKED_INSTANCE,
            OptionRepr::KeepaliveTimeout(_) => option_type::KEEPALIVE_TIMEOUT,
        }
    }

    /// Parses a checked option: `Ok(None)` for an option type this code
    /// does not know (the caller applies the C-bit rule), Malformed for a
    /// known one whose contents do not match its format.
    pub fn parse(tlv: &Tlv<&'a [u8]>) -> Result<Option<Self>> {
        tlv.check_len()?;
        let c = tlv.contents_bytes();
        let fixed = |len: usize| if c.len() == len { Ok(()) } else { Err(Error::Malformed) };
        Ok(Some(match tlv.option_type() {
            option_type::RESPONDER_VALIDATOR => OptionRepr::ResponderValidator(c),
            option_type::LOCATOR_LIST => OptionRepr::LocatorList(LocatorList::parse(c)?),
            option_type::LOCATOR_PREFERENCES => {
                OptionRepr::LocatorPreferences(LocatorPreferences::parse(c)?)
            }
            option_type::CGA_PARAMETERS => OptionRepr::CgaParameters(c),
            option_type::CGA_SIGNATURE => OptionRepr::CgaSignature(c),
            option_type::ULID_PAIR => {
                fixed(ULID_PAIR_LEN)?;
                OptionRepr::UlidPair(UlidPair {
                    sender: field::bytes(c, 4),
                    receiver: field::bytes(c, 4 + ADDR_LEN),
                })
            }
            option_type::FORKED_INSTANCE => {
                fixed(4)?;
                OptionRepr::ForkedInstance(field::u32_at(c, 0))
            }
            option_type::KEEPALIVE_TIMEOUT => {
                fixed(4)?;
                OptionRepr::KeepaliveTimeout(field::u16_at(c, 2))
            }
            _ => return Ok(None),
        }))
    }

    /// Octets of the contents (the Length field).
    pub const fn contents_len(&self) -> usize {
        match self {
            OptionRepr::ResponderValidator(b)
            | OptionRepr::CgaParameters(b)
            | OptionRepr::CgaSignature(b) => b.len(),
            OptionRepr::LocatorList(l) => l.contents_len(),
            OptionRepr::LocatorPreferences(p) => p.contents_len(),
            OptionRepr::UlidPair(_) => ULID_PAIR_LEN,
            OptionRepr::ForkedInstance(_) | OptionRepr::KeepaliveTimeout(_) => 4,
        }
    }

    /// Octets [`OptionRepr::emit`] writes, padding included.
    pub const fn buffer_len(&self) -> usize {
        padded_len(self.contents_len())
    }

    /// Writes the option (C = 0, zero padding) to the start of `buf`;
    /// returns its length.  Malformed if the contents exceed 65535
    /// octets.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let length = u16::try_from(self.contents_len()).map_err(|_| Error::Malformed)?;
        let total = self.buffer_len();
        let out = buf.get_mut(..total).ok_or(Error::Truncated)?;
        out.fill(0);
        let mut tlv = Tlv::new_unchecked(&mut *out);
        tlv.set_option_type(self.option_type());
        tlv.set_length(length);
        let c = tlv.contents_mut();
        match self {
            OptionRepr::ResponderValidator(b)
            | OptionRepr::CgaParameters(b)
            | OptionRepr::CgaSignature(b) => field::put(c, 0, b),
            OptionRepr::LocatorList(l) => l.emit(c),
            OptionRepr::LocatorPreferences(p) => p.emit(c),
            OptionRepr::UlidPair(u) => {
                field::put(c, 4, &u.sender);
                field::put(c, 4 + ADDR_LEN, &u.receiver);
            }
            OptionRepr::ForkedInstance(v) => field::put_u32(c, 0, *v),
            OptionRepr::KeepaliveTimeout(v) => field::put_u16(c, 2, *v),
        }
        Ok(total)
    }
}

/// The known options of a message, each at most once.
///
/// Which of them a message type defines is [`allowed`]; the rules on
/// which must be present (a Responder Validator in R1 and I2, a CGA
/// Parameter Data Structure with a Locator List, ...) depend on the
/// context and are the caller's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OptionSet<'a> {
    /// Responder Validator.
    pub responder_validator: Option<&'a [u8]>,
    /// Locator List.
    pub locator_list: Option<LocatorList<'a>>,
    /// Locator Preferences.
    pub locator_preferences: Option<LocatorPreferences<'a>>,
    /// CGA Parameter Data Structure.
    pub cga_parameters: Option<&'a [u8]>,
    /// CGA Signature.
    pub cga_signature: Option<&'a [u8]>,
    /// ULID Pair.
    pub ulid_pair: Option<UlidPair>,
    /// Forked Instance Identifier.
    pub forked_instance: Option<u32>,
    /// Keepalive Timeout, seconds.
    pub keepalive_timeout: Option<u16>,
}

impl<'a> OptionSet<'a> {
    /// The options present, in option type order (the order
    /// [`OptionSet::emit`] writes them in).
    pub fn iter(&self) -> impl Iterator<Item = OptionRepr<'a>> {
        [
            self.responder_validator.map(OptionRepr::ResponderValidator),
            self.locator_list.map(OptionRepr::LocatorList),
            self.locator_preferences.map(OptionRepr::LocatorPreferences),
            self.cga_parameters.map(OptionRepr::CgaParameters),
            self.cga_signature.map(OptionRepr::CgaSignature),
            self.ulid_pair.map(OptionRepr::UlidPair),
            self.forked_instance.map(OptionRepr::ForkedInstance),
            self.keepalive_timeout.map(OptionRepr::KeepaliveTimeout),
        ]
        .into_iter()
        .flatten()
    }

    /// Whether no option is present.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Adds `opt`; Malformed if one of its type is already there.
    pub fn insert(&mut self, opt: OptionRepr<'a>) -> Result<()> {
        fn set<T>(slot: &mut Option<T>, v: T) -> Result<()> {
            match slot {
                Some(_) => Err(Error::Malformed),
                None => {
                    *slot = Some(v);
                    Ok(())
                }
            }
        }
        match opt {
            OptionRepr::ResponderValidator(v) => set(&mut self.responder_validator, v),
            OptionRepr::LocatorList(v) => set(&mut self.locator_list, v),
            OptionRepr::LocatorPreferences(v) => set(&mut self.locator_preferences, v),
            OptionRepr::CgaParameters(v) => set(&mut self.cga_parameters, v),
            OptionRepr::CgaSignature(v) => set(&mut self.cga_signature, v),
            OptionRepr::UlidPair(v) => set(&mut self.ulid_pair, v),
            OptionRepr::ForkedInstance(v) => set(&mut self.forked_instance, v),
            OptionRepr::KeepaliveTimeout(v) => set(&mut self.keepalive_timeout, v),
        }
    }

    /// Collects the options a message of type `t` defines from `options`:
    /// others are skipped when C = 0 and refused with
    /// [`Error::Unrecognized`] when C = 1; a known option twice is
    /// Malformed.
    pub fn parse(options: Options<'a>, t: u8) -> Result<Self> {
        let mut set = OptionSet::default();
        for item in options {
            let (at, tlv) = item?;
            let known = if allowed(t, tlv.option_type()) { OptionRepr::parse(&tlv)? } else { None };
            match known {
                Some(opt) => set.insert(opt)?,
                None if tlv.critical() => return Err(Error::Unrecognized { pointer: at }),
                None => {}
            }
        }
        Ok(set)
    }

    /// Malformed if an option is present that messages of type `t` do
    /// not define.
    pub fn check_allowed(&self, t: u8) -> Result<()> {
        if self.iter().all(|o| allowed(t, o.option_type())) {
            Ok(())
        } else {
            Err(Error::Malformed)
        }
    }

    /// Octets [`OptionSet::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        self.iter().fold(0, |n: usize, o| n.saturating_add(o.buffer_len()))
    }

    /// Writes the options back to back to the start of `buf`; returns
    /// their length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let mut at = 0;
        for o in self.iter() {
            at += o.emit(buf.get_mut(at..).ok_or(Error::Truncated)?)?;
        }
        Ok(at)
    }
}
