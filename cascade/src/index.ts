export * from './sdp/index.js';
export { SipParseError } from './sip/errors.js';
export { unquote, type SipParams } from './sip/lexer.js';
export { formatSipUri, parseSipUri, type SipUri, type SipUriScheme } from './sip/uri.js';
export {
  canonicalHeaderName,
  isSipRequest,
  REASON_PHRASES,
  responseTo,
  SipHeaders,
  type ResponseOptions,
  type SipHeader,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from './sip/message.js';
export {
  formatContact,
  formatContentType,
  formatCSeq,
  formatNameAddr,
  formatReason,
  formatSessionExpires,
  formatValueWithParams,
  formatVia,
  parseContact,
  parseContentType,
  parseCSeq,
  parseMinSE,
  parseNameAddr,
  parseNumberHeader,
  parseReason,
  parseSessionExpires,
  parseValueWithParams,
  parseVia,
  type Contact,
  type ContentType,
  type CSeq,
  type NameAddr,
  type Reason,
  type SessionExpires,
  type ValueWithParams,
  type Via,
} from './sip/headers.js';
export { DEFAULT_SIP_PARSE_LIMITS, parseSipDatagram, SipStreamParser, type SipParseLimits, type SipStreamParserEvents } from './sip/parse.js';
export { serializeSipMessage } from './sip/serialize.js';
export {
  chooseDigestChallenge,
  DigestClient,
  digestResponse,
  DigestServer,
  formatDigestChallenge,
  formatDigestCredentials,
  parseDigestChallenge,
  parseDigestCredentials,
  type DigestAlgorithm,
  type DigestChallenge,
  type DigestCredentials,
  type DigestInput,
  type DigestQop,
  type DigestRequest,
  type DigestServerOptions,
  type DigestVerdict,
} from './sip/digest.js';
export { DigitCollector, type DigitCollectorEvents, type DigitCollectorOptions } from './ivr/DigitCollector.js';
export { dialInTarget, isMeetingNumber, type DialInTarget } from './ivr/dialIn.js';
export {
  IvrSession,
  type DtmfPath,
  type InfoKeySource,
  type IvrGiveUpReason,
  type IvrResult,
  type IvrSessionEvents,
  type IvrSessionOptions,
  type MeetingLookup,
} from './ivr/IvrSession.js';
export { endpointForUri, SipTransport, type SipEndpoint, type SipListen, type SipProtocol, type SipTlsOptions, type SipTransportOptions } from './transport/SipTransport.js';
export { DEFAULT_SIP_TIMERS, type SipTimers } from './transaction/SipTimers.js';
export { newBranch, TransactionLayer } from './transaction/TransactionLayer.js';
export { ClientTransaction } from './transaction/ClientTransaction.js';
export { ServerTransaction } from './transaction/ServerTransaction.js';
export { Dialog } from './dialog/Dialog.js';
export { SipUserAgent, type InviteHandler, type SipUserAgentOptions } from './ua/SipUserAgent.js';
export { IncomingCall, type AcceptOptions } from './ua/IncomingCall.js';
export { SipCall, type CallEndReason, type IncomingOffer, type SipCallEvents } from './ua/SipCall.js';
export type { InviteOptions } from './ua/placeCall.js';
export { Registration, type RegistrationEvents, type RegistrationOptions } from './ua/Registration.js';
export { KeepAlive, type KeepAliveEvents } from './ua/KeepAlive.js';
export { InvalidStateError, SipRequestError } from './ua/errors.js';
export type { SessionInterval, SessionTimerOptions } from './ua/sessionTimer.js';
export { DEFAULT_SIP_MEDIA_PORTS, MediaPorts, SipInbound, SipOutbound, SrtpSender, type MediaPortsCounters, type MediaPortsEvents, type MediaPortsOptions, type PipeProducer, type SipInboundEvents, type SipInboundOptions, type SipOutboundOptions } from './media/index.js';
export { VideoSwitchPool, type VideoSwitchPoolOptions } from './media/index.js';
export { PromptPlayer, promptFile, type PromptName, type PromptOutcome, type PromptPlayerOptions } from './media/index.js';
