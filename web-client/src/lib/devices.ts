// Pure helpers for choosing cameras, microphones and speakers: which device to use when the
// remembered one is gone, how to name a getUserMedia failure, and how choices are remembered.

export type DeviceKind = 'videoinput' | 'audioinput' | 'audiooutput';

/** The parts of MediaDeviceInfo this module reads (so that tests need no browser). */
export interface DeviceEntry {
  deviceId: string;
  kind: string;
  label: string;
}

export interface DeviceChoice {
  cameraId: string | null;
  microphoneId: string | null;
  speakerId: string | null;
  camera: boolean;
  microphone: boolean;
}

export const DEFAULT_CHOICE: DeviceChoice = {
  cameraId: null,
  microphoneId: null,
  speakerId: null,
  camera: true,
  microphone: true,
};

/** Why a device could not be opened, as the user needs to hear it. */
export type MediaFailure = 'denied' | 'notFound' | 'inUse' | 'insecure' | 'timeout' | 'other';

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

const STORAGE_KEY = 'cityconf.devices';

export function devicesOfKind(devices: readonly DeviceEntry[], kind: DeviceKind): DeviceEntry[] {
  // Before permission is granted, browsers list devices with an empty id: they cannot be chosen.
  return devices.filter((device) => device.kind === kind && device.deviceId !== '');
}

/**
 * The device to use: the preferred one while it is present, else the system default, else the
 * first one; null when there is none.
 */
export function pickDevice(devices: readonly DeviceEntry[], kind: DeviceKind, preferredId: string | null): string | null {
  const candidates = devicesOfKind(devices, kind);
  const preferred = candidates.find((device) => device.deviceId === preferredId);
  const fallback = candidates.find((device) => device.deviceId === 'default') ?? candidates[0];
  return (preferred ?? fallback)?.deviceId ?? null;
}

/** The device to switch to after `lostId` disappeared: any other present one, or null. */
export function fallbackDevice(devices: readonly DeviceEntry[], kind: DeviceKind, lostId: string | null): string | null {
  const others = devicesOfKind(devices, kind).filter((device) => device.deviceId !== lostId);
  return pickDevice(others, kind, null);
}

export function classifyMediaError(error: unknown): MediaFailure {
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return 'denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'notFound';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'inUse';
    case 'TimeoutError':
      return 'timeout';
    default:
      return error instanceof Error && /secure context/.test(error.message) ? 'insecure' : 'other';
  }
}

/** Rejects with a TimeoutError if `promise` has not settled after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function loadDeviceChoice(storage: Pick<Storage, 'getItem'> | undefined): DeviceChoice {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(STORAGE_KEY) ?? 'null');
    if (typeof parsed !== 'object' || parsed === null) return { ...DEFAULT_CHOICE };
    const value = parsed as Record<string, unknown>;
    const id = (key: string): string | null => (typeof value[key] === 'string' ? (value[key] as string) : null);
    const flag = (key: 'camera' | 'microphone'): boolean => (typeof value[key] === 'boolean' ? (value[key] as boolean) : DEFAULT_CHOICE[key]);
    return {
      cameraId: id('cameraId'),
      microphoneId: id('microphoneId'),
      speakerId: id('speakerId'),
      camera: flag('camera'),
      microphone: flag('microphone'),
    };
  } catch {
    return { ...DEFAULT_CHOICE };
  }
}

export function saveDeviceChoice(storage: Pick<Storage, 'setItem'> | undefined, choice: DeviceChoice): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(choice));
  } catch {
    // Storage can be unavailable (private mode); the choice then lasts for this page only.
  }
}

/** localStorage when the page may use it. */
export function browserStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}
