// SPDX-License-Identifier: GPL-2.0

//! The shim6 protocol core, compiled for the host from the very files the
//! kernel module compiles (`src/proto/`), and the UAPI header through
//! bindgen, for tests.

#![no_std]

#[path = "../../src/proto/mod.rs"]
pub mod proto;

/// SHA-1 by the RustCrypto crate, for HBA on the host.
#[cfg(feature = "sha1")]
pub mod rustcrypto {
    use crate::proto::hba::{HashFailed, Sha1, DIGEST_LEN};
    use sha1::Digest;

    /// [`Sha1`] by RustCrypto.
    pub struct RustCrypto;

    impl Sha1 for RustCrypto {
        fn digest(&mut self, parts: &[&[u8]]) -> Result<[u8; DIGEST_LEN], HashFailed> {
            let mut h = sha1::Sha1::new();
            for p in parts {
                h.update(p);
            }
            Ok(h.finalize().into())
        }
    }
}

/// `include/uapi/linux/shim6.h` as bindgen sees it.
#[allow(dead_code, missing_docs, non_camel_case_types, non_upper_case_globals, clippy::all)]
pub mod uapi {
    include!(concat!(env!("OUT_DIR"), "/uapi.rs"));
}
