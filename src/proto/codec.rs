// SPDX-License-Identifier: GPL-2.0

//! Between the context machine's messages ([`context::Message`]) and the
//! wire ([`wire`]): emitting adds the host's Locator List and PDS;
//! parsing verifies the peer's locators against its PDS (HBA), so that the
//! machine only ever sees locators that passed (RFC 5533 §7.2, RFC 5535
//! §7.2).

use super::context::reap::{ProbeSet, MAX_REPORTS};
use super::context::{self, Locators, Message, Path, Received, Transmit, UlidPair, Validator};
use super::hba::{self, Sha1};
use super::wire::control::Packet;
use super::wire::message::{self as m, Repr};
use super::wire::options::{self as o, LocatorList, OptionSet};
use super::wire::{verification, Error};

/// What the host adds to what it sends.
#[derive(Clone, Copy, Debug)]
pub struct Local<'a> {
    /// The PDS of our HBA set: goes with every Locator List.  A host
    /// without one sends no Locator List: its ULID is then its only
    /// locator, which the peer knows anyway.
    pub pds: Option<&'a [u8]>,
    /// The addresses that PDS verifies (our HBA set's): a Locator List
    /// goes only when every locator in it is one.  A context whose ULID
    /// is outside the set has only that ULID, which the PDS does not
    /// bind: with a list the peer would refuse the setup (foreign PDS).
    pub verified: &'a Locators,
}


fn ulid_option(u: Option<UlidPair>) -> Option<o::UlidPair> {
    u.map(|u| o::UlidPair { sender: u.local, receiver: u.peer })
}

/// Our Locator List, every locator HBA-verified by our PDS; none when
/// the PDS does not verify them all.
fn with_locators<'b>(generation: u32, locs: &'b Locators, methods: &'b [u8], local: &Local<'b>) -> Result<OptionSet<'b>, Error> {
    let l = locs.as_slice();
    let Some(pds) = local.pds.filter(|_| l.iter().all(|a| local.verified.contains(a))) else {
        return Ok(OptionSet::default());
    };
    Ok(OptionSet {
        locator_list: Some(LocatorList::new(generation, methods.get(..l.len()).ok_or(Error::Malformed)?, l)?),
        cga_parameters: Some(pds),
        ..OptionSet::default()
    })
}

/// Emits the Shim6 header of `tx` into `buf` (the caller adds the IPv6
/// header for `tx.path`); returns its length.
pub fn emit(tx: &Transmit, local: &Local<'_>, buf: &mut [u8]) -> Result<usize, Error> {
    const METHODS: [u8; context::MAX_LOCATORS] = [verification::HBA; context::MAX_LOCATORS];
    let fii = |f: u32| (f != 0).then_some(f);
    let mut sent_bytes = [[0u8; m::REPORT_LEN]; MAX_REPORTS];
    let mut received_bytes = [[0u8; m::REPORT_LEN]; MAX_REPORTS];
    let repr = match &tx.msg {
        Message::I1 { ct, nonce, ulids, fii: f } => Repr::I1(m::I1 {
            initiator_tag: *ct,
            initiator_nonce: *nonce,
            options: OptionSet { ulid_pair: ulid_option(*ulids), forked_instance: fii(*f), ..OptionSet::default() },
        }),
        Message::R1 { init_nonce, resp_nonce, validator } => Repr::R1(m::R1 {
            initiator_nonce: *init_nonce,
            responder_nonce: *resp_nonce,
            options: OptionSet { responder_validator: Some(validator.as_slice()), ..OptionSet::default() },
        }),
        Message::I2 { ct, init_nonce, resp_nonce, validator, ulids, fii: f, locators } => Repr::I2(m::I2 {
            initiator_tag: *ct,
            initiator_nonce: *init_nonce,
            responder_nonce: *resp_nonce,
            options: OptionSet {
                responder_validator: Some(validator.as_slice()),
                ulid_pair: ulid_option(*ulids),
                forked_instance: fii(*f),
                ..with_locators(0, locators, &METHODS, local)?
            },
        }),
        Message::R2 { ct, init_nonce, locators } => Repr::R2(m::R2 {
            responder_tag: *ct,
            initiator_nonce: *init_nonce,
            options: with_locators(0, locators, &METHODS, local)?,
        }),
        Message::R1bis { packet_ct, resp_nonce, validator } => Repr::R1bis(m::R1bis {
            packet_tag: *packet_ct,
            responder_nonce: *resp_nonce,
            options: OptionSet { responder_validator: Some(validator.as_slice()), ..OptionSet::default() },
        }),
        Message::I2bis { ct, init_nonce, resp_nonce, packet_ct, validator, ulids, fii: f, locators } => {
            Repr::I2bis(m::I2bis {
                initiator_tag: *ct,
                initiator_nonce: *init_nonce,
                responder_nonce: *resp_nonce,
                packet_tag: *packet_ct,
                options: OptionSet {
                    responder_validator: Some(validator.as_slice()),
                    ulid_pair: ulid_option(*ulids),
                    forked_instance: fii(*f),
                    ..with_locators(0, locators, &METHODS, local)?
                },
            })
        }
        Message::UpdateRequest { ct, nonce, generation, locators, keepalive } => Repr::UpdateRequest(m::UpdateRequest {
            receiver_tag: *ct,
            request_nonce: *nonce,
            options: OptionSet { keepalive_timeout: *keepalive, ..with_locators(*generation, locators, &METHODS, local)? },
        }),
        Message::UpdateAck { ct, nonce } => {
            Repr::UpdateAck(m::UpdateAck { receiver_tag: *ct, request_nonce: *nonce })
        }
        Message::Keepalive { ct } => Repr::Keepalive(m::Keepalive { receiver_tag: *ct }),
        Message::Probe { ct, state, sent, received } => {
            let sent_n = reports(sent, &mut sent_bytes);
            let received_n = reports(received, &mut received_bytes);
            Repr::Probe(m::Probe {
                receiver_tag: *ct,
                state: *state,
                sent: m::Reports::new(sent_bytes.get(..sent_n).unwrap_or(&[]))?,
                received: m::Reports::new(received_bytes.get(..received_n).unwrap_or(&[]))?,
            })
        }
    };
    repr.emit(buf)
}

/// The wire form of `set` in `out`; how many reports.
fn reports(set: &ProbeSet, out: &mut [[u8; m::REPORT_LEN]; MAX_REPORTS]) -> usize {
    for (o, r) in out.iter_mut().zip(set.as_slice()) {
        *o = r.to_bytes();
    }
    set.as_slice().len()
}

/// The first [`MAX_REPORTS`] of `reports`.
fn probe_set(reports: &m::Reports<'_>) -> ProbeSet {
    let mut set = ProbeSet::default();
    for r in reports.iter().take(MAX_REPORTS) {
        set.push(r);
    }
    set
}

/// A parsed control message.
#[derive(Clone, Copy, Debug)]
pub enum Inbound<'a> {
    /// For the context machine.
    Context(Received),
    /// Error: for error handling.
    Other(Repr<'a>),
}

/// Why a well-formed message is dropped before the context machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discard {
    /// Not a valid Shim6 control message (the [`Error`] says how; an
    /// `Unrecognized` one is answered with an Error message).
    Wire(Error),
    /// R1, R1bis or a setup message without a usable Responder Validator.
    NoValidator,
    /// An I2 or I2bis whose Responder Validator the caller's check refused
    /// (its locators were not verified: that costs a hash per locator).
    BadValidator,
    /// The PDS does not verify the peer's ULID (§7.13 step 3, §7.16).
    ForeignPds,
}

impl From<Error> for Discard {
    fn from(e: Error) -> Self {
        Discard::Wire(e)
    }
}

fn validator(options: &OptionSet<'_>) -> Result<Validator, Discard> {
    options.responder_validator.and_then(Validator::new).ok_or(Discard::NoValidator)
}

/// The ULID pair a message names: its ULID Pair option, else its path.
fn ulids_of(u: Option<o::UlidPair>, path: &Path) -> UlidPair {
    u.map_or(UlidPair { local: path.dst, peer: path.src }, |u| UlidPair { local: u.receiver, peer: u.sender })
}

/// The peer's locators that its PDS verifies, all of them in the set of
/// `ulid` (RFC 5535 §7.2).  No PDS: none.  A PDS that does not verify the
/// ULID itself: the message is dropped.  At most
/// [`context::MAX_LOCATORS`] locators are tried, whatever the list holds,
/// so that one message costs a bounded number of hashes.
fn verified<H: Sha1 + ?Sized>(
    hasher: &mut H,
    options: &OptionSet<'_>,
    ulid: &context::Addr,
) -> Result<Locators, Discard> {
    let mut out = Locators::default();
    let (Some(list), Some(pds)) = (options.locator_list, options.cga_parameters) else {
        return Ok(out);
    };
    let pds = hba::Pds::parse(pds).map_err(|_| Discard::ForeignPds)?;
    let owner = pds.verify(hasher, ulid).map_err(|_| Discard::ForeignPds)?;
    for (method, loc) in list.iter().take(context::MAX_LOCATORS) {
        // CGA-method locators need the CGA Signature, which is not
        // implemented: they are never used.
        if method != verification::HBA {
            continue;
        }
        if pds.verify(hasher, &loc).is_ok_and(|v| v.same_set(&owner)) {
            out.push(loc);
        }
    }
    Ok(out)
}

/// `msg` (an I2 or I2bis) with the locators verified for it.
fn with_verified(mut msg: Message, verified: Locators) -> Message {
    if let Message::I2 { locators, .. } | Message::I2bis { locators, .. } = &mut msg {
        *locators = verified;
    }
    msg
}

/// Parses the Shim6 control message `bytes` that arrived on `path`.
///
/// An I2 or I2bis reaches `validates` (the caller's
/// [`context::Host::validates`]) before any of its locators is verified,
/// so that a forged one costs a MAC, not a hash per locator (RFC 5533 §16:
/// no costly work for unauthenticated packets).  Its `locators` are empty
/// at that point.
// Not inlined: its locals would stay on the stack under the handling of
// the message (the receive path of an I2 runs in softirq).
#[inline(never)]
pub fn parse<'a, H: Sha1 + ?Sized>(
    bytes: &'a [u8],
    path: Path,
    hasher: &mut H,
    validates: impl FnOnce(&Message) -> bool,
) -> Result<Inbound<'a>, Discard> {
    let repr = Repr::parse(&Packet::new_checked(bytes)?)?;
    let msg = match repr {
        Repr::I1(i) => Message::I1 {
            ct: i.initiator_tag,
            nonce: i.initiator_nonce,
            ulids: i.options.ulid_pair.map(|u| ulids_of(Some(u), &path)),
            fii: i.options.forked_instance.unwrap_or(0),
        },
        Repr::R1(r) => Message::R1 {
            init_nonce: r.initiator_nonce,
            resp_nonce: r.responder_nonce,
            validator: validator(&r.options)?,
        },
        Repr::I2(i) => {
            let ulids = ulids_of(i.options.ulid_pair, &path);
            let msg = Message::I2 {
                ct: i.initiator_tag,
                init_nonce: i.initiator_nonce,
                resp_nonce: i.responder_nonce,
                validator: validator(&i.options)?,
                ulids: i.options.ulid_pair.map(|_| ulids),
                fii: i.options.forked_instance.unwrap_or(0),
                locators: Locators::default(),
            };
            if !validates(&msg) {
                return Err(Discard::BadValidator);
            }
            with_verified(msg, verified(hasher, &i.options, &ulids.peer)?)
        }
        Repr::R2(r) => Message::R2 {
            ct: r.responder_tag,
            init_nonce: r.initiator_nonce,
            // An R2 comes from the peer's ULID unless the setup moved.
            locators: verified(hasher, &r.options, &path.src)?,
        },
        Repr::R1bis(r) => Message::R1bis {
            packet_ct: r.packet_tag,
            resp_nonce: r.responder_nonce,
            validator: validator(&r.options)?,
        },
        Repr::I2bis(i) => {
            let ulids = ulids_of(i.options.ulid_pair, &path);
            let msg = Message::I2bis {
                ct: i.initiator_tag,
                init_nonce: i.initiator_nonce,
                resp_nonce: i.responder_nonce,
                packet_ct: i.packet_tag,
                validator: validator(&i.options)?,
                ulids: i.options.ulid_pair.map(|_| ulids),
                fii: i.options.forked_instance.unwrap_or(0),
                locators: Locators::default(),
            };
            if !validates(&msg) {
                return Err(Discard::BadValidator);
            }
            with_verified(msg, verified(hasher, &i.options, &ulids.peer)?)
        }
        Repr::UpdateRequest(u) => Message::UpdateRequest {
            ct: u.receiver_tag,
            nonce: u.request_nonce,
            generation: u.options.locator_list.map_or(0, |l| l.generation()),
            // Checked against the context's ULID by the caller's lookup:
            // the PDS must verify the sender's current locator.
            locators: verified(hasher, &u.options, &path.src)?,
            keepalive: u.options.keepalive_timeout,
        },
        Repr::UpdateAck(a) => Message::UpdateAck { ct: a.receiver_tag, nonce: a.request_nonce },
        Repr::Keepalive(k) => Message::Keepalive { ct: k.receiver_tag },
        Repr::Probe(p) => Message::Probe {
            ct: p.receiver_tag,
            state: p.state,
            sent: probe_set(&p.sent),
            received: probe_set(&p.received),
        },
        other => return Ok(Inbound::Other(other)),
    };
    Ok(Inbound::Context(Received { path, msg }))
}
