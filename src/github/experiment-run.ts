/** The workflow that trains experiments on the GPU runner. */
export const EXPERIMENT_WORKFLOW = ".github/workflows/experiment.yml";

/** The parts of a workflow run (from a `workflow_run` webhook or a listing) the app reads. */
export interface WorkflowRun {
  id: number;
  path: string;
  event: string;
  head_branch: string | null;
  head_sha: string;
  conclusion: string | null;
  html_url: string;
  /** The repository the run belongs to. */
  repository: { id: number };
  /** The repository its head commit came from: a fork's, for a fork's pull request; null once that is deleted. */
  head_repository: { id: number; full_name: string } | null;
}

/** Whether a run is of a workflow file named like the experiment workflow; runs of other workflows are none of the app's business. */
export const isExperimentWorkflow = (run: Pick<WorkflowRun, "path">) => run.path.endsWith(EXPERIMENT_WORKFLOW);

/**
 * Why a run of the experiment workflow is not provably the app's own, or null when it is: its
 * commit came from this repository (a fork's pull request runs the fork's copy of the workflow,
 * which can upload anything), on `pull_request`, from the experiment workflow itself. The
 * caller checks the rest: that its head is the commit the app pushed for an experiment of its own.
 */
export function foreignBecause(run: WorkflowRun): string | null {
  if (run.head_repository?.id !== run.repository.id) {
    return `its commit came from ${run.head_repository ? `\`${run.head_repository.full_name}\`` : "a deleted repository"}, not this one`;
  }
  if (run.event !== "pull_request") return `it ran on \`${run.event}\`, not on \`pull_request\``;
  if (run.path !== EXPERIMENT_WORKFLOW) return `it ran \`${run.path}\`, not \`${EXPERIMENT_WORKFLOW}\``;
  return null;
}
