import { DEFAULT_SEED } from "../runner/result.ts";
import type { Agent, ResearchFiles } from "./agent.ts";
import type { Commit, Experiment, Outcome } from "./experiment.ts";
import type { Decision } from "./judge.ts";
import { Ledger, type LedgerEntry } from "./ledger.ts";
import { plan, type Action, type Gate, type PlanSettings, type ResearchState } from "./plan.ts";
import { propose } from "./propose.ts";

/** A new run for a forge to start. */
export interface ExperimentSpec {
  kind: "experiment" | "baseline";
  parent: Commit;
  title: string;
  hypothesis: string;
  /** The new `train.ts`; null for a baseline, which runs the parent unchanged. */
  train: string | null;
  fingerprint: string | null;
  seed: number;
  agent: string;
  tokens: number;
}

/**
 * Where experiments live: GitHub (pull requests) or a local git repository. The research
 * loop owns the decisions; a forge only stores state and carries out steps.
 */
export interface Forge {
  /** The research branch head, every experiment and the noise epoch. */
  load(): Promise<ResearchState>;
  /** The files the agent reads, at a commit of the research branch. */
  readFiles(commit: Commit): Promise<ResearchFiles>;
  /** Starts a run: a branch with the change (or an empty commit for a baseline), then its measurement. */
  start(spec: ExperimentSpec): Promise<void>;
  /** Measures the experiment's code again with another seed. */
  rerun(experiment: Experiment, decision: Decision | null, seed: number): Promise<void>;
  /** Moves the experiment onto the new research head and measures it there. */
  rebase(experiment: Experiment, decision: Decision | null, onto: Commit): Promise<void>;
  /** Squash-merges an improvement into the research branch; returns the new head. */
  merge(experiment: Experiment, decision: Decision): Promise<Commit>;
  /** Closes an experiment with its outcome. */
  close(experiment: Experiment, outcome: Outcome, decision: Decision | null): Promise<void>;
}

/** What a step did, for logs and the dashboard. */
export interface StepReport {
  actions: Action[];
  /** Proposals the agent could not get through the checks, with the reasons. */
  failures: Array<{ errors: string[]; tokens: number }>;
  /** LLM tokens spent by failed proposals. */
  failedTokens: number;
}

/**
 * Carries out a plan's actions except the proposals, in order (the plan puts the merge
 * first); returns the research head they leave, on which new runs start.
 */
export async function carryOut(forge: Forge, head: Commit, actions: readonly Action[]): Promise<Commit> {
  for (const action of actions) {
    if (action.type === "merge") head = await forge.merge(action.experiment, action.decision);
    else if (action.type === "rebase") await forge.rebase(action.experiment, action.decision, head);
    else if (action.type === "rerun") await forge.rerun(action.experiment, action.decision, action.seed);
    else if (action.type === "close") await forge.close(action.experiment, action.outcome, action.decision);
    else if (action.type === "baseline") {
      await forge.start({
        kind: "baseline",
        parent: head,
        title: `Baseline run of ${head.sha.slice(0, 7)} (seed ${action.seed})`,
        hypothesis: "Measures the research head unchanged, to know its val_bpb and the run-to-run noise.",
        train: null,
        fingerprint: null,
        seed: action.seed,
        agent: "baseline",
        tokens: 0,
      });
    }
  }
  return head;
}

/** What a research step needs besides the forge. */
export interface StepOptions {
  agent: Agent;
  settings: PlanSettings;
  gate: Gate;
  /** Project root to type-check proposals against; omit to skip the type-check. */
  root?: string;
}

/**
 * One pass of the research loop: load the state, plan, and carry out the plan with merges
 * first (one at a time), then rebases, re-runs and closes, then new baselines and
 * proposals on the (possibly new) head.
 */
export async function researchStep(forge: Forge, options: StepOptions): Promise<StepReport> {
  const state = await forge.load();
  const actions = plan(state, options.settings, options.gate);
  const report: StepReport = { actions, failures: [], failedTokens: 0 };
  const head = await carryOut(forge, state.head, actions);

  const proposals = actions.filter((a) => a.type === "propose").length;
  if (proposals === 0) return report;
  const files = await forge.readFiles(head);
  // Proposals of this step join the ledger at once, so two slots never get the same idea.
  const ledger: LedgerEntry[] = new Ledger(state.experiments, state.epoch).entries();
  for (let i = 0; i < proposals; i++) {
    const result = await propose(options.agent, { files, ledger }, options.root);
    if (!result.ok) {
      report.failures.push({ errors: result.errors, tokens: result.tokens });
      report.failedTokens += result.tokens;
      continue;
    }
    const { proposal } = result;
    await forge.start({
      kind: "experiment",
      parent: head,
      title: proposal.title,
      hypothesis: proposal.hypothesis,
      train: result.train,
      fingerprint: result.fingerprint,
      seed: DEFAULT_SEED,
      agent: result.agent,
      tokens: result.tokens,
    });
    ledger.push({ n: (ledger.at(-1)?.n ?? 0) + 1, title: proposal.title, hypothesis: proposal.hypothesis, fingerprint: result.fingerprint, valBpb: null, delta: null, outcome: "running", crash: null });
  }
  return report;
}
