// SPDX-License-Identifier: GPL-2.0

//! The options iterator and option parsers over an option area; the first
//! octet picks the message type whose rules apply.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shim6_core::proto::wire::options::{OptionRepr, OptionSet, Options, Tlv};

fuzz_target!(|data: &[u8]| {
    let Some((&t, area)) = data.split_first() else { return };
    let t = t & 0x7f;
    for item in Options::new(area, 0) {
        let Ok((_, tlv)) = item else { break };
        if let Ok(Some(opt)) = OptionRepr::parse(&tlv) {
            let mut buf = vec![0; opt.buffer_len()];
            assert_eq!(opt.emit(&mut buf), Ok(buf.len()));
            let again = OptionRepr::parse(&Tlv::new_checked(&buf[..]).unwrap());
            assert_eq!(again, Ok(Some(opt)));
        }
    }
    if let Ok(set) = OptionSet::parse(Options::new(area, 0), t) {
        let mut buf = vec![0; set.buffer_len()];
        assert_eq!(set.emit(&mut buf), Ok(buf.len()));
        assert_eq!(OptionSet::parse(Options::new(&buf, 0), t), Ok(set));
    }
});
