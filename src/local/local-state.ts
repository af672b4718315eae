import type { Experiment } from "../research/experiment.ts";
import { commitTree, git, resolveRef } from "./git.ts";

/** The ref whose commits hold the local loop's state: one commit per change, so `git log` of it is the loop's log. */
export const STATE_REF = "refs/autoresearch/state";

/** The file in each state commit. */
const STATE_FILE = "state.json";

/** Everything the local loop knows, stored in the repository so that a run can resume. */
export interface LocalState {
  version: 1;
  /** The research branch: improvements are squash-merged into it. */
  branch: string;
  /** The noise epoch (see ResearchState). */
  epoch: number;
  experiments: Experiment[];
}

/** The state and the commit it was read from (null before the first write). */
export interface StoredState {
  state: LocalState;
  sha: string | null;
}

/** One ref move of a transaction; `to: null` deletes, `from: null` requires that the ref does not exist yet. */
export interface RefUpdate {
  ref: string;
  to: string | null;
  from: string | null;
}

const ZERO = "0".repeat(40);

/** Reads the state at `refs/autoresearch/state`, or null when the loop never ran in this repository. */
export async function readState(dir: string): Promise<StoredState | null> {
  const sha = await resolveRef(dir, `${STATE_REF}^{commit}`);
  if (sha === null) return null;
  const text = await git(dir, ["show", `${sha}:${STATE_FILE}`]);
  let state: LocalState;
  try {
    state = JSON.parse(text);
  } catch (error) {
    throw new Error(`Expected ${STATE_REF}:${STATE_FILE} to be JSON, got \`${text.slice(0, 80)}\`: ${(error as Error).message}`);
  }
  if (state?.version !== 1 || typeof state.branch !== "string" || !Array.isArray(state.experiments)) {
    throw new Error(`Expected ${STATE_REF}:${STATE_FILE} to hold a version 1 state, got \`${text.slice(0, 80)}\``);
  }
  return { state, sha };
}

/**
 * Writes `state` as a new commit of the state ref and moves the other refs, all in one git
 * ref transaction: either every ref moves or none does, so a kill at any moment leaves the
 * repository consistent. The state ref must still be at `previous` (compare and swap).
 *
 * @returns the new state commit.
 */
export async function writeState(dir: string, state: LocalState, previous: string | null, message: string, refs: readonly RefUpdate[] = []): Promise<string> {
  const blob = await git(dir, ["hash-object", "-w", "--stdin"], `${JSON.stringify(state, null, 2)}\n`);
  const tree = await git(dir, ["mktree"], `100644 blob ${blob}\t${STATE_FILE}\n`);
  const commit = await commitTree(dir, tree, previous ? [previous] : [], message);
  await moveRefs(dir, [{ ref: STATE_REF, to: commit, from: previous }, ...refs]);
  return commit;
}

/** Moves refs in one atomic transaction, each checked against its expected old value. */
export async function moveRefs(dir: string, refs: readonly RefUpdate[]): Promise<void> {
  const lines = refs.map(({ ref, to, from }) => (to === null ? `delete ${ref}${from ? ` ${from}` : ""}` : `update ${ref} ${to} ${from ?? ZERO}`));
  await git(dir, ["update-ref", "--stdin"], `${lines.join("\n")}\n`);
}
