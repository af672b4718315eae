/**
 * The OS sandbox train.ts runs in: bubblewrap (`bwrap`) with its own mount, PID, network, IPC
 * and UTS namespaces. Inside, the file system is an empty read-only root holding only the
 * system's programs and libraries, the node binary, the paths of the run's view (read-only)
 * and one writable directory; no network; nothing the run starts outlives it. Node's
 * permission model is a second belt inside. See docs/sandbox.md.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, lstat, readdir, readlink, realpath } from "node:fs/promises";
import { delimiter, dirname, join, sep } from "node:path";
import { promisify } from "node:util";

/** The one command that installs bubblewrap on Debian and Ubuntu. */
export const INSTALL_BWRAP = "sudo apt-get install -y bubblewrap";

/** The opt-out's name on the command line; the action's input is `no-sandbox`. */
export const NO_SANDBOX_FLAG = "--no-sandbox";

/** Written into every result of a run that trained without the sandbox. */
export const NO_SANDBOX_WARNING =
  `trained without the sandbox (${NO_SANDBOX_FLAG}): train.ts could read the validation data, write the cache and the harness, and leave processes behind, so this val_bpb is not protected against a train.ts that games it`;

/** One read-only path of the view: `source` on the host appears at `target` inside. */
export interface ViewMount {
  source: string;
  target: string;
}

/** What the training process may see and write. */
export interface SandboxView {
  readOnly: readonly ViewMount[];
  /** The one writable directory, at the same path inside. */
  writable: string;
  /** The working directory inside. */
  cwd: string;
  /** Host paths that must not be in the view at all (the data cache, the harness, the result's folder). */
  hidden?: readonly string[];
  /** Library folders outside the system's (LD_LIBRARY_PATH: a CUDA in /opt), shown read-only. */
  libraryDirs?: readonly string[];
}

/** Thrown when bwrap is missing or cannot make namespaces here; the message says how to fix it. */
export class SandboxUnavailableError extends Error {}

// The system's programs and libraries (a symlink such as /lib -> usr/lib is recreated as one).
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
// What the dynamic loader and libc read from /etc; nothing else of /etc is in the view.
const ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf"];
// Namespaces, a process that dies with the runner, no terminal, no capabilities.
const ISOLATION = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"];

const exists = (path: string) => access(path).then(() => true, () => false);

/** The path of `bwrap` on `PATH`, or null. */
async function whichBwrap(path: string | undefined): Promise<string | null> {
  for (const dir of (path ?? "").split(delimiter).filter(Boolean)) {
    const file = join(dir, "bwrap");
    if (await access(file, constants.X_OK).then(() => true, () => false)) return file;
  }
  return null;
}

/**
 * bwrap arguments that put the system's programs and libraries, the node binary and the GPU in
 * the view.
 *
 * @throws Error when one of `hidden` lies inside one of those (a cache under /usr, say).
 */
async function systemArgs(nodePath: string, hidden: readonly string[], libraryDirs: readonly string[]): Promise<string[]> {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    const stat = await lstat(dir).catch(() => null);
    if (stat?.isSymbolicLink()) args.push("--symlink", await readlink(dir), dir);
    else if (stat?.isDirectory()) args.push("--ro-bind", dir, dir);
  }
  for (const file of ETC_FILES) if (await exists(file)) args.push("--ro-bind", file, file);
  const outsideSystem = (path: string) => !SYSTEM_DIRS.some((dir) => path.startsWith(dir + sep));
  // A node outside the system directories (nvm, the Actions runner's own node): its install prefix.
  if (outsideSystem(nodePath)) {
    const bin = dirname(nodePath);
    const prefix = bin.endsWith(`${sep}bin`) ? dirname(bin) : bin;
    args.push("--ro-bind", prefix, prefix);
  }
  for (const dir of libraryDirs) if (outsideSystem(dir) && (await exists(dir))) args.push("--ro-bind", dir, dir);
  args.push("--proc", "/proc", "--dev", "/dev");
  // The GPU's device nodes when there is one; the CUDA driver also reads /sys.
  const gpu = (await readdir("/dev").catch(() => [] as string[])).filter((name) => name.startsWith("nvidia")).map((name) => `/dev/${name}`);
  if (await exists("/dev/dri")) gpu.push("/dev/dri");
  for (const node of gpu) args.push("--dev-bind", node, node);
  if (gpu.length) args.push("--ro-bind", "/sys", "/sys");
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== "--ro-bind") continue;
    const shown = args[i + 1]!;
    const inside = hidden.find((path) => path === shown || path.startsWith(shown + sep));
    if (inside) throw new Error(`Expected \`${inside}\` to be outside the sandbox's view, got it inside \`${shown}\`, which train.ts can read; move it elsewhere`);
  }
  return args;
}

/**
 * Node's permission model for the view: reads only in the run directory (the working
 * directory, which holds the whole view) and other paths of the view, writes only in the writable
 * directory, the native addon and worker threads allowed. Child processes are allowed too,
 * because tsx compiles TypeScript in esbuild's service process; the OS sandbox holds them.
 */
export function permissionFlags(nodeVersion: string, view: SandboxView): string[] {
  const [major, minor] = nodeVersion.replace(/^v/, "").split(".").map(Number);
  // `--permission` is the stable name from Node 22.13 and 23.5; Node 20 has only the experimental one.
  const stable = major! > 23 || (major === 23 && minor! >= 5) || (major === 22 && minor! >= 13);
  // One flag per path: a folder's path allows what is inside it (Node 20 aborts on a folder
  // given both bare and as `folder/*`, and reads a comma as part of the path).
  const inside = (path: string, dir: string) => path === dir || path.startsWith(dir + sep);
  const reads = [view.cwd, ...[...view.readOnly.map((m) => m.target), view.writable].filter((path) => !inside(path, view.cwd))];
  return [
    stable ? "--permission" : "--experimental-permission",
    ...reads.map((path) => `--allow-fs-read=${path}`),
    `--allow-fs-write=${view.writable}`,
    "--allow-addons", "--allow-worker", "--allow-child-process",
    // Node warns about its own flags in every run; the log is for train.ts's output.
    "--disable-warning=ExperimentalWarning", "--disable-warning=SecurityWarning",
  ];
}

/** bwrap's options up to the command: isolation, the system, `mounts`, a read-only root. */
async function bwrapOptions(nodePath: string, mounts: readonly string[], cwd: string, view?: SandboxView): Promise<string[]> {
  const system = await systemArgs(nodePath, view?.hidden ?? [], view?.libraryDirs ?? []);
  return [...ISOLATION, ...system, ...mounts, "--remount-ro", "/", "--chdir", cwd, "--"];
}

/**
 * The bwrap argument list (without the bwrap program itself) that runs the node command line
 * `command` in `view`, with Node's permission model for the view added to node's flags.
 */
export async function sandboxArgs(view: SandboxView, command: readonly string[]): Promise<string[]> {
  const [node, ...rest] = command;
  if (node === undefined) throw new Error("Expected a node command line to run in the sandbox, got nothing");
  const nodePath = await realpath(node);
  const mounts = [...view.readOnly.flatMap((m) => ["--ro-bind", m.source, m.target]), "--bind", view.writable, view.writable];
  return [...(await bwrapOptions(nodePath, mounts, view.cwd, view)), nodePath, ...permissionFlags(process.version, view), ...rest];
}

const checked = new Map<string, Promise<string>>();

/**
 * The path of a bwrap that can make the sandbox on this machine (checked once per process by
 * running `node --version` in a sandbox).
 *
 * @throws SandboxUnavailableError naming what is missing and the one command that installs it.
 */
export function findSandbox(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const key = env.PATH ?? "";
  if (!checked.has(key)) checked.set(key, probe(env.PATH));
  return checked.get(key)!;
}

async function probe(path: string | undefined): Promise<string> {
  const optOut = `or pass \`${NO_SANDBOX_FLAG}\` (action input \`no-sandbox: true\`) to train without it, which leaves the metric unprotected`;
  const bwrap = await whichBwrap(path);
  if (bwrap === null) {
    throw new SandboxUnavailableError(`Expected bubblewrap (\`bwrap\`) on PATH to sandbox train.ts, got none. Install it with \`${INSTALL_BWRAP}\`, ${optOut}`);
  }
  const nodePath = await realpath(process.execPath);
  const args = [...(await bwrapOptions(nodePath, [], "/")), nodePath, "--version"];
  try {
    await promisify(execFile)(bwrap, args, { timeout: 30_000 });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new SandboxUnavailableError(
      `Expected \`${bwrap}\` to make a sandbox, got: ${(stderr || message).trim()}. User namespaces may be disabled (sysctl kernel.unprivileged_userns_clone, or AppArmor's kernel.apparmor_restrict_unprivileged_userns); run as root, allow them, ${optOut}`,
    );
  }
  return bwrap;
}
