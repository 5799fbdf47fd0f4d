#!/usr/bin/env bash
# Install what building and testing shim6 needs on Debian 12, only what is missing.
# Idempotent. Says what it checks and what it installs; on a failure it names the
# command that failed and exits non-zero. Versions are pinned where the kernel
# build is sensitive to them (bindgen, virtme-ng).
# tools/setup/test_setup.sh runs it as a fresh machine would meet it.
set -Eeuo pipefail

BINDGEN_VERSION=0.73.0
VIRTME_NG_VERSION=1.42

APT_PKGS=(
	rustc-web rust-web-src clang lld llvm libclang-dev
	flex bison bc libelf-dev libssl-dev cpio xz-utils rsync
	qemu-system-x86 linux-source-6.12
	iproute2 kmod procps busybox-static
	tshark iperf3 ethtool
)

say() { echo "setup: $*" >&2; }
trap 'say "FAILED (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

# Runs a command, saying it first; its output is kept and shown only if it fails.
run() {
	say "running: $*"
	local log rc=0
	log=$(mktemp)
	"$@" >"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		say "'$*' exited $rc; its last lines:"
		tail -20 "$log" >&2
	fi
	rm -f "$log"
	return "$rc"
}

apt_step() {
	local p missing=()
	for p in "${APT_PKGS[@]}"; do
		# dpkg-query exits non-zero for a package it never saw.
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "Debian packages: all ${#APT_PKGS[@]} present"
		return
	fi
	say "Debian packages missing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	run apt-get update -qq
	run apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

bindgen_step() {
	local cargo_bin have
	cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
	have=$("$cargo_bin/bindgen" --version 2>/dev/null || true)
	if [ "$have" = "bindgen $BINDGEN_VERSION" ]; then
		say "bindgen-cli $BINDGEN_VERSION present"
		return
	fi
	say "bindgen-cli: found '${have:-nothing}', want $BINDGEN_VERSION"
	run cargo install --locked --version "$BINDGEN_VERSION" bindgen-cli
}

# virtme-ng goes into whatever python3 is first on PATH: a venv's, pyenv's, or
# Debian's (externally managed, PEP 668, hence --break-system-packages there).
python_step() {
	local py have
	py=$(command -v python3) || { say "no python3 on PATH"; return 1; }
	if ! python3 -m pip --version >/dev/null 2>&1; then
		say "$py has no pip"
		run apt-get install -y -qq --no-install-recommends python3-pip
	fi
	# pip show exits 1 for a package that is not installed: that is an answer.
	have=$(python3 -m pip show virtme-ng 2>/dev/null | sed -n 's/^Version: //p' || true)
	if [ "$have" = "$VIRTME_NG_VERSION" ]; then
		say "virtme-ng $VIRTME_NG_VERSION present ($py)"
	else
		say "virtme-ng: found '${have:-nothing}' in $py, want $VIRTME_NG_VERSION"
		if python3 -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' ||
			[ ! -e "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED" ]; then
			run python3 -m pip install --disable-pip-version-check "virtme-ng==$VIRTME_NG_VERSION"
		else
			run python3 -m pip install --disable-pip-version-check --break-system-packages \
				"virtme-ng==$VIRTME_NG_VERSION"
		fi
	fi
	# pyenv finds new console scripts only after a rehash.
	if command -v pyenv >/dev/null 2>&1; then pyenv rehash 2>/dev/null || true; fi
	command -v vng >/dev/null || { say "virtme-ng installed but vng is not on PATH"; return 1; }
	say "vng: $(command -v vng)"
}

apt_step
bindgen_step
python_step
