#!/usr/bin/env bash
# Packs this package, installs the tarball into a fresh temporary project and runs test/ there.
# Usage: test-installed.sh [--bench]   (--bench: run bench/append.js there instead of the tests)
# WALOGS_COMPONENT: the component to transpile (default ../../target/wasm32-wasip2/component/walogs.wasm).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
# `npm install` keeps to package-lock.json (`npm ci` refuses the optional platform binaries the
# registry lacks for jco's dependencies).
[ node_modules/.package-lock.json -nt package-lock.json ] || npm install --no-audit --no-fund --loglevel=error
npm run --silent transpile
project=$(mktemp -d "${TMPDIR:-/tmp}/walogs-npm-project-XXXXXX")
trap 'rm -rf "$project"' EXIT
tarball=$(npm pack --silent --pack-destination "$project")
cp -r test bench "$project/"
cd "$project"
# A fresh project: the tarball and its pinned dependencies (nan pinned too: fs-ext builds with it).
cat > package.json <<JSON
{
  "name": "walogs-installed-test",
  "private": true,
  "type": "module",
  "dependencies": { "walogs": "file:./$tarball" },
  "overrides": { "nan": "2.30.0" }
}
JSON
npm install --no-audit --no-fund --loglevel=error
if [ "${1:-}" = --bench ]; then node bench/append.js "${@:2}"; else node --test test/; fi
