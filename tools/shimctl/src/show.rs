// SPDX-License-Identifier: GPL-2.0

//! What `context show`, `locator show` and `stats show` print from the
//! module's replies: iproute2-like text, or JSON whose keys keep their
//! order (scripts read it by position).

use std::fmt::Write as _;
use std::net::Ipv6Addr;

use serde::ser::SerializeMap as _;
use serde::{Serialize, Serializer};
use shim6_core::uapi;

use crate::netlink::{Attr, Shim6};

pub fn addr(a: &Attr) -> Option<Ipv6Addr> {
    <[u8; 16]>::try_from(a.data.as_slice()).ok().map(Ipv6Addr::from)
}

pub fn reap_name(s: Option<u8>) -> &'static str {
    match s.map(u32::from) {
        None => "-",
        Some(uapi::shim6_reap_state_SHIM6_REAP_OPERATIONAL) => "operational",
        Some(uapi::shim6_reap_state_SHIM6_REAP_EXPLORING) => "exploring",
        Some(uapi::shim6_reap_state_SHIM6_REAP_INBOUND_OK) => "inbound-ok",
        Some(_) => "unknown",
    }
}

pub fn state_name(s: u8) -> &'static str {
    match u32::from(s) {
        uapi::shim6_ctx_state_SHIM6_CTX_I1_SENT => "i1-sent",
        uapi::shim6_ctx_state_SHIM6_CTX_I2_SENT => "i2-sent",
        uapi::shim6_ctx_state_SHIM6_CTX_I2BIS_SENT => "i2bis-sent",
        uapi::shim6_ctx_state_SHIM6_CTX_ESTABLISHED => "established",
        uapi::shim6_ctx_state_SHIM6_CTX_E_FAILED => "e-failed",
        uapi::shim6_ctx_state_SHIM6_CTX_NO_SUPPORT => "no-support",
        _ => "unknown",
    }
}

/// serde_json with a newline, as every `-j` document ends.
pub fn json_line<T: Serialize + ?Sized>(v: &T) -> Result<String, String> {
    serde_json::to_string(v).map(|s| s + "\n").map_err(|e| format!("encoding JSON: {e}"))
}

#[derive(Debug, Default)]
pub struct ContextInfo {
    state: u8,
    ulid_local: Option<Ipv6Addr>,
    ulid_peer: Option<Ipv6Addr>,
    fii: u32,
    /// A fork's socket (inode number).
    owner: Option<u32>,
    /// The tags: only an administrator of the namespace is told them.
    ct_local: Option<u64>,
    ct_peer: Option<u64>,
    loc_local: Option<Ipv6Addr>,
    loc_peer: Option<Ipv6Addr>,
    peer_locators: Vec<Ipv6Addr>,
    local_locators: Vec<Ipv6Addr>,
    /// REAP, on an established context: its state, our Send Timeout and
    /// the peer's (ms).
    reap: Option<u8>,
    send_timeout: Option<u32>,
    keepalive_timeout: Option<u32>,
    /// The hot-standby pair, and how long ago the peer answered on it (ms).
    standby: Option<(Ipv6Addr, Ipv6Addr)>,
    standby_age: Option<u32>,
    standby_switches: Option<u32>,
    /// Payload packets and octets out and in with the extension header.
    counters: [u64; 4],
}

/// `-j context show`'s object: the keys in the order scripts read them,
/// `owner_ino` last because it came last.
#[derive(Serialize)]
struct ContextJson<'a> {
    ulid_local: Option<Ipv6Addr>,
    ulid_peer: Option<Ipv6Addr>,
    state: &'static str,
    fii: u32,
    ct_local: Option<u64>,
    ct_peer: Option<u64>,
    locator_local: Option<Ipv6Addr>,
    locator_peer: Option<Ipv6Addr>,
    local_locators: &'a [Ipv6Addr],
    peer_locators: &'a [Ipv6Addr],
    reap: Option<&'static str>,
    send_timeout_ms: Option<u32>,
    keepalive_timeout_ms: Option<u32>,
    standby_local: Option<Ipv6Addr>,
    standby_peer: Option<Ipv6Addr>,
    standby_age_ms: Option<u32>,
    standby_switches: Option<u32>,
    packets_out: u64,
    bytes_out: u64,
    packets_in: u64,
    bytes_in: u64,
    owner_ino: Option<u32>,
}

impl ContextInfo {
    pub fn from_attrs(attrs: &[Attr]) -> Self {
        let mut c = ContextInfo::default();
        let mut standby = (None, None);
        for a in attrs {
            match u32::from(a.kind) {
                uapi::shim6_genl_attr_SHIM6_A_CTX_STATE => c.state = a.u8().unwrap_or(0),
                uapi::shim6_genl_attr_SHIM6_A_CTX_ULID_LOCAL => c.ulid_local = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_CTX_ULID_PEER => c.ulid_peer = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_CTX_FII => c.fii = a.u32().unwrap_or(0),
                uapi::shim6_genl_attr_SHIM6_A_CTX_OWNER => c.owner = a.u32(),
                uapi::shim6_genl_attr_SHIM6_A_CTX_CT_LOCAL => c.ct_local = a.u64(),
                uapi::shim6_genl_attr_SHIM6_A_CTX_CT_PEER => c.ct_peer = a.u64(),
                uapi::shim6_genl_attr_SHIM6_A_CTX_LOC_LOCAL => c.loc_local = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_CTX_LOC_PEER => c.loc_peer = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_CTX_PEER_LOCATOR => c.peer_locators.extend(addr(a)),
                uapi::shim6_genl_attr_SHIM6_A_CTX_LOCAL_LOCATOR => c.local_locators.extend(addr(a)),
                uapi::shim6_genl_attr_SHIM6_A_CTX_REAP_STATE => c.reap = a.u8(),
                uapi::shim6_genl_attr_SHIM6_A_CTX_SEND_TIMEOUT => c.send_timeout = a.u32(),
                uapi::shim6_genl_attr_SHIM6_A_CTX_KEEPALIVE_TIMEOUT => c.keepalive_timeout = a.u32(),
                uapi::shim6_genl_attr_SHIM6_A_CTX_STANDBY_LOCAL => standby.0 = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_CTX_STANDBY_PEER => standby.1 = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_CTX_STANDBY_AGE => c.standby_age = a.u32(),
                uapi::shim6_genl_attr_SHIM6_A_CTX_STANDBY_SWITCHES => c.standby_switches = a.u32(),
                uapi::shim6_genl_attr_SHIM6_A_CTX_PKTS_OUT => c.counters[0] = a.u64().unwrap_or(0),
                uapi::shim6_genl_attr_SHIM6_A_CTX_BYTES_OUT => c.counters[1] = a.u64().unwrap_or(0),
                uapi::shim6_genl_attr_SHIM6_A_CTX_PKTS_IN => c.counters[2] = a.u64().unwrap_or(0),
                uapi::shim6_genl_attr_SHIM6_A_CTX_BYTES_IN => c.counters[3] = a.u64().unwrap_or(0),
                _ => {}
            }
        }
        c.standby = standby.0.zip(standby.1);
        c
    }

    fn text(&self) -> String {
        let opt = |a: Option<Ipv6Addr>| a.map_or("-".to_string(), |a| a.to_string());
        let mut s = format!(
            "ulid {} > {} state {} fii {}{}\n    ct-local {} ct-peer {}\n    locators {} > {}\n",
            opt(self.ulid_local),
            opt(self.ulid_peer),
            state_name(self.state),
            self.fii,
            self.owner.map_or(String::new(), |o| format!(" owner ino {o}")),
            self.ct_local.map_or("-".to_string(), |c| format!("{c:#x}")),
            self.ct_peer.map_or("-".to_string(), |c| format!("{c:#x}")),
            opt(self.loc_local),
            opt(self.loc_peer),
        );
        for (name, list) in [("local-locators", &self.local_locators), ("peer-locators", &self.peer_locators)] {
            if !list.is_empty() {
                let l: Vec<String> = list.iter().map(Ipv6Addr::to_string).collect();
                let _ = writeln!(s, "    {name} {}", l.join(" "));
            }
        }
        let secs = |ms: u32| format!("{}.{:03}s", ms / 1000, ms % 1000);
        if let (Some(st), Some(kt)) = (self.send_timeout, self.keepalive_timeout) {
            let _ = writeln!(s, "    reap {} send-timeout {} keepalive-timeout {}", reap_name(self.reap), secs(st), secs(kt));
        }
        if let Some(n) = self.standby_switches {
            let pair = self.standby.map_or("-".to_string(), |(l, p)| format!("{l} > {p}"));
            let age = match (self.standby, self.standby_age) {
                (None, _) => String::new(),
                (Some(_), None) => " unverified".to_string(),
                (Some(_), Some(a)) => format!(" verified {} ago", secs(a)),
            };
            let _ = writeln!(s, "    hot-standby {pair}{age} switches {n}");
        }
        let [po, bo, pi, bi] = self.counters;
        let _ = writeln!(s, "    shimmed out {po} packets {bo} bytes in {pi} packets {bi} bytes");
        s
    }

    fn json(&self) -> ContextJson<'_> {
        let [packets_out, bytes_out, packets_in, bytes_in] = self.counters;
        ContextJson {
            ulid_local: self.ulid_local,
            ulid_peer: self.ulid_peer,
            state: state_name(self.state),
            fii: self.fii,
            ct_local: self.ct_local,
            ct_peer: self.ct_peer,
            locator_local: self.loc_local,
            locator_peer: self.loc_peer,
            local_locators: &self.local_locators,
            peer_locators: &self.peer_locators,
            reap: self.reap.map(|r| reap_name(Some(r))),
            send_timeout_ms: self.send_timeout,
            keepalive_timeout_ms: self.keepalive_timeout,
            standby_local: self.standby.map(|s| s.0),
            standby_peer: self.standby.map(|s| s.1),
            standby_age_ms: self.standby_age,
            standby_switches: self.standby_switches,
            packets_out,
            bytes_out,
            packets_in,
            bytes_in,
            owner_ino: self.owner,
        }
    }
}

/// `context show` of the dump `msgs`.
pub fn contexts(msgs: &[Shim6], json: bool) -> Result<String, String> {
    let list: Vec<ContextInfo> = msgs.iter().map(|m| ContextInfo::from_attrs(&m.attrs)).collect();
    if json {
        json_line(&list.iter().map(ContextInfo::json).collect::<Vec<_>>())
    } else {
        Ok(list.iter().map(ContextInfo::text).collect())
    }
}

#[derive(Serialize)]
pub struct Locator {
    pub address: Ipv6Addr,
    /// In the namespace's HBA set.
    pub locator: bool,
}

impl Locator {
    pub fn from_attrs(attrs: &[Attr]) -> Option<Self> {
        let mut a = None;
        let mut flags = 0;
        for at in attrs {
            match u32::from(at.kind) {
                uapi::shim6_genl_attr_SHIM6_A_LOC_ADDR => a = addr(at),
                uapi::shim6_genl_attr_SHIM6_A_LOC_FLAGS => flags = at.u32().unwrap_or(0),
                _ => {}
            }
        }
        a.map(|address| Locator { address, locator: flags & uapi::SHIM6_LOC_F_LOCATOR != 0 })
    }
}

/// `locator show` of the dump `msgs`.
pub fn locators(msgs: &[Shim6], json: bool) -> Result<String, String> {
    let list: Vec<Locator> = msgs.iter().filter_map(|m| Locator::from_attrs(&m.attrs)).collect();
    if json {
        json_line(&list)
    } else {
        Ok(list.iter().map(|l| format!("{}{}\n", l.address, if l.locator { " locator" } else { "" })).collect())
    }
}

/// Counters as one JSON object, in the module's order.
struct Counters<'a>(&'a [(String, u64)]);

impl Serialize for Counters<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            m.serialize_entry(name, value)?;
        }
        m.end()
    }
}

fn stat_from_attrs(attrs: &[Attr]) -> Option<(String, u64)> {
    let mut name = None;
    let mut value = 0;
    for at in attrs {
        match u32::from(at.kind) {
            uapi::shim6_genl_attr_SHIM6_A_STAT_NAME => {
                name = std::str::from_utf8(&at.data).ok().map(|n| n.trim_end_matches('\0').to_string());
            }
            uapi::shim6_genl_attr_SHIM6_A_STAT_VALUE => value = at.u64().unwrap_or(0),
            _ => {}
        }
    }
    name.map(|n| (n, value))
}

/// `stats show` of the dump `msgs`: what the namespace dropped or
/// refused, by reason, as `nstat` shows counters ("name value" lines).
pub fn stats(msgs: &[Shim6], json: bool) -> Result<String, String> {
    let list: Vec<(String, u64)> = msgs.iter().filter_map(|m| stat_from_attrs(&m.attrs)).collect();
    if json {
        json_line(&Counters(&list))
    } else {
        Ok(list.iter().map(|(n, v)| format!("{n} {v}\n")).collect())
    }
}
