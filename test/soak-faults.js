'use strict';
// Member faults for the pool soaks (test/soak-pool.js, test/soak-pool-red.js): at most one member down
// at a time, chosen at random: a socket drop, a restart that loses queue and history, or a kill for
// longer than the pool's grace period and a start again on the same port.
const { startSimulator } = require('../dist/simulator');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `sims` is changed in place (a killed member is replaced); `everyRun` gains every simulator started. */
function memberFaults({ sims, everyRun, simOptions, random, downMs }) {
  const counts = { drop: 0, restart: 0, kill: 0 };
  let busy = false;
  let held = false;
  const inject = async () => {
    if (busy || held) return;
    busy = true;
    const index = Math.floor(random() * sims.length);
    const roll = random();
    try {
      if (roll < 0.4) {
        counts.drop += 1;
        sims[index].faults.dropSockets();
      } else if (roll < 0.7) {
        counts.restart += 1;
        await sims[index].faults.restart();
      } else {
        counts.kill += 1;
        const port = sims[index].port;
        await sims[index].close();
        await sleep(downMs);
        sims[index] = await startSimulator({ ...simOptions, port });
        everyRun.push(sims[index]);
      }
    } finally {
      busy = false;
    }
  };
  return {
    counts,
    inject,
    /** While held, no new fault starts. */
    hold: (on) => {
      held = on;
    },
    /** Resolves once no fault is under way. */
    settled: async () => {
      while (busy) await sleep(50);
    },
  };
}

module.exports = { memberFaults, sleep };
