import { describe, expect, it } from 'vitest';
import {
  clampPage,
  defaultGridSize,
  layerForWidth,
  pageCount,
  planView,
  remoteTilesPerPage,
  type PlanParticipant,
  type ViewInput,
} from '../src/lib/subscriptionPlan';

/** `count` remote participants p0, p1, … each with a camera producer cam-p0, cam-p1, … */
function participants(count: number): PlanParticipant[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `p${index}`,
    camera: { producerId: `cam-p${index}`, source: 'camera', paused: false },
    screen: null,
  }));
}

function input(overrides: Partial<ViewInput>): ViewInput {
  return {
    layout: 'gallery',
    gridSize: 3,
    page: 0,
    stripPage: 0,
    stripCapacity: 4,
    galleryTileWidth: 300,
    participants: participants(5),
    activeSpeakerId: null,
    ...overrides,
  };
}

describe('paging', () => {
  it('keeps the first cell of every gallery page for the local tile', () => {
    expect(remoteTilesPerPage(3)).toBe(8);
    expect(remoteTilesPerPage(5)).toBe(24);
  });

  it('counts pages, at least one, and clamps a page into range', () => {
    expect(pageCount(0, 8)).toBe(1);
    expect(pageCount(8, 8)).toBe(1);
    expect(pageCount(549, 24)).toBe(23);
    expect(clampPage(-1, 3)).toBe(0);
    expect(clampPage(7, 3)).toBe(2);
  });

  it('picks the biggest grid whose tiles stay readable on the viewport', () => {
    expect(defaultGridSize(600)).toBe(3);
    expect(defaultGridSize(960)).toBe(4);
    expect(defaultGridSize(1920)).toBe(5);
  });

  it('asks for the lowest layer that fills a tile', () => {
    expect(layerForWidth(180)).toBe(0);
    expect(layerForWidth(480)).toBe(1);
    expect(layerForWidth(900)).toBe(2);
  });
});

describe('gallery', () => {
  it('receives exactly the videos of the shown page: 550 participants never mean 550 decoders', () => {
    const everyone = participants(549);
    const first = planView(input({ gridSize: 5, participants: everyone, galleryTileWidth: 200 }));
    expect(first.pageCount).toBe(23);
    expect([...first.videos.keys()]).toEqual(everyone.slice(0, 24).map((p) => `cam-${p.id}`));
    expect(new Set(first.videos.values())).toEqual(new Set([0]));

    const second = planView(input({ gridSize: 5, page: 1, participants: everyone }));
    expect(second.tiles.map((tile) => tile.participantId)).toEqual(everyone.slice(24, 48).map((p) => p.id));
    expect(second.videos.size).toBe(24);
    expect(second.videos.has('cam-p0')).toBe(false);

    const last = planView(input({ gridSize: 5, page: 99, participants: everyone }));
    expect(last.page).toBe(22);
    expect(last.tiles).toHaveLength(549 - 22 * 24);
  });

  it('shows a participant without a camera but receives nothing for them', () => {
    const people = participants(3);
    people[1] = { id: 'p1', camera: null, screen: null };
    const plan = planView(input({ participants: people }));
    expect(plan.tiles.map((tile) => tile.participantId)).toEqual(['p0', 'p1', 'p2']);
    expect([...plan.videos.keys()]).toEqual(['cam-p0', 'cam-p2']);
  });

  it('puts a screen share first, at the highest layer, besides the sharer’s camera', () => {
    const people = participants(3);
    people[2] = { ...people[2]!, screen: { producerId: 'screen-p2', source: 'screen', paused: false } };
    const plan = planView(input({ participants: people, galleryTileWidth: 200 }));
    expect(plan.tiles.map((tile) => tile.key)).toEqual(['p2:screen', 'p0:camera', 'p1:camera', 'p2:camera']);
    expect(plan.videos.get('screen-p2')).toBe(2);
    expect(plan.videos.get('cam-p2')).toBe(0);
  });
});

describe('speaker', () => {
  it('shows the active speaker large at the highest layer and a page of thumbnails at the lowest', () => {
    const plan = planView(input({ layout: 'speaker', activeSpeakerId: 'p3', stripCapacity: 2 }));
    expect(plan.main?.key).toBe('p3:camera');
    expect(plan.tiles.map((tile) => tile.participantId)).toEqual(['p0', 'p1']);
    expect(plan.pageCount).toBe(2);
    expect([...plan.videos]).toEqual([
      ['cam-p3', 2],
      ['cam-p0', 0],
      ['cam-p1', 0],
    ]);

    const next = planView(input({ layout: 'speaker', activeSpeakerId: 'p3', stripCapacity: 2, stripPage: 1 }));
    expect(next.tiles.map((tile) => tile.participantId)).toEqual(['p2', 'p4']);
    expect(next.videos.has('cam-p0')).toBe(false);
  });

  it('falls back to the first participant with a camera when the speaker is unknown, absent or this participant', () => {
    const people = participants(3);
    people[0] = { id: 'p0', camera: null, screen: null };
    for (const activeSpeakerId of [null, 'gone', 'self']) {
      expect(planView(input({ layout: 'speaker', participants: people, activeSpeakerId })).main?.key).toBe('p1:camera');
    }
    expect(planView(input({ layout: 'speaker', participants: [] })).main).toBeNull();
  });

  it('gives the main area to a screen share, and keeps the sharer’s camera among the thumbnails', () => {
    const people = participants(3);
    people[1] = { ...people[1]!, screen: { producerId: 'screen-p1', source: 'screen', paused: false } };
    const plan = planView(input({ layout: 'speaker', participants: people, activeSpeakerId: 'p2' }));
    expect(plan.main?.key).toBe('p1:screen');
    expect(plan.tiles.map((tile) => tile.key)).toEqual(['p0:camera', 'p1:camera', 'p2:camera']);
    expect(plan.videos.get('screen-p1')).toBe(2);
    expect(plan.videos.get('cam-p2')).toBe(0);
  });
});

describe('the chair’s focus in the speaker layout', () => {
  it('shows the focused participant large at the highest layer, even while someone else shares a screen', () => {
    const list = participants(4);
    list[1] = { ...list[1]!, screen: { producerId: 'screen-p1', source: 'screen', paused: false } };
    const plan = planView(input({ layout: 'speaker', participants: list, activeSpeakerId: 'p0', focusParticipantId: 'p3' }));
    expect(plan.main?.key).toBe('p3:camera');
    expect(plan.videos.get('cam-p3')).toBe(2);
    expect(plan.tiles.map((tile) => tile.key)).not.toContain('p3:camera');
  });

  it('shows the focused participant’s screen when they share one', () => {
    const list = participants(3);
    list[2] = { ...list[2]!, screen: { producerId: 'screen-p2', source: 'screen', paused: false } };
    expect(planView(input({ layout: 'speaker', participants: list, focusParticipantId: 'p2' })).main?.key).toBe('p2:screen');
  });

  it('has no remote main tile when the focus is this participant or a unit not in the meeting', () => {
    const plan = planView(input({ layout: 'speaker', participants: participants(3), activeSpeakerId: 'p1', focusParticipantId: null }));
    expect(plan.main).toBeNull();
    expect(plan.tiles).toHaveLength(3);
    expect([...plan.videos.values()]).toEqual([0, 0, 0]);
  });
});
