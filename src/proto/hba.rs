// SPDX-License-Identifier: GPL-2.0

//! Hash-Based Addresses (RFC 5535).
//!
//! An HBA set binds a host's addresses under several prefixes together:
//! every interface identifier is a SHA-1 hash (RFC 3972 "Hash1") over one
//! CGA Parameter Data Structure (PDS) that lists all the prefixes in its
//! Multi-Prefix extension.  Shim6 sends the PDS of its ULID, and the peer
//! checks every HBA-method locator against it (RFC 5535 §7.2).
//!
//! This module holds:
//!
//! * the PDS codec (RFC 3972 §3, RFC 5535 §5): the checked view [`Pds`],
//!   which keeps the received bytes for hashing, and [`PdsRepr`] with
//!   `parse`/`emit`; both borrow the key, the extensions and the prefix
//!   list, nothing is copied or allocated;
//! * set generation (RFC 5535 §6): [`generate`] returns the addresses and
//!   an [`HbaSet`] that emits the PDS of any member;
//! * set-membership verification (RFC 5535 §7.2): [`verify`] and
//!   [`Pds::verify`], the only way to obtain a [`VerifiedLocator`].
//!
//! SHA-1 is never computed here: the caller passes a [`Sha1`]
//! implementation (the kernel's `crypto_shash` "sha1", the RustCrypto
//! crate in the host tests).  Randomness is the caller's too: the initial
//! Modifier and the Extended Modifier come in as parameters.
//!
//! The Public Key field of an HBA-only set is not empty: as RFC 5535 §6
//! and the reference (Part C.1, C.4) say, it holds a 384-bit random
//! "Extended Modifier" formatted as an RSA key, i.e. a DER
//! `SubjectPublicKeyInfo` (rsaEncryption) whose modulus is that value and
//! whose exponent is 65537 ([`ExtendedKey`]); the P flag of the
//! Multi-Prefix extension is 0.  A CGA/HBA set carries a real key
//! (caller-provided DER) and P = 1.
//!
//! The collision count is one per set: on a duplicate address detection
//! (DAD) failure of any member, [`HbaSet::collision`] increments it and
//! regenerates every address (RFC 5535 §6 step 6.4 "go back to step 6").
//! A per-address count would not verify through §7.2, which hashes the
//! collision count of the one PDS received (the ULID's) with every other
//! prefix of the set.
//!
//! Not implemented here:
//!
//! * CGA signatures: the RSA key pair of a CGA/HBA set, the CGA Signature
//!   option (RSASSA-PKCS1-v1_5 over the CGA Message Type tag, the
//!   locators and the key parts, RFC 5533 §5.15.5) and its verification,
//!   so neither CGA-method locators nor adding prefixes after generation
//!   (a signed Update, RFC 5535 §8.1) are possible.  A CGA/HBA set can be
//!   generated and verified as an HBA set only; the key is opaque bytes.
//! * The plain RFC 3972 §5 check of a CGA-only PDS (no Multi-Prefix
//!   extension): [`Pds::verify`] rejects it with
//!   [`VerifyError::NoMultiPrefix`].
//! * Sec values 3 to 7 (RFC 4982 registry): generation takes [`Sec`],
//!   verification refuses them ([`VerifyError::UnsupportedSec`]).
//! * DAD itself, address configuration and publishing the addresses in
//!   the DNS (RFC 5535 §9) belong to the caller.
//! * SEND (RFC 3971) use of CGA/HBA addresses.

/// Length of a SHA-1 digest.
pub const DIGEST_LEN: usize = 20;
/// Length of the Modifier field.
pub const MODIFIER_LEN: usize = 16;
/// Length of a subnet prefix (and of an interface identifier).
pub const PREFIX_LEN: usize = 8;
/// Length of Modifier, Subnet Prefix and Collision Count together: the
/// Public Key starts at this offset.
pub const FIXED_LEN: usize = MODIFIER_LEN + PREFIX_LEN + 1;
/// CGA extension type of the Multi-Prefix extension (RFC 5535 §10).
pub const EXT_MULTI_PREFIX: u16 = 0x0012;
/// Length of a CGA extension's Type and Length fields (RFC 4581).
pub const EXT_HEADER_LEN: usize = 4;
/// Length of the Multi-Prefix extension before its prefixes: Type,
/// Length, and the 32-bit P flag and Reserved word.
pub const MULTI_PREFIX_HEADER_LEN: usize = EXT_HEADER_LEN + 4;
/// P flag of the Multi-Prefix extension: the PDS holds a real public key.
pub const P_FLAG: u32 = 0x8000_0000;
/// Largest valid collision count (RFC 3972 §4, RFC 5535 §7.2 step 2.1).
pub const MAX_COLLISION_COUNT: u8 = 2;
/// Largest number of prefixes [`generate`] accepts for one set.
pub const MAX_PREFIXES: usize = 32;
/// Length of the random Extended Modifier of an HBA-only set (384 bits).
pub const EXTENDED_MODIFIER_LEN: usize = 48;
/// Largest DER encoding of an Extended Modifier ([`ExtendedKey`]).
pub const EXTENDED_KEY_MAX_LEN: usize = 78;
/// Bits of an interface identifier that carry hash: all but Sec (top
/// three bits) and the u (0x02) and g (0x01) bits of the first octet.
pub const IID_HASH_MASK: u64 = 0x1cff_ffff_ffff_ffff;

/// A 64-bit subnet prefix.
pub type Prefix = [u8; PREFIX_LEN];
/// An IPv6 address.
pub type Addr = [u8; 16];
/// The 128-bit Modifier.
pub type Modifier = [u8; MODIFIER_LEN];

/// The SHA-1 implementation failed (e.g. the kernel's crypto API
/// returned an error).  Never treated as a hash value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashFailed;

/// SHA-1, provided by the caller.
pub trait Sha1 {
    /// SHA-1 of the concatenation of `parts`, in order.
    ///
    /// Fallible so that an implementation whose backend can fail never
    /// has to make up a digest: a made-up digest could let a forged
    /// locator through.
    fn digest(&mut self, parts: &[&[u8]]) -> Result<[u8; DIGEST_LEN], HashFailed>;
}

/// The Sec parameter: the cost of brute-forcing an address grows by
/// 2^(16·Sec) (RFC 3972 §2).  HBA is defined for 0, 1 and 2 only
/// (RFC 5535 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sec {
    /// Sec = 0: no Hash2 condition, no Modifier search.
    Zero = 0,
    /// Sec = 1: the leftmost 16 bits of Hash2 are zero.
    One = 1,
    /// Sec = 2: the leftmost 32 bits of Hash2 are zero.
    Two = 2,
}

impl Sec {
    /// The Sec of value `v`, if HBA supports it.
    pub const fn from_raw(v: u8) -> Option<Sec> {
        match v {
            0 => Some(Sec::Zero),
            1 => Some(Sec::One),
            2 => Some(Sec::Two),
            _ => None,
        }
    }

    /// Its value, 0 to 2.
    pub const fn value(self) -> u8 {
        self as u8
    }

    /// Whether `hash2` has 16·Sec leading zero bits.
    fn holds_for(self, hash2: &[u8; DIGEST_LEN]) -> bool {
        hash2.iter().take(2 * usize::from(self.value())).all(|&b| b == 0)
    }
}

// ---- small helpers -----------------------------------------------------

const ZERO_PREFIX_AND_COUNT: [u8; PREFIX_LEN + 1] = [0; PREFIX_LEN + 1];

/// The prefix and interface identifier of `a`.
fn split_addr(a: &Addr) -> (Prefix, [u8; 8]) {
    let v = u128::from_be_bytes(*a);
    (((v >> 64) as u64).to_be_bytes(), (v as u64).to_be_bytes())
}

fn join_addr(prefix: &Prefix, iid: &[u8; 8]) -> Addr {
    let v = (u128::from(u64::from_be_bytes(*prefix)) << 64) | u128::from(u64::from_be_bytes(*iid));
    v.to_be_bytes()
}

/// The leftmost 64 bits of a digest.
fn leading_u64(d: &[u8; DIGEST_LEN]) -> u64 {
    let [a, b, c, e, f, g, h, i, ..] = *d;
    u64::from_be_bytes([a, b, c, e, f, g, h, i])
}

/// The interface identifier Hash1 `h1` gives at `sec` (RFC 3972 §4
/// step 6, RFC 5535 §6 step 6.2): Sec in the top three bits, u and g 0.
fn interface_id(h1: &[u8; DIGEST_LEN], sec: Sec) -> [u8; 8] {
    let v = (leading_u64(h1) & IID_HASH_MASK) | (u64::from(sec.value()) << 61);
    v.to_be_bytes()
}

/// Bounds-checked writer over a caller's buffer.
struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> Writer<'b> {
    fn new(buf: &'b mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.pos.checked_add(bytes.len())?;
        self.buf.get_mut(self.pos..end)?.copy_from_slice(bytes);
        self.pos = end;
        Some(())
    }
}

const DER_SEQUENCE: u8 = 0x30;

/// Total length (header included) of the DER SEQUENCE at the start of
/// `b`: `Err(BadPublicKey)` if there is none or its length is not in
/// minimal definite form, `Err(Truncated)` if it runs past `b`.  Lengths
/// take at most two octets, more than any Shim6 option holds.
fn der_sequence_len(b: &[u8]) -> Result<usize, ParseError> {
    let (&tag, rest) = b.split_first().ok_or(ParseError::Truncated)?;
    if tag != DER_SEQUENCE {
        return Err(ParseError::BadPublicKey);
    }
    let (&l0, rest) = rest.split_first().ok_or(ParseError::Truncated)?;
    let (header, len) = match l0 {
        0..=0x7f => (2, usize::from(l0)),
        0x81 => match rest.first() {
            Some(&l) if l >= 0x80 => (3, usize::from(l)),
            Some(_) => return Err(ParseError::BadPublicKey),
            None => return Err(ParseError::Truncated),
        },
        0x82 => match rest.first_chunk::<2>().map(|l| u16::from_be_bytes(*l)) {
            Some(l) if l >= 0x100 => (4, usize::from(l)),
            Some(_) => return Err(ParseError::BadPublicKey),
            None => return Err(ParseError::Truncated),
        },
        _ => return Err(ParseError::BadPublicKey),
    };
    let total = len.saturating_add(header); // at most 65539
    if total > b.len() {
        return Err(ParseError::Truncated);
    }
    Ok(total)
}

/// Whether `key` is exactly one DER SEQUENCE.
fn is_der_sequence(key: &[u8]) -> bool {
    der_sequence_len(key) == Ok(key.len())
}

// ---- extension fields --------------------------------------------------

/// One CGA extension field (RFC 4581): a Type, and Data of the length the
/// Length field gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension<'a> {
    /// Extension Type.
    pub ty: u16,
    /// Extension Data.
    pub data: &'a [u8],
}

/// Splits the first extension off `b`; returns it and what follows.
fn split_extension(b: &[u8]) -> Result<(Extension<'_>, &[u8]), ParseError> {
    let (hdr, rest) = b.split_first_chunk::<EXT_HEADER_LEN>().ok_or(ParseError::Truncated)?;
    let [t0, t1, l0, l1] = *hdr;
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    let (data, after) = rest.split_at_checked(len).ok_or(ParseError::Truncated)?;
    Ok((Extension { ty: u16::from_be_bytes([t0, t1]), data }, after))
}

/// Iterator over the extension fields of a [`Pds`] (already validated).
#[derive(Clone, Debug)]
pub struct Extensions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Extension<'a>;

    fn next(&mut self) -> Option<Extension<'a>> {
        let (ext, after) = split_extension(self.rest).ok()?;
        self.rest = after;
        Some(ext)
    }
}

/// Whether `b` is a sequence of whole extensions, none a Multi-Prefix.
fn are_other_extensions(mut b: &[u8]) -> bool {
    while !b.is_empty() {
        match split_extension(b) {
            Ok((ext, after)) if ext.ty != EXT_MULTI_PREFIX => b = after,
            _ => return false,
        }
    }
    true
}

/// The Multi-Prefix extension (RFC 5535 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultiPrefix<'a> {
    /// The P flag: the Public Key field holds a real key (CGA/HBA), not
    /// an Extended Modifier (HBA-only).
    pub p_flag: bool,
    /// The prefixes of the set, at least one.
    pub prefixes: &'a [Prefix],
}

impl<'a> MultiPrefix<'a> {
    /// Parses the Extension Data of a Multi-Prefix extension.  The
    /// Reserved bits are ignored.
    pub fn parse(data: &'a [u8]) -> Result<MultiPrefix<'a>, ParseError> {
        let (flags, rest) = data.split_first_chunk::<4>().ok_or(ParseError::BadMultiPrefix)?;
        let (prefixes, remainder) = rest.as_chunks::<PREFIX_LEN>();
        if prefixes.is_empty() || !remainder.is_empty() {
            return Err(ParseError::BadMultiPrefix);
        }
        Ok(MultiPrefix { p_flag: u32::from_be_bytes(*flags) & P_FLAG != 0, prefixes })
    }

    /// The Type, Length and flags word of the extension; `None` if the
    /// prefix list is empty or too long for the Length field.
    fn header(&self) -> Option<[u8; MULTI_PREFIX_HEADER_LEN]> {
        if self.prefixes.is_empty() {
            return None;
        }
        let len = self.prefixes.len().checked_mul(PREFIX_LEN)?.checked_add(4)?;
        let [l0, l1] = u16::try_from(len).ok()?.to_be_bytes();
        let [t0, t1] = EXT_MULTI_PREFIX.to_be_bytes();
        let [f0, f1, f2, f3] = (if self.p_flag { P_FLAG } else { 0 }).to_be_bytes();
        Some([t0, t1, l0, l1, f0, f1, f2, f3])
    }

    /// Length of the whole extension, header included.
    pub fn wire_len(&self) -> usize {
        self.prefixes.len().saturating_mul(PREFIX_LEN).saturating_add(MULTI_PREFIX_HEADER_LEN)
    }

    /// Whether `prefix` is one of the set.
    pub fn contains(&self, prefix: &Prefix) -> bool {
        self.prefixes.contains(prefix)
    }
}

// ---- the PDS -----------------------------------------------------------

/// Why a PDS was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A field runs past the end: the fixed part, the public key, or an
    /// extension's header or data.
    Truncated,
    /// The Public Key field is not a DER SEQUENCE with a minimal
    /// definite length of at most two octets.
    BadPublicKey,
    /// A Multi-Prefix extension whose length is not 4 + 8·n, n ≥ 1.
    BadMultiPrefix,
    /// More than one Multi-Prefix extension.
    DuplicateMultiPrefix,
}

/// A checked view of a CGA Parameter Data Structure (RFC 3972 §3):
/// Modifier, Subnet Prefix, Collision Count, Public Key (DER, length from
/// its encoding), extension fields to the end.
///
/// Keeps the bytes as received: verification hashes them, unknown
/// extensions and Reserved bits included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pds<'a> {
    bytes: &'a [u8],
    modifier: &'a Modifier,
    subnet_prefix: &'a Prefix,
    collision_count: u8,
    /// Public Key and extension fields: what Hash1 and Hash2 hash after
    /// the fixed part.
    tail: &'a [u8],
    public_key: &'a [u8],
    extensions: &'a [u8],
    leading_extensions: &'a [u8],
    multi_prefix: Option<MultiPrefix<'a>>,
    trailing_extensions: &'a [u8],
}

impl<'a> Pds<'a> {
    /// Checks `bytes` as a PDS.  Any collision count is accepted here;
    /// [`Pds::verify`] checks it.
    pub fn parse(bytes: &'a [u8]) -> Result<Pds<'a>, ParseError> {
        let (modifier, rest) =
            bytes.split_first_chunk::<MODIFIER_LEN>().ok_or(ParseError::Truncated)?;
        let (subnet_prefix, rest) =
            rest.split_first_chunk::<PREFIX_LEN>().ok_or(ParseError::Truncated)?;
        let (&collision_count, tail) = rest.split_first().ok_or(ParseError::Truncated)?;
        let key_len = der_sequence_len(tail)?;
        let (public_key, extensions) =
            tail.split_at_checked(key_len).ok_or(ParseError::Truncated)?;

        let mut leading_extensions = extensions;
        let mut multi_prefix = None;
        let mut trailing_extensions: &[u8] = &[];
        let mut rest = extensions;
        while !rest.is_empty() {
            let (ext, after) = split_extension(rest)?;
            if ext.ty == EXT_MULTI_PREFIX {
                if multi_prefix.is_some() {
                    return Err(ParseError::DuplicateMultiPrefix);
                }
                multi_prefix = Some(MultiPrefix::parse(ext.data)?);
                let start = extensions.len().saturating_sub(rest.len()); // rest is a suffix
                leading_extensions = extensions.get(..start).ok_or(ParseError::Truncated)?;
                trailing_extensions = after;
            }
            rest = after;
        }
        Ok(Pds {
            bytes,
            modifier,
            subnet_prefix,
            collision_count,
            tail,
            public_key,
            extensions,
            leading_extensions,
            multi_prefix,
            trailing_extensions,
        })
    }

    /// The PDS as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Modifier.
    pub fn modifier(&self) -> &'a Modifier {
        self.modifier
    }

    /// Subnet Prefix (that of the address the sender built the PDS for).
    pub fn subnet_prefix(&self) -> &'a Prefix {
        self.subnet_prefix
    }

    /// Collision Count.
    pub fn collision_count(&self) -> u8 {
        self.collision_count
    }

    /// Public Key field (DER), an Extended Modifier for HBA-only sets.
    pub fn public_key(&self) -> &'a [u8] {
        self.public_key
    }

    /// The extension fields, in order.
    pub fn extensions(&self) -> Extensions<'a> {
        Extensions { rest: self.extensions }
    }

    /// The Multi-Prefix extension, if any.
    pub fn multi_prefix(&self) -> Option<MultiPrefix<'a>> {
        self.multi_prefix
    }

    /// The fields as a [`PdsRepr`] (the Reserved bits of the Multi-Prefix
    /// extension are dropped).
    pub fn repr(&self) -> PdsRepr<'a> {
        PdsRepr {
            modifier: *self.modifier,
            subnet_prefix: *self.subnet_prefix,
            collision_count: self.collision_count,
            public_key: self.public_key,
            leading_extensions: self.leading_extensions,
            multi_prefix: self.multi_prefix,
            trailing_extensions: self.trailing_extensions,
        }
    }

    /// Identity of the HBA set: Hash2 without the Sec truncation, i.e.
    /// SHA-1 over Modifier, nine zero octets, Public Key and extensions.
    /// Every member's PDS of one set gives the same value.
    pub fn set_id<H: Sha1 + ?Sized>(&self, hasher: &mut H) -> Result<SetId, HashFailed> {
        hasher.digest(&[self.modifier, &ZERO_PREFIX_AND_COUNT, self.tail]).map(SetId)
    }

    /// Decides whether `locator` belongs to the HBA set this PDS
    /// describes (RFC 5535 §7.2), whichever member's PDS it is.
    ///
    /// In order: the PDS has a Multi-Prefix extension, the locator's
    /// prefix is one of it, the collision count is at most 2, the Sec of
    /// the locator is 0 to 2, its interface identifier equals Hash1 over
    /// the PDS with the locator's prefix substituted (Sec, u and g bits
    /// ignored), and Hash2 has 16·Sec leading zero bits.
    pub fn verify<H: Sha1 + ?Sized>(
        &self,
        hasher: &mut H,
        locator: &Addr,
    ) -> Result<VerifiedLocator, VerifyError> {
        let mp = self.multi_prefix.ok_or(VerifyError::NoMultiPrefix)?;
        let (prefix, iid) = split_addr(locator);
        if !mp.contains(&prefix) {
            return Err(VerifyError::PrefixNotInSet);
        }
        if self.collision_count > MAX_COLLISION_COUNT {
            return Err(VerifyError::BadCollisionCount(self.collision_count));
        }
        let [iid0, ..] = iid;
        let sec_raw = iid0 >> 5;
        let sec = Sec::from_raw(sec_raw).ok_or(VerifyError::UnsupportedSec(sec_raw))?;
        let hash1 = hasher.digest(&[self.modifier, &prefix, &[self.collision_count], self.tail])?;
        if (leading_u64(&hash1) ^ u64::from_be_bytes(iid)) & IID_HASH_MASK != 0 {
            return Err(VerifyError::InterfaceIdMismatch);
        }
        let set = self.set_id(hasher)?;
        if !sec.holds_for(&set.0) {
            return Err(VerifyError::SecMismatch);
        }
        Ok(VerifiedLocator { addr: *locator, sec, set })
    }
}

/// A PDS as fields, for emitting; [`PdsRepr::parse`] reads one back.
///
/// The extension fields other than Multi-Prefix are kept as raw TLV
/// runs before and after it, so `emit(parse(b)) == b` for every valid
/// `b` whose Reserved bits are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PdsRepr<'a> {
    /// Modifier.
    pub modifier: Modifier,
    /// Subnet Prefix.
    pub subnet_prefix: Prefix,
    /// Collision Count.
    pub collision_count: u8,
    /// Public Key field: exactly one DER SEQUENCE.
    pub public_key: &'a [u8],
    /// Whole extension fields before the Multi-Prefix extension (all of
    /// them when there is none); never a Multi-Prefix extension.
    pub leading_extensions: &'a [u8],
    /// The Multi-Prefix extension.
    pub multi_prefix: Option<MultiPrefix<'a>>,
    /// Whole extension fields after the Multi-Prefix extension; empty
    /// when there is none.
    pub trailing_extensions: &'a [u8],
}

/// Why [`PdsRepr::emit`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmitError {
    /// The buffer is shorter than [`PdsRepr::buffer_len`].
    BufferTooSmall,
    /// [`PdsRepr::public_key`] is not exactly one DER SEQUENCE.
    BadPublicKey,
    /// The Multi-Prefix extension has no prefix, or too many for its
    /// Length field.
    BadMultiPrefix,
    /// The other extension fields are not whole TLVs, hold a Multi-Prefix
    /// extension, or trail a missing Multi-Prefix extension.
    BadExtensions,
}

impl<'a> PdsRepr<'a> {
    /// Parses `bytes` (see [`Pds::parse`]).
    pub fn parse(bytes: &'a [u8]) -> Result<PdsRepr<'a>, ParseError> {
        Pds::parse(bytes).map(|p| p.repr())
    }

    /// Length of the emitted PDS.
    pub fn buffer_len(&self) -> usize {
        let mp = self.multi_prefix.map_or(0, |mp| mp.wire_len());
        FIXED_LEN
            .saturating_add(self.public_key.len())
            .saturating_add(self.leading_extensions.len())
            .saturating_add(mp)
            .saturating_add(self.trailing_extensions.len())
    }

    /// Writes the PDS at the start of `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        if !is_der_sequence(self.public_key) {
            return Err(EmitError::BadPublicKey);
        }
        if !are_other_extensions(self.leading_extensions)
            || !are_other_extensions(self.trailing_extensions)
            || (self.multi_prefix.is_none() && !self.trailing_extensions.is_empty())
        {
            return Err(EmitError::BadExtensions);
        }
        let mp = match self.multi_prefix {
            Some(mp) => Some((mp.header().ok_or(EmitError::BadMultiPrefix)?, mp.prefixes)),
            None => None,
        };
        let mut w = Writer::new(buf);
        (|| {
            w.put(&self.modifier)?;
            w.put(&self.subnet_prefix)?;
            w.put(&[self.collision_count])?;
            w.put(self.public_key)?;
            w.put(self.leading_extensions)?;
            if let Some((header, prefixes)) = mp {
                w.put(&header)?;
                w.put(prefixes.as_flattened())?;
            }
            w.put(self.trailing_extensions)
        })()
        .ok_or(EmitError::BufferTooSmall)?;
        Ok(w.pos)
    }
}

// ---- verification ------------------------------------------------------

/// Why a locator is not a member of the HBA set of a PDS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// The PDS is malformed.
    Malformed(ParseError),
    /// The PDS has no Multi-Prefix extension: a CGA-only PDS, which
    /// cannot back an HBA-method locator.
    NoMultiPrefix,
    /// The locator's prefix is not in the Multi-Prefix extension.
    PrefixNotInSet,
    /// The collision count of the PDS is above 2.
    BadCollisionCount(u8),
    /// The Sec of the locator (top three bits) is above 2.
    UnsupportedSec(u8),
    /// The interface identifier is not Hash1 of the PDS with the
    /// locator's prefix.
    InterfaceIdMismatch,
    /// Hash2 lacks the 16·Sec leading zero bits the locator's Sec claims.
    SecMismatch,
    /// SHA-1 failed.
    HashFailed,
}

impl From<ParseError> for VerifyError {
    fn from(e: ParseError) -> Self {
        VerifyError::Malformed(e)
    }
}

impl From<HashFailed> for VerifyError {
    fn from(_: HashFailed) -> Self {
        VerifyError::HashFailed
    }
}

/// Identity of an HBA set (see [`Pds::set_id`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetId([u8; DIGEST_LEN]);

impl SetId {
    /// The digest.
    pub fn as_bytes(&self) -> &[u8; DIGEST_LEN] {
        &self.0
    }
}

/// A locator that passed [`verify`]: the only kind the rest of the
/// module may use as an HBA-method peer locator.  It cannot be built any
/// other way.
///
/// It remembers the set it belongs to: a peer's ULID and locators are
/// bound together only if they come out of the same set
/// ([`VerifiedLocator::same_set`]), normally by verifying all of them
/// against the one PDS the peer sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedLocator {
    addr: Addr,
    sec: Sec,
    set: SetId,
}

impl VerifiedLocator {
    /// The locator.
    pub fn addr(&self) -> &Addr {
        &self.addr
    }

    /// Its Sec.
    pub fn sec(&self) -> Sec {
        self.sec
    }

    /// The set it belongs to.
    pub fn set_id(&self) -> &SetId {
        &self.set
    }

    /// Whether `other` belongs to the same HBA set.
    pub fn same_set(&self, other: &VerifiedLocator) -> bool {
        self.set == other.set
    }
}

/// Parses a peer's PDS and decides whether `locator` belongs to its HBA
/// set (see [`Pds::verify`]).
pub fn verify<H: Sha1 + ?Sized>(
    hasher: &mut H,
    pds: &[u8],
    locator: &Addr,
) -> Result<VerifiedLocator, VerifyError> {
    Pds::parse(pds)?.verify(hasher, locator)
}

// ---- generation --------------------------------------------------------

const RSA_ALGORITHM: [u8; 15] = [
    0x30, 0x0d, // SEQUENCE
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, // rsaEncryption
    0x05, 0x00, // NULL
];
const RSA_EXPONENT_65537: [u8; 5] = [0x02, 0x03, 0x01, 0x00, 0x01];

/// The Public Key field of an HBA-only set: a DER `SubjectPublicKeyInfo`
/// of algorithm rsaEncryption whose `RSAPublicKey` has the 384-bit
/// Extended Modifier as modulus (a positive INTEGER, minimal encoding)
/// and 65537 as exponent.
///
/// RFC 5535 §6 says only "formatted using the RSAPublicKey type"; the
/// wrapping and the exponent are this implementation's choice (reference
/// Part E #19).  Verifiers treat the field as opaque DER.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtendedKey {
    buf: [u8; EXTENDED_KEY_MAX_LEN],
    len: usize,
}

impl ExtendedKey {
    /// Encodes `extended_modifier`.
    pub fn new(extended_modifier: &[u8; EXTENDED_MODIFIER_LEN]) -> ExtendedKey {
        let mut key = ExtendedKey { buf: [0; EXTENDED_KEY_MAX_LEN], len: 0 };
        // Every length below is under 128 (short form) and the total at
        // most EXTENDED_KEY_MAX_LEN, so the writes cannot fail; if one
        // did, the key would stay empty and generation refuse it.
        let start = extended_modifier.iter().position(|&b| b != 0);
        let digits: &[u8] = match start {
            Some(s) => extended_modifier.get(s..).unwrap_or(&[0]),
            None => &[0],
        };
        let pad = digits.first().is_some_and(|&b| b >= 0x80);
        let int_len = digits.len() + usize::from(pad);
        let rsa_len = 2 + int_len + RSA_EXPONENT_65537.len();
        let bits_len = 1 + 2 + rsa_len;
        let spki_len = RSA_ALGORITHM.len() + 2 + bits_len;
        let mut w = Writer::new(&mut key.buf);
        let written = (|| {
            w.put(&[DER_SEQUENCE, u8::try_from(spki_len).ok()?])?;
            w.put(&RSA_ALGORITHM)?;
            w.put(&[0x03, u8::try_from(bits_len).ok()?, 0x00])?; // BIT STRING, no unused bits
            w.put(&[DER_SEQUENCE, u8::try_from(rsa_len).ok()?])?;
            w.put(&[0x02, u8::try_from(int_len).ok()?])?;
            if pad {
                w.put(&[0x00])?;
            }
            w.put(digits)?;
            w.put(&RSA_EXPONENT_65537)
        })();
        if written.is_some() {
            key.len = w.pos;
        }
        key
    }

    /// The DER encoding.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// What the Public Key field of a new set holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMaterial<'a> {
    /// HBA-only set (P = 0): a fresh random 384-bit Extended Modifier,
    /// encoded as [`ExtendedKey`].
    ExtendedModifier([u8; EXTENDED_MODIFIER_LEN]),
    /// CGA/HBA set (P = 1): the DER `SubjectPublicKeyInfo` of the host's
    /// key.  Signing with it is not implemented here.
    PublicKey(&'a [u8]),
}

/// The inputs of [`generate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params<'a> {
    /// The prefixes, 1 to [`MAX_PREFIXES`], all different.  The set is
    /// fixed: no prefix can be added later.
    pub prefixes: &'a [Prefix],
    /// A fresh random Modifier, where the Hash2 search starts.
    pub modifier: Modifier,
    /// The Public Key field.
    pub key: KeyMaterial<'a>,
    /// Sec.
    pub sec: Sec,
    /// Most Hash2 computations the Modifier search may take when Sec > 0
    /// (about 2^16 on average for Sec 1, 2^32 for Sec 2); ignored for
    /// Sec 0, which needs none.
    pub max_modifier_tries: u32,
}

/// Why [`generate`] or [`HbaSet::collision`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenError {
    /// No prefix.
    NoPrefixes,
    /// More than [`MAX_PREFIXES`] prefixes.
    TooManyPrefixes,
    /// A prefix is given twice.
    DuplicatePrefix,
    /// The output slice is shorter than the prefix list.
    OutputTooSmall,
    /// [`KeyMaterial::PublicKey`] is not exactly one DER SEQUENCE (of at
    /// most 65535 octets of content).
    BadPublicKey,
    /// No Modifier satisfied Sec within [`Params::max_modifier_tries`].
    ModifierSearchExhausted,
    /// The collision count would exceed 2: three DAD collisions.
    TooManyCollisions,
    /// SHA-1 failed.
    HashFailed,
}

impl From<HashFailed> for GenError {
    fn from(_: HashFailed) -> Self {
        GenError::HashFailed
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key<'a> {
    Extended(ExtendedKey),
    Borrowed(&'a [u8]),
}

/// A generated HBA set: what the PDS of each member needs.  The
/// addresses themselves went to the caller's slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HbaSet<'a> {
    prefixes: &'a [Prefix],
    modifier: Modifier,
    key: Key<'a>,
    collision_count: u8,
    sec: Sec,
}

/// Generates the HBA set of `params.prefixes` (RFC 5535 §6): searches
/// the Modifier for Sec, then writes the address of `prefixes[i]` into
/// `out[i]`, collision count 0.
pub fn generate<'a, H: Sha1 + ?Sized>(
    hasher: &mut H,
    params: &Params<'a>,
    out: &mut [Addr],
) -> Result<HbaSet<'a>, GenError> {
    let prefixes = params.prefixes;
    if prefixes.is_empty() {
        return Err(GenError::NoPrefixes);
    }
    if prefixes.len() > MAX_PREFIXES {
        return Err(GenError::TooManyPrefixes);
    }
    let mut seen = prefixes.iter();
    while let Some(p) = seen.next() {
        if seen.as_slice().contains(p) {
            return Err(GenError::DuplicatePrefix);
        }
    }
    if out.len() < prefixes.len() {
        return Err(GenError::OutputTooSmall);
    }
    let key = match params.key {
        KeyMaterial::ExtendedModifier(em) => Key::Extended(ExtendedKey::new(&em)),
        KeyMaterial::PublicKey(k) => Key::Borrowed(k),
    };
    let mut set =
        HbaSet { prefixes, modifier: params.modifier, key, collision_count: 0, sec: params.sec };
    if !is_der_sequence(set.public_key()) {
        return Err(GenError::BadPublicKey);
    }
    if set.sec != Sec::Zero {
        let mut tries = 0u32;
        loop {
            if tries >= params.max_modifier_tries {
                return Err(GenError::ModifierSearchExhausted);
            }
            let hash2 = set.hash(hasher, &ZERO_PREFIX_AND_COUNT)?;
            if set.sec.holds_for(&hash2) {
                break;
            }
            set.modifier = u128::from_be_bytes(set.modifier).wrapping_add(1).to_be_bytes();
            tries += 1;
        }
    }
    set.fill(hasher, out)?;
    Ok(set)
}

impl<'a> HbaSet<'a> {
    /// The prefixes, in the order of the addresses.
    pub fn prefixes(&self) -> &'a [Prefix] {
        self.prefixes
    }

    /// The Modifier the search settled on.
    pub fn modifier(&self) -> &Modifier {
        &self.modifier
    }

    /// The collision count of every member.
    pub fn collision_count(&self) -> u8 {
        self.collision_count
    }

    /// Sec.
    pub fn sec(&self) -> Sec {
        self.sec
    }

    /// The Public Key field.
    pub fn public_key(&self) -> &[u8] {
        match &self.key {
            Key::Extended(k) => k.as_bytes(),
            Key::Borrowed(k) => k,
        }
    }

    /// The Multi-Prefix extension.
    pub fn multi_prefix(&self) -> MultiPrefix<'a> {
        MultiPrefix { p_flag: matches!(self.key, Key::Borrowed(_)), prefixes: self.prefixes }
    }

    /// The PDS of the member of prefix `prefixes()[index]`.
    pub fn pds(&self, index: usize) -> Option<PdsRepr<'_>> {
        let subnet_prefix = *self.prefixes.get(index)?;
        Some(PdsRepr {
            modifier: self.modifier,
            subnet_prefix,
            collision_count: self.collision_count,
            public_key: self.public_key(),
            leading_extensions: &[],
            multi_prefix: Some(self.multi_prefix()),
            trailing_extensions: &[],
        })
    }

    /// The PDS of the member whose address is `addr`, if its prefix is
    /// in the set.
    pub fn pds_for(&self, addr: &Addr) -> Option<PdsRepr<'_>> {
        let (prefix, _) = split_addr(addr);
        self.pds(self.prefixes.iter().position(|p| *p == prefix)?)
    }

    /// Writes the current addresses into `out` (as [`generate`] did).
    pub fn addresses<H: Sha1 + ?Sized>(
        &self,
        hasher: &mut H,
        out: &mut [Addr],
    ) -> Result<(), GenError> {
        if out.len() < self.prefixes.len() {
            return Err(GenError::OutputTooSmall);
        }
        self.fill(hasher, out)
    }

    /// A member failed DAD: increments the collision count and writes the
    /// new addresses of the whole set into `out` (RFC 5535 §6 step 6.4).
    /// After a third collision it fails, and the set is left unchanged.
    pub fn collision<H: Sha1 + ?Sized>(
        &mut self,
        hasher: &mut H,
        out: &mut [Addr],
    ) -> Result<(), GenError> {
        if self.collision_count >= MAX_COLLISION_COUNT {
            return Err(GenError::TooManyCollisions);
        }
        if out.len() < self.prefixes.len() {
            return Err(GenError::OutputTooSmall);
        }
        let mut next = *self;
        next.collision_count += 1;
        next.fill(hasher, out)?;
        *self = next;
        Ok(())
    }

    /// SHA-1 over Modifier, `middle` (prefix and count, or zeros),
    /// Public Key and Multi-Prefix extension: the PDS this set emits.
    fn hash<H: Sha1 + ?Sized>(
        &self,
        hasher: &mut H,
        middle: &[u8],
    ) -> Result<[u8; DIGEST_LEN], GenError> {
        let mp = self.multi_prefix();
        let header = mp.header().ok_or(GenError::TooManyPrefixes)?;
        Ok(hasher.digest(&[
            &self.modifier,
            middle,
            self.public_key(),
            &header,
            mp.prefixes.as_flattened(),
        ])?)
    }

    fn fill<H: Sha1 + ?Sized>(&self, hasher: &mut H, out: &mut [Addr]) -> Result<(), GenError> {
        for (slot, prefix) in out.iter_mut().zip(self.prefixes) {
            let [p0, p1, p2, p3, p4, p5, p6, p7] = *prefix;
            let middle = [p0, p1, p2, p3, p4, p5, p6, p7, self.collision_count];
            let hash1 = self.hash(hasher, &middle)?;
            *slot = join_addr(prefix, &interface_id(&hash1, self.sec));
        }
        Ok(())
    }
}
