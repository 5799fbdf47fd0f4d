// SPDX-License-Identifier: GPL-2.0

//! `shimctl hba`: the Hash-Based Addresses (RFC 5535) of a set of /64
//! prefixes, and the CGA Parameter Data Structure that proves them.

use std::net::Ipv6Addr;

use serde::Serialize;
use shim6_core::proto::hba::{self, KeyMaterial, Params, Prefix, Sec, EXTENDED_MODIFIER_LEN, MODIFIER_LEN};
use shim6_core::rustcrypto::RustCrypto;

use crate::show::json_line;

pub const USAGE: &str = "shimctl [-j] hba [modifier HEX] [extended-modifier HEX] PREFIX/64...";

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let bad = || format!("expected {} hex digits: {s}", 2 * N);
    if s.len() != 2 * N {
        return Err(bad());
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// Octets of a hex string of any even length.
pub fn unhex_vec(s: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("expected hex digits: {s}");
    if s.len() % 2 != 0 || s.is_empty() {
        return Err(bad());
    }
    (0..s.len() / 2).map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())).collect()
}

/// A /64 prefix as users write it (`2001:db8:1::/64`).
pub fn prefix(s: &str) -> Result<Prefix, String> {
    let (addr, len) = s.split_once('/').ok_or_else(|| format!("{s}: expected PREFIX/64"))?;
    if len != "64" {
        return Err(format!("{s}: HBA sets are made of /64 prefixes"));
    }
    let a: Ipv6Addr = addr.parse().map_err(|_| format!("{s}: not an IPv6 prefix"))?;
    let o = a.octets();
    if o[8..].iter().any(|&b| b != 0) {
        return Err(format!("{s}: host bits set"));
    }
    let mut p = [0u8; 8];
    p.copy_from_slice(&o[..8]);
    Ok(p)
}

/// `n` random octets from the kernel's generator.
pub fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut b = [0u8; N];
    // SAFETY: `b` is valid for writing N octets.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), N, 0) };
    if usize::try_from(n).ok() != Some(N) {
        return Err(format!("getrandom: {}", std::io::Error::last_os_error()));
    }
    Ok(b)
}

/// An HBA set: its addresses, in the order of its prefixes, and the PDS
/// that proves them.
pub struct Generated {
    pub addrs: Vec<Ipv6Addr>,
    pub pds: Vec<u8>,
}

/// The HBA set (Sec 0, HBA-only) of `prefixes` from `modifier` and
/// `extended` (the Extended Modifier that stands for a public key).
pub fn generate(
    prefixes: &[Prefix],
    modifier: [u8; MODIFIER_LEN],
    extended: [u8; EXTENDED_MODIFIER_LEN],
) -> Result<Generated, String> {
    let params = Params {
        prefixes,
        modifier,
        key: KeyMaterial::ExtendedModifier(extended),
        sec: Sec::Zero,
        max_modifier_tries: 0,
    };
    let mut addrs = vec![[0u8; 16]; prefixes.len()];
    let set = hba::generate(&mut RustCrypto, &params, &mut addrs).map_err(|e| format!("generating: {e:?}"))?;
    // Every address of the set is proved by the same PDS but for the subnet
    // prefix field: the one of the first prefix goes with the first address.
    let repr = set.pds(0).ok_or("no prefix")?;
    let mut pds = vec![0u8; repr.buffer_len()];
    repr.emit(&mut pds).map_err(|e| format!("PDS: {e:?}"))?;
    Ok(Generated { addrs: addrs.into_iter().map(Ipv6Addr::from).collect(), pds })
}

/// `p` as users write it.
pub fn show_prefix(p: &Prefix) -> String {
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(p);
    format!("{}/64", Ipv6Addr::from(a))
}

#[derive(Serialize)]
struct Member {
    prefix: String,
    address: Ipv6Addr,
}

#[derive(Serialize)]
struct SetJson<'a> {
    addresses: Vec<Member>,
    pds: &'a str,
}

/// Runs `shimctl hba` with `args`; returns what to print.
pub fn run(args: &[String], json: bool) -> Result<String, String> {
    let mut modifier = None;
    let mut extended = None;
    let mut prefixes = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "modifier" => modifier = Some(unhex::<MODIFIER_LEN>(it.next().ok_or(USAGE)?)?),
            "extended-modifier" => extended = Some(unhex::<EXTENDED_MODIFIER_LEN>(it.next().ok_or(USAGE)?)?),
            p => prefixes.push(prefix(p)?),
        }
    }
    if prefixes.is_empty() {
        return Err(format!("usage: {USAGE}"));
    }
    let set = generate(&prefixes, modifier.map_or_else(random, Ok)?, extended.map_or_else(random, Ok)?)?;
    let pds = hex(&set.pds);
    if json {
        let addresses =
            prefixes.iter().zip(&set.addrs).map(|(p, &address)| Member { prefix: show_prefix(p), address }).collect();
        json_line(&SetJson { addresses, pds: &pds })
    } else {
        let mut s = String::new();
        for (p, a) in prefixes.iter().zip(&set.addrs) {
            s += &format!("address {a} prefix {}\n", show_prefix(p));
        }
        s += &format!("pds {pds}\n");
        Ok(s)
    }
}
