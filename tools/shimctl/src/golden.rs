// SPDX-License-Identifier: GPL-2.0

//! What shimctl prints for given replies of the module, byte for byte.
//!
//! The selftests, the demo and the benchmarks read this output, some by
//! position (`shim6_genl_perm.sh` seds `-j context show`), so it must not
//! change by accident. The replies are built here as the module sends them
//! (`src/genl.rs`, `src/monitor.rs`: one message per context, locator or
//! counter; 64-bit values after a pad attribute where the kernel puts one),
//! and the expected output was taken from shimctl as it printed before its
//! netlink and JSON code were replaced.

use std::time::Duration;

use netlink_packet_core::NetlinkPayload;
use netlink_packet_generic::GenlMessage;
use shim6_core::uapi;

use crate::monitor::{timestamp, Event};
use crate::netlink::{messages, Shim6};
use crate::refused;

// How the tests reach the formatting: the only part of this file that
// follows the code.

/// The messages as shimctl receives them, each in a datagram of its own.
fn parse(msgs: &[Vec<u8>]) -> Vec<Shim6> {
    let mut out = Vec::new();
    for m in msgs {
        for n in messages::<GenlMessage<Shim6>>(m).expect("a well-formed message") {
            match n.payload {
                NetlinkPayload::InnerMessage(g) => out.push(g.payload),
                other => panic!("not a shim6 message: {other:?}"),
            }
        }
    }
    out
}

fn contexts(msgs: &[Vec<u8>], json: bool) -> String {
    crate::show::contexts(&parse(msgs), json).expect("formatted")
}

fn locators(msgs: &[Vec<u8>], json: bool) -> String {
    crate::show::locators(&parse(msgs), json).expect("formatted")
}

fn stats(msgs: &[Vec<u8>], json: bool) -> String {
    crate::show::stats(&parse(msgs), json).expect("formatted")
}

/// An event as `shimctl monitor` prints it (every event here has a time).
fn event(msg: &[u8], json: bool) -> String {
    let e = Event::from_attrs(&parse(&[msg.to_vec()])[0].attrs);
    let time = timestamp(Duration::from_nanos(e.time.expect("the fixture has a time")));
    if json {
        e.json(&time).expect("formatted")
    } else {
        e.text(&time)
    }
}

fn refusal(what: &str, errno: i32) -> String {
    refused(what, &std::io::Error::from_raw_os_error(errno))
}

// The replies, as the kernel lays them out.

const NLMSG_HDRLEN: usize = 16;
/// The id the kernel gave the family (any: shimctl checks it only on
/// multicast).
const FAMILY: u16 = 0x1d;

/// A message of the shim6 family being built.
struct Msg(Vec<u8>);

impl Msg {
    fn new(cmd: u32) -> Self {
        let mut m = vec![0u8; NLMSG_HDRLEN];
        m.extend_from_slice(&[cmd as u8, uapi::SHIM6_GENL_VERSION as u8, 0, 0]);
        Msg(m)
    }

    fn put(mut self, kind: u32, data: &[u8]) -> Self {
        self.0.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        self.0.extend_from_slice(&(kind as u16).to_ne_bytes());
        self.0.extend_from_slice(data);
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
        self
    }

    fn u8(self, kind: u32, v: u8) -> Self {
        self.put(kind, &[v])
    }

    fn u32(self, kind: u32, v: u32) -> Self {
        self.put(kind, &v.to_ne_bytes())
    }

    /// As nla_put_64bit: a pad attribute first when the value would not
    /// be 8-aligned.
    fn u64(mut self, kind: u32, v: u64) -> Self {
        if !(self.0.len() + 4).is_multiple_of(8) {
            self = self.put(uapi::shim6_genl_attr_SHIM6_A_PAD, &[]);
        }
        self.put(kind, &v.to_ne_bytes())
    }

    fn addr(self, kind: u32, a: &str) -> Self {
        let a: std::net::Ipv6Addr = a.parse().expect("fixture address");
        self.put(kind, &a.octets())
    }

    fn done(mut self) -> Vec<u8> {
        let len = self.0.len() as u32;
        self.0[0..4].copy_from_slice(&len.to_ne_bytes());
        self.0[4..6].copy_from_slice(&FAMILY.to_ne_bytes());
        self.0[6..8].copy_from_slice(&(libc::NLM_F_MULTI as u16).to_ne_bytes());
        self.0[8..12].copy_from_slice(&2u32.to_ne_bytes());
        self.0
    }
}

use uapi::{
    shim6_genl_attr_SHIM6_A_CTX_BYTES_IN as BYTES_IN, shim6_genl_attr_SHIM6_A_CTX_BYTES_OUT as BYTES_OUT,
    shim6_genl_attr_SHIM6_A_CTX_CT_LOCAL as CT_LOCAL, shim6_genl_attr_SHIM6_A_CTX_CT_PEER as CT_PEER,
    shim6_genl_attr_SHIM6_A_CTX_FII as FII, shim6_genl_attr_SHIM6_A_CTX_KEEPALIVE_TIMEOUT as KEEPALIVE,
    shim6_genl_attr_SHIM6_A_CTX_LOCAL_LOCATOR as LOCAL_LOCATOR, shim6_genl_attr_SHIM6_A_CTX_LOC_LOCAL as LOC_LOCAL,
    shim6_genl_attr_SHIM6_A_CTX_LOC_PEER as LOC_PEER, shim6_genl_attr_SHIM6_A_CTX_OWNER as OWNER,
    shim6_genl_attr_SHIM6_A_CTX_PEER_LOCATOR as PEER_LOCATOR, shim6_genl_attr_SHIM6_A_CTX_PKTS_IN as PKTS_IN,
    shim6_genl_attr_SHIM6_A_CTX_PKTS_OUT as PKTS_OUT, shim6_genl_attr_SHIM6_A_CTX_REAP_STATE as REAP,
    shim6_genl_attr_SHIM6_A_CTX_SEND_TIMEOUT as SEND_TIMEOUT, shim6_genl_attr_SHIM6_A_CTX_STANDBY_AGE as STANDBY_AGE,
    shim6_genl_attr_SHIM6_A_CTX_STANDBY_LOCAL as STANDBY_LOCAL, shim6_genl_attr_SHIM6_A_CTX_STANDBY_PEER as STANDBY_PEER,
    shim6_genl_attr_SHIM6_A_CTX_STANDBY_SWITCHES as SWITCHES, shim6_genl_attr_SHIM6_A_CTX_STATE as STATE,
    shim6_genl_attr_SHIM6_A_CTX_ULID_LOCAL as ULID_LOCAL, shim6_genl_attr_SHIM6_A_CTX_ULID_PEER as ULID_PEER,
    shim6_genl_attr_SHIM6_A_EV_COUNT as EV_COUNT, shim6_genl_attr_SHIM6_A_EV_FROM_LOCAL as EV_FROM_LOCAL,
    shim6_genl_attr_SHIM6_A_EV_FROM_PEER as EV_FROM_PEER, shim6_genl_attr_SHIM6_A_EV_REACHABLE as EV_REACHABLE,
    shim6_genl_attr_SHIM6_A_EV_TIME as EV_TIME, shim6_genl_attr_SHIM6_A_EV_TYPE as EV_TYPE,
    shim6_genl_attr_SHIM6_A_LOC_ADDR as LOC_ADDR, shim6_genl_attr_SHIM6_A_LOC_FLAGS as LOC_FLAGS,
    shim6_genl_attr_SHIM6_A_STAT_NAME as STAT_NAME, shim6_genl_attr_SHIM6_A_STAT_VALUE as STAT_VALUE,
};

/// A context as root sees it: established, both tags, both lists, REAP,
/// a verified hot-standby pair, traffic.
fn established() -> Vec<u8> {
    Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_GET)
        .u8(STATE, uapi::shim6_ctx_state_SHIM6_CTX_ESTABLISHED as u8)
        .addr(ULID_LOCAL, "2001:db8:a1::1c")
        .addr(ULID_PEER, "2001:db8:b1::2d")
        .u32(FII, 0)
        .u64(CT_LOCAL, 0x1234_5678_9abc)
        .u64(CT_PEER, 0x7fff_ffff_ffff)
        .addr(LOC_LOCAL, "2001:db8:a2::3e")
        .addr(LOC_PEER, "2001:db8:b2::4f")
        .addr(PEER_LOCATOR, "2001:db8:b1::2d")
        .addr(PEER_LOCATOR, "2001:db8:b2::4f")
        .addr(LOCAL_LOCATOR, "2001:db8:a1::1c")
        .addr(LOCAL_LOCATOR, "2001:db8:a2::3e")
        .u8(REAP, uapi::shim6_reap_state_SHIM6_REAP_OPERATIONAL as u8)
        .u32(SEND_TIMEOUT, 10_000)
        .u32(KEEPALIVE, 1_500)
        .u32(SWITCHES, 2)
        .addr(STANDBY_LOCAL, "2001:db8:a1::1c")
        .addr(STANDBY_PEER, "2001:db8:b1::2d")
        .u32(STANDBY_AGE, 1_234)
        .u64(PKTS_OUT, 12)
        .u64(BYTES_OUT, 3_456)
        .u64(PKTS_IN, 7)
        .u64(BYTES_IN, 18_446_744_073_709_551_615)
        .done()
}

/// A fork being set up, as a user without CAP_NET_ADMIN sees it: no
/// tags, no lists, no REAP.
fn forked_i1() -> Vec<u8> {
    Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_GET)
        .u8(STATE, uapi::shim6_ctx_state_SHIM6_CTX_I1_SENT as u8)
        .addr(ULID_LOCAL, "2001:db8:1::a")
        .addr(ULID_PEER, "2001:db8:1::b")
        .u32(FII, 1)
        .u32(OWNER, 40_961)
        .addr(LOC_LOCAL, "2001:db8:1::a")
        .addr(LOC_PEER, "2001:db8:1::b")
        .u64(PKTS_OUT, 0)
        .u64(BYTES_OUT, 0)
        .u64(PKTS_IN, 0)
        .u64(BYTES_IN, 0)
        .done()
}

/// Established, exploring, hot standby on with a pair not yet verified.
fn exploring_unverified() -> Vec<u8> {
    Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_GET)
        .u8(STATE, uapi::shim6_ctx_state_SHIM6_CTX_ESTABLISHED as u8)
        .addr(ULID_LOCAL, "2001:db8:a1::1c")
        .addr(ULID_PEER, "2001:db8:c1::5")
        .u32(FII, 0)
        .u64(CT_LOCAL, 1)
        .addr(LOC_LOCAL, "2001:db8:a1::1c")
        .addr(LOC_PEER, "2001:db8:c1::5")
        .u8(REAP, uapi::shim6_reap_state_SHIM6_REAP_EXPLORING as u8)
        .u32(SEND_TIMEOUT, 999)
        .u32(KEEPALIVE, 15_000)
        .u32(SWITCHES, 0)
        .addr(STANDBY_LOCAL, "2001:db8:a2::3e")
        .addr(STANDBY_PEER, "2001:db8:c1::5")
        .u64(PKTS_OUT, 1)
        .u64(BYTES_OUT, 2)
        .u64(PKTS_IN, 3)
        .u64(BYTES_IN, 4)
        .done()
}

/// Hot standby on without a pair; states the tool does not know; an
/// attribute it does not know (a newer module's), which it skips.
fn odd() -> Vec<u8> {
    Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_GET)
        .u8(STATE, 99)
        .addr(ULID_LOCAL, "::1")
        .addr(ULID_PEER, "fe80::1")
        .u32(FII, 4_294_967_295)
        .put(200, b"future")
        .u8(REAP, 9)
        .u32(SEND_TIMEOUT, 0)
        .u32(KEEPALIVE, 4_294_967_295)
        .u32(SWITCHES, 0)
        .u64(PKTS_OUT, 0)
        .u64(BYTES_OUT, 0)
        .u64(PKTS_IN, 0)
        .u64(BYTES_IN, 0)
        .done()
}

/// A context whose every attribute but the state is missing, and one
/// with a truncated address (ignored): what a malformed reply leaves.
fn bare() -> Vec<u8> {
    Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_GET)
        .u8(STATE, uapi::shim6_ctx_state_SHIM6_CTX_E_FAILED as u8)
        .put(ULID_LOCAL, &[0x20, 0x01, 0x0d, 0xb8])
        .done()
}

fn all_contexts() -> Vec<Vec<u8>> {
    vec![established(), forked_i1(), exploring_unverified(), odd(), bare()]
}

#[test]
fn context_show_text() {
    assert_eq!(contexts(&all_contexts(), false), concat!(
        "ulid 2001:db8:a1::1c > 2001:db8:b1::2d state established fii 0\n",
        "    ct-local 0x123456789abc ct-peer 0x7fffffffffff\n",
        "    locators 2001:db8:a2::3e > 2001:db8:b2::4f\n",
        "    local-locators 2001:db8:a1::1c 2001:db8:a2::3e\n",
        "    peer-locators 2001:db8:b1::2d 2001:db8:b2::4f\n",
        "    reap operational send-timeout 10.000s keepalive-timeout 1.500s\n",
        "    hot-standby 2001:db8:a1::1c > 2001:db8:b1::2d verified 1.234s ago switches 2\n",
        "    shimmed out 12 packets 3456 bytes in 7 packets 18446744073709551615 bytes\n",
        "ulid 2001:db8:1::a > 2001:db8:1::b state i1-sent fii 1 owner ino 40961\n",
        "    ct-local - ct-peer -\n",
        "    locators 2001:db8:1::a > 2001:db8:1::b\n",
        "    shimmed out 0 packets 0 bytes in 0 packets 0 bytes\n",
        "ulid 2001:db8:a1::1c > 2001:db8:c1::5 state established fii 0\n",
        "    ct-local 0x1 ct-peer -\n",
        "    locators 2001:db8:a1::1c > 2001:db8:c1::5\n",
        "    reap exploring send-timeout 0.999s keepalive-timeout 15.000s\n",
        "    hot-standby 2001:db8:a2::3e > 2001:db8:c1::5 unverified switches 0\n",
        "    shimmed out 1 packets 2 bytes in 3 packets 4 bytes\n",
        "ulid ::1 > fe80::1 state unknown fii 4294967295\n",
        "    ct-local - ct-peer -\n",
        "    locators - > -\n",
        "    reap unknown send-timeout 0.000s keepalive-timeout 4294967.295s\n",
        "    hot-standby - switches 0\n",
        "    shimmed out 0 packets 0 bytes in 0 packets 0 bytes\n",
        "ulid - > - state e-failed fii 0\n",
        "    ct-local - ct-peer -\n",
        "    locators - > -\n",
        "    shimmed out 0 packets 0 bytes in 0 packets 0 bytes\n",
    ));
}

#[test]
fn context_show_json() {
    assert_eq!(contexts(&all_contexts(), true), "[{\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"state\":\"established\",\"fii\":0,\"ct_local\":20015998343868,\"ct_peer\":140737488355327,\"locator_local\":\"2001:db8:a2::3e\",\"locator_peer\":\"2001:db8:b2::4f\",\"local_locators\":[\"2001:db8:a1::1c\",\"2001:db8:a2::3e\"],\"peer_locators\":[\"2001:db8:b1::2d\",\"2001:db8:b2::4f\"],\"reap\":\"operational\",\"send_timeout_ms\":10000,\"keepalive_timeout_ms\":1500,\"standby_local\":\"2001:db8:a1::1c\",\"standby_peer\":\"2001:db8:b1::2d\",\"standby_age_ms\":1234,\"standby_switches\":2,\"packets_out\":12,\"bytes_out\":3456,\"packets_in\":7,\"bytes_in\":18446744073709551615,\"owner_ino\":null},{\"ulid_local\":\"2001:db8:1::a\",\"ulid_peer\":\"2001:db8:1::b\",\"state\":\"i1-sent\",\"fii\":1,\"ct_local\":null,\"ct_peer\":null,\"locator_local\":\"2001:db8:1::a\",\"locator_peer\":\"2001:db8:1::b\",\"local_locators\":[],\"peer_locators\":[],\"reap\":null,\"send_timeout_ms\":null,\"keepalive_timeout_ms\":null,\"standby_local\":null,\"standby_peer\":null,\"standby_age_ms\":null,\"standby_switches\":null,\"packets_out\":0,\"bytes_out\":0,\"packets_in\":0,\"bytes_in\":0,\"owner_ino\":40961},{\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:c1::5\",\"state\":\"established\",\"fii\":0,\"ct_local\":1,\"ct_peer\":null,\"locator_local\":\"2001:db8:a1::1c\",\"locator_peer\":\"2001:db8:c1::5\",\"local_locators\":[],\"peer_locators\":[],\"reap\":\"exploring\",\"send_timeout_ms\":999,\"keepalive_timeout_ms\":15000,\"standby_local\":\"2001:db8:a2::3e\",\"standby_peer\":\"2001:db8:c1::5\",\"standby_age_ms\":null,\"standby_switches\":0,\"packets_out\":1,\"bytes_out\":2,\"packets_in\":3,\"bytes_in\":4,\"owner_ino\":null},{\"ulid_local\":\"::1\",\"ulid_peer\":\"fe80::1\",\"state\":\"unknown\",\"fii\":4294967295,\"ct_local\":null,\"ct_peer\":null,\"locator_local\":null,\"locator_peer\":null,\"local_locators\":[],\"peer_locators\":[],\"reap\":\"unknown\",\"send_timeout_ms\":0,\"keepalive_timeout_ms\":4294967295,\"standby_local\":null,\"standby_peer\":null,\"standby_age_ms\":null,\"standby_switches\":0,\"packets_out\":0,\"bytes_out\":0,\"packets_in\":0,\"bytes_in\":0,\"owner_ino\":null},{\"ulid_local\":null,\"ulid_peer\":null,\"state\":\"e-failed\",\"fii\":0,\"ct_local\":null,\"ct_peer\":null,\"locator_local\":null,\"locator_peer\":null,\"local_locators\":[],\"peer_locators\":[],\"reap\":null,\"send_timeout_ms\":null,\"keepalive_timeout_ms\":null,\"standby_local\":null,\"standby_peer\":null,\"standby_age_ms\":null,\"standby_switches\":null,\"packets_out\":0,\"bytes_out\":0,\"packets_in\":0,\"bytes_in\":0,\"owner_ino\":null}]\n");
}

#[test]
fn context_show_without_contexts() {
    assert_eq!(contexts(&[], false), "");
    assert_eq!(contexts(&[], true), "[]\n");
}

/// The key that `shim6_genl_perm.sh` seds the local tag out of.
#[test]
fn context_show_json_keeps_the_order_scripts_read() {
    let out = contexts(&[established()], true);
    assert!(out.contains("\"state\":\"established\",\"fii\":0,\"ct_local\":20015998343868,"), "{out}");
    let out = contexts(&[forked_i1()], true);
    assert!(out.contains("\"state\":\"i1-sent\",\"fii\":1,\"ct_local\":null,\"ct_peer\":null,"), "{out}");
    assert!(out.ends_with(",\"owner_ino\":40961}]\n"), "{out}");
}

fn all_locators() -> Vec<Vec<u8>> {
    let loc = |a: &str, flags: u32| {
        Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_LOCATOR_GET).addr(LOC_ADDR, a).u32(LOC_FLAGS, flags).done()
    };
    vec![
        loc("2001:db8:a1::1c", uapi::SHIM6_LOC_F_LOCATOR),
        loc("2001:db8:a2::3e", uapi::SHIM6_LOC_F_LOCATOR | 0x10),
        loc("2001:db8:ff::1", 0),
        // No address: nothing to print.
        Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_LOCATOR_GET).u32(LOC_FLAGS, 1).done(),
        // No flags: not a locator.
        Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_LOCATOR_GET).addr(LOC_ADDR, "2001:db8:ff::2").done(),
    ]
}

#[test]
fn locator_show() {
    assert_eq!(locators(&all_locators(), false), concat!(
        "2001:db8:a1::1c locator\n",
        "2001:db8:a2::3e locator\n",
        "2001:db8:ff::1\n",
        "2001:db8:ff::2\n",
    ));
    assert_eq!(locators(&all_locators(), true), "[{\"address\":\"2001:db8:a1::1c\",\"locator\":true},{\"address\":\"2001:db8:a2::3e\",\"locator\":true},{\"address\":\"2001:db8:ff::1\",\"locator\":false},{\"address\":\"2001:db8:ff::2\",\"locator\":false}]\n");
    assert_eq!(locators(&[], false), "");
    assert_eq!(locators(&[], true), "[]\n");
}

fn all_stats() -> Vec<Vec<u8>> {
    let stat = |name: &str, v: u64| {
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_STATS_GET).put(STAT_NAME, &n).u64(STAT_VALUE, v).done()
    };
    vec![
        stat("malformed", 3),
        stat("invalid_locator", 0),
        stat("hold_full", 18_446_744_073_709_551_615),
        // No name: skipped.
        Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_STATS_GET).u64(STAT_VALUE, 5).done(),
        stat("contexts", 2),
        stat("max_contexts", 16_384),
    ]
}

#[test]
fn stats_show() {
    assert_eq!(stats(&all_stats(), false), concat!(
        "malformed 3\n",
        "invalid_locator 0\n",
        "hold_full 18446744073709551615\n",
        "contexts 2\n",
        "max_contexts 16384\n",
    ));
    assert_eq!(stats(&all_stats(), true), "{\"malformed\":3,\"invalid_locator\":0,\"hold_full\":18446744073709551615,\"contexts\":2,\"max_contexts\":16384}\n");
    assert_eq!(stats(&[], false), "");
    assert_eq!(stats(&[], true), "{}\n");
}

/// 2026-11-30T12:33:29.530123456Z plus `ms`.
fn at(ms: u64) -> u64 {
    1_796_042_009_530_000_000 + ms * 1_000_000 + 123_456
}

fn ev(kind: u32, ms: u64) -> Msg {
    Msg::new(uapi::shim6_genl_cmd_SHIM6_CMD_EVENT).u8(EV_TYPE, kind as u8).u64(EV_TIME, at(ms))
}

fn ctx(m: Msg, fii: u32) -> Msg {
    m.addr(ULID_LOCAL, "2001:db8:a1::1c").addr(ULID_PEER, "2001:db8:b1::2d").u32(FII, fii)
}

fn all_events() -> Vec<Vec<u8>> {
    use uapi::*;
    vec![
        ctx(ev(shim6_event_SHIM6_EV_STATE, 0), 0).u8(STATE, shim6_ctx_state_SHIM6_CTX_ESTABLISHED as u8).done(),
        ctx(ev(shim6_event_SHIM6_EV_STATE, 1), 3).u8(STATE, shim6_ctx_state_SHIM6_CTX_I2BIS_SENT as u8).done(),
        // A state event without its state.
        ctx(ev(shim6_event_SHIM6_EV_STATE, 2), 0).done(),
        ctx(ev(shim6_event_SHIM6_EV_REAP, 3), 0).u8(REAP, shim6_reap_state_SHIM6_REAP_EXPLORING as u8).done(),
        ctx(ev(shim6_event_SHIM6_EV_PROBE_SENT, 4), 0)
            .addr(LOC_LOCAL, "2001:db8:a2::3e")
            .addr(LOC_PEER, "2001:db8:b2::4f")
            .u8(REAP, shim6_reap_state_SHIM6_REAP_EXPLORING as u8)
            .u32(EV_COUNT, 3)
            .done(),
        ctx(ev(shim6_event_SHIM6_EV_PROBE_HEARD, 11), 0)
            .addr(LOC_LOCAL, "2001:db8:a2::3e")
            .addr(LOC_PEER, "2001:db8:b2::4f")
            .u8(REAP, shim6_reap_state_SHIM6_REAP_INBOUND_OK as u8)
            .u32(EV_COUNT, 1)
            .done(),
        ctx(ev(shim6_event_SHIM6_EV_MOVED, 11), 0)
            .addr(LOC_LOCAL, "2001:db8:a2::3e")
            .addr(LOC_PEER, "2001:db8:b2::4f")
            .addr(EV_FROM_LOCAL, "2001:db8:a1::1c")
            .addr(EV_FROM_PEER, "2001:db8:b1::2d")
            .done(),
        ctx(ev(shim6_event_SHIM6_EV_FEEDBACK, 20), 0).u8(EV_REACHABLE, 1).u32(EV_COUNT, 1).done(),
        ctx(ev(shim6_event_SHIM6_EV_FEEDBACK, 21), 0).u8(EV_REACHABLE, 0).u32(EV_COUNT, 2).done(),
        ctx(ev(shim6_event_SHIM6_EV_GONE, 60_000), 7).done(),
        ev(shim6_event_SHIM6_EV_LOST, 86_400_000).u32(EV_COUNT, 5).done(),
        ctx(ev(42, 86_400_001), 0).done(),
    ]
}

#[test]
fn monitor_text() {
    let out: String = all_events().iter().map(|m| event(m, false)).collect();
    assert_eq!(out, concat!(
        "2026-11-30T12:33:29.530Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d state established\n",
        "2026-11-30T12:33:29.531Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d fii 3 state i2bis-sent\n",
        "2026-11-30T12:33:29.532Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d state unknown\n",
        "2026-11-30T12:33:29.533Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d reap exploring\n",
        "2026-11-30T12:33:29.534Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d probe-sent 2001:db8:a2::3e > 2001:db8:b2::4f exploring x3\n",
        "2026-11-30T12:33:29.541Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d probe-heard 2001:db8:a2::3e < 2001:db8:b2::4f inbound-ok\n",
        "2026-11-30T12:33:29.541Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d moved 2001:db8:a1::1c > 2001:db8:b1::2d to 2001:db8:a2::3e > 2001:db8:b2::4f\n",
        "2026-11-30T12:33:29.550Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d feedback reachable\n",
        "2026-11-30T12:33:29.551Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d feedback unreachable x2\n",
        "2026-11-30T12:34:29.530Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d fii 7 gone\n",
        "2026-12-01T12:33:29.530Z lost 5 events\n",
        "2026-12-01T12:33:29.531Z ulid 2001:db8:a1::1c > 2001:db8:b1::2d unknown\n",
    ));
}

#[test]
fn monitor_json() {
    let out: String = all_events().iter().map(|m| event(m, true)).collect();
    assert_eq!(out, "{\"time\":\"2026-11-30T12:33:29.530Z\",\"event\":\"state\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"fii\":0,\"state\":\"established\"}\n{\"time\":\"2026-11-30T12:33:29.531Z\",\"event\":\"state\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"fii\":3,\"state\":\"i2bis-sent\"}\n{\"time\":\"2026-11-30T12:33:29.532Z\",\"event\":\"state\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"fii\":0}\n{\"time\":\"2026-11-30T12:33:29.533Z\",\"event\":\"reap\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"fii\":0,\"reap\":\"exploring\"}\n{\"time\":\"2026-11-30T12:33:29.534Z\",\"event\":\"probe-sent\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"locator_local\":\"2001:db8:a2::3e\",\"locator_peer\":\"2001:db8:b2::4f\",\"fii\":0,\"reap\":\"exploring\",\"count\":3}\n{\"time\":\"2026-11-30T12:33:29.541Z\",\"event\":\"probe-heard\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"locator_local\":\"2001:db8:a2::3e\",\"locator_peer\":\"2001:db8:b2::4f\",\"fii\":0,\"reap\":\"inbound-ok\",\"count\":1}\n{\"time\":\"2026-11-30T12:33:29.541Z\",\"event\":\"moved\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"locator_local\":\"2001:db8:a2::3e\",\"locator_peer\":\"2001:db8:b2::4f\",\"from_local\":\"2001:db8:a1::1c\",\"from_peer\":\"2001:db8:b1::2d\",\"fii\":0}\n{\"time\":\"2026-11-30T12:33:29.550Z\",\"event\":\"feedback\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"fii\":0,\"reachable\":true,\"count\":1}\n{\"time\":\"2026-11-30T12:33:29.551Z\",\"event\":\"feedback\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"fii\":0,\"reachable\":false,\"count\":2}\n{\"time\":\"2026-11-30T12:34:29.530Z\",\"event\":\"gone\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"fii\":7}\n{\"time\":\"2026-12-01T12:33:29.530Z\",\"event\":\"lost\",\"count\":5}\n{\"time\":\"2026-12-01T12:33:29.531Z\",\"event\":\"unknown\",\"ulid_local\":\"2001:db8:a1::1c\",\"ulid_peer\":\"2001:db8:b1::2d\",\"fii\":0}\n");
}

#[test]
fn monitor_timestamps() {
    assert_eq!(timestamp(Duration::ZERO), "1970-01-01T00:00:00.000Z");
    assert_eq!(timestamp(Duration::from_millis(951_782_400_999)), "2000-02-29T00:00:00.999Z");
    assert_eq!(timestamp(Duration::from_secs(4_107_542_399)), "2100-02-28T23:59:59.000Z");
}

/// What a refused do-command says (shim6_genl_perm.sh greps the first).
#[test]
fn refusals() {
    assert_eq!(refusal("setting the HBA set", libc::EPERM), "setting the HBA set needs CAP_NET_ADMIN");
    assert_eq!(refusal("switching SHIM6", libc::EINVAL), "switching SHIM6: the module refused the value (EINVAL)");
    assert_eq!(refusal("setting the context limit (1 to 1048576)", libc::ERANGE), "setting the context limit (1 to 1048576): the value is out of range (ERANGE)");
    assert_eq!(refusal("flushing the contexts", libc::ENOBUFS), "flushing the contexts: No buffer space available (os error 105)");
}
