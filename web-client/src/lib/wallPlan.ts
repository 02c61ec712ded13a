// The command-centre wall: which participants fill the grid and which videos to receive. Pure.
import { layerForWidth, type PlanTile, type PlanParticipant, type SpatialLayer } from './subscriptionPlan';

export interface WallParticipant extends PlanParticipant {
  identity: string;
}

/** The participants named by `identities`, in that order (all in join order when null), up to grid×grid. */
export function wallTiles(participants: readonly WallParticipant[], identities: readonly string[] | null, gridSize: number): PlanTile[] {
  const chosen = identities
    ? identities.flatMap((identity) => participants.filter((participant) => participant.identity === identity))
    : participants;
  // A participant sharing the screen shows the screen: that is what a wall is watched for.
  return chosen.slice(0, gridSize * gridSize).map((participant) => {
    const source = participant.screen ? 'screen' : 'camera';
    return { key: `${participant.id}:${source}`, participantId: participant.id, source, video: participant[source] };
  });
}

/** Shown videos with the layer their tile width needs (screens always at the top layer). */
export function wallVideos(tiles: readonly PlanTile[], tileWidth: number): Map<string, SpatialLayer> {
  const layer = layerForWidth(tileWidth);
  return new Map(tiles.flatMap((tile) => (tile.video ? [[tile.video.producerId, tile.source === 'screen' ? 2 : layer] as const] : [])));
}
