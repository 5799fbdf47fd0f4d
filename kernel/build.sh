#!/usr/bin/env bash
# Build the shim6 test kernel, or reuse a cached build.
#
# The built tree lives in ${SHIM6_CACHE:-/var/cache/shim6}/<key>/linux, where
# <key> hashes the kernel source version, our patches, the config fragments,
# the toolchain and this script.  A tree whose only difference is the patch
# series is moved to the new key and rebuilt incrementally: patches are
# switched with git, which rewrites only the files that differ, so make
# rebuilds only what they touch.
#
# Prints the path of the built tree on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${SHIM6_CACHE:-/var/cache/shim6}
pkg=linux-source-6.12
tarball=/usr/src/$pkg.tar.xz
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# shellcheck source=kernel/make-vars.sh
. "$here/make-vars.sh"

log() { echo "kernel: $*" >&2; }

[ -f "$tarball" ] || { log "missing $tarball (run tools/setup/setup-deps.sh)"; exit 1; }

hash_of() { sha256sum | cut -c1-16; }

base_key=$(
	{
		dpkg-query -W -f='${Version}\n' "$pkg"
		cat "$here"/config/*.config "$here/build.sh" "$here/make-vars.sh"
		/usr/bin/rustc --version; clang --version | head -1; bindgen --version
	} | hash_of
)
patch_key=$(cat "$here"/patches/*.patch | hash_of)
key=$(echo "$base_key $patch_key" | hash_of)
dir=$cache/$key
tree=$dir/linux

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if [ -f "$dir/built" ]; then
	echo "$tree"
	exit 0
fi

if [ ! -d "$tree" ]; then
	# Same source, config and toolchain, other patches: reuse that tree.
	prev=$(grep -lx "$base_key" "$cache"/*/base-key 2>/dev/null |
		xargs -r ls -t | head -1 || true)
	if [ -n "$prev" ]; then
		log "reusing $(dirname "$prev") for an incremental build"
		rm -f "$(dirname "$prev")/built"
		mv "$(dirname "$prev")" "$dir"
	else
		log "unpacking $tarball"
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		tar -C "$dir.tmp" -xf "$tarball"
		mv "$dir.tmp/$pkg" "$dir.tmp/linux"
		git -C "$dir.tmp/linux" init -q
		git -C "$dir.tmp/linux" add -f -A
		git -C "$dir.tmp/linux" -c user.name=shim6 -c user.email=shim6@localhost \
			commit -q -m "$pkg $(dpkg-query -W -f='${Version}' "$pkg")"
		git -C "$dir.tmp/linux" tag base
		echo "$base_key" >"$dir.tmp/base-key"
		mv "$dir.tmp" "$dir"
	fi
fi

cd "$tree"

# Switch to base + our patches without touching files that stay the same.
idx=$(mktemp)
trap 'rm -f "$idx"' EXIT
GIT_INDEX_FILE=$idx git read-tree base
for p in "$here"/patches/*.patch; do
	GIT_INDEX_FILE=$idx git apply --cached "$p" ||
		{ log "patch does not apply to $pkg: $(basename "$p")"; exit 1; }
done
commit=$(git -c user.name=shim6 -c user.email=shim6@localhost commit-tree \
	-p base -m "shim6 patches $patch_key" "$(GIT_INDEX_FILE=$idx git write-tree)")
git checkout -q -f "$commit"

if [ ! -f .config ]; then
	log "configuring: tinyconfig + $(cd "$here/config" && echo *.config)"
	make -s "${KMAKE_VARS[@]}" tinyconfig >/dev/null
	scripts/kconfig/merge_config.sh -m .config "$here"/config/*.config >/dev/null
	make -s "${KMAKE_VARS[@]}" olddefconfig >/dev/null
	missing=$(grep -E '^CONFIG_[A-Z0-9_]+=y' "$here/config/20-shim6.config" |
		while read -r l; do grep -qx "$l" .config || echo "$l"; done)
	if [ -n "$missing" ]; then
		log "config options that did not stick:"$'\n'"$missing"
		exit 1
	fi
fi

log "building in $tree ($(nproc) jobs)"
start=$SECONDS
make -s -j"$(nproc)" "${KMAKE_VARS[@]}" >&2
log "built in $((SECONDS - start)) s"
touch "$dir/built"

# Keep the two newest trees.
ls -dt "$cache"/*/ | tail -n +3 | xargs -r rm -rf
echo "$tree"
