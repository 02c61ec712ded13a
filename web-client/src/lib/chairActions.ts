// The chair console's requests, typed: one method per thing a chair does. The server checks the
// role of every one (ROLE_ACTIONS); a refusal rejects with its SignalingError code.
import type { FloorMode, RequestName, RequestPayload, RequestReplies, RollCallResult } from '@cityconf/signaling/protocol';

export type SendRequest = <N extends RequestName>(name: N, payload: RequestPayload<N>) => Promise<RequestReplies[N]>;

export class ChairActions {
  constructor(private readonly send: SendRequest) {}

  muteAll(allowSelfUnmute: boolean): Promise<unknown> {
    return this.send('muteAll', { allowSelfUnmute });
  }

  setAllowSelfUnmute(allowed: boolean): Promise<unknown> {
    return this.send('setAllowSelfUnmute', { allowed });
  }

  setFloorMode(mode: FloorMode): Promise<unknown> {
    return this.send('setFloorMode', { mode });
  }

  setLocked(locked: boolean): Promise<unknown> {
    return this.send('setLocked', { locked });
  }

  muteParticipant(participantId: string, source: 'microphone' | 'camera'): Promise<unknown> {
    return this.send('muteParticipant', { participantId, source });
  }

  requestUnmute(participantId: string): Promise<unknown> {
    return this.send('requestUnmute', { participantId });
  }

  removeParticipant(participantId: string): Promise<unknown> {
    return this.send('removeParticipant', { participantId });
  }

  endMeeting(): Promise<unknown> {
    return this.send('endMeeting', {});
  }

  grantFloor(unitId: string): Promise<unknown> {
    return this.send('grantFloor', { unitId });
  }

  denyFloor(unitId: string): Promise<unknown> {
    return this.send('denyFloor', { unitId });
  }

  revokeFloor(unitId: string): Promise<unknown> {
    return this.send('revokeFloor', { unitId });
  }

  rollCall(unitId: string): Promise<unknown> {
    return this.send('rollCall', { unitId });
  }

  /** Calls the next unit not called yet; resolves to null when every unit has been called. */
  async rollCallNext(): Promise<string | null> {
    return (await this.send('rollCallNext', {})).unitId;
  }

  markRollCall(unitId: string, result: RollCallResult): Promise<unknown> {
    return this.send('markRollCall', { unitId, result });
  }

  finishRollCall(): Promise<unknown> {
    return this.send('finishRollCall', {});
  }

  setBroadcast(unitId: string | null): Promise<unknown> {
    return this.send('setBroadcast', { unitId });
  }
}
