import type { Logger } from 'pino';
import type { SipRequest, SipResponse } from '../sip/message.js';
import type { ClientTransaction } from '../transaction/ClientTransaction.js';
import type { SipTimers } from '../transaction/SipTimers.js';
import type { TransactionLayer } from '../transaction/TransactionLayer.js';
import type { SipEndpoint, SipProtocol, SipTransport } from '../transport/SipTransport.js';
import type { SessionTimerConfig } from './sessionTimer.js';

/** What calls, registrations and keep-alives share from their user agent. */
export interface UaContext {
  readonly transport: SipTransport;
  readonly layer: TransactionLayer;
  readonly logger: Logger;
  readonly timers: SipTimers;
  readonly sessionTimer: SessionTimerConfig;
  /** User-Agent / Server header value. */
  readonly userAgent: string;
  /** Our Contact header value for `protocol` (`<sip:user@host:port;transport=tcp>`). */
  contact(protocol: SipProtocol, user?: string): string;
  /**
   * Sends `request` in a client transaction and resolves with its final response (`onResponse`
   * sees every response, 2xx retransmissions too); a timeout
   * becomes 408 and an unreachable peer 503 (RFC 3261 §8.1.3.1), never a rejection.
   */
  send(request: SipRequest, destination: SipEndpoint, onResponse?: (response: SipResponse, transaction: ClientTransaction) => void): Promise<SipResponse>;
}

export const ALLOWED_METHODS = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE';
export const SUPPORTED_EXTENSIONS = 'timer';
