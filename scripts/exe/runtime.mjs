// What the launcher carries for an architecture: its own code, compiled here (launcher.c), and the
// dynamic loader and libraries Node and koffi's native module link against, taken from Debian's
// packages for that architecture (the build machine's own libc6, libstdc++6, libgcc-s1 and
// libatomic1 for x64; libc6-arm64-cross and its siblings for arm64).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHES } from '../npm-packages.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Where Debian puts an architecture's libraries: the machine's own, or a cross package's. */
function libraryDir(arch) {
  return arch === process.arch ? `/lib/${ARCHES[arch].debian}` : `/usr/${ARCHES[arch].debian}/lib`;
}

/** The compiler and binutils for `arch`: the build machine's own, or Debian's cross tools. */
export function toolPrefix(arch) {
  return arch === process.arch ? '' : `${ARCHES[arch].debian}-`;
}

/** The Debian packages a build for `arch` needs, to say what to install when something is missing. */
export function debianPackages(arch) {
  return arch === process.arch
    ? ['gcc', 'binutils', 'libc6', 'libstdc++6', 'libgcc-s1', 'libatomic1']
    : [
        `gcc-${ARCHES[arch].debian}`,
        `libc6-${ARCHES[arch].oci}-cross`,
        `libstdc++6-${ARCHES[arch].oci}-cross`,
        `libgcc-s1-${ARCHES[arch].oci}-cross`,
        `libatomic1-${ARCHES[arch].oci}-cross`,
      ];
}

/**
 * launcher.c compiled for `arch` into its flat image, and the offset of its entry in it. Linked at
 * two addresses: the images must be the same bytes, or the code depends on where it is loaded.
 */
export function buildLauncher(arch) {
  const prefix = toolPrefix(arch);
  const work = mkdtempSync(join(tmpdir(), 'inotop-launcher-'));
  try {
    const images = ['0', '0x100000'].map((base) => {
      const elf = join(work, `launcher-${base}.elf`);
      const flat = join(work, `launcher-${base}.bin`);
      execFileSync(`${prefix}gcc`, [
        ...['-Os', '-Wall', '-Wextra', '-Werror', '-ffreestanding', '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables', '-fpie'],
        ...(arch === 'x64' ? ['-fcf-protection=none'] : []),
        ...[
          '-nostdlib',
          '-static',
          `-Wl,-T,${join(here, 'launcher.ld')}`,
          `-Wl,--section-start=.launcher=${base}`,
          '-Wl,--build-id=none',
          '-Wl,--no-warn-rwx-segments',
        ],
        ...['-o', elf, join(here, 'launcher.c')],
      ]);
      execFileSync(`${prefix}objcopy`, ['-O', 'binary', elf, flat]);
      const symbols = execFileSync(`${prefix}nm`, [elf], { encoding: 'utf8' });
      const start = /^([0-9a-f]+) T _start$/m.exec(symbols);
      if (!start) throw new Error('launcher: no _start');
      return { launcher: readFileSync(flat), startOffset: Number.parseInt(start[1], 16) - Number(base) };
    });
    if (!images[0].launcher.equals(images[1].launcher) || images[0].startOffset !== images[1].startOffset) {
      throw new Error('launcher.c compiled into code that depends on its address (a relocation): it must be position-independent');
    }
    return images[0];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The loader, then every library `binaries` need (DT_NEEDED, transitively), in the order the
 * loader would search them: breadth first from the first binary's list. Each with the Debian
 * package and version it came from.
 */
export function runtimeFiles(arch, binaries) {
  const dir = libraryDir(arch);
  const loader = ARCHES[arch].loader;
  const order = [];
  const queue = binaries.flatMap(needed);
  while (queue.length > 0) {
    const name = queue.shift();
    if (name === loader || order.includes(name)) continue;
    order.push(name);
    queue.push(...needed(join(dir, name)));
  }
  return [loader, ...order].map((file) => {
    const path = join(dir, file);
    return { file, path, data: readFileSync(path), ...debianPackage(path) };
  });
}

function needed(path) {
  const dynamic = execFileSync('readelf', ['--dynamic', '--wide', path], { encoding: 'utf8' });
  return [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((match) => match[1]);
}

function debianPackage(path) {
  for (const candidate of [path, realpathSync(path)]) {
    try {
      const owner = execFileSync('dpkg-query', ['--search', candidate], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const name = owner.split(':')[0].trim();
      const version = execFileSync('dpkg-query', ['--show', '--showformat=${Version}', name], { encoding: 'utf8' }).trim();
      return { package: name, version };
    } catch {
      // not this name: the other
    }
  }
  throw new Error(`${path}: no Debian package owns it`);
}
