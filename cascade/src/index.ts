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
