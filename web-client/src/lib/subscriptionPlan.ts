// What the meeting view shows and, from that, which remote videos to receive. Pure functions:
// given the layout, the page and the participants, the plan lists the tiles on screen and the
// simulcast layer each shown video needs. Every video not in the plan stays unconsumed or paused,
// so a meeting of 550 units decodes at most one page of video, never 550 streams.
import type { MediaSource } from '@cityconf/signaling/protocol';

export type Layout = 'gallery' | 'speaker';
export const GRID_SIZES = [3, 4, 5] as const;
export type GridSize = (typeof GRID_SIZES)[number];

/** Spatial layers of the camera's simulcast: 0 = quarter, 1 = half, 2 = full resolution. */
export type SpatialLayer = 0 | 1 | 2;
const HIGHEST_LAYER: SpatialLayer = 2;

export interface PlanVideo {
  producerId: string;
  source: Exclude<MediaSource, 'microphone'>;
  /** Muted by its sender: shown as a placeholder, but still subscribed while shown. */
  paused: boolean;
}

export interface PlanParticipant {
  id: string;
  camera: PlanVideo | null;
  screen: PlanVideo | null;
}

export interface ViewInput {
  layout: Layout;
  gridSize: GridSize;
  /** Gallery page (0-based); clamped to the pages there are. */
  page: number;
  /** Speaker layout: page of the thumbnail strip (0-based); clamped. */
  stripPage: number;
  /** Speaker layout: how many remote thumbnails fit the strip beside the local one. */
  stripCapacity: number;
  /** Width of one gallery tile in CSS pixels; picks the layer gallery videos need. */
  galleryTileWidth: number;
  /** Remote participants in join order. */
  participants: readonly PlanParticipant[];
  /** The server's main speaker; may be unknown, absent or this participant. */
  activeSpeakerId: string | null;
  /**
   * Speaker layout: the participant the chair's controls put large (roll call, broadcast, 选看,
   * main venue); their screen or camera is the main tile. null: the large tile is no remote
   * participant (this one, or a unit not in the meeting). Absent: a screen share, else the active speaker.
   */
  focusParticipantId?: string | null;
}

/** One remote tile: a participant's camera or a screen share. */
export interface PlanTile {
  key: string;
  participantId: string;
  source: 'camera' | 'screen';
  video: PlanVideo | null;
}

export interface ViewPlan {
  layout: Layout;
  page: number;
  pageCount: number;
  /** Speaker layout: the large tile (null when nobody else is in the meeting). */
  main: PlanTile | null;
  /** Gallery: the remote tiles of this page. Speaker: the remote thumbnails of this strip page. */
  tiles: PlanTile[];
  /** The producers to receive, with the spatial layer each one needs. */
  videos: Map<string, SpatialLayer>;
}

/** Grid cells per gallery page; the local tile takes the first cell of every page. */
export function remoteTilesPerPage(gridSize: GridSize): number {
  return gridSize * gridSize - 1;
}

export function pageCount(tileCount: number, perPage: number): number {
  return Math.max(1, Math.ceil(tileCount / Math.max(1, perPage)));
}

export function clampPage(page: number, pages: number): number {
  return Math.min(Math.max(0, Math.floor(page)), pages - 1);
}

/** The biggest grid that the viewport shows with tiles of at least `minTileWidth`. */
export function defaultGridSize(viewportWidth: number, minTileWidth = 240): GridSize {
  const fitting = GRID_SIZES.filter((size) => viewportWidth / size >= minTileWidth);
  return fitting[fitting.length - 1] ?? GRID_SIZES[0];
}

/** The lowest layer that still fills a tile this wide (layers of a 1280-wide camera: 320/640/1280). */
export function layerForWidth(tileWidth: number): SpatialLayer {
  if (tileWidth > 640) return 2;
  if (tileWidth > 320) return 1;
  return 0;
}

/** Screen shares first (they are what a meeting looks at), then cameras in join order. */
export function remoteTiles(participants: readonly PlanParticipant[]): PlanTile[] {
  const screens = participants.flatMap((p) => (p.screen ? [tile(p.id, 'screen', p.screen)] : []));
  return [...screens, ...participants.map((p) => tile(p.id, 'camera', p.camera))];
}

/** The speaker layout's main tile: a screen share, else the active speaker, else the first camera. */
export function mainTile(participants: readonly PlanParticipant[], activeSpeakerId: string | null): PlanTile | null {
  const sharing = participants.find((p) => p.screen);
  if (sharing?.screen) return tile(sharing.id, 'screen', sharing.screen);
  const speaker =
    participants.find((p) => p.id === activeSpeakerId) ?? participants.find((p) => p.camera) ?? participants[0];
  return speaker ? tile(speaker.id, 'camera', speaker.camera) : null;
}

/** The focused participant's screen when they share one, else their camera. */
export function focusTile(participants: readonly PlanParticipant[], participantId: string | null): PlanTile | null {
  const focused = participants.find((p) => p.id === participantId);
  if (!focused) return null;
  return focused.screen ? tile(focused.id, 'screen', focused.screen) : tile(focused.id, 'camera', focused.camera);
}

export function planView(input: ViewInput): ViewPlan {
  const videos = new Map<string, SpatialLayer>();
  const want = (shown: PlanTile | null, layer: SpatialLayer): void => {
    if (shown?.video) videos.set(shown.video.producerId, Math.max(videos.get(shown.video.producerId) ?? 0, layer) as SpatialLayer);
  };

  if (input.layout === 'gallery') {
    const all = remoteTiles(input.participants);
    const perPage = remoteTilesPerPage(input.gridSize);
    const pages = pageCount(all.length, perPage);
    const page = clampPage(input.page, pages);
    const tiles = all.slice(page * perPage, (page + 1) * perPage);
    const cameraLayer = layerForWidth(input.galleryTileWidth);
    for (const shown of tiles) want(shown, shown.source === 'screen' ? HIGHEST_LAYER : cameraLayer);
    return { layout: 'gallery', page, pageCount: pages, main: null, tiles, videos };
  }

  const main = input.focusParticipantId === undefined ? mainTile(input.participants, input.activeSpeakerId) : focusTile(input.participants, input.focusParticipantId);
  const strip = remoteTiles(input.participants).filter((shown) => shown.key !== main?.key);
  const pages = pageCount(strip.length, input.stripCapacity);
  const page = clampPage(input.stripPage, pages);
  const tiles = strip.slice(page * input.stripCapacity, (page + 1) * input.stripCapacity);
  want(main, HIGHEST_LAYER);
  for (const shown of tiles) want(shown, 0);
  return { layout: 'speaker', page, pageCount: pages, main, tiles, videos };
}

function tile(participantId: string, source: 'camera' | 'screen', video: PlanVideo | null): PlanTile {
  return { key: `${participantId}:${source}`, participantId, source, video };
}
