#!/usr/bin/env bash
# Build the benchmark kernel, or reuse a cached build; prints its tree.
#
# It is the test kernel of build.sh with bench/30-bench.config in place of
# config/10-debug.config: under KASAN, lockdep and kmemleak every
# allocation records a stack trace, which costs more per packet than the
# code `make bench` measures.  Same patches, same script (so the same
# caching), in a cache of its own: ${SHIM6_CACHE:-/var/cache/shim6}/bench.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/build.sh" "$here/make-vars.sh" "$here/patches" "$work/"
mkdir "$work/config"
cp "$here/config/00-virtme.config" "$here/config/20-shim6.config" "$here/bench/30-bench.config" "$work/config/"
SHIM6_CACHE=${SHIM6_CACHE:-/var/cache/shim6}/bench "$work/build.sh"
