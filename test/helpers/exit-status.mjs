// Runs a command and writes how it ended ({"code":N,"signal":S}) to a file: for a command whose
// terminal goes away, which takes the shell that would report it along. It survives the hangup
// itself; the command gets the default dispositions back when it is executed.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const [statusFile, command, ...args] = process.argv.slice(2);
process.on('SIGHUP', () => undefined);
const child = spawn(command, args, { stdio: 'inherit' });
child.on('exit', (code, signal) => writeFileSync(statusFile, JSON.stringify({ code, signal })));
