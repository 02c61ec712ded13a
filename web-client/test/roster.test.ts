import { describe, expect, it } from 'vitest';
import { loadPinyinInitials } from '../src/lib/pinyinInitials';
import {
  buildRoster,
  filterRoster,
  memoizeInitials,
  OTHER_GROUP_KEY,
  rosterRows,
  searchRoster,
  unitPath,
  warmInitials,
  type RosterGroup,
  type RosterMember,
} from '../src/lib/roster';

function member(id: string, name: string, unit: string | undefined, extra: Partial<RosterMember> = {}): RosterMember {
  return { id, name, unit: unitPath(unit), isSelf: false, isAdmin: false, handRaised: false, microphoneOn: true, cameraOn: true, ...extra };
}

function group(root: RosterGroup, key: string): RosterGroup {
  const found = findGroup(root, key);
  if (!found) throw new Error(`no group ${key}`);
  return found;
}

function findGroup(parent: RosterGroup, key: string): RosterGroup | undefined {
  for (const sub of parent.groups) {
    if (sub.key === key) return sub;
    const found = findGroup(sub, key);
    if (found) return found;
  }
  return undefined;
}

const members = [
  member('a', '甲县人民政府', '甲县/甲县人民政府'),
  member('b', '乙镇人民政府', '甲县/乙镇人民政府', { handRaised: true }),
  member('c', '乙镇办公室', '甲县/乙镇人民政府'),
  member('d', '市应急管理局', '市直部门/市应急管理局'),
  member('e', '来宾', undefined),
  member('f', '丙县人民政府', ' 丙县 // 丙县人民政府 '),
];

describe('unitPath', () => {
  it('splits on slashes and drops blank segments', () => {
    expect(unitPath('甲县/乙镇人民政府')).toEqual(['甲县', '乙镇人民政府']);
    expect(unitPath(' 丙县 // 丙县人民政府 ')).toEqual(['丙县', '丙县人民政府']);
    expect(unitPath('')).toEqual([]);
    expect(unitPath(undefined)).toEqual([]);
  });
});

describe('buildRoster', () => {
  const root = buildRoster(members);

  it('groups by unit path, with members without a unit under "other", last', () => {
    expect(root.groups.map((g) => g.key)).toEqual(['丙县', '甲县', '市直部门', OTHER_GROUP_KEY]);
    expect(group(root, '甲县').groups.map((g) => g.name)).toEqual(['甲县人民政府', '乙镇人民政府']);
    expect(group(root, '甲县/乙镇人民政府').depth).toBe(2);
    expect(group(root, OTHER_GROUP_KEY).members.map((m) => m.id)).toEqual(['e']);
  });

  it('counts everyone below a group, and raised hands', () => {
    expect(root.online).toBe(6);
    expect(group(root, '甲县').online).toBe(3);
    expect(group(root, '甲县').handsRaised).toBe(1);
    expect(group(root, '甲县/乙镇人民政府').online).toBe(2);
    expect(group(root, '市直部门').handsRaised).toBe(0);
  });

  it('counts units, not devices: a unit on several devices counts once', () => {
    const devices = [
      member('b-laptop', '乙镇人民政府', '甲县/乙镇人民政府', { unitId: 'town-b' }),
      member('b-phone', '乙镇人民政府', '甲县/乙镇人民政府', { unitId: 'town-b', handRaised: true }),
      member('b-room', '乙镇人民政府', '甲县/乙镇人民政府', { unitId: 'town-b', handRaised: true }),
      member('a', '甲县人民政府', '甲县/甲县人民政府', { unitId: 'county-a' }),
    ];
    const tree = buildRoster(devices);
    expect(group(tree, '甲县/乙镇人民政府').members).toHaveLength(3);
    expect(group(tree, '甲县/乙镇人民政府')).toMatchObject({ online: 1, listed: 1, handsRaised: 1 });
    expect(tree).toMatchObject({ online: 2, listed: 2, handsRaised: 1 });
  });

  it('counts only the given units, online when any of their members is', () => {
    const rows = [
      member('chair', '市政府办公室', '市直部门/市政府办公室', { unitId: 'city-office' }),
      member('a', '甲县人民政府', '甲县/甲县人民政府', { unitId: 'county-a' }),
      member('unit:town-b', '乙镇人民政府', '甲县/乙镇人民政府', { unitId: 'town-b', online: false }),
      member('feed', '无人机 1', '无人机与视频源', { unitId: 'feed:1', feed: true }),
    ];
    const tree = buildRoster(rows, new Map(), new Set(['county-a', 'town-b']));
    expect(tree).toMatchObject({ online: 1, listed: 2 });
    expect(group(tree, '市直部门')).toMatchObject({ online: 0, listed: 0 });
    expect(group(tree, '甲县')).toMatchObject({ online: 1, listed: 2 });
    // Without a list, every unit present counts, but a feed is never a unit.
    expect(buildRoster(rows)).toMatchObject({ online: 2, listed: 3 });
  });

  it('puts raised hands first within a group', () => {
    const town = group(root, '甲县/乙镇人民政府');
    expect(town.members.map((m) => m.id)).toEqual(['b', 'c']);
    const lowered = buildRoster(members.map((m) => ({ ...m, handRaised: false })));
    expect(group(lowered, '甲县/乙镇人民政府').members.map((m) => m.id)).toEqual(['c', 'b']);
  });
});

describe('rosterRows', () => {
  const root = buildRoster(members);

  it('lists groups and members depth-first, hiding what is under a collapsed group', () => {
    const all = rosterRows(root, new Set());
    expect(all.map((row) => row.key)).toEqual([
      'g:丙县', 'g:丙县/丙县人民政府', 'm:f',
      'g:甲县', 'g:甲县/甲县人民政府', 'm:a', 'g:甲县/乙镇人民政府', 'm:b', 'm:c',
      'g:市直部门', 'g:市直部门/市应急管理局', 'm:d',
      `g:${OTHER_GROUP_KEY}`, 'm:e',
    ]);
    const collapsed = rosterRows(root, new Set(['甲县']));
    expect(collapsed.map((row) => row.key)).toContain('g:甲县');
    expect(collapsed.map((row) => row.key)).not.toContain('m:a');
    expect(collapsed.find((row) => row.key === 'g:甲县')).toMatchObject({ expanded: false });
    expect(rosterRows(root, new Set(['甲县']), true)).toHaveLength(all.length);
  });
});

describe('filterRoster', () => {
  it('keeps the matches and the groups above them, with the whole roster’s counts', () => {
    const root = buildRoster(members);
    const found = filterRoster(root, new Set(searchRoster(members, '乙镇')));
    expect(rosterRows(found, new Set()).map((row) => row.key)).toEqual(['g:甲县', 'g:甲县/乙镇人民政府', 'm:b', 'm:c']);
    expect(found).toMatchObject({ online: 6, listed: 6, handsRaised: 1 });
    expect(group(found, '甲县')).toMatchObject({ online: 3, listed: 3 });
    expect(filterRoster(root, new Set()).groups).toEqual([]);
  });
});

describe('searchRoster', () => {
  it('finds by name or unit text without pinyin', () => {
    expect(searchRoster(members, '应急').map((m) => m.id)).toEqual(['d']);
    expect(searchRoster(members, '甲县').map((m) => m.id)).toEqual(['a', 'b', 'c']);
    expect(searchRoster(members, 'jx')).toEqual([]);
    expect(searchRoster(members, '  ')).toHaveLength(members.length);
  });

  it('finds by pinyin initials with the real pinyin library', async () => {
    const initials = await loadPinyinInitials();
    expect(initials('应急管理局')).toBe('yjglj');
    expect(searchRoster(members, 'jx', initials).map((m) => m.id)).toEqual(['a', 'b', 'c']);
    expect(searchRoster(members, 'YJGLJ', initials).map((m) => m.id)).toEqual(['d']);
    expect(searchRoster(members, 'yzbgs', initials).map((m) => m.id)).toEqual(['c']);
    const found = buildRoster(searchRoster(members, 'yzrmzf', initials));
    expect(found.online).toBe(2);
    expect(found.groups.map((g) => g.key)).toEqual(['甲县']);
  });

  it('computes each text’s initials once, ahead of the first search when warmed', () => {
    const seen: string[] = [];
    const initials = memoizeInitials((text) => {
      seen.push(text);
      return text === '甲县' ? 'JX' : '';
    });
    warmInitials(members, initials);
    const warmed = seen.length;
    expect(new Set(seen).size).toBe(warmed);
    expect(searchRoster(members, 'jx', initials).map((m) => m.id)).toEqual(['a', 'b', 'c']);
    expect(seen).toHaveLength(warmed);
  });

  it('handles a 600-participant meeting', async () => {
    const initials = await loadPinyinInitials();
    const counties = ['甲县', '乙县', '丙县', '丁县', '戊县', '己县', '庚县', '辛县', '壬县', '癸县'];
    const many = Array.from({ length: 600 }, (_, i) => {
      const county = counties[i % counties.length]!;
      return member(`p${i}`, `${county}第${i}镇人民政府`, `${county}/${county}第${i}镇人民政府`, { handRaised: i % 50 === 0 });
    });
    const root = buildRoster(many);
    expect(root.online).toBe(600);
    expect(root.groups).toHaveLength(10);
    expect(root.handsRaised).toBe(12);
    expect(rosterRows(root, new Set())).toHaveLength(10 + 600 + 600);
    expect(searchRoster(many, 'rx', initials)).toHaveLength(60); // 壬县
  });
});
