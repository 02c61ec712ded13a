// Our outbound INVITE (to an upper MCU): digest retry once per 401 and per 407 (a proxy and the UAS), a 422 retry with the
// peer's Min-SE, CANCEL when the caller aborts (RFC 3261 §9.1), ACK of the 2xx and of its
// retransmissions; 3xx are not followed.
import { Dialog } from '../dialog/Dialog.js';
import { chooseDigestChallenge, DigestClient } from '../sip/digest.js';
import { formatSessionExpires, parseMinSE, type NameAddr } from '../sip/headers.js';
import { SipHeaders, type SipRequest, type SipResponse } from '../sip/message.js';
import { serializeSipMessage } from '../sip/serialize.js';
import { formatSipUri, parseSipUri, type SipUri } from '../sip/uri.js';
import { endpointForUri, type SipEndpoint } from '../transport/SipTransport.js';
import { SipRequestError } from './errors.js';
import { buildRequest, newCallId, newTag } from './requests.js';
import { SipCall } from './SipCall.js';
import { grantedSessionInterval } from './sessionTimer.js';
import { ALLOWED_METHODS, SUPPORTED_EXTENSIONS, type UaContext } from './UaContext.js';

export interface InviteOptions {
  /** Our address-of-record, e.g. `sip:county-a@gov.example` (default `sip:cityconf@<our host>`). */
  from?: string;
  displayName?: string;
  credentials?: { username: string; password: string };
  /** Extra headers for the INVITE. */
  headers?: [string, string][];
  /** Ask for RFC 4028 session timers with this interval (seconds); we offer to refresh. */
  sessionExpires?: number;
  /** Aborting before the answer CANCELs the call; invite() then rejects. */
  signal?: AbortSignal;
  /** Each provisional response (180, 183…). */
  onProvisional?: (response: SipResponse) => void;
}

export async function placeCall(
  context: UaContext,
  register: (call: SipCall) => void,
  target: string | SipUri,
  offerSdp: string,
  options: InviteOptions = {},
): Promise<SipCall> {
  const uri = typeof target === 'string' ? parseSipUri(target) : target;
  let destination = endpointForUri(uri, context.transport.defaultProtocol);
  const local = context.transport.local(destination.protocol);
  const fromUri = options.from === undefined ? { scheme: 'sip' as const, user: 'cityconf', host: local.host, port: local.port, params: {}, headers: {} } : parseSipUri(options.from);
  const from: NameAddr = { uri: fromUri, params: { tag: newTag() } };
  if (options.displayName !== undefined) from.displayName = options.displayName;
  const to: NameAddr = { uri, params: {} };
  const callId = newCallId(local.host);
  /** Set when a large INVITE went over TCP and TCP could not reach the peer: UDP from then on. */
  let tcpFailed = false;
  const digest = options.credentials ? new DigestClient(options.credentials.username, options.credentials.password) : undefined;
  let sessionExpires = options.sessionExpires;
  /** Authorization (401) and Proxy-Authorization (407): each challenge kind is answered once. */
  const authorizations = new Map<string, string>();
  let retried422 = false;

  const inviteFor = (cseq: number, protocol: SipEndpoint['protocol']): SipRequest => {
    const headers: [string, string][] = [
      ['Contact', context.contact(protocol)],
      ['Allow', ALLOWED_METHODS],
      ['Supported', SUPPORTED_EXTENSIONS],
      ['User-Agent', context.userAgent],
    ];
    if (sessionExpires !== undefined) {
      headers.push(['Session-Expires', formatSessionExpires({ seconds: sessionExpires, params: {} })], ['Min-SE', String(context.sessionTimer.minSE)]);
    }
    headers.push(...authorizations);
    headers.push(...(options.headers ?? []), ['Content-Type', 'application/sdp']);
    return buildRequest({ method: 'INVITE', uri, from, to, callId, cseq, headers, body: Buffer.from(offerSdp) });
  };

  for (let cseq = 1; ; cseq++) {
    options.signal?.throwIfAborted();
    let invite = inviteFor(cseq, destination.protocol);
    const switched = !tcpFailed && tooLargeForUdp(context, uri, destination, invite);
    if (switched) {
      destination = { ...destination, protocol: 'tcp' };
      invite = inviteFor(cseq, 'tcp');
    }
    const { response, established } = await attempt(context, invite, destination, context.contact(destination.protocol), offerSdp, register, options);
    if (established) return established;
    const { status } = response;
    if (switched && isLocalTransportFailure(response)) {
      // RFC 3261 §18.1.1: the peer takes no TCP: the same request over UDP after all.
      context.logger.info({ uri: formatSipUri(uri) }, 'the peer takes no SIP over TCP: sending the INVITE over UDP');
      tcpFailed = true;
      destination = { ...destination, protocol: 'udp' };
      continue;
    }
    const credentialsHeader = status === 401 ? 'Authorization' : 'Proxy-Authorization';
    if ((status === 401 || status === 407) && digest && !authorizations.has(credentialsHeader)) {
      const challenge = chooseDigestChallenge(response.headers.getAll(status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'));
      if (challenge) {
        authorizations.set(credentialsHeader, digest.authorize(challenge, { method: 'INVITE', uri: formatSipUri(uri) }));
        continue;
      }
    }
    if (status === 422 && !retried422 && response.headers.get('Min-SE') !== undefined) {
      retried422 = true;
      sessionExpires = parseMinSE(response.headers.get('Min-SE') ?? '');
      continue;
    }
    throw new SipRequestError('INVITE', status, response.reason, response);
  }
}

async function attempt(
  context: UaContext,
  invite: SipRequest,
  destination: SipEndpoint,
  contact: string,
  offerSdp: string,
  register: (call: SipCall) => void,
  options: InviteOptions,
): Promise<{ response: SipResponse; established?: SipCall }> {
  const transaction = context.layer.sendRequest(invite, destination);
  let provisional = false;
  let cancelWanted = false;
  let ack: SipRequest | undefined;
  let call: SipCall | undefined;
  const sendCancel = () => {
    const cancel = cancelFor(invite);
    void context.send(cancel, destination);
  };
  const onAbort = () => {
    cancelWanted = true;
    if (provisional) sendCancel();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await new Promise<SipResponse>((resolve) => {
      transaction.on('response', (response) => {
        if (response.status < 200) {
          if (!provisional && cancelWanted) sendCancel();
          provisional = true;
          options.onProvisional?.(response);
          return;
        }
        if (response.status < 300 && ack) {
          context.layer.sendWithoutTransaction(ack, destination).catch(() => {});
          return;
        }
        if (response.status < 300) {
          const dialog = Dialog.asUac(invite, response, contact, destination.protocol);
          ack = dialog.createRequest('ACK', { cseq: dialog.localSeq });
          context.layer.sendWithoutTransaction(ack, dialog.destination()).catch((error: unknown) => context.logger.warn({ err: error }, 'could not send ACK'));
          call = new SipCall(context, dialog, {
            direction: 'outgoing',
            localSdp: offerSdp,
            remoteSdp: response.body.length > 0 ? response.body.toString('utf8') : undefined,
            interval: grantedSessionInterval(response),
            peerAllow: response.headers.getAll('Allow'),
          });
          register(call);
        }
        resolve(response);
      });
      transaction.on('timeout', () => resolve(localResponse(invite, 408, 'Request Timeout')));
      transaction.on('transportError', (error) => resolve(localResponse(invite, 503, `Transport Error (${error.message})`)));
    });
    if (call && options.signal?.aborted) {
      await call.hangup();
      options.signal.throwIfAborted();
    }
    return call ? { response, established: call } : { response };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Requests within this many bytes (with the Via still to come) go over TCP unless the URI says UDP. */
export const UDP_REQUEST_LIMIT = 1300;
/** Room for the Via header the transaction layer adds. */
const VIA_ALLOWANCE = 100;

/**
 * RFC 3261 §18.1.1: a request larger than 1300 bytes (the path MTU is unknown) goes over a
 * congestion-controlled transport — TCP, when we listen on it and the URI does not ask for UDP.
 */
function tooLargeForUdp(context: UaContext, uri: SipUri, destination: SipEndpoint, request: SipRequest): boolean {
  if (destination.protocol !== 'udp' || uri.params['transport'] !== undefined || !context.transport.supports('tcp')) return false;
  return serializeSipMessage(request).length + VIA_ALLOWANCE > UDP_REQUEST_LIMIT;
}

function isLocalTransportFailure(response: SipResponse): boolean {
  return response.status === 503 && response.reason.startsWith('Transport Error');
}

/** RFC 3261 §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE. */
function cancelFor(invite: SipRequest): SipRequest {
  const headers = new SipHeaders([['Via', invite.headers.get('Via') ?? '']]);
  for (const route of invite.headers.getAll('Route')) headers.append('Route', route);
  for (const name of ['Max-Forwards', 'From', 'To', 'Call-ID']) headers.append(name, invite.headers.get(name) ?? '');
  headers.append('CSeq', `${(invite.headers.get('CSeq') ?? '').split(' ')[0]} CANCEL`);
  return { method: 'CANCEL', uri: invite.uri, rawUri: invite.rawUri, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

/** A response we make up for a timeout or transport failure (RFC 3261 §8.1.3.1). */
export function localResponse(request: SipRequest, status: number, reason: string): SipResponse {
  return { status, reason, version: 'SIP/2.0', headers: new SipHeaders([['CSeq', request.headers.get('CSeq') ?? '']]), body: Buffer.alloc(0) };
}
