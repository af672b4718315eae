import type { CheckOutput } from "./render-check.ts";

/**
 * What a write of an experiment's marker leaves to show on its pull request. It is written in
 * the same request as the state it reports, so that a step that fails after the write leaves
 * it to the next step, which finishes it without showing anything twice.
 */
export interface Outbox {
  /**
   * The step that wrote it. The dashboard keeps the last step that showed all it wrote, so an
   * outbox costs no request to mark done, and one from a later step may be unfinished.
   */
  step: number;
  /** The checks of the runs read since the previous write of the marker. */
  checks: Array<CheckOutput & { sha: string }>;
  /** The comment on the outcome. */
  comment: string | null;
  deleteBranch: boolean;
  /** Written before a merge: if the merge happens and its record does not, the next step records it. */
  merging: boolean;
}
