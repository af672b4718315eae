/** One search/replace edit: `search` must occur exactly once in `file`; an empty `search` replaces the whole file. */
export interface Edit {
  file: string;
  search: string;
  replace: string;
}

/** What an agent proposes: one experiment, stated as a hypothesis and edits to `train.ts`. */
export interface Proposal {
  title: string;
  hypothesis: string;
  edits: Edit[];
}
