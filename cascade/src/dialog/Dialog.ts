// RFC 3261 §12: the state two user agents share after an INVITE is answered — Call-ID and tags,
// both CSeq spaces, the route set and the remote target — and the requests built from it.
import { randomInt } from 'node:crypto';
import { formatNameAddr, parseContact, parseCSeq, parseNameAddr, type NameAddr } from '../sip/headers.js';
import { SipHeaders, type SipRequest, type SipResponse } from '../sip/message.js';
import { formatSipUri, type SipUri } from '../sip/uri.js';
import { endpointForUri, type SipEndpoint, type SipProtocol } from '../transport/SipTransport.js';

export interface DialogRequestOptions {
  headers?: Iterable<readonly [name: string, value: string]>;
  body?: Buffer;
  /** For the ACK of a 2xx: the INVITE's sequence number (the local CSeq does not advance). */
  cseq?: number;
}

/** Looks up dialogs from either side: `callId|localTag|remoteTag`. */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

/** The key of the dialog an incoming request belongs to (its To tag is ours). */
export function dialogKeyOfRequest(request: SipRequest): string {
  const to = parseNameAddr(request.headers.get('To') ?? '', 'To');
  const from = parseNameAddr(request.headers.get('From') ?? '', 'From');
  return dialogKey(request.headers.get('Call-ID') ?? '', to.params['tag'] ?? '', from.params['tag'] ?? '');
}

export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  localSeq: number;
  remoteSeq: number | undefined;
  remoteTarget: SipUri;
  readonly routeSet: readonly string[];
  /** Our address-of-record (From of our requests, without tag). */
  readonly local: NameAddr;
  readonly remote: NameAddr;

  private constructor(fields: {
    callId: string;
    localTag: string;
    remoteTag: string;
    localSeq: number;
    remoteSeq: number | undefined;
    remoteTarget: SipUri;
    routeSet: string[];
    local: NameAddr;
    remote: NameAddr;
    localContact: string;
    protocol: SipProtocol;
  }) {
    this.callId = fields.callId;
    this.localTag = fields.localTag;
    this.remoteTag = fields.remoteTag;
    this.localSeq = fields.localSeq;
    this.remoteSeq = fields.remoteSeq;
    this.remoteTarget = fields.remoteTarget;
    this.routeSet = fields.routeSet;
    this.local = fields.local;
    this.remote = fields.remote;
    this.localContact = fields.localContact;
    this.protocol = fields.protocol;
  }

  readonly localContact: string;
  /** The transport the dialog was set up over; requests use it unless the target says otherwise. */
  readonly protocol: SipProtocol;

  /** §12.1.1: the UAS side, from the INVITE and the tag of our 2xx. */
  static asUas(invite: SipRequest, localTag: string, localContact: string, protocol: SipProtocol): Dialog {
    const from = parseNameAddr(invite.headers.get('From') ?? '', 'From');
    const to = parseNameAddr(invite.headers.get('To') ?? '', 'To');
    return new Dialog({
      callId: invite.headers.get('Call-ID') ?? '',
      localTag,
      remoteTag: from.params['tag'] ?? '',
      localSeq: randomInt(1, 10_000),
      remoteSeq: parseCSeq(invite.headers.get('CSeq') ?? '').seq,
      remoteTarget: contactUri(invite) ?? from.uri,
      routeSet: invite.headers.getAll('Record-Route'),
      local: withoutTag(to),
      remote: withoutTag(from),
      localContact,
      protocol,
    });
  }

  /** §12.1.2: the UAC side, from our INVITE and the 2xx that answered it. */
  static asUac(invite: SipRequest, response: SipResponse, localContact: string, protocol: SipProtocol): Dialog {
    const from = parseNameAddr(invite.headers.get('From') ?? '', 'From');
    const to = parseNameAddr(response.headers.get('To') ?? '', 'To');
    return new Dialog({
      callId: invite.headers.get('Call-ID') ?? '',
      localTag: from.params['tag'] ?? '',
      remoteTag: to.params['tag'] ?? '',
      localSeq: parseCSeq(invite.headers.get('CSeq') ?? '').seq,
      remoteSeq: undefined,
      remoteTarget: contactUri(response) ?? invite.uri,
      routeSet: response.headers.getAll('Record-Route').reverse(),
      local: withoutTag(from),
      remote: withoutTag(to),
      localContact,
      protocol,
    });
  }

  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  /** §12.2.1.1: Request-URI and Route per loose routing, tags, the next local CSeq. */
  createRequest(method: string, options: DialogRequestOptions = {}): SipRequest {
    const seq = options.cseq ?? ++this.localSeq;
    const headers = new SipHeaders();
    for (const route of this.routeSet) headers.append('Route', route);
    headers.append('Max-Forwards', '70');
    headers.append('From', formatNameAddr({ ...this.local, params: { tag: this.localTag } }));
    headers.append('To', formatNameAddr({ ...this.remote, params: { tag: this.remoteTag } }));
    headers.append('Call-ID', this.callId);
    headers.append('CSeq', `${seq} ${method}`);
    if (method !== 'ACK' && method !== 'BYE' && method !== 'CANCEL') headers.append('Contact', this.localContact);
    for (const [name, value] of options.headers ?? []) headers.append(name, value);
    const uri = this.remoteTarget;
    return { method, uri, rawUri: formatSipUri(uri), version: 'SIP/2.0', headers, body: options.body ?? Buffer.alloc(0) };
  }

  /** Where in-dialog requests go: the first route, else the remote target. */
  destination(): SipEndpoint {
    const firstRoute = this.routeSet[0];
    const uri = firstRoute === undefined ? this.remoteTarget : parseNameAddr(firstRoute, 'Route').uri;
    return endpointForUri(uri, this.protocol);
  }

  /** §12.2.2: a request with a lower CSeq than the last is out of order (answer 500). */
  acceptsRemoteSeq(request: SipRequest): boolean {
    const { seq, method } = parseCSeq(request.headers.get('CSeq') ?? '');
    if (method === 'ACK' || method === 'CANCEL') return true;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /** A target refresh (re-INVITE, UPDATE, their 2xx) moves the remote target to its Contact. */
  refreshTarget(message: SipRequest | SipResponse): void {
    const uri = contactUri(message);
    if (uri) this.remoteTarget = uri;
  }
}

function contactUri(message: SipRequest | SipResponse): SipUri | undefined {
  const contact = message.headers.get('Contact');
  if (contact === undefined) return undefined;
  const parsed = parseContact(contact);
  return parsed === '*' ? undefined : parsed.uri;
}

function withoutTag({ params, ...nameAddr }: NameAddr): NameAddr {
  const { tag: _tag, ...rest } = params;
  return { ...nameAddr, params: rest };
}

