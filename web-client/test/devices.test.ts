import { describe, expect, it } from 'vitest';
import {
  classifyMediaError,
  DEFAULT_CHOICE,
  fallbackDevice,
  loadDeviceChoice,
  pickDevice,
  saveDeviceChoice,
  TimeoutError,
  withTimeout,
  type DeviceEntry,
} from '../src/lib/devices';

const devices: DeviceEntry[] = [
  { kind: 'audioinput', deviceId: 'default', label: 'Default' },
  { kind: 'audioinput', deviceId: 'mic-usb', label: 'USB microphone' },
  { kind: 'videoinput', deviceId: 'cam-front', label: 'Front' },
  { kind: 'videoinput', deviceId: 'cam-usb', label: 'USB camera' },
  { kind: 'audiooutput', deviceId: 'default', label: 'Speakers' },
];

function namedError(name: string, message = ''): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function memoryStorage(): Storage {
  const values = new Map<string, string>();
  return {
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
  } as Storage;
}

describe('pickDevice', () => {
  it('keeps the preferred device while it is present', () => {
    expect(pickDevice(devices, 'videoinput', 'cam-usb')).toBe('cam-usb');
  });

  it('falls back to the system default, then to the first device', () => {
    expect(pickDevice(devices, 'audioinput', 'unplugged')).toBe('default');
    expect(pickDevice(devices, 'videoinput', 'unplugged')).toBe('cam-front');
    expect(pickDevice(devices, 'videoinput', null)).toBe('cam-front');
  });

  it('finds nothing when no device of the kind exists or ids are hidden before permission', () => {
    expect(pickDevice([], 'videoinput', 'cam-usb')).toBeNull();
    expect(pickDevice([{ kind: 'videoinput', deviceId: '', label: '' }], 'videoinput', null)).toBeNull();
  });
});

describe('fallbackDevice', () => {
  it('chooses another present device than the lost one', () => {
    expect(fallbackDevice(devices, 'videoinput', 'cam-front')).toBe('cam-usb');
    expect(fallbackDevice(devices, 'audioinput', 'mic-usb')).toBe('default');
  });

  it('is null when the lost device was the only one', () => {
    const one = devices.filter((device) => device.deviceId !== 'cam-usb');
    expect(fallbackDevice(one, 'videoinput', 'cam-front')).toBeNull();
  });
});

describe('classifyMediaError', () => {
  it('names getUserMedia failures', () => {
    expect(classifyMediaError(namedError('NotAllowedError'))).toBe('denied');
    expect(classifyMediaError(namedError('NotFoundError'))).toBe('notFound');
    expect(classifyMediaError(namedError('OverconstrainedError'))).toBe('notFound');
    expect(classifyMediaError(namedError('NotReadableError'))).toBe('inUse');
    expect(classifyMediaError(new TimeoutError('slow'))).toBe('timeout');
    expect(classifyMediaError(new Error('media devices need a secure context (https)'))).toBe('insecure');
    expect(classifyMediaError('weird')).toBe('other');
  });
});

describe('withTimeout', () => {
  it('passes the result through and rejects a promise that never settles', async () => {
    await expect(withTimeout(Promise.resolve(7), 50, 'fast')).resolves.toBe(7);
    await expect(withTimeout(new Promise(() => undefined), 20, 'never')).rejects.toBeInstanceOf(TimeoutError);
  });
});

describe('remembered choice', () => {
  it('round-trips through storage', () => {
    const storage = memoryStorage();
    const choice = { cameraId: 'cam-usb', microphoneId: null, speakerId: 'default', camera: false, microphone: true };
    saveDeviceChoice(storage, choice);
    expect(loadDeviceChoice(storage)).toEqual(choice);
  });

  it('uses defaults for missing, corrupt or unavailable storage', () => {
    const storage = memoryStorage();
    expect(loadDeviceChoice(storage)).toEqual(DEFAULT_CHOICE);
    storage.setItem('cityconf.devices', '{not json');
    expect(loadDeviceChoice(storage)).toEqual(DEFAULT_CHOICE);
    storage.setItem('cityconf.devices', JSON.stringify({ cameraId: 5, camera: 'yes' }));
    expect(loadDeviceChoice(storage)).toEqual(DEFAULT_CHOICE);
    expect(loadDeviceChoice(undefined)).toEqual(DEFAULT_CHOICE);
  });
});
