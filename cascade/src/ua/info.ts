// SIP INFO bodies we send and understand: RFC 5168 picture_fast_update and DTMF relay.
import { DTMF_KEYS } from '../sdp/dtmf.js';

export const MEDIA_CONTROL_TYPE = 'application/media_control+xml';
export const DTMF_RELAY_TYPE = 'application/dtmf-relay';
export const DTMF_TYPE = 'application/dtmf';

export const PICTURE_FAST_UPDATE_XML =
  '<?xml version="1.0" encoding="utf-8" ?>\r\n' +
  '<media_control><vc_primitive><to_encoder><picture_fast_update/></to_encoder></vc_primitive></media_control>\r\n';

export function isPictureFastUpdate(contentType: string, body: string): boolean {
  return contentType === MEDIA_CONTROL_TYPE && /<picture_fast_update\s*\/?>/.test(body);
}

export function dtmfRelayBody(digit: string, durationMs: number): string {
  return `Signal=${digit}\r\nDuration=${durationMs}\r\n`;
}

/** The digit of an `application/dtmf-relay` (`Signal=5`) or `application/dtmf` (`5`) body. */
export function parseDtmfInfo(contentType: string, body: string): { digit: string; durationMs?: number } | undefined {
  if (contentType === DTMF_TYPE) {
    const digit = body.trim();
    return isDtmfKey(digit) ? { digit: digit.toUpperCase() } : undefined;
  }
  if (contentType !== DTMF_RELAY_TYPE) return undefined;
  const signal = /^\s*Signal\s*=\s*(\S)\s*$/im.exec(body)?.[1];
  if (signal === undefined || !isDtmfKey(signal)) return undefined;
  const duration = /^\s*Duration\s*=\s*(\d+)\s*$/im.exec(body)?.[1];
  return duration === undefined ? { digit: signal.toUpperCase() } : { digit: signal.toUpperCase(), durationMs: Number(duration) };
}

function isDtmfKey(text: string): boolean {
  return text.length === 1 && DTMF_KEYS.includes(text.toUpperCase());
}
