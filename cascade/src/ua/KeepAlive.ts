// OPTIONS pings to a peer (an upper MCU, a registrar): any response means reachable; a timeout
// or a transport failure means not.
import { EventEmitter } from 'node:events';
import type { SipResponse } from '../sip/message.js';
import { parseSipUri, type SipUri } from '../sip/uri.js';
import { endpointForUri } from '../transport/SipTransport.js';
import { buildRequest, newCallId, newTag } from './requests.js';
import type { UaContext } from './UaContext.js';

export interface KeepAliveEvents {
  /** Reachability changed (and the first result). */
  reachable: [response: SipResponse];
  unreachable: [response: SipResponse];
}

export class KeepAlive extends EventEmitter<KeepAliveEvents> {
  #reachable: boolean | undefined;
  #timer?: NodeJS.Timeout;
  #closed = false;

  constructor(
    private readonly context: UaContext,
    readonly target: SipUri,
    private readonly intervalMs: number,
  ) {
    super();
    queueMicrotask(() => void this.#ping());
  }

  /** Undefined until the first answer (or timeout). */
  get reachable(): boolean | undefined {
    return this.#reachable;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #ping(): Promise<void> {
    if (this.#closed) return;
    const response = await sendOptions(this.context, this.target);
    if (this.#closed) return;
    const reachable = !isLocalFailure(response);
    if (reachable !== this.#reachable) {
      this.#reachable = reachable;
      this.emit(reachable ? 'reachable' : 'unreachable', response);
    }
    this.#timer = setTimeout(() => void this.#ping(), this.intervalMs);
  }
}

/** 408 and 503 we made up ourselves (no response at all) carry no Via. */
function isLocalFailure(response: SipResponse): boolean {
  return !response.headers.has('Via');
}

export function sendOptions(context: UaContext, target: SipUri | string): Promise<SipResponse> {
  const uri = typeof target === 'string' ? parseSipUri(target) : target;
  const destination = endpointForUri(uri, context.transport.defaultProtocol);
  const local = context.transport.local(destination.protocol);
  const from = { uri: { scheme: 'sip' as const, user: 'cityconf', host: local.host, port: local.port, params: {}, headers: {} }, params: { tag: newTag() } };
  const request = buildRequest({
    method: 'OPTIONS',
    uri,
    from,
    to: { uri, params: {} },
    callId: newCallId(local.host),
    cseq: 1,
    headers: [['Contact', context.contact(destination.protocol)], ['Accept', 'application/sdp'], ['User-Agent', context.userAgent]],
  });
  return context.send(request, destination);
}
