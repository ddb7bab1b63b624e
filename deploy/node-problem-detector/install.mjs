// node install.mjs DEST [SOURCE]: copies a self-contained inotop into DEST, for a container that
// has no Node (node-problem-detector's): the inotop tree of SOURCE (default /opt/inotop: package.json,
// bin, dist, node_modules), this very Node binary and the shared libraries it runs on, with their
// own dynamic loader, so that neither the other image's libc nor its PATH matter.
//
// DEST/bin/inotop is the image's own (`#!/usr/bin/env node`); DEST/bin/node is a shell shim that
// runs DEST/runtime/node through DEST/runtime's loader. A container that puts DEST/bin first on
// PATH and has /bin/sh and /usr/bin/env runs DEST/bin/inotop as it is.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [destArgument, sourceArgument = '/opt/inotop'] = process.argv.slice(2);
if (!destArgument) {
  process.stderr.write('usage: node install.mjs DEST [SOURCE]\n');
  process.exit(2);
}
const dest = resolve(destArgument);
const source = resolve(sourceArgument);

// koffi's native module is loaded as inotop loads it, so its libraries are mapped below too.
const koffi = await import(pathToFileURL(join(source, 'node_modules/koffi/index.js')).href);
koffi.default.load('libc.so.6');

/** Every shared object this process has mapped: the loader, libc, libstdc++, and koffi's. */
const mappedLibraries = [
  ...new Set(
    readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((line) => line.split(/\s+/)[5] ?? '')
      .filter((path) => /^\/.*\.so(\.\d+)*$/.test(path) && !path.startsWith(source)),
  ),
];
const loader = mappedLibraries.find((path) => basename(path).startsWith('ld-'));
if (!loader) throw new Error('no dynamic loader among the mapped libraries: is this Node linked statically?');

for (const part of ['package.json', 'bin', 'dist', 'node_modules']) {
  cpSync(join(source, part), join(dest, part), { recursive: true, dereference: true });
}
const runtime = join(dest, 'runtime');
mkdirSync(runtime, { recursive: true });
copyFileSync(process.execPath, join(runtime, 'node'));
chmodSync(join(runtime, 'node'), 0o755);
// Mapped under their file names (libstdc++.so.6.0.30); the loader looks for their sonames (libstdc++.so.6).
const soname = (path) => basename(path).replace(/(\.so\.\d+)(\.\d+)*$/, '$1');
for (const library of mappedLibraries) copyFileSync(library, join(runtime, soname(library)));
const loaderCopy = join(runtime, soname(loader));

// Every library must come from the copy: the loader falls back to the system's without a word.
const resolved = execFileSync(loaderCopy, ['--library-path', runtime, '--list', join(runtime, 'node')], { encoding: 'utf8' });
const outside = resolved.split('\n').filter((line) => / => \//.test(line) && !line.includes(` => ${runtime}/`));
if (outside.length > 0) throw new Error(`libraries not copied:\n${outside.join('\n')}`);

// Relative to the shim itself: the same copy works wherever DEST is mounted.
const shim = [
  '#!/bin/sh',
  `# Node from ${basename(runtime)}/, on its own loader and libraries (written by install.mjs).`,
  'runtime="${0%/*}/../runtime"',
  `exec "$runtime/${soname(loader)}" --library-path "$runtime" "$runtime/node" "$@"`,
  '',
].join('\n');
writeFileSync(join(dest, 'bin', 'node'), shim, { mode: 0o755 });
process.stdout.write(`inotop copied to ${dest} (Node ${process.version}, ${mappedLibraries.length} libraries)\n`);
