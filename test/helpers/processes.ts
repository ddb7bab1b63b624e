// What is still running of the process groups a test's commands were started in.
import { readdirSync, readFileSync } from 'node:fs';

/** "pid state comm" of the processes in these process groups, zombies (already dead) left out. */
export function processesIn(groups: number[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (groups.includes(Number(pgrp)) && state !== 'Z') found.push(`${pid} ${state} ${comm}`);
  }
  return found;
}
