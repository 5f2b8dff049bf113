/**
 * How long workflows took on one server lately, by workflow fingerprint (workflow-fingerprint.ts):
 * what queue ETAs are made of (queue-positions.ts). Bounded both ways: the last few runs per workflow, and
 * the workflows that ran most recently.
 */

export interface RunTimesOptions {
  /** Runs kept per workflow: the median of these is its expected run time. */
  runsPerWorkflow: number;
  /** Workflows remembered; the one that ran longest ago is forgotten first. */
  workflows: number;
}

export const defaultRunTimesOptions: RunTimesOptions = { runsPerWorkflow: 5, workflows: 200 };

export class RunTimes {
  private readonly runs = new Map<string, number[]>();

  constructor(private readonly options: RunTimesOptions = defaultRunTimesOptions) {}

  record(fingerprint: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const runs = this.runs.get(fingerprint) ?? [];
    // Map order is insertion order: re-inserting makes this workflow the most recent one.
    this.runs.delete(fingerprint);
    runs.push(ms);
    if (runs.length > this.options.runsPerWorkflow) runs.shift();
    this.runs.set(fingerprint, runs);
    if (this.runs.size > this.options.workflows) this.runs.delete(this.runs.keys().next().value as string);
  }

  /** The median of the recent runs of a workflow; undefined when none ran here lately. */
  expected(fingerprint: string | undefined): number | undefined {
    const runs = fingerprint === undefined ? undefined : this.runs.get(fingerprint);
    if (!runs || runs.length === 0) return undefined;
    const sorted = [...runs].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }
}
