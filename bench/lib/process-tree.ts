import { readdirSync, readFileSync } from 'node:fs';
import { processCpu } from './stats';

/** The parent of every process now alive, from /proc/<pid>/stat (empty where there is no /proc). */
function parents(): Map<number, number> {
  const parentOf = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return parentOf;
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  return parentOf;
}

/** `root` and every process below it (a node's DuckDB host, PostgreSQL's backends and helpers). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, parent] of parents()) children.set(parent, [...(children.get(parent) ?? []), pid]);
  const tree: number[] = [];
  const visit = (pid: number) => {
    tree.push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return tree;
}

/** CPU ms so far of each of `pids` still alive. */
export function cpuOf(pids: Iterable<number>): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    const usage = processCpu(pid);
    if (usage) cpu.set(pid, usage.cpuMs);
  }
  return cpu;
}

/**
 * CPU ms used between two readings by the processes of the second one; a process that appeared
 * meanwhile counts in full (it was born inside the window).
 */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0;
  for (const [pid, cpuMs] of after) ms += cpuMs - (before.get(pid) ?? 0);
  return ms;
}
