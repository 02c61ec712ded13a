// Requests outside a dialog (INVITE, REGISTER, OPTIONS): the headers RFC 3261 §8.1.1 requires.
import { randomBytes } from 'node:crypto';
import { formatNameAddr, type NameAddr } from '../sip/headers.js';
import { SipHeaders, type SipRequest } from '../sip/message.js';
import { formatSipUri, type SipUri } from '../sip/uri.js';

export interface OutOfDialogRequest {
  method: string;
  uri: SipUri;
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: number;
  headers?: Iterable<readonly [name: string, value: string]>;
  body?: Buffer;
}

export function newTag(): string {
  return randomBytes(6).toString('hex');
}

export function newCallId(host: string): string {
  return `${randomBytes(12).toString('hex')}@${host}`;
}

export function buildRequest({ method, uri, from, to, callId, cseq, headers = [], body }: OutOfDialogRequest): SipRequest {
  const all = new SipHeaders([
    ['Max-Forwards', '70'],
    ['From', formatNameAddr(from)],
    ['To', formatNameAddr(to)],
    ['Call-ID', callId],
    ['CSeq', `${cseq} ${method}`],
    ...headers,
  ]);
  return { method, uri, rawUri: formatSipUri(uri), version: 'SIP/2.0', headers: all, body: body ?? Buffer.alloc(0) };
}
