import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The order the projects' files start in. Vitest's own sequencer runs the
 * projects by name (cli, unit, worker, worker-fresh-isolate), which left the
 * fresh-isolate file (one long file in a workerd of its own) alone at the
 * end on one core. Here it starts first, beside the CLI files (the longest
 * ones, each mostly waiting on child processes), and the many short worker
 * files come last, so both cores stay busy until the end. A project's files
 * stay together: a worker slot that changes project starts a new runner (a
 * new workerd for the worker projects).
 */
const PROJECT_ORDER = ["worker-fresh-isolate", "cli", "worker", "unit"];

/** Vitest's order within a project (failed first, then longest by the last run, else largest), projects in {@link PROJECT_ORDER}. */
export default class ProjectOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const at = PROJECT_ORDER.indexOf(spec.project.name);
      return at === -1 ? PROJECT_ORDER.length : at;
    };
    // Array.prototype.sort is stable: Vitest's order holds within a project.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
