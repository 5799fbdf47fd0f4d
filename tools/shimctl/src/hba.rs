// SPDX-License-Identifier: GPL-2.0

//! `shimctl hba`: the Hash-Based Addresses (RFC 5535) of a set of /64
//! prefixes, and the CGA Parameter Data Structure that proves them.

use std::net::Ipv6Addr;

use shim6_core::proto::hba::{self, KeyMaterial, Params, Prefix, Sec, EXTENDED_MODIFIER_LEN, MODIFIER_LEN};
use shim6_core::rustcrypto::RustCrypto;

pub const USAGE: &str = "shimctl [-j] hba [modifier HEX] [extended-modifier HEX] PREFIX/64...";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(s: &str) -> Result<[u8; N], String> {
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

fn prefix(s: &str) -> Result<Prefix, String> {
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

fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut b = [0u8; N];
    // SAFETY: `b` is valid for writing N octets.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), N, 0) };
    if usize::try_from(n).ok() != Some(N) {
        return Err(format!("getrandom: {}", std::io::Error::last_os_error()));
    }
    Ok(b)
}

/// Runs `shimctl hba` with `args`; returns what to print.
pub fn run(args: &[&str], json: bool) -> Result<String, String> {
    let mut modifier = None;
    let mut extended = None;
    let mut prefixes = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "modifier" => modifier = Some(unhex::<MODIFIER_LEN>(it.next().ok_or(USAGE)?)?),
            "extended-modifier" => extended = Some(unhex::<EXTENDED_MODIFIER_LEN>(it.next().ok_or(USAGE)?)?),
            p => prefixes.push(prefix(p)?),
        }
    }
    if prefixes.is_empty() {
        return Err(format!("usage: {USAGE}"));
    }
    let params = Params {
        prefixes: &prefixes,
        modifier: modifier.map_or_else(random, Ok)?,
        key: KeyMaterial::ExtendedModifier(extended.map_or_else(random, Ok)?),
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

    let show = |p: &Prefix| {
        let mut a = [0u8; 16];
        a[..8].copy_from_slice(p);
        format!("{}/64", Ipv6Addr::from(a))
    };
    Ok(if json {
        let items: Vec<String> = prefixes
            .iter()
            .zip(&addrs)
            .map(|(p, a)| format!("{{\"prefix\":\"{}\",\"address\":\"{}\"}}", show(p), Ipv6Addr::from(*a)))
            .collect();
        format!("{{\"addresses\":[{}],\"pds\":\"{}\"}}\n", items.join(","), hex(&pds))
    } else {
        let mut s = String::new();
        for (p, a) in prefixes.iter().zip(&addrs) {
            s += &format!("address {} prefix {}\n", Ipv6Addr::from(*a), show(p));
        }
        s += &format!("pds {}\n", hex(&pds));
        s
    })
}
