// The chair-controlled state of one live meeting: floor mode, raised hands, floor grants, roll call,
// broadcast venue, lock. Pure state and rules, no I/O: LiveMeeting applies the consequences
// (pausing producers, telling clients, persisting).
import { ProtocolError } from '../errors.js';
import {
  isChairRole,
  type FloorMode,
  type MeetingControlState,
  type MeetingRole,
  type RaisedHand,
  type RollCallResult,
  type RollCallStatus,
} from '../protocol.js';
import type { MeetingSettings, RollCallRecord } from '../store/types.js';

export interface MeetingControlInit {
  settings: MeetingSettings;
  mainVenueUnitId: string | null;
  /** The units a roll call walks, in order (invited units). */
  rollCallOrder: string[];
  /** Roll calls recorded earlier (the meeting ran before a restart). */
  rollCalls: RollCallRecord[];
}

export class MeetingControl {
  private version = 0;
  private settings: MeetingSettings;
  private mainVenueUnitId: string | null;
  private readonly floor = new Set<string>();
  /** Floor granted only because the unit is being called: revoked when the call moves on. */
  private rollCallFloor: string | null = null;
  private readonly hands = new Map<string, RaisedHand>();
  private broadcastUnitId: string | null = null;
  private currentCall: string | null = null;
  private rollCallOrder: string[];
  private readonly rollCallStatus = new Map<string, RollCallStatus>();

  constructor(init: MeetingControlInit) {
    this.settings = { ...init.settings };
    this.mainVenueUnitId = init.mainVenueUnitId;
    this.rollCallOrder = [...init.rollCallOrder];
    for (const record of init.rollCalls) this.rollCallStatus.set(record.unitId, record.result ?? 'called');
  }

  state(): MeetingControlState {
    let present = 0;
    let absent = 0;
    for (const status of this.rollCallStatus.values()) {
      if (status === 'present') present++;
      else if (status === 'absent') absent++;
    }
    return {
      version: this.version,
      locked: this.settings.locked,
      floorMode: this.settings.floorMode,
      allowSelfUnmute: this.settings.allowSelfUnmute,
      floorUnitIds: [...this.floor],
      handQueue: [...this.hands.values()],
      broadcastUnitId: this.broadcastUnitId,
      mainVenueUnitId: this.mainVenueUnitId,
      rollCall: {
        currentUnitId: this.currentCall,
        called: this.rollCallStatus.size,
        present,
        absent,
        total: this.rollCallOrder.length,
      },
    };
  }

  /** The settings to persist (they survive a restart; the rest is live state). */
  get persistentSettings(): MeetingSettings {
    return { ...this.settings };
  }

  get locked(): boolean {
    return this.settings.locked;
  }

  rollCallResults(): Record<string, RollCallStatus> {
    return Object.fromEntries(this.rollCallStatus);
  }

  /** May this unit's microphone be on now? */
  micAllowed(unitId: string, role: MeetingRole): boolean {
    if (isChairRole(role) || this.floor.has(unitId)) return true;
    return this.settings.floorMode === 'free' && this.settings.allowSelfUnmute;
  }

  /** Adds the units a roll call walks when someone joins an ad-hoc meeting (no invitation list). */
  addToRollCallOrder(unitId: string): boolean {
    if (this.rollCallOrder.includes(unitId)) return false;
    this.rollCallOrder.push(unitId);
    return this.changed();
  }

  // ---- settings ---------------------------------------------------------------------------------

  /**
   * Takes up what the operator changed in the stored meeting: its settings, its main venue and,
   * if given, a new roll-call order (units called already keep their status).
   */
  update(change: { settings: MeetingSettings; mainVenueUnitId: string | null; rollCallOrder?: string[] }): boolean {
    const { settings, mainVenueUnitId, rollCallOrder } = change;
    const settingsChanged = (Object.keys(settings) as (keyof MeetingSettings)[]).some((key) => this.settings[key] !== settings[key]);
    const orderChanged = rollCallOrder !== undefined && rollCallOrder.join() !== this.rollCallOrder.join();
    if (!settingsChanged && !orderChanged && mainVenueUnitId === this.mainVenueUnitId) return false;
    this.settings = { ...settings };
    this.mainVenueUnitId = mainVenueUnitId;
    if (rollCallOrder) this.rollCallOrder = [...rollCallOrder];
    return this.changed();
  }

  setLocked(locked: boolean): boolean {
    if (this.settings.locked === locked) return false;
    this.settings.locked = locked;
    return this.changed();
  }

  setFloorMode(mode: FloorMode): boolean {
    if (this.settings.floorMode === mode) return false;
    this.settings.floorMode = mode;
    return this.changed();
  }

  setAllowSelfUnmute(allowed: boolean): boolean {
    if (this.settings.allowSelfUnmute === allowed) return false;
    this.settings.allowSelfUnmute = allowed;
    return this.changed();
  }

  /** Mute all: floor grants go (except a unit being called); self-unmute as the chair says. */
  muteAll(allowSelfUnmute: boolean): boolean {
    this.settings.allowSelfUnmute = allowSelfUnmute;
    for (const unitId of this.floor) if (unitId !== this.rollCallFloor) this.floor.delete(unitId);
    return this.changed();
  }

  // ---- hands and floor --------------------------------------------------------------------------

  raiseHand(hand: RaisedHand): boolean {
    if (this.hands.has(hand.unitId)) return false;
    this.hands.set(hand.unitId, hand);
    return this.changed();
  }

  lowerHand(unitId: string): boolean {
    if (!this.hands.delete(unitId)) return false;
    return this.changed();
  }

  handRaised(unitId: string): boolean {
    return this.hands.has(unitId);
  }

  /** Grants the floor (lowering the unit's hand). Granting it twice is not an error. */
  grantFloor(unitId: string): boolean {
    const handWasUp = this.hands.delete(unitId);
    if (this.floor.has(unitId) && !handWasUp) return false;
    this.floor.add(unitId);
    if (this.rollCallFloor === unitId) this.rollCallFloor = null; // granted for real now
    return this.changed();
  }

  /** Lowers the unit's hand without granting. INVALID_STATE if no hand is up (e.g. another chair answered first). */
  denyFloor(unitId: string): boolean {
    if (!this.hands.delete(unitId)) {
      throw new ProtocolError('INVALID_STATE', `unit ${unitId} has no raised hand (it was answered already or lowered)`);
    }
    return this.changed();
  }

  revokeFloor(unitId: string): boolean {
    if (!this.floor.delete(unitId)) return false;
    if (this.rollCallFloor === unitId) this.rollCallFloor = null;
    return this.changed();
  }

  hasFloor(unitId: string): boolean {
    return this.floor.has(unitId);
  }

  // ---- roll call --------------------------------------------------------------------------------

  /**
   * Calls a unit: it becomes the current call and gets the floor for the call. Returns the unit
   * whose call-only floor ended (the previous call), if any.
   */
  call(unitId: string): { endedFloor: string | null } {
    const endedFloor = this.endCallFloor();
    this.currentCall = unitId;
    if (!this.rollCallStatus.has(unitId)) this.rollCallStatus.set(unitId, 'called');
    if (!this.floor.has(unitId)) {
      this.floor.add(unitId);
      this.rollCallFloor = unitId;
    }
    this.changed();
    return { endedFloor: endedFloor === unitId ? null : endedFloor };
  }

  /** The next unit in roll-call order not called yet, or null when all have been. */
  nextUncalled(): string | null {
    return this.rollCallOrder.find((unitId) => !this.rollCallStatus.has(unitId)) ?? null;
  }

  mark(unitId: string, result: RollCallResult): boolean {
    if (!this.rollCallStatus.has(unitId)) {
      throw new ProtocolError('INVALID_STATE', `unit ${unitId} has not been called; call it before marking it`);
    }
    if (this.rollCallStatus.get(unitId) === result) return false;
    this.rollCallStatus.set(unitId, result);
    return this.changed();
  }

  status(unitId: string): RollCallStatus | undefined {
    return this.rollCallStatus.get(unitId);
  }

  /** Ends the current call. Returns the unit whose call-only floor ended, if any. */
  finishCall(): { endedFloor: string | null; changed: boolean } {
    if (this.currentCall === null) return { endedFloor: null, changed: false };
    const endedFloor = this.endCallFloor();
    this.currentCall = null;
    this.changed();
    return { endedFloor, changed: true };
  }

  get currentCallUnitId(): string | null {
    return this.currentCall;
  }

  // ---- venues -----------------------------------------------------------------------------------

  setBroadcast(unitId: string | null): boolean {
    if (this.broadcastUnitId === unitId) return false;
    this.broadcastUnitId = unitId;
    return this.changed();
  }

  /** A participant left: its hand goes down (its floor, broadcast and roll call stay: it may rejoin). */
  participantLeft(unitId: string): boolean {
    return this.lowerHand(unitId);
  }

  private endCallFloor(): string | null {
    const unitId = this.rollCallFloor;
    if (unitId === null) return null;
    this.floor.delete(unitId);
    this.rollCallFloor = null;
    return unitId;
  }

  private changed(): true {
    this.version++;
    return true;
  }
}
