// SPDX-License-Identifier: GPL-2.0

//! Sequences of control messages fed to `Host::receive`: host X holds an
//! established context with V while a third host M sends whatever the
//! input says (REAP's Keepalives and Probes with reports included), from
//! itself or spoofed, echoing what X answered M, and time passes, with
//! X's REAP seeing its payload unanswered.  X must never point a context that is not M's own at M,
//! never send to a destination that is not a locator of the context's
//! peer, and never keep more state than the messages that earned it.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../core/tests/common/mod.rs"]
mod common;

use common::{Rng, TestMac as Mac, VecTable as Table};
use shim6_core::proto::context::*;

const fn addr(net: u8, host: u8) -> Addr {
    [0x20, 1, 0xd, 0xb8, net, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, host]
}
const X1: Addr = addr(0xa, 1);
const X2: Addr = addr(0xa, 2);
const V1: Addr = addr(0xb, 1);
const V2: Addr = addr(0xb, 2);
const M1: Addr = addr(0xe, 66);
const ALL_NODES: Addr = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const ADDRS: [Addr; 7] = [V1, V2, M1, X1, X2, ALL_NODES, [0; 16]];

fn rx(host: &mut Host, table: &mut Table, rng: &mut Rng, path: Path, msg: Message, now: Millis) -> Vec<Transmit> {
    host.receive(table, &Received { path, msg }, now, rng, &mut Mac).tx.into_iter().flatten().collect()
}

fuzz_target!(|data: &[u8]| {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut x = Host::new(Responder::new(0, &mut rng), Locators::new(&[X1, X2]));
    let mut v = Host::new(Responder::new(0, &mut rng), Locators::new(&[V1, V2]));
    let (mut xt, mut vt) = (Table::default(), Table::default());
    let (ctx, i1) = Context::initiate(UlidPair { local: V1, peer: X1 }, 0, ContextTag::from_masked(1), v.locators, Path { src: V1, dst: X1 }, 0, &mut rng);
    vt.0.push(ctx);
    let mut msg = Some(i1);
    for step in 0..4 {
        let Some(tx) = msg.take() else { break };
        let out = if step % 2 == 0 { rx(&mut x, &mut xt, &mut rng, tx.path, tx.msg, 1) } else { rx(&mut v, &mut vt, &mut rng, tx.path, tx.msg, 1) };
        msg = out.into_iter().next();
    }
    assert_eq!(xt.0.len(), 1, "the handshake established X's context");

    let mut now = 10;
    let (mut r1, mut r1bis) = (None, None);
    let mut earned = 1;
    for b in data.chunks_exact(8) {
        let src = ADDRS[usize::from(b[1]) % ADDRS.len()];
        let peer = ADDRS[usize::from(b[2]) % ADDRS.len()];
        let fii = u32::from(b[3] & 1) * 7;
        let word = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        let path = Path { src, dst: if b[3] & 2 == 0 { X1 } else { X2 } };
        let ulids = (b[3] & 4 != 0).then_some(UlidPair { local: path.dst, peer });
        let list = Locators::new(&[V1, V2][..usize::from(b[3] >> 6).min(2)]);
        let m = match b[0] % 10 {
            0 => Message::I1 { ct: ContextTag::from_masked(u64::from(word)), nonce: word, ulids, fii },
            1 => {
                let Some((resp_nonce, validator)) = r1 else { continue };
                Message::I2 { ct: ContextTag::from_masked(u64::from(word)), init_nonce: word, resp_nonce, validator, ulids, fii, locators: list }
            }
            2 => {
                let Some((packet_ct, resp_nonce, validator)) = r1bis else { continue };
                Message::I2bis { ct: ContextTag::from_masked(u64::from(word)), init_nonce: word, resp_nonce, packet_ct, validator, ulids, fii, locators: list }
            }
            3 => {
                let ct = xt.0.get(usize::from(b[2]) % xt.0.len().max(1)).map_or(ContextTag::from_masked(u64::from(word)), Context::ct_local);
                Message::UpdateRequest { ct, nonce: word, generation: word >> 3, locators: list, keepalive: (word & 1 == 1).then_some(word as u16) }
            }
            4 => {
                let ct = xt.0.first().map_or(ContextTag::default(), Context::ct_local);
                Message::UpdateAck { ct, nonce: word }
            }
            5 => Message::R2 { ct: ContextTag::from_masked(u64::from(word)), init_nonce: word, locators: list },
            8 | 9 => {
                let ct = xt.0.first().map_or(ContextTag::default(), Context::ct_local);
                if b[0] % 10 == 8 {
                    Message::Keepalive { ct }
                } else {
                    // A probe of its own, and a report claiming X's probe
                    // reached `peer` from one of X's locators.
                    let state = reap::ReapState::from_bits(b[3] & 3).unwrap_or(reap::ReapState::InboundOk);
                    let mut sent = reap::ProbeSet::default();
                    sent.push(reap::ProbeReport { source: path.src, destination: path.dst, nonce: word, data: 0 });
                    let mut received = reap::ProbeSet::default();
                    received.push(reap::ProbeReport { source: path.dst, destination: peer, nonce: word >> 1, data: 0 });
                    Message::Probe { ct, state, sent, received }
                }
            }
            6 => {
                if let Ok(t) = x.unknown_tag(ContextTag::from_masked(u64::from(word)), &path, now, &mut rng, &mut Mac) {
                    if let (Message::R1bis { packet_ct, resp_nonce, validator }, true) = (t.msg, t.path.dst == M1) {
                        r1bis = Some((packet_ct, resp_nonce, validator));
                    }
                }
                continue;
            }
            _ => {
                now += u64::from(word % 70_000);
                xt.0.retain_mut(|c| c.on_timeout(now, &mut rng) != Timeout::Forget);
                // X sent and heard nothing back: its REAP explores.
                let traffic = reap::Traffic { last_sent: now, last_received: 0, unanswered_since: Some(1), owed_since: None };
                for c in &mut xt.0 {
                    if let Some(t) = c.reap_timeout(now, &traffic, &mut rng) {
                        assert!(t.path.dst == c.ulids().peer || c.peer_locators().contains(&t.path.dst), "{t:x?} probes outside the peer's locators");
                    }
                }
                continue;
            }
        };
        let accepts = matches!(m, Message::I2 { .. } | Message::I2bis { .. });
        for t in rx(&mut x, &mut xt, &mut rng, path, m, now) {
            if t.path.dst != M1 {
                continue;
            }
            match t.msg {
                Message::R1 { resp_nonce, validator, .. } => r1 = Some((resp_nonce, validator)),
                Message::R1bis { packet_ct, resp_nonce, validator } => r1bis = Some((packet_ct, resp_nonce, validator)),
                _ => {}
            }
        }
        earned += usize::from(accepts);
        assert!(xt.0.len() <= earned, "state without an I2 or I2bis to earn it");
        for c in &xt.0 {
            if c.ulids().peer != M1 {
                assert!(c.path().dst != M1 && !c.peer_locators().contains(&M1), "{c:x?}");
            }
            if c.rewrites() {
                let p = c.path();
                assert!(p.dst == c.ulids().peer || c.peer_locators().contains(&p.dst), "{c:x?} sends outside the peer's locators");
            }
        }
    }
});
