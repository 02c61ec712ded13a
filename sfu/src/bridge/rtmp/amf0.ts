import { RtmpProtocolError } from './RtmpProtocolError.js';

/** What an AMF0 value decodes to: ECMA arrays and typed objects become plain objects, XML a string. */
export type AmfValue = number | boolean | string | null | undefined | Date | AmfValue[] | AmfObject;
export interface AmfObject {
  [key: string]: AmfValue;
}

const enum Marker {
  Number = 0x00,
  Boolean = 0x01,
  String = 0x02,
  Object = 0x03,
  Null = 0x05,
  Undefined = 0x06,
  EcmaArray = 0x08,
  ObjectEnd = 0x09,
  StrictArray = 0x0a,
  Date = 0x0b,
  LongString = 0x0c,
  Unsupported = 0x0d,
  XmlDocument = 0x0f,
  TypedObject = 0x10,
}

/** Objects nested deeper than this are refused: a hostile publisher could otherwise exhaust the stack. */
const MAX_DEPTH = 32;

/** Every AMF0 value in `data`, in order (a command: name, transaction id, command object, arguments). */
export function decodeAmf0(data: Buffer): AmfValue[] {
  const reader = new Amf0Reader(data);
  const values: AmfValue[] = [];
  while (!reader.done) values.push(reader.value(0));
  return values;
}

/** The AMF0 encoding of `values`, one after another. */
export function encodeAmf0(...values: AmfValue[]): Buffer {
  const parts: Buffer[] = [];
  for (const value of values) writeValue(value, parts);
  return Buffer.concat(parts);
}

/** The encoded length of the AMF0 string `value` (marker, length, UTF-8 bytes). */
export function amf0StringLength(value: string): number {
  return 3 + Buffer.byteLength(value);
}

class Amf0Reader {
  private offset = 0;

  constructor(private readonly data: Buffer) {}

  get done(): boolean {
    return this.offset >= this.data.length;
  }

  value(depth: number): AmfValue {
    if (depth > MAX_DEPTH) throw new RtmpProtocolError(`AMF0 nested deeper than ${MAX_DEPTH} levels`);
    const marker = this.bytes(1)[0]!;
    switch (marker) {
      case Marker.Number:
        return this.bytes(8).readDoubleBE(0);
      case Marker.Boolean:
        return this.bytes(1)[0] !== 0;
      case Marker.String:
        return this.string(2);
      case Marker.LongString:
      case Marker.XmlDocument:
        return this.string(4);
      case Marker.Object:
        return this.properties(depth);
      case Marker.TypedObject:
        this.string(2); // the class name: a plain object is all this server needs
        return this.properties(depth);
      case Marker.EcmaArray:
        this.bytes(4); // an approximate count: the object-end marker is what ends it
        return this.properties(depth);
      case Marker.StrictArray: {
        const count = this.bytes(4).readUInt32BE(0);
        const items: AmfValue[] = [];
        for (let i = 0; i < count; i++) items.push(this.value(depth + 1));
        return items;
      }
      case Marker.Date: {
        const date = new Date(this.bytes(8).readDoubleBE(0));
        this.bytes(2); // a time zone, which AMF0 says to ignore
        return date;
      }
      case Marker.Null:
        return null;
      case Marker.Undefined:
      case Marker.Unsupported:
        return undefined;
      default:
        throw new RtmpProtocolError(`AMF0 type marker 0x${marker.toString(16)} is not supported`);
    }
  }

  private properties(depth: number): AmfObject {
    const object: AmfObject = {};
    for (;;) {
      const key = this.string(2);
      if (key === '' && this.data[this.offset] === Marker.ObjectEnd) {
        this.offset += 1;
        return object;
      }
      object[key] = this.value(depth + 1);
    }
  }

  private string(lengthBytes: 2 | 4): string {
    const header = this.bytes(lengthBytes);
    const length = lengthBytes === 2 ? header.readUInt16BE(0) : header.readUInt32BE(0);
    return this.bytes(length).toString('utf8');
  }

  private bytes(length: number): Buffer {
    if (this.offset + length > this.data.length) throw new RtmpProtocolError('AMF0 value runs past the end of its message');
    const bytes = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }
}

function writeValue(value: AmfValue, parts: Buffer[]): void {
  if (value === null) {
    parts.push(Buffer.of(Marker.Null));
  } else if (value === undefined) {
    parts.push(Buffer.of(Marker.Undefined));
  } else if (typeof value === 'number') {
    const bytes = Buffer.alloc(9);
    bytes[0] = Marker.Number;
    bytes.writeDoubleBE(value, 1);
    parts.push(bytes);
  } else if (typeof value === 'boolean') {
    parts.push(Buffer.of(Marker.Boolean, value ? 1 : 0));
  } else if (typeof value === 'string') {
    const utf8 = Buffer.from(value, 'utf8');
    const long = utf8.length > 0xffff;
    parts.push(Buffer.of(long ? Marker.LongString : Marker.String), lengthPrefix(utf8.length, long ? 4 : 2), utf8);
  } else if (value instanceof Date) {
    const bytes = Buffer.alloc(11);
    bytes[0] = Marker.Date;
    bytes.writeDoubleBE(value.getTime(), 1);
    parts.push(bytes);
  } else if (Array.isArray(value)) {
    parts.push(Buffer.of(Marker.StrictArray), lengthPrefix(value.length, 4));
    for (const item of value) writeValue(item, parts);
  } else {
    parts.push(Buffer.of(Marker.Object));
    for (const [key, property] of Object.entries(value)) {
      const utf8 = Buffer.from(key, 'utf8');
      parts.push(lengthPrefix(utf8.length, 2), utf8);
      writeValue(property, parts);
    }
    parts.push(Buffer.of(0, 0, Marker.ObjectEnd));
  }
}

function lengthPrefix(length: number, bytes: 2 | 4): Buffer {
  const prefix = Buffer.alloc(bytes);
  if (bytes === 2) prefix.writeUInt16BE(length);
  else prefix.writeUInt32BE(length);
  return prefix;
}
