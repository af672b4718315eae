import { latestMeasurement, measurementFromResult, type Measurement } from "../research/experiment.ts";
import { noteIgnored } from "./dashboard.ts";
import { foreignBecause, isExperimentWorkflow, type WorkflowRun } from "./experiment-run.ts";
import { readResultArtifact } from "./read-result-artifact.ts";
import type { Session } from "./session.ts";

/**
 * Reads the result of a finished run of an experiment's current head, once, if the run is
 * provably the app's own (see {@link foreignBecause}); a run that touches an experiment and
 * is not is noted on the dashboard.
 */
export async function readRun(s: Session, run: WorkflowRun): Promise<void> {
  if (run.conclusion === "cancelled") return;
  const branch = run.head_branch ?? "";
  let experiment = s.store.find(branch)?.experiment;
  // Judged before any listing: a foreign run costs no request, however often the sweep meets it.
  const why = foreignBecause(run);
  if (why !== null) {
    const touched = experiment ?? s.store.experiments().find((e) => e.head.sha === run.head_sha);
    if (touched) noteIgnored(s.state, `[Workflow run ${run.id}](${run.html_url}) of \`${touched.branch}\` (#${s.store.numberOf(touched.branch)}) was not read: ${why}.`);
    return;
  }
  if (!experiment || (experiment.head.sha !== run.head_sha && !experiment.measurements.some((m) => m.sha === run.head_sha))) {
    // Not what the cache expects: maybe changed elsewhere, so look again before deciding.
    await s.store.sync(s.octokit, s.branch);
    experiment = s.store.find(branch)?.experiment;
  }
  if (!experiment || experiment.state !== "open" || experiment.head.sha !== run.head_sha) return;
  if (experiment.measurements.some((m) => m.sha === run.head_sha)) return;
  const artifact = await readResultArtifact(s.octokit, s.repo, run.id);
  const result = "result" in artifact ? artifact.result : null;
  const measurement: Measurement = result
    ? measurementFromResult(result, experiment.head, s.state.epoch)
    : {
        sha: experiment.head.sha, tree: experiment.head.tree, seed: experiment.seed, epoch: s.state.epoch, status: "crash", valBpb: null,
        peakVramMb: 0, trainingSeconds: 0, numSteps: 0, crashExcerpt: null,
        reason: `${"error" in artifact ? artifact.error : ""} (the workflow run ${run.html_url} ended: ${run.conclusion})`,
      };
  s.store.unsaved.set(experiment.branch, { ...experiment, measurements: [...experiment.measurements, measurement] });
  s.store.unchecked.set(experiment.branch, [...(s.store.unchecked.get(experiment.branch) ?? []), { measurement, result }]);
}

/** Finds finished runs of open experiments whose webhooks never arrived, and reads them under the same rule. */
export async function sweepRuns(s: Session): Promise<void> {
  for (const experiment of s.store.experiments()) {
    if (experiment.state !== "open" || latestMeasurement(experiment) !== undefined) continue;
    const { data } = await s.octokit.rest.actions.listWorkflowRunsForRepo({ ...s.repo, head_sha: experiment.head.sha, status: "completed", per_page: 10 });
    // The first of the app's own is read; the rest are then no-ops.
    for (const run of data.workflow_runs) if (isExperimentWorkflow(run)) await readRun(s, run as WorkflowRun);
  }
}
