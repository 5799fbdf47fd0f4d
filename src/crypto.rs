// SPDX-License-Identifier: GPL-2.0

//! The core's crypto and randomness, from the kernel: HMAC-SHA256 for
//! Responder Validators, SHA-1 for HBA, `get_random_u64()` for tags,
//! nonces and jitter.

use kernel::c_str;
use kernel::prelude::*;

use crate::kext::crypto::{random_u64, Shash};
use crate::proto::context::{Mac, Random, VALIDATOR_LEN};
use crate::proto::hba::{self, HashFailed, DIGEST_LEN};

/// `hmac(sha256)`, keyed per call with the responder's current secret.
pub(crate) struct KernelMac(Shash);

impl KernelMac {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self(Shash::new(c_str!("hmac(sha256)"))?))
    }
}

impl Mac for KernelMac {
    fn mac(&mut self, key: &[u8; 32], parts: &[&[u8]]) -> Option<[u8; VALIDATOR_LEN]> {
        let mut out = [0u8; VALIDATOR_LEN];
        self.0.set_key(key).ok()?;
        self.0.digest(parts, &mut out).ok()?;
        Some(out)
    }
}

/// `sha1`, for Hash-Based Addresses.
pub(crate) struct KernelSha1(Shash);

impl KernelSha1 {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self(Shash::new(c_str!("sha1"))?))
    }
}

impl hba::Sha1 for KernelSha1 {
    fn digest(&mut self, parts: &[&[u8]]) -> Result<[u8; DIGEST_LEN], HashFailed> {
        let mut out = [0u8; DIGEST_LEN];
        self.0.digest(parts, &mut out).map_err(|_| HashFailed)?;
        Ok(out)
    }
}

/// The kernel's CSPRNG.
pub(crate) struct KernelRandom;

impl Random for KernelRandom {
    fn next_u64(&mut self) -> u64 {
        random_u64()
    }
}
