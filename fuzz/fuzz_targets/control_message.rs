// SPDX-License-Identifier: GPL-2.0

//! Control messages of any type: whatever parses must emit and parse back
//! to itself.  Each input is tried as is and with its checksum fixed, so
//! that mutations get past the checksum.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shim6_core::proto::wire::control::Packet;
use shim6_core::proto::wire::message::Repr;

fn check(data: &[u8]) {
    let Ok(packet) = Packet::new_checked(data) else { return };
    let _ = packet.options().map(Iterator::count);
    if let Ok(repr) = Repr::parse(&packet) {
        let mut buf = vec![0; repr.buffer_len()];
        assert_eq!(repr.emit(&mut buf), Ok(buf.len()));
        let again = Repr::parse(&Packet::new_checked(&buf[..]).expect("emitted lengths"));
        assert_eq!(again, Ok(repr));
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut fixed = data.to_vec();
    Packet::new_unchecked(&mut fixed[..]).fill_checksum();
    check(&fixed);
});
