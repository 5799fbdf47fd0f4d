// SPDX-License-Identifier: GPL-2.0

//! shimctl: what the shim6 module holds, in the style of iproute2.
//!
//!     shimctl [-j] [-n NETNS] context show
//!     shimctl [-n NETNS] context flush
//!     shimctl [-n NETNS] set enabled on|off
//!     shimctl [-n NETNS] set max-contexts N
//!     shimctl [-j] [-n NETNS] locator show
//!     shimctl [-j] [-n NETNS] monitor
//!     shimctl [-n NETNS] hba set PDS-HEX | hba clear
//!     shimctl [-j] hba [modifier HEX] [extended-modifier HEX] PREFIX/64...
//!
//! Talks to the module's generic netlink family (see
//! `include/uapi/linux/shim6.h`) in the current network namespace, or in
//! NETNS (as `ip -n` does, from /run/netns).

use std::fmt::Write as _;
use std::io;
use std::net::Ipv6Addr;
use std::process::ExitCode;

use shim6_core::uapi;

mod hba;
mod monitor;
mod netlink;
#[cfg(test)]
mod golden;

use netlink::{Attr, GenlSocket};

const USAGE: &str = "usage: shimctl [-j] [-n NETNS] context show\n       \
                     shimctl [-n NETNS] context flush\n       \
                     shimctl [-n NETNS] set enabled on|off\n       \
                     shimctl [-n NETNS] set max-contexts N\n       \
                     shimctl [-j] [-n NETNS] locator show\n       \
                     shimctl [-j] [-n NETNS] stats show\n       \
                     shimctl [-j] [-n NETNS] monitor\n       \
                     shimctl [-n NETNS] hba set PDS-HEX | hba clear\n       \
                     shimctl [-j] hba [modifier HEX] [extended-modifier HEX] PREFIX/64...";

#[derive(Debug, Default)]
struct ContextInfo {
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

fn addr(a: &Attr<'_>) -> Option<Ipv6Addr> {
    <[u8; 16]>::try_from(a.data).ok().map(Ipv6Addr::from)
}

fn reap_name(s: Option<u8>) -> &'static str {
    match s.map(u32::from) {
        None => "-",
        Some(uapi::shim6_reap_state_SHIM6_REAP_OPERATIONAL) => "operational",
        Some(uapi::shim6_reap_state_SHIM6_REAP_EXPLORING) => "exploring",
        Some(uapi::shim6_reap_state_SHIM6_REAP_INBOUND_OK) => "inbound-ok",
        Some(_) => "unknown",
    }
}

fn state_name(s: u8) -> &'static str {
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

impl ContextInfo {
    fn from_attrs(attrs: &[Attr<'_>]) -> Self {
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

    fn json(&self) -> String {
        // Only addresses, names and numbers: nothing to escape.
        let opt = |a: Option<Ipv6Addr>| a.map_or("null".to_string(), |a| format!("\"{a}\""));
        let list = |l: &[Ipv6Addr]| l.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(",");
        format!(
            "{{\"ulid_local\":{},\"ulid_peer\":{},\"state\":\"{}\",\"fii\":{},\"ct_local\":{},\"ct_peer\":{},\
             \"locator_local\":{},\"locator_peer\":{},\"local_locators\":[{}],\"peer_locators\":[{}],\
             \"reap\":{},\"send_timeout_ms\":{},\"keepalive_timeout_ms\":{},\
             \"standby_local\":{},\"standby_peer\":{},\"standby_age_ms\":{},\"standby_switches\":{},\
             \"packets_out\":{},\"bytes_out\":{},\"packets_in\":{},\"bytes_in\":{},\"owner_ino\":{}}}",
            opt(self.ulid_local),
            opt(self.ulid_peer),
            state_name(self.state),
            self.fii,
            self.ct_local.map_or("null".to_string(), |c| c.to_string()),
            self.ct_peer.map_or("null".to_string(), |c| c.to_string()),
            opt(self.loc_local),
            opt(self.loc_peer),
            list(&self.local_locators),
            list(&self.peer_locators),
            self.reap.map_or("null".to_string(), |r| format!("\"{}\"", reap_name(Some(r)))),
            self.send_timeout.map_or("null".to_string(), |v| v.to_string()),
            self.keepalive_timeout.map_or("null".to_string(), |v| v.to_string()),
            opt(self.standby.map(|s| s.0)),
            opt(self.standby.map(|s| s.1)),
            self.standby_age.map_or("null".to_string(), |v| v.to_string()),
            self.standby_switches.map_or("null".to_string(), |v| v.to_string()),
            self.counters[0],
            self.counters[1],
            self.counters[2],
            self.counters[3],
            self.owner.map_or("null".to_string(), |o| o.to_string()),
        )
    }
}

fn enter_netns(name: &str) -> io::Result<()> {
    if name.contains('/') {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "a namespace name has no '/'"));
    }
    let path = std::ffi::CString::new(format!("/run/netns/{name}"))
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad namespace name"))?;
    // SAFETY: `path` is a valid C string; the descriptor is checked and closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is an open namespace file; setns only changes this thread's namespace,
    // and shimctl is single-threaded.
    let r = unsafe { libc::setns(fd, libc::CLONE_NEWNET) };
    let err = io::Error::last_os_error();
    // SAFETY: `fd` is ours.
    unsafe { libc::close(fd) };
    if r < 0 {
        return Err(err);
    }
    Ok(())
}

/// A socket and the id of the module's family.
fn shim6_family() -> Result<(GenlSocket, u16), String> {
    let mut sock = GenlSocket::open().map_err(|e| format!("netlink socket: {e}"))?;
    match sock.family_id(uapi::SHIM6_GENL_NAME) {
        Ok(id) => Ok((sock, id)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            Err("the shim6 module is not loaded (no generic netlink family \"shim6\")".into())
        }
        Err(e) => Err(format!("looking up the shim6 family: {e}")),
    }
}

fn context_show(json: bool) -> Result<String, String> {
    let (mut sock, family) = shim6_family()?;
    let cmd = uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_GET as u8;
    let mut out = Vec::new();
    sock.dump(family, cmd, uapi::SHIM6_GENL_VERSION as u8, |attrs| {
        out.push(ContextInfo::from_attrs(attrs));
    })
    .map_err(|e| format!("dumping contexts: {e}"))?;
    Ok(contexts_out(&out, json))
}

fn contexts_out(out: &[ContextInfo], json: bool) -> String {
    if json {
        let items: Vec<String> = out.iter().map(ContextInfo::json).collect();
        format!("[{}]\n", items.join(","))
    } else {
        out.iter().map(ContextInfo::text).collect()
    }
}

fn locator_show(json: bool) -> Result<String, String> {
    let (mut sock, family) = shim6_family()?;
    let cmd = uapi::shim6_genl_cmd_SHIM6_CMD_LOCATOR_GET as u8;
    let mut out = Vec::new();
    sock.dump(family, cmd, uapi::SHIM6_GENL_VERSION as u8, |attrs| out.extend(locator_from_attrs(attrs)))
        .map_err(|e| format!("dumping locators: {e}"))?;
    Ok(locators_out(&out, json))
}

fn locator_from_attrs(attrs: &[Attr<'_>]) -> Option<(Ipv6Addr, bool)> {
    let mut a = None;
    let mut flags = 0;
    for at in attrs {
        match u32::from(at.kind) {
            uapi::shim6_genl_attr_SHIM6_A_LOC_ADDR => a = addr(at),
            uapi::shim6_genl_attr_SHIM6_A_LOC_FLAGS => flags = at.u32().unwrap_or(0),
            _ => {}
        }
    }
    a.map(|a| (a, flags & uapi::SHIM6_LOC_F_LOCATOR != 0))
}

fn locators_out(out: &[(Ipv6Addr, bool)], json: bool) -> String {
    if json {
        let items: Vec<String> = out.iter().map(|(a, l)| format!("{{\"address\":\"{a}\",\"locator\":{l}}}")).collect();
        format!("[{}]\n", items.join(","))
    } else {
        out.iter()
            .map(|(a, l)| format!("{a}{}\n", if *l { " locator" } else { "" }))
            .collect()
    }
}

/// What the namespace dropped or refused, by reason, as `nstat` shows
/// counters: one "name value" line each.
fn stats_show(json: bool) -> Result<String, String> {
    let (mut sock, family) = shim6_family()?;
    let cmd = uapi::shim6_genl_cmd_SHIM6_CMD_STATS_GET as u8;
    let mut out = Vec::new();
    sock.dump(family, cmd, uapi::SHIM6_GENL_VERSION as u8, |attrs| out.extend(stat_from_attrs(attrs)))
        .map_err(|e| format!("dumping counters: {e}"))?;
    Ok(stats_out(&out, json))
}

fn stat_from_attrs(attrs: &[Attr<'_>]) -> Option<(String, u64)> {
    let mut name = None;
    let mut value = 0;
    for at in attrs {
        match u32::from(at.kind) {
            uapi::shim6_genl_attr_SHIM6_A_STAT_NAME => {
                name = std::str::from_utf8(at.data).ok().map(|n| n.trim_end_matches('\0').to_string());
            }
            uapi::shim6_genl_attr_SHIM6_A_STAT_VALUE => value = at.u64().unwrap_or(0),
            _ => {}
        }
    }
    name.map(|n| (n, value))
}

fn stats_out(out: &[(String, u64)], json: bool) -> String {
    if json {
        // Names are the module's identifiers: nothing to escape.
        let items: Vec<String> = out.iter().map(|(n, v)| format!("\"{n}\":{v}")).collect();
        format!("{{{}}}\n", items.join(","))
    } else {
        out.iter().map(|(n, v)| format!("{n} {v}\n")).collect()
    }
}

/// Runs do command `cmd` with `attrs`; `what` names it in errors.
fn request(cmd: u32, attrs: &[(u16, &[u8])], what: &str) -> Result<String, String> {
    let (mut sock, family) = shim6_family()?;
    sock.request(family, cmd as u8, uapi::SHIM6_GENL_VERSION as u8, attrs).map_err(|e| refused(what, &e))?;
    Ok(String::new())
}

/// What to say when the module refuses `what`.
fn refused(what: &str, e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EPERM) => format!("{what} needs CAP_NET_ADMIN"),
        Some(libc::EINVAL) => format!("{what}: the module refused the value (EINVAL)"),
        Some(libc::ERANGE) => format!("{what}: the value is out of range (ERANGE)"),
        _ => format!("{what}: {e}"),
    }
}

fn hba_set(pds_hex: Option<&str>) -> Result<String, String> {
    let pds = pds_hex.map(hba::unhex_vec).transpose()?;
    let attr = uapi::shim6_genl_attr_SHIM6_A_HBA_PDS as u16;
    let attrs: Vec<(u16, &[u8])> = pds.as_deref().map(|p| (attr, p)).into_iter().collect();
    request(uapi::shim6_genl_cmd_SHIM6_CMD_HBA_SET, &attrs, "setting the HBA set")
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let mut json = false;
    while let Some(a) = args.peek() {
        match a.as_str() {
            "-j" | "-json" | "--json" => json = true,
            "-n" | "-netns" | "--netns" => {
                args.next();
                let Some(ns) = args.peek() else {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                };
                if let Err(e) = enter_netns(ns) {
                    eprintln!("shimctl: cannot enter network namespace \"{ns}\": {e}");
                    return ExitCode::FAILURE;
                }
            }
            "-h" | "-help" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => break,
        }
        args.next();
    }
    let rest: Vec<String> = args.collect();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let result = match rest.as_slice() {
        ["context"] | ["context", "show"] | ["ctx"] | ["ctx", "show"] => context_show(json),
        ["locator"] | ["locator", "show"] | ["loc"] | ["loc", "show"] => locator_show(json),
        ["stats"] | ["stats", "show"] => stats_show(json),
        ["monitor"] => monitor::run(json),
        ["context", "flush"] | ["ctx", "flush"] => {
            request(uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_FLUSH, &[], "flushing the contexts")
        }
        ["set", "enabled", v @ ("on" | "off")] => request(
            uapi::shim6_genl_cmd_SHIM6_CMD_NETNS_SET,
            &[(uapi::shim6_genl_attr_SHIM6_A_ENABLED as u16, &[u8::from(*v == "on")])],
            "switching SHIM6",
        ),
        ["set", "max-contexts", n] if n.parse::<u32>().is_ok() => request(
            uapi::shim6_genl_cmd_SHIM6_CMD_NETNS_SET,
            &[(uapi::shim6_genl_attr_SHIM6_A_MAX_CONTEXTS as u16, &n.parse::<u32>().unwrap_or(0).to_ne_bytes())],
            &format!("setting the context limit (1 to {})", uapi::SHIM6_MAX_CONTEXTS_LIMIT),
        ),
        ["hba", "set", pds] => hba_set(Some(pds)),
        ["hba", "clear"] => hba_set(None),
        ["hba", args @ ..] if args.first() != Some(&"set") => hba::run(args, json),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(s) => {
            print!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("shimctl: {e}");
            ExitCode::FAILURE
        }
    }
}
