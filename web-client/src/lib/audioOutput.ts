// The speaker that meeting sound plays through. Browsers without HTMLMediaElement.setSinkId
// (Firefox before 116, Safari) always use the system output: the picker is hidden there.

interface SinkElement extends HTMLMediaElement {
  setSinkId(sinkId: string): Promise<void>;
}

let currentSinkId = '';
const elements = new Set<SinkElement>();

export function supportsAudioOutput(): boolean {
  return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
}

export function audioOutput(): string {
  return currentSinkId;
}

function applySink(element: SinkElement): Promise<void> {
  if (element.sinkId === currentSinkId) return Promise.resolve();
  return element.setSinkId(currentSinkId);
}

/** Routes every followed element to `sinkId` ('' = the system default). */
export async function setAudioOutput(sinkId: string): Promise<void> {
  currentSinkId = sinkId;
  if (!supportsAudioOutput()) return;
  for (const element of [...elements]) {
    if (!element.isConnected) elements.delete(element);
  }
  await Promise.all([...elements].map(applySink));
}

/** Keeps `element` on the chosen speaker from now on. */
export function followAudioOutput(element: HTMLMediaElement): void {
  if (!supportsAudioOutput()) return;
  const sinkElement = element as SinkElement;
  elements.add(sinkElement);
  applySink(sinkElement).catch(() => undefined);
}

const TONE_SECONDS = 1;

/** Plays a short 660 Hz tone on `sinkId`; resolves when it has played. */
export async function playTestTone(sinkId: string): Promise<void> {
  const context = new AudioContext();
  try {
    const destination = context.createMediaStreamDestination();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = 660;
    gain.gain.setValueAtTime(0.2, context.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, context.currentTime + TONE_SECONDS);
    oscillator.connect(gain).connect(destination);
    const element = new Audio() as SinkElement;
    element.srcObject = destination.stream;
    if (supportsAudioOutput() && sinkId) await element.setSinkId(sinkId);
    oscillator.start();
    oscillator.stop(context.currentTime + TONE_SECONDS);
    await element.play();
    await new Promise<void>((done) => (oscillator.onended = () => done()));
    element.pause();
    element.srcObject = null;
  } finally {
    await context.close();
  }
}
