'use strict';
/**
 * Preloaded by .ci/compat.sh (NODE_OPTIONS=--require …, so spawned Node-RED processes get it too):
 * when NODE_RED_PATH names an installed node-red package (…/node_modules/node-red), every
 * require of `node-red`, `node-red/…` or `@node-red/…` from outside that installation resolves
 * inside it instead of the project's devDependency. The test helper, test/support.js
 * (`helper.init(require.resolve('node-red'))`), the specs' core-node requires and `npm start`'s
 * embedded runtime then all run on that Node-RED, with no change to the tests.
 * Without NODE_RED_PATH it does nothing.
 */
const Module = require('node:module');
const { existsSync } = require('node:fs');
const path = require('node:path');

const target = process.env.NODE_RED_PATH;
if (target) {
  const nodeRedDir = path.resolve(target);
  if (!existsSync(path.join(nodeRedDir, 'package.json'))) throw new Error(`NODE_RED_PATH=${target} is not an installed node-red package`);
  const nodeModules = path.dirname(nodeRedDir); // node-red and its hoisted @node-red/* live here
  const lookupFrom = path.dirname(nodeModules);
  const inside = (file) => typeof file === 'string' && file.startsWith(nodeModules + path.sep);
  const redirected = (request) => request === 'node-red' || request.startsWith('node-red/') || request.startsWith('@node-red/');
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, isMain, options) {
    if (redirected(request) && !inside(parent && parent.filename)) {
      return resolve.call(this, request, parent, isMain, { ...(options || {}), paths: [lookupFrom] });
    }
    return resolve.call(this, request, parent, isMain, options);
  };
}

/**
 * With NODE_RED_COMPAT_REPORT=<file>, each process appends on exit one JSON line naming the
 * Node-RED packages it actually loaded, so .ci/compat.sh can prove no test ran on another one.
 */
const report = process.env.NODE_RED_COMPAT_REPORT;
if (report) {
  process.on('exit', () => {
    const loaded = new Map();
    for (const file of Object.keys(require.cache)) {
      const m = /^(.*[\\/]node_modules[\\/](?:node-red|@node-red[\\/][^\\/]+))[\\/]/.exec(file);
      if (!m || loaded.has(m[1])) continue;
      let version = '?';
      try {
        version = JSON.parse(require('node:fs').readFileSync(path.join(m[1], 'package.json'), 'utf8')).version;
      } catch {
        // not a package root
      }
      loaded.set(m[1], version);
    }
    const line = { pid: process.pid, script: process.argv[1], loaded: Object.fromEntries(loaded) };
    require('node:fs').appendFileSync(report, `${JSON.stringify(line)}\n`);
  });
}
