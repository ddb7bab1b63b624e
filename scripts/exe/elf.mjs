// Gives Node's binary (with its SEA blob already injected) the launcher of launcher.c: a PT_LOAD
// segment appended at the end of the file, above every other, holding the launcher's image and the
// files it loads; PT_INTERP removed, so that the kernel starts the file as a static program; the
// entry pointed at the launcher, which goes on to Node's own entry once a loader has run it.
//
// The file is changed where it is: its program header table keeps its size and place (the removed
// PT_INTERP's slot becomes the new PT_LOAD, moved after the other PT_LOADs, which the ELF format
// and glibc's loader want in ascending order of address).
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

const PT_LOAD = 1;
const PT_INTERP = 3;
const PF_X = 1;
const PF_R = 4;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;
/** The largest page size either architecture runs with (arm64 kernels with 64 KiB pages). */
const SEGMENT_ALIGN = 0x10000;
const HEADER_MAGIC = 'INOTOPL1';
/** launcher.c's struct header: magic, node_entry, count, reserved, then members of 8 + 8 + 48 bytes. */
const MEMBER_BYTES = 64;
const MEMBER_NAME_BYTES = 48;
const MAX_MEMBERS = 16;

export const ELF_MACHINES = { x64: EM_X86_64, arm64: EM_AARCH64 };

/**
 * Appends `launcher` (the flat image; its header at offset 0, `startOffset` its entry) and
 * `members` (the loader first, then the libraries in preload order) to the ELF file at `path`.
 */
export function attachLauncher(path, { launcher, startOffset, members, machine }) {
  if (launcher.subarray(0, 8).toString('latin1') !== HEADER_MAGIC) throw new Error('the launcher image does not start with its header');
  if (members.length < 2 || members.length > MAX_MEMBERS) throw new Error(`the launcher takes 2 to ${MAX_MEMBERS} files, not ${members.length}`);
  const fd = openSync(path, 'r+');
  try {
    const ehdr = readAt(fd, 0, 64);
    if (ehdr.readUInt32BE(0) !== 0x7f454c46 || ehdr[4] !== 2 || ehdr[5] !== 1) throw new Error(`${path} is not a 64-bit little-endian ELF file`);
    if (ehdr.readUInt16LE(18) !== machine) throw new Error(`${path} is for machine ${ehdr.readUInt16LE(18)}, not ${machine}`);
    const entry = ehdr.readBigUInt64LE(24);
    const phoff = Number(ehdr.readBigUInt64LE(32));
    const phentsize = ehdr.readUInt16LE(54);
    const phnum = ehdr.readUInt16LE(56);
    const table = readAt(fd, phoff, phentsize * phnum);
    const headers = Array.from({ length: phnum }, (_, i) => table.subarray(i * phentsize, (i + 1) * phentsize));
    const type = (header) => header.readUInt32LE(0);
    const interp = headers.filter((header) => type(header) === PT_INTERP);
    if (interp.length !== 1) throw new Error(`${path} has ${interp.length} PT_INTERP headers, not one: is it Node's dynamically linked binary?`);
    const loads = headers.filter((header) => type(header) === PT_LOAD);
    const top = loads.reduce((end, header) => {
      const segmentEnd = header.readBigUInt64LE(16) + header.readBigUInt64LE(40);
      return segmentEnd > end ? segmentEnd : end;
    }, 0n);

    // The segment: the launcher's image, then each member 16-byte aligned; its offset in the file
    // in the header (the launcher copies it from the file, not from memory).
    const fileOffset = alignUp(fstatSync(fd).size, SEGMENT_ALIGN);
    const parts = [launcher];
    let size = launcher.length;
    const placed = members.map((member) => {
      const padding = (16 - (size % 16)) % 16;
      parts.push(Buffer.alloc(padding), member.data);
      const offset = size + padding;
      size = offset + member.data.length;
      return { ...member, offset };
    });
    const segment = Buffer.concat(parts);
    segment.writeBigUInt64LE(entry, 8);
    segment.writeUInt32LE(placed.length, 16);
    placed.forEach((member, i) => {
      const at = 24 + i * MEMBER_BYTES;
      const name = Buffer.from(member.name);
      if (name.length >= MEMBER_NAME_BYTES) throw new Error(`member name too long: ${member.name}`);
      segment.writeBigUInt64LE(BigInt(fileOffset + member.offset), at);
      segment.writeBigUInt64LE(BigInt(member.data.length), at + 8);
      name.copy(segment, at + 16);
    });

    const vaddr = alignUp(top, BigInt(SEGMENT_ALIGN));
    writeSync(fd, segment, 0, segment.length, fileOffset);

    const load = Buffer.from(interp[0]);
    load.writeUInt32LE(PT_LOAD, 0);
    load.writeUInt32LE(PF_R | PF_X, 4);
    load.writeBigUInt64LE(BigInt(fileOffset), 8);
    load.writeBigUInt64LE(vaddr, 16);
    load.writeBigUInt64LE(vaddr, 24);
    load.writeBigUInt64LE(BigInt(segment.length), 32);
    load.writeBigUInt64LE(BigInt(segment.length), 40);
    load.writeBigUInt64LE(BigInt(SEGMENT_ALIGN), 48);
    const kept = headers.filter((header) => type(header) !== PT_INTERP);
    const lastLoad = kept.findLastIndex((header) => type(header) === PT_LOAD);
    kept.splice(lastLoad + 1, 0, load);
    writeSync(fd, Buffer.concat(kept), 0, phentsize * phnum, phoff);

    const start = Buffer.alloc(8);
    start.writeBigUInt64LE(vaddr + BigInt(startOffset));
    writeSync(fd, start, 0, 8, 24);
  } finally {
    closeSync(fd);
  }
}

function readAt(fd, position, length) {
  const buffer = Buffer.alloc(length);
  if (readSync(fd, buffer, 0, length, position) !== length) throw new Error('short read of an ELF header');
  return buffer;
}

function alignUp(value, align) {
  return typeof value === 'bigint' ? ((value + align - 1n) / align) * align : Math.ceil(value / align) * align;
}
