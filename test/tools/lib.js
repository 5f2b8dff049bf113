'use strict';
// Shared by the packaging tools (scorecard.js, pack-check.js): how node-red-dev and the Flow
// Library read a node package, done offline with libraries Node-RED itself ships.
const { createRequire } = require('node:module');
const { existsSync, readFileSync, readdirSync, statSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

const repoRoot = join(__dirname, '..', '..');
const repoRequire = createRequire(join(repoRoot, 'package.json'));

/**
 * Requires `name` as a dependency of the installed Node-RED package `from` (e.g. semver through
 * @node-red/registry, acorn through @node-red/nodes), so the tools need nothing beyond the
 * project's devDependencies and never lean on npm's hoisting.
 */
function fromNodeRed(from, name) {
  try {
    return createRequire(repoRequire.resolve(`${from}/package.json`))(name);
  } catch {
    return repoRequire(name);
  }
}

const semver = fromNodeRed('@node-red/registry', 'semver');
const acorn = fromNodeRed('@node-red/nodes', 'acorn');
const walk = fromNodeRed('@node-red/nodes', 'acorn-walk');

/** Optional helpers npm itself uses; undefined when not installed. */
function optional(load) {
  try {
    return load();
  } catch {
    return undefined;
  }
}
const validateName = optional(() => fromNodeRed('@node-red/registry', 'validate-npm-package-name'));
const validateLicense = optional(() => {
  const npmDir = dirname(createRequire(repoRequire.resolve('@node-red/registry/package.json')).resolve('npm/package.json'));
  return createRequire(join(npmDir, 'package.json'))('validate-npm-package-license');
});

/**
 * The node definitions of an editor .html file, parsed the way node-red-dev's checknodes.js
 * (getNodeDefinitions) does: acorn over each <script type="text/javascript">, every
 * `*.registerType(<literal>, {…})` call, and whether its palette properties are inline literals.
 * Returns { defs: {type: {category, icon, color, inputs, outputs, defaults, credentials}}, errors }.
 */
function nodeDefinitions(file) {
  const content = readFileSync(file, 'utf8');
  const scripts = [...content.matchAll(/<script.+?type=['"]text\/javascript['"].*?>([\S\s]*?)<\/script>/gi)].map((m) => m[1]);
  const defs = {};
  const errors = [];
  if (scripts.length === 0) return { defs, errors: ['no <script type="text/javascript"> section'] };
  const literal = ['icon', 'color', 'inputs', 'outputs', 'category'];
  for (const script of scripts) {
    let ast;
    try {
      ast = acorn.parse(script, { ecmaVersion: 'latest' });
    } catch (err) {
      errors.push(`does not parse: ${err.message}`);
      continue;
    }
    walk.simple(ast, {
      CallExpression(node) {
        if (!node.callee.property || node.callee.property.name !== 'registerType') return;
        const [typeNode, defNode] = node.arguments;
        if (!typeNode || typeNode.type !== 'Literal') {
          errors.push('registerType with a type that is not a literal string');
          return;
        }
        const type = typeNode.value;
        if (!defNode || defNode.type !== 'ObjectExpression') {
          errors.push(`registerType('${type}') with a definition that is not an inline object`);
          return;
        }
        if (type in defs) errors.push(`registerType('${type}') appears twice`);
        const def = (defs[type] = {});
        for (const prop of defNode.properties) {
          const key = prop.key && (prop.key.name ?? prop.key.value);
          if (key === 'defaults' || key === 'credentials') {
            if (!prop.value.properties) errors.push(`${type}: ${key} not inline`);
            else def[key] = prop.value.properties.map((p) => p.key.name ?? p.key.value);
          } else if (literal.includes(key)) {
            if (prop.value.type === 'Literal') def[key] = prop.value.value;
            else errors.push(`${type}: ${key} not inline`);
          }
        }
      },
    });
  }
  if (Object.keys(defs).length === 0 && errors.length === 0) errors.push('no type definitions found');
  return { defs, errors };
}

/** Node types registered by Node-RED's own nodes (@node-red/nodes/core/**.html), type → file. */
function coreNodeTypes() {
  const coreDir = join(dirname(repoRequire.resolve('@node-red/nodes/package.json')), 'core');
  const types = new Map();
  for (const file of filesUnder(coreDir).filter((f) => f.endsWith('.html'))) {
    const html = readFileSync(file, 'utf8');
    for (const [, type] of html.matchAll(/registerType\(\s*['"]([^'"]+)['"]/g)) types.set(type, relative(coreDir, file));
  }
  // Built into the editor and runtime without a registerType call of their own.
  for (const type of ['tab', 'subflow', 'group', 'junction']) if (!types.has(type)) types.set(type, '(built in)');
  return types;
}

/**
 * Node types an installed package registers (its package.json `node-red.nodes`, each .html beside its .js),
 * or an empty set when it is not installed.
 */
function packageNodeTypes(name) {
  const types = new Set();
  let pkgFile;
  try {
    pkgFile = repoRequire.resolve(`${name}/package.json`);
  } catch {
    return types;
  }
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  for (const js of Object.values(pkg['node-red']?.nodes ?? {})) {
    const html = join(dirname(pkgFile), String(js).replace(/\.js$/, '.html'));
    if (!existsSync(html)) continue;
    for (const [, type] of readFileSync(html, 'utf8').matchAll(/registerType\(\s*['"]([^'"]+)['"]/g)) types.add(type);
  }
  return types;
}

/** Every file below `dir`, recursively (the way node-red-dev's getAllFiles walks examples/). */
function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

/** package.json of `dir`. */
function readPackage(dir) {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
}

/**
 * The package.json of `name` as Node's resolution would find it from `fromDir` (walks up the
 * node_modules folders), or undefined.
 */
function findInstalled(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', ...name.split('/'), 'package.json');
    if (existsSync(candidate)) return { dir: dirname(candidate), pkg: JSON.parse(readFileSync(candidate, 'utf8')) };
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The installed production dependency tree of the package in `dir`: [{name, version, range,
 * parent, dir}], plus the names that could not be found. Optional dependencies that are absent
 * are skipped, as npm does.
 */
function productionTree(dir) {
  const seen = new Map();
  const missing = [];
  const visit = (pkgDir, pkg, chain) => {
    const deps = { ...(pkg.dependencies ?? {}), ...(pkg.optionalDependencies ?? {}) };
    for (const [name, range] of Object.entries(deps)) {
      const found = findInstalled(name, pkgDir);
      if (!found) {
        if (!(pkg.optionalDependencies && name in pkg.optionalDependencies))
          missing.push(`${name}@${range} (needed by ${chain.join(' > ')})`);
        continue;
      }
      const key = found.dir;
      if (seen.has(key)) continue;
      seen.set(key, { name, version: found.pkg.version, range, parent: chain[chain.length - 1], dir: found.dir });
      visit(found.dir, found.pkg, [...chain, `${name}@${found.pkg.version}`]);
    }
  };
  const root = readPackage(dir);
  visit(dir, root, [`${root.name}@${root.version}`]);
  return { packages: [...seen.values()], missing };
}

module.exports = {
  repoRoot,
  repoRequire,
  semver,
  validateName,
  validateLicense,
  nodeDefinitions,
  coreNodeTypes,
  packageNodeTypes,
  filesUnder,
  readPackage,
  findInstalled,
  productionTree,
};
