#!/usr/bin/env bash
# The setup step as a fresh machine meets it: a python3 without virtme-ng first
# on PATH (a new venv). tools/setup/setup-deps.sh must install virtme-ng into it and
# put vng on PATH; with the package index unreachable it must fail loudly,
# naming what failed. TAP output; exit status 0 only if every case passed.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
setup=$top/tools/setup/setup-deps.sh
want=$(sed -n 's/^VIRTME_NG_VERSION=//p' "$setup")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0 failed=0
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else failed=$((failed + 1)); echo "not ok $n $2"; fi
}

new_venv() {
	python3 -m venv "$1" && [ -x "$1/bin/python3" ] &&
		! "$1/bin/python3" -m pip show virtme-ng >/dev/null 2>&1
}

echo "TAP version 13"
echo "1..4"

new_venv "$work/fresh"
result $? "a fresh venv has no virtme-ng"

PATH="$work/fresh/bin:$PATH" bash "$setup" >"$work/fresh.log" 2>&1
rc=$?
got=$("$work/fresh/bin/python3" -m pip show virtme-ng 2>/dev/null | sed -n 's/^Version: //p')
[ "$rc" = 0 ] && [ "$got" = "$want" ] && [ -x "$work/fresh/bin/vng" ] &&
	grep -q "setup: vng: $work/fresh/bin/vng" "$work/fresh.log"
status=$?
[ "$status" = 0 ] || sed 's/^/# /' "$work/fresh.log"
result "$status" "setup installs virtme-ng $want into the python3 first on PATH (exit $rc, found '$got')"

PATH="$work/fresh/bin:$PATH" bash "$setup" >"$work/again.log" 2>&1
rc=$?
[ "$rc" = 0 ] && ! grep -q 'running:' "$work/again.log"
result $? "a second run installs nothing (exit $rc)"

# No index to install from: the script must stop non-zero and say what failed.
new_venv "$work/offline"
PATH="$work/offline/bin:$PATH" PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_RETRIES=0 \
	PIP_TIMEOUT=2 bash "$setup" >"$work/offline.log" 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q "pip install .*virtme-ng==$want' exited" "$work/offline.log" &&
	grep -q 'setup: FAILED' "$work/offline.log"
status=$?
[ "$status" = 0 ] || sed 's/^/# /' "$work/offline.log"
result "$status" "without a package index it fails loudly (exit $rc)"

echo "# setup: $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
