// The command centre (指挥中心): which feed videos to receive, and how a feed's numbers read. Pure.
import type { FeedStatus } from '@cityconf/signaling/protocol';
import { clockText } from './clockText';
import { layerForWidth, type SpatialLayer } from './subscriptionPlan';

export interface FeedVideo {
  feedId: string;
  /** The camera producer of the feed's participant; null while it has none. */
  producerId: string | null;
}

/**
 * Every shown feed's video with its layer: the grid's by its tile width; when one feed is enlarged,
 * it at the top layer and the thumbnails beside it at the lowest.
 */
export function feedVideos(videos: readonly FeedVideo[], enlargedId: string | null, gridTileWidth: number): Map<string, SpatialLayer> {
  const enlarged = videos.some((video) => video.feedId === enlargedId);
  const gridLayer = layerForWidth(gridTileWidth);
  const layerOf = (feedId: string): SpatialLayer => (!enlarged ? gridLayer : feedId === enlargedId ? 2 : 0);
  return new Map(videos.flatMap(({ feedId, producerId }) => (producerId ? [[producerId, layerOf(feedId)] as const] : [])));
}

/** hh:mm:ss since `liveSince` (ms epoch); null when not live. */
export function uptimeText(liveSince: number | null, now: number): string | null {
  return liveSince === null ? null : clockText((now - liveSince) / 1000, { hours: true });
}

/** e.g. 1920×1080; null before the video's size is known. */
export function resolutionText(video: FeedStatus['video']): string | null {
  return video?.width && video.height ? `${video.width}×${video.height}` : null;
}

export function bitrateText(kbps: number): string {
  return `${Math.round(kbps)} kbit/s`;
}
