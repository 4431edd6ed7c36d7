// What the local-runtime tests need to see of the machine's processes and ports: `ps` (Linux and macOS), a
// connect, a listen. A zombie counts as gone: it runs nothing and holds no port.

import { execFileSync } from "node:child_process";
import { connect, createServer } from "node:net";

export interface ProcessRow {
  readonly pid: number;
  readonly ppid: number;
  readonly state: string;
  readonly args: string;
}

export function processes(): ProcessRow[] {
  const listing = execFileSync("ps", ["-A", "-o", "pid=,ppid=,stat=,args="], { encoding: "utf8" });
  return listing.split("\n").flatMap((line) => {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (match === null) return [];
    const [, pid, ppid, state, args] = match;
    return [{ pid: Number(pid), ppid: Number(ppid), state: state ?? "", args: args ?? "" }];
  });
}

/** Every living process below `root`, children before grandchildren. */
export function descendants(root: number): ProcessRow[] {
  const rows = processes();
  const found: ProcessRow[] = [];
  const parents = [root];
  while (parents.length > 0) {
    const parent = parents.shift();
    for (const row of rows) {
      if (row.ppid === parent && !row.state.startsWith("Z")) {
        found.push(row);
        parents.push(row.pid);
      }
    }
  }
  return found;
}

/** Those of `pids` that still run (zombies excluded), with their command lines for a readable failure. */
export function alive(pids: readonly number[]): string[] {
  const wanted = new Set(pids);
  return processes()
    .filter((row) => wanted.has(row.pid) && !row.state.startsWith("Z"))
    .map((row) => `${row.pid} ${row.args}`);
}

export async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadlineMs) {
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolveAnswer(true);
    });
    socket.once("error", () => resolveAnswer(false));
  });
}

/** Whether a new server could listen on the port now, as the next `npm start` would. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once("error", () => resolveFree(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolveFree(true)));
  });
}
