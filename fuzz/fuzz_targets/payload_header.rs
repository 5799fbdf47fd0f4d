// SPDX-License-Identifier: GPL-2.0

//! The payload extension header: view, parse, and removal followed by
//! insertion, which must give the packet back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shim6_core::proto::wire::payload::{self, PayloadHeader, PayloadRepr};
use shim6_core::proto::wire::Header;

fuzz_target!(|data: &[u8]| {
    let _ = Header::parse(data);
    if let Ok(view) = PayloadHeader::new_checked(data) {
        let repr = PayloadRepr::parse(&view).expect("a checked header parses");
        assert_eq!(repr.to_bytes()[..], data[..8]);
    }
    // The first octet says where the header is; octet 0 stands for the
    // preceding header's Next Header.  Removal moves the headers up by 8,
    // insertion back down: the packet comes back as it was.
    let Some(&at) = data.first() else { return };
    let offset = 1 + usize::from(at);
    let mut buf = data.to_vec();
    buf[0] = 140;
    let orig = buf.clone();
    if let Ok(tag) = payload::remove(&mut buf, offset, 0) {
        assert_eq!(payload::insert(&mut buf, offset, 0, tag), Ok(()));
        assert_eq!(buf, orig);
    }
});
