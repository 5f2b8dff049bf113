'use strict';
// Root hooks: an unhandled rejection or uncaught exception would kill Node-RED, so any that
// happens while the suite runs fails the test that was running.
const problems = [];
process.on('unhandledRejection', (reason) => problems.push(`unhandledRejection: ${reason && reason.stack ? reason.stack : reason}`));
process.on('uncaughtException', (err) => problems.push(`uncaughtException: ${err && err.stack ? err.stack : err}`));

exports.mochaHooks = {
  afterEach() {
    if (problems.length > 0) {
      const found = problems.splice(0);
      throw new Error(`the process saw what would crash Node-RED:\n${found.join('\n')}`);
    }
  },
};
