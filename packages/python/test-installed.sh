#!/usr/bin/env bash
# Builds the wheel, installs it into a fresh venv and runs tests/ there against the installed
# package (not this source tree). Usage: test-installed.sh [--bench [--quick]] (--bench: run
# bench/append.py there instead of the tests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/walogs-py-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$here/build-wheel.sh" "$work/dist"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$work"/dist/walogs-*.whl -r "$here/tests/requirements.txt"
cp -r "$here/tests" "$here/bench" "$work/"
cd "$work"
unset WALOGS_COMPONENT  # the tests use the component inside the installed wheel
if [ "${1:-}" = --bench ]; then venv/bin/python bench/append.py "${@:2}"; else venv/bin/python -m pytest -q -p no:cacheprovider tests; fi
