import { latestMeasurement, type Experiment } from "../research/experiment.ts";
import { decisionHeadline } from "../research/render-decision.ts";
import { LABELS } from "./labels.ts";
import { readMarker, writeMarker } from "./marker.ts";
import type { Outbox } from "./outbox.ts";

/** An issue or pull request as the app keeps it: what the REST API lists, reduced. */
export interface IssueSnapshot {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: string[];
  isPullRequest: boolean;
  merged: boolean;
  /** Who opened it: the app's bot user for everything the app reads. */
  author: string;
  updatedAt: string;
}

/** What the marker holds: the experiment but its state, which the pull request itself says, and the last outbox. */
type ExperimentMarker = Omit<Experiment, "state" | "held"> & { outbox?: Outbox };

const isCommit = (v: unknown) => typeof v === "object" && v !== null && typeof (v as { sha: unknown }).sha === "string";

/** The experiment a pull request carries in its marker, or null when it carries none. */
export function experimentFromIssue(issue: IssueSnapshot): Experiment | null {
  const data = readMarker("experiment", issue.body) as ExperimentMarker | null;
  if (!issue.isPullRequest || !data || typeof data.branch !== "string" || !Number.isInteger(data.n)) return null;
  if (!isCommit(data.parent) || !isCommit(data.head) || !Array.isArray(data.measurements)) return null;
  const { outbox, ...experiment } = data;
  return {
    ...experiment,
    commands: data.commands ?? [],
    state: issue.merged ? "merged" : issue.state,
    held: issue.labels.includes(LABELS.hold),
  };
}

/** The outbox the last write of an experiment's marker left, if any. */
export function outboxFromIssue(issue: IssueSnapshot): Outbox | null {
  if (experimentFromIssue(issue) === null) return null;
  return (readMarker("experiment", issue.body) as ExperimentMarker).outbox ?? null;
}

const bpb = (x: number | null | undefined) => (x == null ? "—" : x.toFixed(6));

/** The pull request body: the hypothesis and the runs for people, the marker (with the outbox, if any) for the app. */
export function renderExperimentBody(experiment: Experiment, researchBranch: string, outbox?: Outbox): string {
  const { state, held, ...rest } = experiment;
  const marker: ExperimentMarker = outbox ? { ...rest, outbox } : rest;
  const status = experiment.decision
    ? decisionHeadline(experiment.decision)
    : latestMeasurement(experiment)
      ? "measured, waiting for its parent's baseline"
      : "running";
  const runs = experiment.measurements.map(
    (m) => `| \`${m.sha.slice(0, 7)}\` | ${m.seed} | ${m.status} | ${bpb(m.valBpb)} | ${m.peakVramMb.toFixed(0)} |`,
  );
  return [
    experiment.kind === "baseline"
      ? `A baseline run: \`${researchBranch}\` at \`${experiment.parent.sha.slice(0, 7)}\`, unchanged, to measure its val_bpb and the run-to-run noise.`
      : `**Hypothesis.** ${experiment.hypothesis}`,
    "",
    `- Parent: \`${experiment.parent.sha.slice(0, 7)}\` of \`${researchBranch}\``,
    `- Proposed by: ${experiment.agent}${experiment.tokens ? ` (${experiment.tokens} LLM tokens)` : ""}`,
    `- Status: ${held && state === "open" ? "on hold" : status}`,
    ...(runs.length ? ["", "| commit | seed | status | val_bpb | peak VRAM MB |", "|---|---:|---|---:|---:|", ...runs] : []),
    "",
    "The check `autoresearch/val_bpb` has each run's numbers and the decision rule.",
    "",
    writeMarker("experiment", marker),
  ].join("\n");
}
