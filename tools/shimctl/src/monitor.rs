// SPDX-License-Identifier: GPL-2.0

//! `shimctl monitor`: one line per change of a context, as `ip monitor`
//! prints them, with the time the module told it (UTC).

use std::io::{self, Write as _};
use std::net::Ipv6Addr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use shim6_core::uapi;

use crate::netlink::{Attr, Shim6Socket};
use crate::show::{addr, json_line, reap_name, state_name};

/// What one event message says.
#[derive(Default)]
pub(crate) struct Event {
    kind: u32,
    ulid_local: Option<Ipv6Addr>,
    ulid_peer: Option<Ipv6Addr>,
    fii: u32,
    state: Option<u8>,
    reap: Option<u8>,
    local: Option<Ipv6Addr>,
    peer: Option<Ipv6Addr>,
    from_local: Option<Ipv6Addr>,
    from_peer: Option<Ipv6Addr>,
    count: Option<u32>,
    reachable: Option<u8>,
    /// When the module told it, ns since the epoch.
    pub(crate) time: Option<u64>,
}

impl Event {
    pub(crate) fn from_attrs(attrs: &[Attr]) -> Self {
        let mut e = Event::default();
        for a in attrs {
            match u32::from(a.kind) {
                uapi::shim6_genl_attr_SHIM6_A_EV_TYPE => e.kind = a.u8().map_or(0, u32::from),
                uapi::shim6_genl_attr_SHIM6_A_CTX_ULID_LOCAL => e.ulid_local = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_CTX_ULID_PEER => e.ulid_peer = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_CTX_FII => e.fii = a.u32().unwrap_or(0),
                uapi::shim6_genl_attr_SHIM6_A_CTX_STATE => e.state = a.u8(),
                uapi::shim6_genl_attr_SHIM6_A_CTX_REAP_STATE => e.reap = a.u8(),
                uapi::shim6_genl_attr_SHIM6_A_CTX_LOC_LOCAL => e.local = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_CTX_LOC_PEER => e.peer = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_EV_FROM_LOCAL => e.from_local = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_EV_FROM_PEER => e.from_peer = addr(a),
                uapi::shim6_genl_attr_SHIM6_A_EV_COUNT => e.count = a.u32(),
                uapi::shim6_genl_attr_SHIM6_A_EV_REACHABLE => e.reachable = a.u8(),
                uapi::shim6_genl_attr_SHIM6_A_EV_TIME => e.time = a.u64(),
                _ => {}
            }
        }
        e
    }

    fn name(&self) -> &'static str {
        match self.kind {
            uapi::shim6_event_SHIM6_EV_STATE => "state",
            uapi::shim6_event_SHIM6_EV_REAP => "reap",
            uapi::shim6_event_SHIM6_EV_MOVED => "moved",
            uapi::shim6_event_SHIM6_EV_PROBE_SENT => "probe-sent",
            uapi::shim6_event_SHIM6_EV_PROBE_HEARD => "probe-heard",
            uapi::shim6_event_SHIM6_EV_FEEDBACK => "feedback",
            uapi::shim6_event_SHIM6_EV_GONE => "gone",
            uapi::shim6_event_SHIM6_EV_LOST => "lost",
            _ => "unknown",
        }
    }

    pub(crate) fn text(&self, time: &str) -> String {
        let a = |a: Option<Ipv6Addr>| a.map_or("-".to_string(), |a| a.to_string());
        let count = self.count.unwrap_or(1);
        let times = if count > 1 { format!(" x{count}") } else { String::new() };
        if self.kind == uapi::shim6_event_SHIM6_EV_LOST {
            return format!("{time} lost {count} events\n");
        }
        let fii = if self.fii != 0 { format!(" fii {}", self.fii) } else { String::new() };
        let what = match self.kind {
            uapi::shim6_event_SHIM6_EV_STATE => format!("state {}", self.state.map_or("unknown", state_name)),
            uapi::shim6_event_SHIM6_EV_REAP => format!("reap {}", reap_name(self.reap)),
            uapi::shim6_event_SHIM6_EV_MOVED => {
                format!("moved {} > {} to {} > {}", a(self.from_local), a(self.from_peer), a(self.local), a(self.peer))
            }
            uapi::shim6_event_SHIM6_EV_PROBE_SENT => {
                format!("probe-sent {} > {} {}{times}", a(self.local), a(self.peer), reap_name(self.reap))
            }
            uapi::shim6_event_SHIM6_EV_PROBE_HEARD => {
                format!("probe-heard {} < {} {}{times}", a(self.local), a(self.peer), reap_name(self.reap))
            }
            uapi::shim6_event_SHIM6_EV_FEEDBACK => {
                let how = if self.reachable == Some(1) { "reachable" } else { "unreachable" };
                format!("feedback {how}{times}")
            }
            uapi::shim6_event_SHIM6_EV_GONE => "gone".to_string(),
            _ => "unknown".to_string(),
        };
        format!("{time} ulid {} > {}{fii} {what}\n", a(self.ulid_local), a(self.ulid_peer))
    }

    pub(crate) fn json(&self, time: &str) -> Result<String, String> {
        let lost = self.kind == uapi::shim6_event_SHIM6_EV_LOST;
        json_line(&EventJson {
            time,
            event: self.name(),
            ulid_local: self.ulid_local,
            ulid_peer: self.ulid_peer,
            locator_local: self.local,
            locator_peer: self.peer,
            from_local: self.from_local,
            from_peer: self.from_peer,
            fii: (!lost).then_some(self.fii),
            state: self.state.map(state_name),
            reap: self.reap.map(|r| reap_name(Some(r))),
            reachable: self.reachable.map(|r| r == 1),
            count: self.count,
        })
    }
}

/// `-j monitor`'s object: what the event has, in this order.
#[derive(Serialize)]
struct EventJson<'a> {
    time: &'a str,
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ulid_local: Option<Ipv6Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ulid_peer: Option<Ipv6Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locator_local: Option<Ipv6Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locator_peer: Option<Ipv6Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_local: Option<Ipv6Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_peer: Option<Ipv6Addr>,
    /// Every event but `lost` names a context.
    #[serde(skip_serializing_if = "Option::is_none")]
    fii: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reap: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reachable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
}

/// `d` since the epoch, as `2026-11-30T12:34:56.789Z`.
pub(crate) fn timestamp(d: Duration) -> String {
    let secs = d.as_secs();
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        d.subsec_millis()
    )
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// An overrun of the socket's buffer, as the monitor tells it.
#[derive(Serialize)]
struct OverrunJson<'a> {
    time: &'a str,
    event: &'static str,
}

/// Prints every event of the namespace until killed (or stdout closes).
pub fn run(json: bool) -> Result<String, String> {
    let mut sock = Shim6Socket::open()?;
    let want = uapi::SHIM6_GENL_MCGRP_EVENTS.split(|&b| b == 0).next().unwrap_or_default();
    let group = sock
        .groups
        .iter()
        .find(|(n, _)| n.as_bytes() == want)
        .map(|&(_, id)| id)
        .ok_or("the shim6 module has no events group (an older module?)")?;
    sock.nl.join(group).map_err(|e| format!("joining the events group: {e}"))?;
    let cmd = uapi::shim6_genl_cmd_SHIM6_CMD_EVENT as u8;
    let mut out = io::stdout().lock();
    let mut failed = None;
    loop {
        let r = sock.nl.listen(sock.family, |m| {
            if m.cmd != cmd {
                return true;
            }
            let e = Event::from_attrs(&m.attrs);
            // The module's time of the change; ours if it has none.
            let time = timestamp(e.time.map_or_else(now, Duration::from_nanos));
            let line = if json { e.json(&time) } else { Ok(e.text(&time)) };
            match line {
                Ok(line) => out.write_all(line.as_bytes()).and_then(|()| out.flush()).is_ok(),
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        match r {
            // The socket's buffer overflowed: said, and on.
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                let time = timestamp(now());
                let line = if json {
                    json_line(&OverrunJson { time: &time, event: "overrun" })?
                } else {
                    format!("{time} overrun: events lost (ENOBUFS)\n")
                };
                if out.write_all(line.as_bytes()).and_then(|()| out.flush()).is_err() {
                    return Ok(String::new());
                }
            }
            Err(e) => return Err(format!("listening: {e}")),
            // stdout closed.
            Ok(()) => return Ok(String::new()),
        }
    }
}
