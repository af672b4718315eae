/**
 * The replies of the proposal bench: each `<name>.md` here is a reply in a style real models
 * produce, and `<name>.repair.md`, where there is one, the reply a model sends after reading the
 * refusal. Their SEARCH texts quote the current train.ts; a line that is likely to change is
 * written `{{line: TEXT}}` (the one line of train.ts holding TEXT) and a whole file
 * `{{train.ts: "OLD" => "NEW"}}`, filled in from the live file when the bench runs.
 */
export interface ProposalCase {
  name: string;
  /** What the reply exercises. */
  style: string;
  /** Well-formed, and its code is valid for the engine: it must be accepted as it is. */
  valid: boolean;
}

export const CASES: readonly ProposalCase[] = [
  { name: "01-canonical-lr", style: "the format of program.md, a hyperparameter", valid: true },
  { name: "02-markdown-chatty", style: "chatty prose, markdown headings and bold keywords, fenced block", valid: true },
  { name: "03-trailing-whitespace", style: "SEARCH lines with trailing whitespace the file lacks", valid: true },
  { name: "04-indent-drift", style: "SEARCH and REPLACE indented 4/8 where the file has 2/4", valid: true },
  { name: "05-tabs", style: "SEARCH and REPLACE indented with tabs", valid: true },
  { name: "06-fences-inside-blocks", style: "code fences inside the SEARCH and REPLACE parts", valid: true },
  { name: "07-no-edit-header", style: "no EDIT line: a bare path, then a fenced block (aider style)", valid: true },
  { name: "08-whole-file", style: "the whole train.ts rewritten in one code block", valid: true },
  { name: "09-unified-diff", style: "a unified diff in a diff fence", valid: true },
  { name: "10-gelu", style: "a new activation with a PyTorch name the engine lacks (F.gelu)", valid: false },
  { name: "11-sdpa", style: "changed attention through F.scaled_dot_product_attention", valid: false },
  { name: "12-layernorm", style: "a new norm through F.layer_norm", valid: false },
  { name: "13-grad-clip", style: "torch.nn.utils.clip_grad_norm_ in the loop", valid: false },
  { name: "14-heavy-ball-lerp", style: "an optimizer change with x.lerp_", valid: false },
  { name: "15-overlapping-edits", style: "two edits to one place, the second quoting the original lines", valid: false },
  { name: "16-repeated-block", style: "the same edit block twice", valid: true },
  { name: "17-swiglu", style: "an architecture change: a SwiGLU MLP", valid: true },
  { name: "18-two-edits", style: "two independent edits", valid: true },
  { name: "19-float-type-as", style: "x.float() and x.type_as()", valid: false },
  { name: "20-fused-qkv", style: "an architecture change with x.chunk", valid: false },
  { name: "21-stale-search", style: "a SEARCH text with a comment the file does not have", valid: false },
  { name: "22-prose-only", style: "prose with no format at all", valid: false },
  { name: "23-crlf", style: "Windows line endings", valid: true },
  { name: "24-process-env", style: "a forbidden global (process.env)", valid: false },
  { name: "25-optimizer-plain-decay", style: "an optimizer change: the fused update written out in ops", valid: true },
  { name: "26-elided-search", style: "a SEARCH text that elides lines with // ... existing code ...", valid: false },
  { name: "27-edits-prepare", style: "an edit to prepare.ts", valid: false },
];
