import { describe, expect, it } from 'vitest';
import { wallTiles, wallVideos, type WallParticipant } from '../src/lib/wallPlan';

const person = (n: number, sharing = false): WallParticipant => ({
  id: `p${n}`,
  identity: `unit-${n}`,
  camera: { producerId: `cam${n}`, source: 'camera', paused: false },
  screen: sharing ? { producerId: `scr${n}`, source: 'screen', paused: false } : null,
});

describe('wallTiles', () => {
  const everyone = [person(1), person(2), person(3, true), person(4)];

  it('shows everyone in join order when no identities are given, up to the grid', () => {
    expect(wallTiles(everyone, null, 3).map((tile) => tile.key)).toEqual(['p1:camera', 'p2:camera', 'p3:screen', 'p4:camera']);
    expect(wallTiles(everyone, null, 1).map((tile) => tile.key)).toEqual(['p1:camera']);
  });

  it('shows the named identities in the order named, skipping absent ones', () => {
    expect(wallTiles(everyone, ['unit-4', 'missing', 'unit-1'], 3).map((tile) => tile.key)).toEqual(['p4:camera', 'p1:camera']);
  });
});

describe('wallVideos', () => {
  it('asks cameras for the layer the tile needs and screens for the top one', () => {
    const tiles = wallTiles([person(1), person(2, true)], null, 2);
    expect(wallVideos(tiles, 400)).toEqual(new Map([['cam1', 1], ['scr2', 2]]));
    expect(wallVideos(tiles, 1000).get('cam1')).toBe(2);
  });
});
