// Writing SIP to the wire (RFC 3261 §7): start line, headers in order under their full names, and
// a Content-Length that always matches the body.
import { isSipRequest, type SipMessage } from './message.js';
import { formatSipUri } from './uri.js';

export function serializeSipMessage(message: SipMessage): Buffer {
  const startLine = isSipRequest(message)
    ? `${message.method} ${formatSipUri(message.uri)} ${message.version}`
    : `${message.version} ${message.status} ${message.reason}`;
  const lines = [startLine];
  const contentLength = `Content-Length: ${message.body.length}`;
  let wroteContentLength = false;
  for (const { name, value } of message.headers) {
    if (name !== 'Content-Length') lines.push(`${name}: ${value}`);
    else if (!wroteContentLength) lines.push(contentLength);
    wroteContentLength ||= name === 'Content-Length';
  }
  if (!wroteContentLength) lines.push(contentLength);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), message.body]);
}
