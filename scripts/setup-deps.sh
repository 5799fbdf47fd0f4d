#!/usr/bin/env bash
# Install what building and testing shim6 needs on Debian 12, only what is missing.
# Idempotent and quiet when everything is present. Versions are pinned where the
# kernel build is sensitive to them (bindgen, virtme-ng).
set -euo pipefail

BINDGEN_VERSION=0.73.0
VIRTME_NG_VERSION=1.42

APT_PKGS=(
	rustc-web rust-web-src clang lld llvm libclang-dev
	flex bison bc libelf-dev libssl-dev cpio xz-utils rsync
	qemu-system-x86 linux-source-6.12
	iproute2 kmod procps busybox-static
	tshark
)

missing=()
for p in "${APT_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
if [ "$("$cargo_bin/bindgen" --version 2>/dev/null)" != "bindgen $BINDGEN_VERSION" ]; then
	echo "setup: installing bindgen-cli $BINDGEN_VERSION"
	cargo install --quiet --locked --version "$BINDGEN_VERSION" bindgen-cli
fi

# Read the whole output first: grep -q would close the pipe early and,
# under pipefail, fail the check.
virtme_ng=$(python3 -m pip show virtme-ng 2>/dev/null | sed -n 's/^Version: //p')
if [ "$virtme_ng" != "$VIRTME_NG_VERSION" ]; then
	echo "setup: installing virtme-ng $VIRTME_NG_VERSION"
	# Debian's own python3 is externally managed (PEP 668); a pyenv one is not.
	python3 -m pip install --quiet --disable-pip-version-check "virtme-ng==$VIRTME_NG_VERSION" ||
		python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
			"virtme-ng==$VIRTME_NG_VERSION"
fi
