// SPDX-License-Identifier: GPL-2.0

//! The stateless responder (§7.10, §7.15): validators under a rotating
//! secret, and rate limits on what an unauthenticated host can make us do.

use super::*;

/// The host's stateless responder: Responder Nonces and Validators from a
/// rotating secret (§7.10.1), two generations accepted.
pub struct Responder {
    pub(super) secrets: [[u8; 32]; 2],
    /// Which epoch each secret belongs to.
    pub(super) epochs: [u64; 2],
}

/// How long one Responder Nonce value lasts.
pub(super) const NONCE_STEP: Millis = 1_000;
/// How long one secret lasts; a validator is checked against the secret of
/// its nonce's epoch, so it stays valid for up to twice this.
pub(super) const SECRET_LIFETIME: Millis = 2 * consts::VALIDATOR_MIN_LIFETIME;

impl Responder {
    /// A responder with fresh secrets.
    pub fn new(now: Millis, rng: &mut impl Random) -> Self {
        let mut r = Responder { secrets: [[0; 32]; 2], epochs: [u64::MAX; 2] };
        r.rotate(now, rng);
        r
    }

    pub(super) fn random_secret(rng: &mut impl Random) -> [u8; 32] {
        let mut s = [0u8; 32];
        for chunk in s.chunks_exact_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_ne_bytes());
        }
        s
    }

    /// Makes sure the secret of the current epoch exists; call before
    /// answering (or from a timer every [`VALIDATOR_MIN_LIFETIME`]).
    ///
    /// [`VALIDATOR_MIN_LIFETIME`]: consts::VALIDATOR_MIN_LIFETIME
    pub fn rotate(&mut self, now: Millis, rng: &mut impl Random) {
        let epoch = now / SECRET_LIFETIME;
        let slot = (epoch % 2) as usize;
        if self.epochs.get(slot) != Some(&epoch) {
            if let (Some(s), Some(e)) = (self.secrets.get_mut(slot), self.epochs.get_mut(slot)) {
                *s = Self::random_secret(rng);
                *e = epoch;
            }
        }
    }

    pub(super) fn nonce(now: Millis) -> u32 {
        (now / NONCE_STEP) as u32
    }

    /// The validator of `nonce` over `parts`, if its secret is still kept.
    pub(super) fn validator(&self, mac: &mut impl Mac, nonce: u32, now: Millis, parts: &[&[u8]]) -> Option<Validator> {
        // The nonce's epoch: nonces are at most 2^32 steps old, far beyond
        // any lifetime, so the low bits of `now` locate them.
        let now_step = now / NONCE_STEP;
        let age = (now_step as u32).wrapping_sub(nonce);
        let at = now_step.checked_sub(u64::from(age))? * NONCE_STEP;
        let epoch = at / SECRET_LIFETIME;
        let slot = (epoch % 2) as usize;
        if self.epochs.get(slot) != Some(&epoch) {
            return None;
        }
        let key = self.secrets.get(slot)?;
        let n = nonce.to_be_bytes();
        let mut all: [&[u8]; 8] = [&[]; 8];
        if let Some(first) = all.first_mut() {
            *first = &n;
        }
        for (slot, p) in all.iter_mut().skip(1).zip(parts) {
            *slot = p;
        }
        let len = parts.len().saturating_add(1).min(all.len());
        Validator::new(&mac.mac(key, all.get(..len).unwrap_or(&[]))?)
    }

    /// Checks a validator received in I2 or I2bis: its nonce is recent
    /// enough and it is what we would compute over `parts` (§7.13 step 2).
    pub(super) fn check(&self, mac: &mut impl Mac, nonce: u32, got: &Validator, now: Millis, parts: &[&[u8]]) -> bool {
        let age = ((now / NONCE_STEP) as u32).wrapping_sub(nonce);
        if u64::from(age) * NONCE_STEP > 2 * consts::VALIDATOR_MIN_LIFETIME {
            return false;
        }
        self.validator(mac, nonce, now, parts).is_some_and(|v| v == *got)
    }
}

/// The validator inputs of an I1/I2 exchange (§7.10.1; no Initiator Nonce).
pub(super) fn i1_parts<'a>(ct: &'a [u8; 8], ulids: &'a UlidPair, path: &'a Path, fii: &'a [u8; 4]) -> [&'a [u8]; 6] {
    [ct, &ulids.local, &ulids.peer, &path.src, &path.dst, fii]
}

/// A token bucket: `burst` events at once, `per_sec` a second on average.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    pub(super) per_sec: u64,
    pub(super) burst: u64,
    /// Thousandths of an event.
    pub(super) credit: u64,
    pub(super) last: Millis,
}

impl RateLimit {
    /// A full bucket.
    pub const fn new(per_sec: u32, burst: u32) -> Self {
        RateLimit { per_sec: per_sec as u64, burst: burst as u64, credit: burst as u64 * 1000, last: 0 }
    }

    /// Whether one more event may happen at `now`; takes it if so.
    pub fn allow(&mut self, now: Millis) -> bool {
        let elapsed = now.saturating_sub(self.last);
        self.last = self.last.max(now);
        self.credit = self.credit.saturating_add(elapsed.saturating_mul(self.per_sec)).min(self.burst.saturating_mul(1000));
        let ok = self.credit >= 1000;
        if ok {
            self.credit -= 1000;
        }
        ok
    }
}

/// What a host lets the network make it do, per namespace.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// R1 and R1bis: answers to anyone, each costing a MAC.
    pub responses: RateLimit,
    /// New contexts, initiated or accepted.
    pub setups: RateLimit,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { responses: RateLimit::new(100, 100), setups: RateLimit::new(50, 50) }
    }
}
