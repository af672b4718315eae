import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** The fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...); null when the process is gone. */
export function procStat(pid: number | string): string[] | null {
  try {
    // The command name may hold spaces and parentheses, so the fields start after the last ") ".
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").at(-1)!.split(" ");
  } catch {
    return null;
  }
}

/** Whether any live process (not a zombie) is in process group `pgid`, after up to 5 s for them to die. */
export async function groupAlive(pgid: number): Promise<boolean> {
  const alive = () =>
    readdirSync("/proc").some((pid) => {
      const stat = procStat(pid);
      return stat !== null && Number(stat[2]) === pgid && stat[0] !== "Z";
    });
  for (let i = 0; i < 50 && alive(); i++) await sleep(100);
  return alive();
}
