import type { MeetingDirectory } from '@cityconf/signaling/protocol';
import { describe, expect, it } from 'vitest';
import { directoryRoster, offlineUnitRowId } from '../src/lib/directoryRoster';
import { buildRoster, rosterRows, type RosterMember } from '../src/lib/roster';

const directory: MeetingDirectory = {
  units: [
    { id: 'city', name: '示范市', level: 'city', parentId: null },
    { id: 'city-office', name: '市政府办公室', level: 'department', parentId: 'city' },
    { id: 'county-b', name: '乙县', level: 'county', parentId: 'city' },
    { id: 'town-b1', name: '乙一镇', level: 'town', parentId: 'county-b' },
    { id: 'town-b2', name: '乙二镇', level: 'town', parentId: 'county-b' },
    { id: 'county-a', name: '甲县', level: 'county', parentId: 'city' },
    { id: 'town-a1', name: '甲一镇', level: 'town', parentId: 'county-a' },
  ],
  invitedUnitIds: ['county-b', 'town-b1', 'town-b2', 'county-a', 'town-a1'],
};

function member(id: string, unitId: string, changes: Partial<RosterMember> = {}): RosterMember {
  return { id, name: id, unit: [], unitId, isSelf: false, isAdmin: false, handRaised: false, microphoneOn: true, cameraOn: true, ...changes };
}

const online = [member('p-office', 'city-office', { isSelf: true }), member('p-b2', 'town-b2'), member('p-a', 'county-a'), member('p-operator', 'ops')];

describe('directoryRoster', () => {
  it('lists every invited unit, online or not, in the directory’s tree and order', () => {
    const { members, groupOrder } = directoryRoster(directory, online);
    const root = buildRoster(members, groupOrder);
    const rows = rosterRows(root, new Set()).map((row) => (row.kind === 'group' ? `g:${row.group.key}` : `${row.member.id}${row.member.online === false ? ' (offline)' : ''}`));
    expect(rows).toEqual([
      // County groups keep the directory order (乙县 before 甲县), not the name order.
      'g:示范市',
      'p-office',
      'g:示范市/乙县',
      'p-b2',
      `${offlineUnitRowId('county-b')} (offline)`,
      `${offlineUnitRowId('town-b1')} (offline)`,
      'g:示范市/甲县',
      'p-a',
      `${offlineUnitRowId('town-a1')} (offline)`,
      `g:${'\u0000other'}`,
      'p-operator',
    ]);
  });

  it('counts invited units per group: the chair’s own unit, not invited, does not count', () => {
    const { members, groupOrder, countedUnits } = directoryRoster(directory, online);
    const root = buildRoster(members, groupOrder, countedUnits);
    const city = root.groups[0]!;
    expect({ online: city.online, listed: city.listed }).toEqual({ online: 2, listed: 5 });
    const countyB = city.groups.find((group) => group.name === '乙县')!;
    expect({ online: countyB.online, listed: countyB.listed }).toEqual({ online: 1, listed: 3 });
    // The header (在线 x / y) is the root: invited units with someone in the meeting, of all invited.
    expect({ online: root.online, listed: root.listed }).toEqual({ online: 2, listed: 5 });
  });

  it('counts a unit joined from several devices once', () => {
    const devices = [...online, member('p-b2-laptop', 'town-b2'), member('p-b2-phone', 'town-b2')];
    const { members, groupOrder, countedUnits } = directoryRoster(directory, devices);
    const root = buildRoster(members, groupOrder, countedUnits);
    const countyB = root.groups[0]!.groups.find((group) => group.name === '乙县')!;
    expect(countyB.members.filter((row) => row.unitId === 'town-b2')).toHaveLength(3);
    expect({ online: countyB.online, listed: countyB.listed }).toEqual({ online: 1, listed: 3 });
    expect({ online: root.online, listed: root.listed }).toEqual({ online: 2, listed: 5 });
  });

  it('puts a raised hand first, then those online', () => {
    const { members, groupOrder } = directoryRoster(directory, [member('p-b1', 'town-b1', { handRaised: true }), member('p-b2', 'town-b2')]);
    const countyB = buildRoster(members, groupOrder).groups[0]!.groups.find((group) => group.name === '乙县')!;
    expect(countyB.members.map((row) => row.id)).toEqual(['p-b1', 'p-b2', offlineUnitRowId('county-b')]);
    expect(countyB.handsRaised).toBe(1);
  });

  it('lists feeds in their own group after the directory’s, never as invited units', () => {
    const feed = member('feed-drone-1', 'feed:drone-1', { unit: ['无人机与视频源'], feed: true });
    const { members, groupOrder, countedUnits } = directoryRoster(directory, [...online, feed]);
    const root = buildRoster(members, groupOrder, countedUnits);
    expect(root.groups.map((group) => group.key)).toEqual(['示范市', '无人机与视频源', '\u0000other']);
    expect({ online: root.groups[1]!.online, listed: root.groups[1]!.listed }).toEqual({ online: 0, listed: 0 });
    expect(root.groups[1]!.members.map((row) => ({ id: row.id, online: row.online }))).toEqual([{ id: 'feed-drone-1', online: undefined }]);
  });
});
