// node --import tsx scripts/krew-archive.ts [DIR]: writes DIR/kubectl-inotop-vVERSION.zip (default: the
// current directory), the archive deploy/krew/inotop.yaml points krew at (a release attaches it),
// and prints its path and sha256. The archive is made byte for byte the same from the same files
// (entries stored, not compressed; a fixed date; fixed modes), so the manifest's sha256 can be
// checked against the checkout (test/system/kubectl-inotop.test.ts).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';

const repo = fileURLToPath(new URL('..', import.meta.url));

/** What krew installs: the plugin and its license (krew's index wants a license in every archive). */
export const KREW_FILES = [
  { name: 'kubectl-inotop', from: 'deploy/kubectl-inotop', mode: 0o755 },
  { name: 'LICENSE', from: 'LICENSE', mode: 0o644 },
];

export function krewArchiveName(): string {
  const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
  return `kubectl-inotop-v${version}.zip`;
}

/** A zip of KREW_FILES, entries stored, dated 1980-01-01 (the zip epoch), Unix modes in the external attributes. */
export function krewArchive(): Buffer {
  const DOS_DATE = (1 << 5) | 1;
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of KREW_FILES) {
    const data = readFileSync(join(repo, file.from));
    const name = Buffer.from(file.name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4); // version needed: 1.0, stored
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // method: stored
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // extra
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 10, 4); // made by Unix, 1.0
    central.writeUInt16LE(10, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra, comment, disk, internal attributes: 0
    central.writeUInt32LE(((0o100000 | file.mode) << 16) >>> 0, 38); // a regular file and its mode
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(KREW_FILES.length, 8);
  end.writeUInt16LE(KREW_FILES.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const archive = krewArchive();
  const path = join(resolve(process.argv[2] ?? '.'), krewArchiveName());
  writeFileSync(path, archive);
  process.stdout.write(`${path}\nsha256 ${createHash('sha256').update(archive).digest('hex')}\n`);
}
