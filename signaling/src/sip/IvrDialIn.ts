// Dial-in through the IVR: a call to `sip:ivr@host` (or any user that is not a 会议号) is answered,
// the caller types the meeting number (and the meeting's PIN, if it has one) as DTMF ending in '#',
// and the answered call goes to the gateway to join that meeting.
import {
  answerOffer,
  IvrSession,
  MediaPorts,
  NoCommonCodecError,
  type IncomingCall,
  type LocalMedia,
  type MeetingLookup,
  type Negotiation,
  type SipCall,
} from '@cityconf/cascade';
import { sameSecret } from '../api/authorize.js';
import type { Logger } from '../log.js';
import type { MeetingRecord, Store } from '../store/types.js';

export interface IvrDialInDeps {
  store: Store;
  /** The address our SDP gives for media. */
  mediaAddress: string;
  logger: Logger;
}

/** A call the IVR answered and let into a meeting: what the gateway needs to join it. */
export interface IvrAnsweredCall {
  record: MeetingRecord;
  call: SipCall;
  negotiation: Negotiation;
  /** The ports our answer advertised; SipLeg.prepare takes them over (its SipInbound closes them). */
  ports: MediaPorts;
}

/**
 * Answers `incoming` with the IVR. Resolves with the chosen meeting, or undefined when the call is
 * over (the caller hung up or cancelled, or gave up and we hung up): its ports are closed then.
 * Throws before answering: NoCommonCodecError when the offer has no audio we take (answer 488).
 */
export async function answerWithIvr(incoming: IncomingCall, deps: IvrDialInDeps): Promise<IvrAnsweredCall | undefined> {
  const { store, logger } = deps;
  const ports = await MediaPorts.allocate();
  let call: SipCall | undefined;
  try {
    const local: LocalMedia = { address: deps.mediaAddress, audio: { port: ports.audioPort }, video: { port: ports.videoPort } };
    const negotiation = answerOffer(incoming.offer ?? '', local);
    if (!negotiation.audio) throw new NoCommonCodecError(['the IVR speaks and listens: the offer has no audio we take'], 'audio: opus, G722, PCMA, PCMU, telephone-event');
    if (incoming.signal.aborted) {
      ports.close();
      return undefined;
    }
    ports.setPeer(negotiation);
    call = incoming.accept(negotiation.sdp);
    const ivr = new IvrSession({
      legId: `ivr-${incoming.callId}`,
      ports,
      negotiation,
      call,
      lookup: (number) => lookupMeeting(store, number),
      checkPin: (number, pin) => {
        const expected = store.meetings.getByNumber(number)?.pin;
        return !!expected && sameSecret(pin, expected);
      },
      logger,
    });
    const stop = (): void => ivr.stop();
    call.once('ended', stop);
    const result = await ivr.run();
    call.off('ended', stop);
    const record = result.outcome === 'joined' ? store.meetings.getByNumber(result.meetingNumber) : undefined;
    if (record && lookupMeeting(store, record.number) !== 'not-started' && !call.ended) return { record, call, negotiation, ports };
    if (result.outcome === 'gave-up') logger.info({ callId: incoming.callId, reason: result.reason }, 'ivr gave up: hanging up');
    await hangUp(call, ports);
    return undefined;
  } catch (error) {
    if (call) await hangUp(call, ports);
    else ports.close();
    throw error;
  }
}

/** What a typed meeting number leads to, by the rules of the direct dial-in (an ended meeting takes no one). */
function lookupMeeting(store: Store, number: number): MeetingLookup {
  const record = store.meetings.getByNumber(number);
  if (!record) return 'unknown';
  if (record.state === 'ended') return 'not-started';
  return record.pin ? { pin: true } : 'ok';
}

async function hangUp(call: SipCall, ports: MediaPorts): Promise<void> {
  ports.close();
  if (!call.ended) await call.hangup().catch(() => undefined);
}
