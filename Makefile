# SPDX-License-Identifier: GPL-2.0
#
# make check   host tests, then KUnit and the kselftests in a virtme-ng VM
# make run     boot the VM and show the module at work
# make install the module, shimctl with its man page and completions, shimcat, the
#              UAPI header and the docs (PREFIX, DESTDIR)
#
# The kernel is built once and cached outside the tree (kernel/build.sh);
# only the module, shimctl and the selftests are rebuilt here.

SHELL := /bin/bash
.DEFAULT_GOAL := check

BUILD := build
KDIR_FILE := $(BUILD)/kdir
CARGO ?= cargo
BINDGEN ?= $(shell command -v bindgen || echo $(HOME)/.cargo/bin/bindgen)
KMAKE_VARS := $(shell source kernel/make-vars.sh && echo "$${KMAKE_VARS[@]}")
KDIR = $(shell cat $(KDIR_FILE))
BENCH_KDIR_FILE := $(BUILD)/kdir-bench
BENCH_MODULE := $(BUILD)/bench-module

# Where make install puts things; DESTDIR stages them (packaging).
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
INCLUDEDIR ?= $(PREFIX)/include
DOCDIR ?= $(PREFIX)/share/doc/shim6
DATADIR ?= $(PREFIX)/share
SHIMCTL_RELEASE := target/release/shimctl
SHIMCAT_RELEASE := target/release/shimcat

.PHONY: check run bench bench-module bench-control deps kernel module selftests shimctl host-test clean FORCE \
	install install-module install-shimctl install-shimcat install-header install-doc

deps:
	@tools/setup/setup-deps.sh

# kernel/build.sh decides whether anything needs building.
$(KDIR_FILE): FORCE | deps
	@mkdir -p $(BUILD)
	@kernel/build.sh > $@.tmp && mv $@.tmp $@
kernel: $(KDIR_FILE)

# The benchmark kernel: the test kernel without its debugging.
$(BENCH_KDIR_FILE): FORCE | deps
	@mkdir -p $(BUILD)
	@kernel/build-bench.sh > $@.tmp && mv $@.tmp $@

src/uapi_generated.rs: include/uapi/linux/shim6.h | deps
	$(BINDGEN) --use-core --ctypes-prefix core::ffi --no-layout-tests $< -o $@ -- -Iinclude/uapi

module: kernel src/uapi_generated.rs
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS) modules

selftests: kernel
	$(MAKE) -C selftests KDIR=$(KDIR)

# shimctl, and shimcat, the Rust crate's example: optimised, as the VM's
# tests run them hundreds of times (under TCG a debug shimctl, clap and
# serde unoptimised, takes long enough to start that polls time out).
shimctl: deps
	$(CARGO) build --locked --release -p shimctl
	$(CARGO) build --locked --release -p shim6 --features cli --bin shimcat

host-test: deps
	$(CARGO) test --workspace --locked
	python3 -m unittest discover -s tools/vm -p 'test_*.py'
	tools/setup/test_setup.sh

# Two boots: every kselftest with kmemleak on, then the timed comparison
# of moved and plain TCP flows without it (its allocation tracking slows
# the moved path's per-packet work out of proportion; leaks are the first
# boot's business).
check: host-test module selftests shimctl
	tools/vm/run.sh --kdir $(KDIR) --tests --skip shim6_throughput
	tools/vm/run.sh --kdir $(KDIR) --tests --only shim6_throughput --quick --out $(BUILD)/vm-perf

$(BUILD)/shim6_demo: tools/demo/shim6_demo.c include/uapi/linux/shim6.h
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Wextra -Werror -Iinclude/uapi -o $@ $<

run: module selftests shimctl $(BUILD)/shim6_demo
	tools/vm/run.sh --kdir $(KDIR) --demo

# The module's sources built against the benchmark kernel, in a tree of
# their own: src/ keeps its build for the test kernel.
bench-module: $(BENCH_KDIR_FILE) src/uapi_generated.rs
	@mkdir -p $(BENCH_MODULE)/src
	@cp -u Kbuild $(BENCH_MODULE)/
	@cd src && find . \( -name '*.rs' -o -name Kbuild \) -exec cp -u --parents {} $(CURDIR)/$(BENCH_MODULE)/src/ \;
	$(MAKE) -C $$(cat $(BENCH_KDIR_FILE)) M=$(CURDIR)/$(BENCH_MODULE) $(KMAKE_VARS) modules

# In the VM, on the benchmark kernel: the in-kernel microbenchmark, then
# data-path throughput, plain IPv6 against the module's modes.
bench: bench-module shimctl
	$(MAKE) -C selftests KDIR=$$(cat $(BENCH_KDIR_FILE))
	tools/vm/run.sh --kdir $$(cat $(BENCH_KDIR_FILE)) --ko $(CURDIR)/$(BENCH_MODULE)/src/shim6.ko --bench

# What a control message from an unauthenticated host costs the responder.
bench-control: deps
	$(CARGO) run --locked --release -q -p shim6-core --example control_cost

install: install-module install-shimctl install-shimcat install-header install-doc

# modules_install runs depmod; with DESTDIR it installs under it.
install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KMAKE_VARS) INSTALL_MOD_PATH=$(DESTDIR) modules_install

install-shimctl: shimctl
	install -D -m 755 $(SHIMCTL_RELEASE) $(DESTDIR)$(SBINDIR)/shimctl
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/bash-completion/completions \
		$(DESTDIR)$(DATADIR)/zsh/site-functions $(DESTDIR)$(DATADIR)/fish/vendor_completions.d
	$(SHIMCTL_RELEASE) man >$(DESTDIR)$(MANDIR)/man8/shimctl.8
	$(SHIMCTL_RELEASE) completion bash >$(DESTDIR)$(DATADIR)/bash-completion/completions/shimctl
	$(SHIMCTL_RELEASE) completion zsh >$(DESTDIR)$(DATADIR)/zsh/site-functions/_shimctl
	$(SHIMCTL_RELEASE) completion fish >$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/shimctl.fish

install-shimcat: shimctl
	install -D -m 755 $(SHIMCAT_RELEASE) $(DESTDIR)$(BINDIR)/shimcat

install-header:
	install -D -m 644 include/uapi/linux/shim6.h $(DESTDIR)$(INCLUDEDIR)/linux/shim6.h

# The README, and the crates' rustdoc: the application crate's (shim6),
# the protocol core's and shimctl's.
install-doc: | deps
	$(CARGO) doc --locked --no-deps -p shim6 -p shim6-core -p shimctl
	install -D -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -d $(DESTDIR)$(DOCDIR)/html
	cp -R target/doc/. $(DESTDIR)$(DOCDIR)/html/

clean:
	-[ -f $(KDIR_FILE) ] && $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C selftests clean
	rm -rf $(BUILD) src/uapi_generated.rs
