// The two CRI answers the pod list needs, decoded from protobuf's wire format by hand: of
// runtime.v1's ListPodSandboxResponse and ListContainersResponse (vendor/cri-api/api.proto names
// their fields; a test decodes messages that protobufjs encoded from that file), the fields the
// pod list is made of (podlist.ts). The others are skipped, as protobuf skips fields it does not
// know: a one-shot decodes them while its output waits, and a sandbox's labels, states, attempts
// and creation times (an int64 each, as a BigInt) were most of that work, for nothing. Both
// requests are empty messages: no filter.
import type { ContainerEntry, SandboxEntry } from '../podlist.js';

export class MessageError extends Error {}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** A reader of one message's bytes, field by field. */
class Reader {
  at: number;

  constructor(
    private readonly bytes: Buffer,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.at = start;
  }

  more(): boolean {
    return this.at < this.end;
  }

  /** A varint that fits a number (tags, lengths, enums, uint32). */
  varint(): number {
    let value = 0;
    for (let scale = 1; scale < 2 ** 63; scale *= 128) {
      if (this.at >= this.end) throw new MessageError('truncated varint');
      const byte = this.bytes[this.at++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
    }
    throw new MessageError('varint longer than 10 bytes');
  }

  /** The bounds of a length-delimited field's bytes; moves past them. */
  span(): [number, number] {
    const length = this.varint();
    const start = this.at;
    if (start + length > this.end) throw new MessageError('a field longer than its message');
    this.at += length;
    return [start, start + length];
  }

  string(): string {
    const [start, end] = this.span();
    return this.bytes.toString('utf8', start, end);
  }

  /** A sub-message's reader; moves past it. */
  message(): Reader {
    const [start, end] = this.span();
    return new Reader(this.bytes, start, end);
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === LENGTH_DELIMITED) this.span();
    else if (wireType === FIXED64 || wireType === FIXED32) {
      this.at += wireType === FIXED64 ? 8 : 4;
      if (this.at > this.end) throw new MessageError('truncated fixed-width field');
    } else throw new MessageError(`wire type ${wireType} (groups are not used by CRI)`);
  }

  /** Each field: its number and wire type; `read` reads or skips its value. */
  fields(read: (field: number, wireType: number) => void): void {
    while (this.more()) {
      const tag = this.varint();
      const before = this.at;
      read(Math.floor(tag / 8), tag % 8);
      if (this.at === before) this.skip(tag % 8);
    }
  }
}

/** A map<string, string> entry: key = 1, value = 2. */
function mapEntry(reader: Reader, into: Record<string, string>): void {
  let key = '';
  let value = '';
  reader.fields((field, wireType) => {
    if (wireType !== LENGTH_DELIMITED) return;
    if (field === 1) key = reader.string();
    else if (field === 2) value = reader.string();
  });
  into[key] = value;
}

/** PodSandbox: id = 1, metadata = 2 (name = 1, uid = 2, namespace = 3), annotations = 6. */
function sandbox(reader: Reader): SandboxEntry {
  const out: SandboxEntry = { id: '', uid: '', name: '', namespace: '', annotations: {} };
  reader.fields((field, wireType) => {
    if (wireType !== LENGTH_DELIMITED) return;
    if (field === 1) out.id = reader.string();
    else if (field === 2) {
      const metadata = reader.message();
      metadata.fields((metadataField, metadataType) => {
        if (metadataType !== LENGTH_DELIMITED) return;
        if (metadataField === 1) out.name = metadata.string();
        else if (metadataField === 2) out.uid = metadata.string();
        else if (metadataField === 3) out.namespace = metadata.string();
      });
    } else if (field === 6) mapEntry(reader.message(), out.annotations);
  });
  return out;
}

/** Container: id = 1, pod_sandbox_id = 2, metadata = 3 (name = 1), labels = 8. */
function container(reader: Reader): ContainerEntry {
  const out: ContainerEntry = { id: '', podSandboxId: '', name: '', labels: {} };
  reader.fields((field, wireType) => {
    if (wireType !== LENGTH_DELIMITED) return;
    if (field === 1) out.id = reader.string();
    else if (field === 2) out.podSandboxId = reader.string();
    else if (field === 3) {
      const metadata = reader.message();
      metadata.fields((metadataField, metadataType) => {
        if (metadataField === 1 && metadataType === LENGTH_DELIMITED) out.name = metadata.string();
      });
    } else if (field === 8) mapEntry(reader.message(), out.labels);
  });
  return out;
}

/** The repeated message of field 1 (`items` of ListPodSandboxResponse, `containers` of ListContainersResponse). */
function repeated<T>(bytes: Buffer, item: (reader: Reader) => T): T[] {
  const items: T[] = [];
  const reader = new Reader(bytes);
  reader.fields((field, wireType) => {
    if (field === 1 && wireType === LENGTH_DELIMITED) items.push(item(reader.message()));
  });
  return items;
}

export function decodeListPodSandboxResponse(bytes: Buffer): SandboxEntry[] {
  return repeated(bytes, sandbox);
}

export function decodeListContainersResponse(bytes: Buffer): ContainerEntry[] {
  return repeated(bytes, container);
}
