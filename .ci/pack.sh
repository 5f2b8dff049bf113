#!/usr/bin/env bash
# Packaging check (issue 7), the way a user gets the package:
#   npm pack → check the tarball's file list → `npm install <tarball>` into a fresh Node-RED
#   userDir → start Node-RED on 127.0.0.1 → admin API and log checks (every node type loaded and
#   enabled, editor resources, examples deploy and run against the packaged simulator) →
#   scorecard of the installed copy (what `node-red-dev validate --npm` would look at).
# Exits non-zero if any check fails. Reaches only the npm registry (for the tarball's own
# dependencies, and PACK_NODE_RED) and 127.0.0.1.
#
# Environment:
#   PACK_NODE_RED   npm spec of a Node-RED to install and run instead of the repository's
#                   devDependency, e.g. node-red@4.0.0 (the declared minimum), or the directory
#                   of an installed node-red package
#   PACK_NODE       the node binary that runs Node-RED (default: node on PATH)
#   KEEP_PACK_DIR=1 keep the temporary directory (userDir, log, tarball) for inspection
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin=${PACK_NODE:-$(command -v node)}
name=$(node -p "require('./package.json').name")
work=$(mktemp -d "${TMPDIR:-/tmp}/comfyui-pack.XXXXXX")
cleanup() {
  if [[ "${KEEP_PACK_DIR:-}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
status=0

echo "== npm pack (prepack builds)"
npm pack --json --pack-destination "$work" > "$work/pack.json"
tgz="$work/$(node -p "require(process.argv[1])[0].filename" "$work/pack.json")"
node test/tools/pack-check.js contents "$work/pack.json" || status=1

echo "== npm install $(basename "$tgz") into a fresh userDir"
user="$work/userdir"
mkdir -p "$user"
cat > "$user/package.json" <<'JSON'
{
  "name": "node-red-project",
  "description": "A Node-RED project",
  "version": "0.0.1",
  "private": true
}
JSON
(cd "$user" && npm install --no-audit --no-fund --loglevel=error "$tgz")
(cd "$user" && npm ls --all --omit=dev)

if [[ -n "${PACK_NODE_RED:-}" && -f "$PACK_NODE_RED/red.js" ]]; then
  red="$PACK_NODE_RED/red.js"
elif [[ -n "${PACK_NODE_RED:-}" ]]; then
  echo "== npm install $PACK_NODE_RED"
  mkdir -p "$work/runtime"
  echo '{ "private": true }' > "$work/runtime/package.json"
  (cd "$work/runtime" && npm install --no-audit --no-fund --loglevel=error "$PACK_NODE_RED")
  red="$work/runtime/node_modules/node-red/red.js"
else
  red=$(node -p "require.resolve('node-red/red.js')")
fi

echo "== Node-RED with the installed package"
"$node_bin" test/tools/pack-check.js runtime "$user" "$red" || status=1

echo "== scorecard of the installed package"
node test/tools/scorecard.js --path "$user/node_modules/$name" || status=1

if [[ $status -eq 0 ]]; then echo "pack: ok"; else echo "pack: FAILED"; fi
exit $status
