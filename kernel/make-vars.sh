# shellcheck shell=bash
# Make variables for building the kernel and modules against it with
# Debian's rustc (the rustup toolchain on PATH has no rust-src).
KMAKE_VARS=(
	LLVM=1
	RUSTC=/usr/bin/rustc
	HOSTRUSTC=/usr/bin/rustc
	RUSTDOC=/usr/bin/rustdoc
	RUST_LIB_SRC=/usr/src/rustc-1.96.0/library
)
