// Svelte attachment that plays a set of tracks in an <audio> or <video> element. The element keeps
// its MediaStream while the tracks stay the same, so state updates do not restart playback.
import type { Attachment } from 'svelte/attachments';
import { followAudioOutput } from './audioOutput';

export function playTracks(
  tracks: MediaStreamTrack[],
  onAutoplayBlocked?: () => void,
): Attachment<HTMLMediaElement> {
  return (element) => {
    // Svelte sets the `muted` property only; reflect it as the attribute too, so that the markup
    // says what the element does and `video[muted]` selectors match.
    if (element.muted) element.defaultMuted = true;
    if (element instanceof HTMLAudioElement) followAudioOutput(element);
    const current = element.srcObject instanceof MediaStream ? element.srcObject.getTracks() : [];
    const unchanged = current.length === tracks.length && tracks.every((track) => current.includes(track));
    if (!unchanged) element.srcObject = tracks.length > 0 ? new MediaStream(tracks) : null;
    if (tracks.length === 0 || !element.paused) return;
    element.play().catch((error: unknown) => {
      if (error instanceof DOMException && error.name === 'NotAllowedError') onAutoplayBlocked?.();
    });
  };
}
