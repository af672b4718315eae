#!/usr/bin/env node
// The `autoresearch` command: runs the TypeScript CLI through tsx, so the package needs no build step.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/local/cli.ts");
await runCli(process.argv.slice(2));
