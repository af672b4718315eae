import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { findSandbox, INSTALL_BWRAP, permissionFlags, sandboxArgs, SandboxUnavailableError, type SandboxView } from "../../src/runner/sandbox.ts";

const root = mkdtempSync(join(tmpdir(), "ar-sandbox-"));
const [runDir, outDir, shown, secret] = ["run", "run/out", "shown", "secret"].map((name) => join(root, name));
for (const dir of [runDir, outDir, shown, secret]) mkdirSync(dir, { recursive: true });
writeFileSync(join(shown, "shard.txt"), "training text");
writeFileSync(join(secret, "val.txt"), "validation text");
const view: SandboxView = { readOnly: [{ source: join(shown, "shard.txt"), target: join(runDir, "data/shard.txt") }], writable: outDir, cwd: runDir, hidden: [secret] };

/** Runs `script` with node in the sandbox of `view` and returns its output. */
async function inSandbox(script: string): Promise<string> {
  const bwrap = await findSandbox();
  const run = await execa(bwrap, await sandboxArgs(view, [process.execPath, "-e", script]), { all: true, reject: false });
  return run.all ?? "";
}

describe("permissionFlags", () => {
  it("reads in the run directory and the view, writes in the writable directory only, on Node 20 and on later Nodes", () => {
    const outside = { ...view, readOnly: [...view.readOnly, { source: "/opt/addon.node", target: "/opt/addon.node" }] };
    const flags = permissionFlags("v20.20.2", outside);
    expect(flags[0]).toBe("--experimental-permission");
    expect(flags.filter((f) => f.startsWith("--allow-fs-read="))).toEqual([`--allow-fs-read=${runDir}`, "--allow-fs-read=/opt/addon.node"]);
    expect(flags.filter((f) => f.startsWith("--allow-fs-write="))).toEqual([`--allow-fs-write=${outDir}`]);
    expect(flags).toEqual(expect.arrayContaining(["--allow-addons", "--allow-worker", "--allow-child-process"]));
    expect(permissionFlags("v22.13.0", view)[0]).toBe("--permission");
    expect(permissionFlags("v24.1.0", view)[0]).toBe("--permission");
    expect(permissionFlags("v22.12.0", view)[0]).toBe("--experimental-permission");
  });
});

describe("sandboxArgs", () => {
  it("isolates the run and shows the view read-only, the writable directory alone writable", async () => {
    const args = await sandboxArgs(view, [process.execPath, "train.ts"]);
    expect(args.slice(0, 5)).toEqual(["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]);
    expect(args.join(" ")).toContain(`--ro-bind ${join(shown, "shard.txt")} ${join(runDir, "data/shard.txt")}`);
    const writable = args.flatMap((arg, i) => (arg === "--bind" ? [args[i + 1]] : []));
    expect(writable).toEqual([outDir]);
    const sources = args.flatMap((arg, i) => (arg === "--ro-bind" ? [args[i + 1]!] : []));
    for (const path of ["/", "/home", "/root", "/tmp", "/etc", root, secret]) expect(sources).not.toContain(path);
    expect(args.indexOf("--remount-ro")).toBeGreaterThan(args.lastIndexOf("--bind"));
  });

  it("refuses a hidden path inside a system folder the view shows", async () => {
    await expect(sandboxArgs({ ...view, hidden: ["/usr/share/cache"] }, [process.execPath])).rejects.toThrow(
      "Expected `/usr/share/cache` to be outside the sandbox's view, got it inside `/usr`, which train.ts can read; move it elsewhere",
    );
  });

  it("runs node with no network, its own PID namespace, a read-only view and neither the hidden folder nor the host's home", async () => {
    const script = `
      const { execFileSync } = require("child_process");
      const os = require("os");
      const sh = (cmd) => { try { return execFileSync("sh", ["-c", cmd], { stdio: "pipe" }).toString().trim(); } catch (e) { return "failed: " + e.stderr.toString().trim(); } };
      console.log("pid", process.pid);
      console.log("interfaces", Object.keys(os.networkInterfaces()).join(","));
      console.log("shard", sh("cat data/shard.txt"));
      console.log("secret", sh("cat ${join(secret, "val.txt")}"));
      console.log("home", sh("ls /root /home"));
      console.log("write view", sh("echo x > data/shard.txt"));
      console.log("write out", sh("echo x > out/written && cat out/written"));
      console.log("read fs", (() => { try { require("fs").readFileSync("/etc/passwd"); return "read"; } catch (e) { return e.code; } })());`;
    const output = await inSandbox(script);
    expect(Number(/^pid (\d+)$/m.exec(output)?.[1])).toBeLessThan(10);
    expect(output).toMatch(/^interfaces (lo)?$/m);
    expect(output).toMatch(/^shard training text$/m);
    expect(output).toMatch(/^secret failed: .*No such file or directory$/m);
    expect(output).toMatch(/^home failed: .*No such file or directory/m);
    expect(output).toMatch(/^write view failed: .*Read-only file system$/m);
    expect(output).toMatch(/^write out x$/m);
    expect(output).toMatch(/^read fs ERR_ACCESS_DENIED$/m);
  });
});

describe("findSandbox", () => {
  it("names the command that installs bwrap when there is none", async () => {
    const missing = findSandbox({ PATH: join(root, "no-bin") });
    await expect(missing).rejects.toThrow(SandboxUnavailableError);
    await expect(missing).rejects.toThrow(`Expected bubblewrap (\`bwrap\`) on PATH to sandbox train.ts, got none. Install it with \`${INSTALL_BWRAP}\``);
  });
});
