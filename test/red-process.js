'use strict';
// A real Node-RED process for the restart proof and the pool soak: the node-red binary on a free
// port of 127.0.0.1, a given userDir and settings file, stopped with a signal of the caller's choice.
const { spawn } = require('node:child_process');
const net = require('node:net');
const { join } = require('node:path');

// Resolved, not joined: under .ci/compat.sh the require hook points node-red at the Node-RED being checked.
const RED_JS = require.resolve('node-red/red.js');

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
    probe.once('error', reject);
  });
}

/** settings.js for a userDir: our nodes from this checkout, no editor, a localfilesystem default context store. */
function settingsFile(store, level = 'info') {
  return `module.exports = ${JSON.stringify({
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: false,
    nodesDir: [join(__dirname, '..')],
    contextStorage: { default: { module: 'localfilesystem', config: store } },
    logging: { console: { level } },
  })};\n`;
}

/**
 * Starts Node-RED with `dir` as userDir and `dir`/settings.js; resolves once its flows run, with its base
 * URL, what it printed so far (`output()`), and `stop(signal)` that resolves once the process is gone.
 */
async function startNodeRed(dir, { waitFor }) {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [RED_JS, '--userDir', dir, '--settings', join(dir, 'settings.js'), '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const stop = async (signal) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`Node-RED exited:\n${output}`);
        return /Started flows/.test(output);
      },
      'Node-RED started its flows',
      60000,
    );
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
  return { base: `http://127.0.0.1:${port}`, output: () => output, stop };
}

/** A core file node (id `appender`) on tab `tab` that appends each msg.payload as a line to `file`: what the flows of these tests report into. */
function lineAppender(file) {
  return {
    id: 'appender',
    z: 'tab',
    type: 'file',
    filename: file,
    filenameType: 'str',
    appendNewline: true,
    createDir: true,
    overwriteFile: 'false',
    encoding: 'none',
    wires: [],
  };
}

module.exports = { lineAppender, settingsFile, startNodeRed };
