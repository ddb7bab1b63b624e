#!/usr/bin/env node
// npm run release: the release's artifacts in dist/exe: both single executables, the image archive
// (amd64, arm64 and their index) and SHA256SUMS of the three (`sha256sum -c SHA256SUMS` checks
// them). Each step is its own script: build-exe.mjs, build-image.mjs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { EXE_DIR, executablePath } from './build-exe.mjs';
import { buildImage, IMAGE_ARCHIVE } from './build-image.mjs';
import { ARCHES, repo } from './npm-packages.mjs';

execFileSync(process.execPath, [join(repo, 'scripts', 'build-exe.mjs')], { stdio: 'inherit' });
buildImage();
const artifacts = [...Object.keys(ARCHES).map(executablePath), IMAGE_ARCHIVE];
const sums = [];
for (const artifact of artifacts) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(artifact)) hash.update(chunk);
  sums.push(`${hash.digest('hex')}  ${basename(artifact)}\n`);
  console.log(`${relative(repo, artifact)}: ${(statSync(artifact).size / 1e6).toFixed(1)} MB`);
}
writeFileSync(join(EXE_DIR, 'SHA256SUMS'), sums.join(''));
console.log(`${relative(repo, join(EXE_DIR, 'SHA256SUMS'))}: ${artifacts.length} files`);
