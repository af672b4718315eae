import { checkDiff, EDITABLE_FILE } from "../runner/guards/diff.ts";
import { checkImports, formatImportViolations } from "../runner/guards/imports.ts";
import { applyEdits, EditError } from "./apply-edits.ts";
import { fingerprint } from "./fingerprint.ts";
import type { Proposal } from "./proposal.ts";
import { typeCheck } from "./type-check.ts";

/** What a proposal is checked against. */
export interface ProposalChecks {
  /** The current `train.ts`. */
  train: string;
  /** Project root for the type-check (where `prepare.ts` and the engine live); omit to skip it. */
  root?: string;
  /** Titles of earlier experiments by fingerprint, to refuse duplicates. */
  earlier: ReadonlyMap<string, string>;
}

/** A proposal that passed every check, or the reasons it did not. */
export type CheckedProposal = { ok: true; train: string; fingerprint: string } | { ok: false; errors: string[] };

/**
 * Checks a proposal the way the runner will: only `train.ts` may change, the edits must
 * apply, the change must be new, and the result must pass the import guard and the
 * type-check.
 */
export function checkProposal(proposal: Proposal, checks: ProposalChecks): CheckedProposal {
  const outside = checkDiff([...new Set(proposal.edits.map((e) => e.file))]);
  if (outside.length > 0) return { ok: false, errors: outside };

  let train: string;
  try {
    train = applyEdits({ [EDITABLE_FILE]: checks.train }, proposal.edits)[EDITABLE_FILE]!;
  } catch (error) {
    if (error instanceof EditError) return { ok: false, errors: [error.message] };
    throw error;
  }

  const id = fingerprint(checks.train, train);
  if (id === null) return { ok: false, errors: ["Expected the edits to change code, got a change to whitespace or comments only"] };
  const earlier = checks.earlier.get(id);
  if (earlier !== undefined) {
    return { ok: false, errors: [`Expected a new experiment, got a duplicate of the earlier experiment "${earlier}"`] };
  }

  const violations = checkImports(train);
  const errors = violations.length > 0 ? [formatImportViolations(violations)] : [];
  if (checks.root !== undefined) errors.push(...typeCheck(train, checks.root));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, train, fingerprint: id };
}
