import { createHash } from "node:crypto";
import nock from "nock";
import { validateRequest } from "./openapi-validator.ts";
import { writeZip } from "./write-zip.ts";

const API = "https://api.github.com";
const BLOBS = "https://pipelines.actions.githubusercontent.com";
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

type Files = Record<string, string>;

interface FakeCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
}

/** An issue or a pull request (a pull request has `head`, `base` and merge state). */
export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: string[];
  user: string;
  createdAt: string;
  updatedAt: string;
  /** Locked conversation: the app's comments and reactions are refused. */
  locked: boolean;
  pull?: { head: string; base: string; headSha: string; merged: boolean; mergedAt: string | null; mergeCommitSha: string | null };
}

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
  user: string;
}

export interface FakeCheckRun {
  id: number;
  headSha: string;
  name: string;
  conclusion: string;
  title: string;
  summary: string;
}

export interface FakeWorkflowRun {
  id: number;
  headSha: string;
  headBranch: string;
  path: string;
  event: string;
  /** `owner/name` of the repository the run's head commit came from: a fork's for a fork's pull request. */
  headRepository: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  artifact: Buffer | null;
}

/** Where a workflow run comes from, when not from this repository's experiment workflow on `pull_request`. */
export interface RunOrigin {
  path?: string;
  event?: string;
  headRepository?: string;
}

/** One REST request the app made, with what the OpenAPI description thinks of it. */
export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string | null;
  status: number;
  errors: string[];
}

/** Merges two edits of a file line by line when both keep its line count (as const-line edits do); null on a conflict. */
function mergeLines(base: string | undefined, a: string | undefined, b: string | undefined): string | null {
  if (base === undefined || a === undefined || b === undefined) return null;
  const [o, x, y] = [base.split("\n"), a.split("\n"), b.split("\n")];
  if (o.length !== x.length || o.length !== y.length) return null;
  const merged: string[] = [];
  for (let i = 0; i < o.length; i++) {
    if (x[i] !== o[i] && y[i] !== o[i] && x[i] !== y[i]) return null;
    merged.push(x[i] !== o[i] ? x[i]! : y[i]!);
  }
  return merged.join("\n");
}

/** nock hands over JSON bodies parsed, other bodies as text, and none as "". */
function parseBody(body: unknown): unknown {
  if (body === "" || body === undefined) return undefined;
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A GitHub that lives in memory behind nock: git objects, branches, issues and pull
 * requests, labels, comments, reactions, check runs, workflow runs with artifacts,
 * collaborators and the app's installation. Every request is first checked against
 * GitHub's OpenAPI description; a request GitHub would reject fails the test.
 */
export class FakeGitHub {
  readonly owner = "octo-org";
  readonly repo = "research";
  readonly defaultBranch = "main";
  readonly installationId = 4242;
  readonly appSlug = "autoresearch";

  readonly commits = new Map<string, FakeCommit>();
  readonly trees = new Map<string, Files>();
  readonly refs = new Map<string, string>();
  readonly issues = new Map<number, FakeIssue>();
  readonly comments: FakeComment[] = [];
  readonly reactions: Array<{ commentId: number; content: string }> = [];
  readonly checkRuns: FakeCheckRun[] = [];
  readonly workflowRuns = new Map<number, FakeWorkflowRun>();
  /** Repository roles by login: admin, maintain, write, triage or read. */
  readonly permissions = new Map<string, string>();
  readonly requests: RecordedRequest[] = [];
  /** Requests GitHub would reject; a test asserts this stays empty. */
  readonly invalid: RecordedRequest[] = [];
  /** Check names branch protection requires on a pull request's head before it merges (latest run of each a success). */
  readonly requiredChecks: string[] = [];
  /** Numbers of issues a person deleted: GitHub answers 410 Gone for them. */
  readonly deleted = new Set<number>();
  /** Requests to answer with a 500, by their index in {@link requests}: before doing what they ask, or after. */
  readonly failures = new Map<number, "before" | "after">();
  #clock = Date.parse("2025-01-15T21:00:00Z");
  #ids = 1000;
  #nextIssue = 1;

  constructor(files: Files) {
    const tree = this.#tree(files);
    this.refs.set(this.defaultBranch, this.#commit(tree, [], "Initial commit"));
  }

  /** Starts intercepting api.github.com (and the artifact host); net connect stays off but for loopback. */
  install(): void {
    nock.disableNetConnect();
    nock.enableNetConnect("127.0.0.1");
    for (const method of ["get", "post", "patch", "put", "delete"] as const) {
      nock(API)
        .persist()
        [method](/.*/)
        .reply((uri, body) => this.#handle(method.toUpperCase(), uri, parseBody(body)));
    }
    nock(BLOBS)
      .persist()
      .get(/\/artifacts\/\d+\.zip/)
      .reply((uri) => {
        const id = Number(/(\d+)\.zip/.exec(uri)![1]);
        const run = [...this.workflowRuns.values()].find((r) => r.id * 10 === id);
        return run?.artifact ? [200, run.artifact, { "content-type": "application/zip" }] : [404, "gone"];
      });
  }

  uninstall(): void {
    nock.cleanAll();
    nock.enableNetConnect();
  }

  // ---------------------------------------------------------------- git

  #now(): string {
    this.#clock += 1000;
    return new Date(this.#clock).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  #tree(files: Files): string {
    const sha = sha1(`tree ${JSON.stringify(Object.entries(files).sort())}`);
    this.trees.set(sha, files);
    return sha;
  }

  #commit(tree: string, parents: string[], message: string): string {
    const sha = sha1(`commit ${tree} ${parents.join(",")} ${message} ${this.#ids++}`);
    this.commits.set(sha, { sha, tree, parents, message });
    return sha;
  }

  /** The files of a branch or a commit. */
  files(refOrSha: string): Files {
    const sha = this.refs.get(refOrSha) ?? refOrSha;
    return this.trees.get(this.commits.get(sha)!.tree)!;
  }

  #ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const queue = [sha];
    while (queue.length) {
      const next = queue.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...this.commits.get(next)!.parents);
    }
    return seen;
  }

  #mergeBase(a: string, b: string): string {
    const ofA = this.#ancestors(a);
    const queue = [b];
    const seen = new Set<string>();
    while (queue.length) {
      const next = queue.shift()!;
      if (ofA.has(next)) return next;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...this.commits.get(next)!.parents);
    }
    throw new Error(`no merge base of ${a} and ${b}`);
  }

  /** A file-level three-way merge of `theirs` into `ours`; null on a conflict. */
  #merge(ours: string, theirs: string): Files | null {
    const base = this.files(this.#mergeBase(ours, theirs));
    const a = this.files(ours);
    const b = this.files(theirs);
    const merged: Files = { ...a };
    for (const path of new Set([...Object.keys(base), ...Object.keys(b)])) {
      if (b[path] === base[path]) continue;
      if (a[path] !== base[path] && a[path] !== b[path]) {
        const lines = mergeLines(base[path], a[path], b[path]);
        if (lines === null) return null;
        merged[path] = lines;
      } else if (b[path] === undefined) delete merged[path];
      else merged[path] = b[path]!;
    }
    return merged;
  }

  /** Someone creates a branch with a history of its own: one commit of `files`. */
  createBranch(branch: string, files: Files, message: string): string {
    const sha = this.#commit(this.#tree(files), [], message);
    this.refs.set(branch, sha);
    return sha;
  }

  /** A person pushes a commit to a branch (a merged pull request of their own, say). */
  push(branch: string, changes: Files, message: string): string {
    const parent = this.refs.get(branch)!;
    const sha = this.#commit(this.#tree({ ...this.files(parent), ...changes }), [parent], message);
    this.refs.set(branch, sha);
    return sha;
  }

  // ---------------------------------------------------------------- the runner

  /**
   * The GPU runner finishes a run of a pull request's head: stores the workflow run and its
   * `autoresearch-result` artifact, and returns the run for the webhook.
   */
  finishRun(number: number, result: unknown, conclusion = "success", origin: RunOrigin = {}): FakeWorkflowRun {
    const issue = this.issues.get(number)!;
    const id = this.#ids++;
    const run: FakeWorkflowRun = {
      ...this.#runOrigin(origin),
      id,
      headSha: issue.pull!.headSha,
      headBranch: issue.pull!.head,
      status: "completed",
      conclusion,
      artifact: result === null ? null : writeZip({ "result.json": JSON.stringify(result), "train.log": "step 1\n" }),
    };
    this.workflowRuns.set(id, run);
    return run;
  }

  /** The runner picks up the run of a pull request's head (it shows as in progress). */
  startRun(number: number): FakeWorkflowRun {
    const issue = this.issues.get(number)!;
    const run: FakeWorkflowRun = {
      ...this.#runOrigin({}), id: this.#ids++, headSha: issue.pull!.headSha, headBranch: issue.pull!.head,
      status: "in_progress", conclusion: null, artifact: null,
    };
    this.workflowRuns.set(run.id, run);
    return run;
  }

  /** Where a run comes from: this repository's experiment workflow on `pull_request`, unless told otherwise. */
  #runOrigin(origin: RunOrigin): Pick<FakeWorkflowRun, "path" | "event" | "headRepository"> {
    return { path: ".github/workflows/experiment.yml", event: "pull_request", headRepository: `${this.owner}/${this.repo}`, ...origin };
  }

  /** The head commit of a pull request, with its files and message. */
  headOf(number: number): { sha: string; files: Files; message: string } {
    const sha = this.issues.get(number)!.pull!.headSha;
    return { sha, files: this.files(sha), message: this.commits.get(sha)!.message };
  }

  // ---------------------------------------------------------------- HTTP

  #handle(method: string, uri: string, body: unknown): [number, unknown, Record<string, string>?] {
    const { operationId, errors } = validateRequest(method, uri, body);
    const record: RecordedRequest = { method, path: uri, operationId, status: 0, errors };
    this.requests.push(record);
    if (errors.length > 0) {
      this.invalid.push(record);
      record.status = 422;
      return [422, { message: `Invalid request: ${errors.join("; ")}` }];
    }
    const failure = this.failures.get(this.requests.length - 1);
    const failed = (): [number, unknown] => {
      record.status = 500;
      return [500, { message: `Injected failure ${failure} ${operationId}` }];
    };
    if (failure === "before") return failed();
    try {
      const [status, data, headers] = this.#route(operationId!, new URL(uri, API), body as Record<string, any>);
      record.status = status;
      return failure === "after" ? failed() : [status, data, headers];
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      record.status = error.status;
      return [error.status, { message: error.message }];
    }
  }

  #route(operation: string, url: URL, body: Record<string, any>): [number, unknown, Record<string, string>?] {
    const parts = url.pathname.split("/").map(decodeURIComponent);
    const query = url.searchParams;
    const number = Number(parts[5]);
    switch (operation) {
      case "apps/get-authenticated":
        return [200, { id: 1, slug: this.appSlug, name: "autoresearch", owner: { login: this.owner } }];
      case "apps/create-installation-access-token":
        return [201, { token: "ghs_test", expires_at: "2099-01-01T00:00:00Z", permissions: {}, repository_selection: "selected" }];
      case "apps/list-installations":
        return [200, [{ id: this.installationId, account: { login: this.owner } }]];
      case "apps/list-repos-accessible-to-installation":
        return [200, { total_count: 1, repositories: [this.#repository()] }];
      case "repos/get":
        return [200, this.#repository()];
      case "repos/get-content":
        return this.#content(parts[3]!, parts.slice(5).join("/"), query.get("ref"));
      case "repos/get-branch":
        return [200, this.#branch(parts.slice(5).join("/"))];
      case "repos/get-collaborator-permission-level": {
        const role = this.permissions.get(parts[5]!);
        if (!role) throw new HttpError(404, "Not a collaborator");
        // The legacy `permission` field folds maintain into write and triage into read.
        const permission = ({ maintain: "write", triage: "read" } as Record<string, string>)[role] ?? role;
        return [200, { permission, role_name: role, user: { login: parts[5] } }];
      }
      case "git/get-tree": {
        const files = this.trees.get(parts[6]!);
        if (!files) throw new HttpError(404, "Not Found");
        const tree = Object.entries(files).map(([path, content]) => ({ path, mode: "100644", type: "blob", sha: this.#blob(content) }));
        return [200, { sha: parts[6], tree, truncated: false }];
      }
      case "git/get-blob": {
        const content = [...this.trees.values()].flatMap((f) => Object.values(f)).find((c) => this.#blob(c) === parts[6]);
        if (content === undefined) throw new HttpError(404, "Not Found");
        return [200, { sha: parts[6], content: Buffer.from(content).toString("base64"), encoding: "base64", size: content.length }];
      }
      case "git/create-tree": {
        const files: Files = { ...(body.base_tree ? this.trees.get(body.base_tree) : {}) };
        for (const entry of body.tree) files[entry.path] = entry.content;
        const sha = this.#tree(files);
        return [201, { sha, tree: [], truncated: false }];
      }
      case "git/create-commit": {
        if (!this.trees.has(body.tree)) throw new HttpError(422, "Tree not found");
        const sha = this.#commit(body.tree, body.parents, body.message);
        return [201, { sha, tree: { sha: body.tree }, message: body.message, parents: body.parents.map((p: string) => ({ sha: p })) }];
      }
      case "git/create-ref": {
        const name = String(body.ref).replace(/^refs\/heads\//, "");
        if (this.refs.has(name)) throw new HttpError(422, "Reference already exists");
        this.refs.set(name, body.sha);
        return [201, { ref: body.ref, object: { sha: body.sha, type: "commit" } }];
      }
      case "git/update-ref": {
        const name = parts.slice(6).join("/").replace(/^heads\//, "");
        const current = this.refs.get(name);
        if (!current) throw new HttpError(422, "Reference does not exist");
        if (!body.force && !this.#ancestors(body.sha).has(current)) throw new HttpError(422, "Update is not a fast forward");
        this.#moveBranch(name, body.sha);
        return [200, { ref: `refs/heads/${name}`, object: { sha: body.sha, type: "commit" } }];
      }
      case "git/delete-ref": {
        const name = parts.slice(6).join("/").replace(/^heads\//, "");
        if (!this.refs.delete(name)) throw new HttpError(422, "Reference does not exist");
        return [204, ""];
      }
      case "repos/create-or-update-file-contents": {
        const branch = body.branch ?? this.defaultBranch;
        const parent = this.refs.get(branch);
        if (!parent) throw new HttpError(404, `No branch ${branch}`);
        const path = parts.slice(5).join("/");
        const current = this.files(parent)[path];
        if (current !== undefined && body.sha === undefined) throw new HttpError(422, `Invalid request: "sha" wasn't supplied`);
        if (current !== undefined && body.sha !== this.#blob(current)) throw new HttpError(409, `${path} does not match ${body.sha}`);
        const tree = this.#tree({ ...this.files(parent), [path]: Buffer.from(body.content, "base64").toString("utf8") });
        const sha = this.#commit(tree, [parent], body.message);
        this.#moveBranch(branch, sha);
        const content = { path, sha: this.#blob(Buffer.from(body.content, "base64").toString("utf8")) };
        return [current === undefined ? 201 : 200, { content, commit: { sha, tree: { sha: tree }, message: body.message } }];
      }
      case "repos/merge": {
        const base = this.refs.get(body.base);
        if (!base) throw new HttpError(404, "Base does not exist");
        const head = this.refs.get(body.head) ?? body.head;
        if (this.#ancestors(base).has(head)) return [204, ""];
        const merged = this.#merge(base, head);
        if (!merged) throw new HttpError(409, "Merge conflict");
        const tree = this.#tree(merged);
        const sha = this.#commit(tree, [base, head], body.commit_message ?? "Merge");
        this.#moveBranch(body.base, sha);
        return [201, { sha, commit: { tree: { sha: tree }, message: body.commit_message } }];
      }
      case "pulls/create": {
        const headSha = this.refs.get(body.head);
        if (!headSha) throw new HttpError(422, `No branch ${body.head}`);
        if ([...this.issues.values()].some((i) => i.pull?.head === body.head && i.state === "open")) throw new HttpError(422, "A pull request already exists");
        const issue = this.#newIssue(body.title, body.body ?? "", []);
        issue.pull = { head: body.head, base: body.base, headSha, merged: false, mergedAt: null, mergeCommitSha: null };
        return [201, this.#pullJson(issue)];
      }
      case "pulls/list": {
        const [owner, head] = (query.get("head") ?? ":").split(":");
        const pulls = [...this.issues.values()].filter(
          (i) => i.pull && (!query.get("head") || (owner === this.owner && i.pull.head === head)) && (query.get("state") === "all" || i.state === (query.get("state") ?? "open")),
        );
        return [200, pulls.map((i) => this.#pullJson(i))];
      }
      case "pulls/update": {
        const issue = this.#issue(number, true);
        if (body.body !== undefined) issue.body = body.body;
        if (body.state !== undefined) issue.state = body.state;
        if (body.title !== undefined) issue.title = body.title;
        issue.updatedAt = this.#now();
        return [200, this.#pullJson(issue)];
      }
      case "pulls/merge": {
        const issue = this.#issue(number, true);
        const pull = issue.pull!;
        if (pull.merged || issue.state !== "open") throw new HttpError(405, "Pull Request is not mergeable");
        if (body.sha && body.sha !== pull.headSha) throw new HttpError(409, "Head branch was modified. Review and try the merge again.");
        for (const name of this.requiredChecks) {
          const latest = this.checkRuns.filter((c) => c.headSha === pull.headSha && c.name === name).at(-1);
          if (latest?.conclusion !== "success") throw new HttpError(405, `Required status check "${name}" is expected.`);
        }
        const base = this.refs.get(pull.base)!;
        const merged = this.#merge(base, pull.headSha);
        if (!merged) throw new HttpError(405, "Merge conflict");
        const sha = this.#commit(this.#tree(merged), [base], `${body.commit_title}\n\n${body.commit_message}`);
        this.refs.set(pull.base, sha);
        Object.assign(pull, { merged: true, mergedAt: this.#now(), mergeCommitSha: sha });
        issue.state = "closed";
        issue.updatedAt = this.#now();
        return [200, { sha, merged: true, message: "Pull Request successfully merged" }];
      }
      case "issues/list-for-repo":
        return this.#listIssues(query);
      case "issues/create": {
        const issue = this.#newIssue(body.title, body.body ?? "", body.labels ?? []);
        return [201, this.#issueJson(issue)];
      }
      case "issues/update": {
        const issue = this.#issue(number, false);
        if (body.body !== undefined) issue.body = body.body;
        if (body.state !== undefined) issue.state = body.state;
        if (body.labels !== undefined) issue.labels = [...body.labels];
        issue.updatedAt = this.#now();
        return [200, this.#issueJson(issue)];
      }
      case "issues/add-labels": {
        const issue = this.#issue(number, false);
        for (const label of body.labels as string[]) if (!issue.labels.includes(label)) issue.labels.push(label);
        issue.updatedAt = this.#now();
        return [200, issue.labels.map((name) => ({ id: 1, name, color: "ededed", default: false }))];
      }
      case "issues/create-comment": {
        const issue = this.#issue(number, false);
        if (issue.locked) throw new HttpError(403, "Unable to create comment because issue is locked.");
        const comment = { id: this.#ids++, issue: number, body: body.body, user: `${this.appSlug}[bot]` };
        this.comments.push(comment);
        issue.updatedAt = this.#now();
        return [201, { id: comment.id, body: comment.body, user: { login: comment.user } }];
      }
      case "issues/list-comments": {
        this.#issue(number, false);
        const comments = this.comments.filter((c) => c.issue === number).map((c) => ({ id: c.id, body: c.body, user: { login: c.user } }));
        return [200, comments];
      }
      case "reactions/create-for-issue-comment": {
        const commentId = Number(parts[6]);
        const on = this.comments.find((c) => c.id === commentId);
        if (on && this.issues.get(on.issue)?.locked) throw new HttpError(403, "Unable to react because issue is locked.");
        const exists = this.reactions.some((r) => r.commentId === commentId && r.content === body.content);
        if (!exists) this.reactions.push({ commentId, content: body.content });
        return [exists ? 200 : 201, { id: 1, content: body.content }];
      }
      case "checks/create": {
        const run = { id: this.#ids++, headSha: body.head_sha, name: body.name, conclusion: body.conclusion, title: body.output?.title, summary: body.output?.summary };
        this.checkRuns.push(run);
        return [201, { id: run.id, head_sha: run.headSha, name: run.name, status: "completed", conclusion: run.conclusion }];
      }
      case "checks/list-for-ref": {
        const runs = this.checkRuns.filter((c) => c.headSha === parts[5] && (!query.get("check_name") || c.name === query.get("check_name")));
        const json = runs.map((c) => ({ id: c.id, head_sha: c.headSha, name: c.name, status: "completed", conclusion: c.conclusion, output: { title: c.title, summary: c.summary } }));
        return [200, { total_count: runs.length, check_runs: json }];
      }
      case "actions/list-workflow-run-artifacts": {
        const run = this.workflowRuns.get(Number(parts[6]));
        const artifacts = run?.artifact ? [{ id: run.id * 10, name: "autoresearch-result", expired: false, size_in_bytes: run.artifact.length }] : [];
        return [200, { total_count: artifacts.length, artifacts }];
      }
      case "actions/download-artifact":
        return [302, "", { location: `${BLOBS}/artifacts/${parts[6]}.zip` }];
      case "actions/list-workflow-runs-for-repo": {
        const runs = [...this.workflowRuns.values()].filter(
          (r) => (!query.get("head_sha") || r.headSha === query.get("head_sha")) && (!query.get("status") || r.status === query.get("status")),
        );
        return [200, { total_count: runs.length, workflow_runs: runs.map((r) => this.#runJson(r)) }];
      }
      case "actions/cancel-workflow-run": {
        const run = this.workflowRuns.get(Number(parts[6]));
        if (!run) throw new HttpError(404, "Not Found");
        Object.assign(run, { status: "completed", conclusion: "cancelled" });
        return [202, {}];
      }
      default:
        throw new Error(`The fake GitHub does not implement ${operation}`);
    }
  }

  #moveBranch(name: string, sha: string): void {
    this.refs.set(name, sha);
    for (const issue of this.issues.values()) if (issue.pull?.head === name && issue.state === "open") issue.pull.headSha = sha;
  }

  /** Git's blob id, as GitHub gives it (and as the contents API expects it back). */
  #blob(content: string): string {
    return sha1(`blob ${Buffer.byteLength(content)}\0${content}`);
  }

  #issue(number: number, pull: boolean): FakeIssue {
    if (this.deleted.has(number)) throw new HttpError(410, "This issue was deleted");
    const issue = this.issues.get(number);
    if (!issue || (pull && !issue.pull)) throw new HttpError(404, "Not Found");
    return issue;
  }

  #newIssue(title: string, body: string, labels: string[], user = `${this.appSlug}[bot]`): FakeIssue {
    const now = this.#now();
    const issue: FakeIssue = { number: this.#nextIssue++, title, body, state: "open", labels: [...labels], user, createdAt: now, updatedAt: now, locked: false };
    this.issues.set(issue.number, issue);
    return issue;
  }

  /** A person opens a pull request from `head` (a branch of this repository) with their own title, body and labels. */
  openPull(head: string, base: string, title: string, body: string, labels: string[], user: string): FakeIssue {
    const issue = this.#newIssue(title, body, labels, user);
    issue.pull = { head, base, headSha: this.refs.get(head)!, merged: false, mergedAt: null, mergeCommitSha: null };
    return issue;
  }

  /** A person closes, reopens or locks an issue or pull request. */
  setIssue(number: number, change: Partial<Pick<FakeIssue, "state" | "locked">>): FakeIssue {
    const issue = this.issues.get(number)!;
    Object.assign(issue, change, { updatedAt: this.#now() });
    return issue;
  }

  /** A person deletes an issue: it leaves every listing, and requests for it answer 410. */
  deleteIssue(number: number): void {
    this.issues.delete(number);
    this.deleted.add(number);
  }

  /** A person force-pushes a branch to a commit of `changes` on top of `onto` (rewinding what came after it). */
  forcePush(branch: string, onto: string, changes: Files, message: string): string {
    const sha = this.#commit(this.#tree({ ...this.files(onto), ...changes }), [onto], message);
    this.refs.set(branch, sha);
    return sha;
  }

  /** A person opens an issue, or edits one (the dashboard's checkboxes). */
  editIssue(number: number, body: string): FakeIssue {
    const issue = this.issues.get(number)!;
    Object.assign(issue, { body, updatedAt: this.#now() });
    return issue;
  }

  /** A person sets the labels of an issue or pull request. */
  setLabels(number: number, labels: string[]): FakeIssue {
    const issue = this.issues.get(number)!;
    Object.assign(issue, { labels, updatedAt: this.#now() });
    return issue;
  }

  /** A person comments; returns the comment for the webhook. */
  comment(number: number, body: string, user: string): FakeComment {
    const comment = { id: this.#ids++, issue: number, body, user };
    this.comments.push(comment);
    return comment;
  }

  #listIssues(query: URLSearchParams): [number, unknown, Record<string, string>] {
    const labels = query.get("labels")?.split(",") ?? [];
    const since = query.get("since");
    const state = query.get("state") ?? "open";
    const perPage = Number(query.get("per_page") ?? 30);
    const page = Number(query.get("page") ?? 1);
    const all = [...this.issues.values()]
      .filter((i) => labels.every((l) => i.labels.includes(l)))
      .filter((i) => state === "all" || i.state === state)
      .filter((i) => !since || i.updatedAt >= since)
      .sort((a, b) => (query.get("sort") === "updated" ? a.updatedAt.localeCompare(b.updatedAt) : b.number - a.number));
    const items = all.slice((page - 1) * perPage, page * perPage).map((i) => this.#issueJson(i));
    const headers: Record<string, string> = {};
    if (page * perPage < all.length) {
      const next = new URL(`${API}/repos/${this.owner}/${this.repo}/issues`);
      query.forEach((v, k) => next.searchParams.set(k, v));
      next.searchParams.set("page", String(page + 1));
      headers.link = `<${next.toString()}>; rel="next"`;
    }
    return [200, items, headers];
  }

  #content(repo: string, path: string, ref: string | null): [number, unknown, Record<string, string>] {
    const sha = this.refs.get(ref ?? this.defaultBranch) ?? ref;
    if (repo !== this.repo || !this.commits.has(sha ?? "")) throw new HttpError(404, "Not Found");
    const content = this.files(sha!)[path];
    if (content === undefined) throw new HttpError(404, "Not Found");
    return [200, content, { "content-type": "application/vnd.github.raw+json; charset=utf-8" }];
  }

  #repository() {
    return {
      id: 1, name: this.repo, full_name: `${this.owner}/${this.repo}`, private: true, default_branch: this.defaultBranch,
      owner: { login: this.owner, id: 2, type: "Organization" },
    };
  }

  #branch(name: string) {
    const sha = this.refs.get(name);
    if (!sha) throw new HttpError(404, "Branch not found");
    return { name, commit: { sha, commit: { tree: { sha: this.commits.get(sha)!.tree }, message: this.commits.get(sha)!.message } }, protected: false };
  }

  #labelsJson(issue: FakeIssue) {
    return issue.labels.map((name) => ({ id: 1, name, color: "ededed", default: false }));
  }

  #issueJson(issue: FakeIssue) {
    return {
      id: issue.number * 7, number: issue.number, title: issue.title, body: issue.body, state: issue.state, labels: this.#labelsJson(issue),
      user: { login: issue.user }, created_at: issue.createdAt, updated_at: issue.updatedAt,
      ...(issue.pull ? { pull_request: { url: "", merged_at: issue.pull.mergedAt } } : {}),
    };
  }

  #pullJson(issue: FakeIssue) {
    const pull = issue.pull!;
    return {
      id: issue.number * 7, number: issue.number, title: issue.title, body: issue.body, state: issue.state, labels: this.#labelsJson(issue),
      user: { login: issue.user }, created_at: issue.createdAt, updated_at: issue.updatedAt, merged: pull.merged, merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha, head: { ref: pull.head, sha: pull.headSha }, base: { ref: pull.base, sha: this.refs.get(pull.base) },
    };
  }

  #runJson(run: FakeWorkflowRun) {
    const [owner, name] = run.headRepository.split("/") as [string, string];
    const own = run.headRepository === `${this.owner}/${this.repo}`;
    return {
      id: run.id, name: "experiment", path: run.path, head_branch: run.headBranch, head_sha: run.headSha, status: run.status,
      conclusion: run.conclusion, event: run.event, html_url: `https://github.com/${this.owner}/${this.repo}/actions/runs/${run.id}`,
      repository: this.#repository(),
      head_repository: own ? this.#repository() : { id: 9000 + run.id, name, full_name: run.headRepository, private: false, owner: { login: owner, id: 3, type: "User" } },
    };
  }

  /** A workflow run as its webhook carries it. */
  runPayload(run: FakeWorkflowRun) {
    return this.#runJson(run);
  }

  /** The repository as webhooks carry it. */
  repositoryPayload() {
    return this.#repository();
  }
}
