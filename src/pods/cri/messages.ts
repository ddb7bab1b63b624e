// The two CRI answers the pod list needs, decoded from protobuf's wire format by hand: the fields
// of runtime.v1's ListPodSandboxResponse and ListContainersResponse (vendor/cri-api/api.proto
// names them; a test decodes messages that protobufjs encoded from that file). Fields this does
// not know are skipped, as protobuf says. Both requests are empty messages: no filter.

export class MessageError extends Error {}

export type SandboxState = 'ready' | 'notready';
export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface CriSandbox {
  id: string;
  uid: string;
  name: string;
  namespace: string;
  attempt: number;
  state: SandboxState;
  /** Nanoseconds since the epoch, as a decimal string (int64 does not fit a number). */
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface CriContainer {
  id: string;
  podSandboxId: string;
  name: string;
  attempt: number;
  state: ContainerState;
  /** Nanoseconds since the epoch, as a decimal string. */
  createdAt: string;
  /** kubelet's io.kubernetes.pod.{uid,name,namespace} and io.kubernetes.container.name. */
  labels: Record<string, string>;
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** enum ContainerState, by number. */
const CONTAINER_STATES: readonly ContainerState[] = ['created', 'running', 'exited', 'unknown'];

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

  /** A varint as a BigInt (int64 fields). */
  bigVarint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.at >= this.end) throw new MessageError('truncated varint');
      const byte = this.bytes[this.at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asIntN(64, value);
    }
    throw new MessageError('varint longer than 10 bytes');
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

/** Reads `field` of `message` as the wire type protobuf gives it, else skips it (an unknown or mistyped field). */
function expecting(wireType: number, expected: number, read: () => void): void {
  if (wireType === expected) read();
}

function sandbox(reader: Reader): CriSandbox {
  const out: CriSandbox = { id: '', uid: '', name: '', namespace: '', attempt: 0, state: 'ready', createdAt: '0', labels: {}, annotations: {} };
  reader.fields((field, wireType) => {
    switch (field) {
      case 1:
        return expecting(wireType, LENGTH_DELIMITED, () => (out.id = reader.string()));
      case 2:
        return expecting(wireType, LENGTH_DELIMITED, () => {
          const metadata = reader.message();
          metadata.fields((metadataField, metadataType) => {
            if (metadataField === 4) return expecting(metadataType, VARINT, () => (out.attempt = metadata.varint()));
            if (metadataType !== LENGTH_DELIMITED) return;
            if (metadataField === 1) out.name = metadata.string();
            else if (metadataField === 2) out.uid = metadata.string();
            else if (metadataField === 3) out.namespace = metadata.string();
          });
        });
      case 3:
        return expecting(wireType, VARINT, () => (out.state = reader.varint() === 0 ? 'ready' : 'notready'));
      case 4:
        return expecting(wireType, VARINT, () => (out.createdAt = String(reader.bigVarint())));
      case 5:
        return expecting(wireType, LENGTH_DELIMITED, () => mapEntry(reader.message(), out.labels));
      case 6:
        return expecting(wireType, LENGTH_DELIMITED, () => mapEntry(reader.message(), out.annotations));
    }
  });
  return out;
}

function container(reader: Reader): CriContainer {
  const out: CriContainer = { id: '', podSandboxId: '', name: '', attempt: 0, state: 'created', createdAt: '0', labels: {} };
  reader.fields((field, wireType) => {
    switch (field) {
      case 1:
        return expecting(wireType, LENGTH_DELIMITED, () => (out.id = reader.string()));
      case 2:
        return expecting(wireType, LENGTH_DELIMITED, () => (out.podSandboxId = reader.string()));
      case 3:
        return expecting(wireType, LENGTH_DELIMITED, () => {
          const metadata = reader.message();
          metadata.fields((metadataField, metadataType) => {
            if (metadataField === 1) expecting(metadataType, LENGTH_DELIMITED, () => (out.name = metadata.string()));
            else if (metadataField === 2) expecting(metadataType, VARINT, () => (out.attempt = metadata.varint()));
          });
        });
      case 6:
        return expecting(wireType, VARINT, () => (out.state = CONTAINER_STATES[reader.varint()] ?? 'unknown'));
      case 7:
        return expecting(wireType, VARINT, () => (out.createdAt = String(reader.bigVarint())));
      case 8:
        return expecting(wireType, LENGTH_DELIMITED, () => mapEntry(reader.message(), out.labels));
    }
  });
  return out;
}

/** The repeated message of field 1 (`items` of ListPodSandboxResponse, `containers` of ListContainersResponse). */
function repeated<T>(bytes: Buffer, item: (reader: Reader) => T): T[] {
  const items: T[] = [];
  const reader = new Reader(bytes);
  reader.fields((field, wireType) => {
    if (field === 1) expecting(wireType, LENGTH_DELIMITED, () => items.push(item(reader.message())));
  });
  return items;
}

export function decodeListPodSandboxResponse(bytes: Buffer): CriSandbox[] {
  return repeated(bytes, sandbox);
}

export function decodeListContainersResponse(bytes: Buffer): CriContainer[] {
  return repeated(bytes, container);
}
