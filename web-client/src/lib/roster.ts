// The roster (参会单位): everyone in the meeting grouped as a tree by their unit path
// (`attributes.unit`, e.g. `甲县/乙镇人民政府`, or the meeting's unit directory: directoryRoster.ts),
// with counts of units per group, search by name or pinyin initials, and the flat list of visible
// rows the virtualised panel draws. Pure: no DOM, no Svelte.

export interface RosterMember {
  id: string;
  name: string;
  /** Unit path segments, e.g. ['甲县', '乙镇人民政府']; empty when the token carries no unit. */
  unit: readonly string[];
  isSelf: boolean;
  isAdmin: boolean;
  handRaised: boolean;
  microphoneOn: boolean;
  cameraOn: boolean;
  /** The unit the row stands for (roll call, floor and the chair's unit actions key on it). */
  unitId?: string;
  /** false: an invited unit that nobody has joined for (greyed, listed after those online). */
  online?: boolean;
  /** Roll call: being called now, or how the unit answered. */
  rollCall?: 'calling' | 'present' | 'absent';
  /** Granted the floor (发言控制). */
  hasFloor?: boolean;
  /** Place in the unit directory: orders a group's members instead of the name. */
  order?: number;
  /** A drone or camera feed shared into the meeting: no unit, so never called or given the floor. */
  feed?: boolean;
}

export interface RosterGroup {
  /** The path from the root, '/'-joined; OTHER_GROUP_KEY for members without a unit. */
  key: string;
  /** The last path segment; null for the "other" group (the view names it). */
  name: string | null;
  depth: number;
  groups: RosterGroup[];
  members: RosterMember[];
  /** Counted units in this group and all below it with at least one member online. */
  online: number;
  /** Counted units in this group and all below it, online or not. */
  listed: number;
  /** Units in this group and all below it with a hand raised. */
  handsRaised: number;
}

export type RosterRow =
  | { kind: 'group'; key: string; group: RosterGroup; expanded: boolean }
  | { kind: 'member'; key: string; member: RosterMember; depth: number };

/** Pinyin initials of a text, lower case (`应急管理局` → `yjglj`); other characters may pass through. */
export type InitialsOf = (text: string) => string;

export const OTHER_GROUP_KEY = '\u0000other';

/** Splits `attributes.unit` into path segments, ignoring blanks and stray slashes. */
export function unitPath(unit: string | undefined): string[] {
  return (unit ?? '')
    .split('/')
    .map((segment) => segment.trim())
    .filter((segment) => segment.length > 0);
}

const collator = new Intl.Collator('zh-Hans-CN', { numeric: true });

/**
 * Builds the unit tree. Groups sort by `groupOrder` (directory order), else by name, the "other"
 * group last; within a group, raised hands come first so the chair sees them without scrolling,
 * then those online, then by directory order or name.
 *
 * Counts are of units, not rows: several devices of one unit count once. `countedUnits` (a
 * directory's invited units) says which units count; without it every unit present does. Feeds are
 * never units.
 */
export function buildRoster(
  members: readonly RosterMember[],
  groupOrder: ReadonlyMap<string, number> = new Map(),
  countedUnits?: ReadonlySet<string>,
): RosterGroup {
  const root = newGroup('', null, 0);
  const byKey = new Map<string, RosterGroup>();
  for (const member of members) {
    let group = root;
    const path = member.unit.length > 0 ? member.unit : null;
    if (!path) {
      group = child(root, byKey, OTHER_GROUP_KEY, null);
    } else {
      let key = '';
      for (const segment of path) {
        key = key ? `${key}/${segment}` : segment;
        group = child(group, byKey, key, segment);
      }
    }
    group.members.push(member);
  }
  const unitOf = (member: RosterMember): string | null => {
    if (member.feed) return null;
    const unit = member.unitId ?? member.id;
    return !countedUnits || countedUnits.has(unit) ? unit : null;
  };
  finish(root, groupOrder, unitOf);
  return root;
}

function newGroup(key: string, name: string | null, depth: number): RosterGroup {
  return { key, name, depth, groups: [], members: [], online: 0, listed: 0, handsRaised: 0 };
}

function child(parent: RosterGroup, byKey: Map<string, RosterGroup>, key: string, name: string | null): RosterGroup {
  let group = byKey.get(key);
  if (!group) {
    group = newGroup(key, name, parent.depth + 1);
    byKey.set(key, group);
    parent.groups.push(group);
  }
  return group;
}

const isOnline = (member: RosterMember): boolean => member.online !== false;

interface UnitTally {
  listed: Set<string>;
  online: Set<string>;
  handsRaised: Set<string>;
}

/** Sorts and counts units bottom-up. */
function finish(group: RosterGroup, groupOrder: ReadonlyMap<string, number>, unitOf: (member: RosterMember) => string | null): UnitTally {
  const tally: UnitTally = { listed: new Set(), online: new Set(), handsRaised: new Set() };
  for (const member of group.members) {
    if (member.handRaised) tally.handsRaised.add(member.unitId ?? member.id);
    const unit = unitOf(member);
    if (unit === null) continue;
    tally.listed.add(unit);
    if (isOnline(member)) tally.online.add(unit);
  }
  group.members.sort(
    (a, b) =>
      Number(b.handRaised) - Number(a.handRaised) ||
      Number(isOnline(b)) - Number(isOnline(a)) ||
      (a.order ?? Infinity) - (b.order ?? Infinity) ||
      collator.compare(a.name, b.name),
  );
  for (const sub of group.groups) {
    const below = finish(sub, groupOrder, unitOf);
    for (const unit of below.listed) tally.listed.add(unit);
    for (const unit of below.online) tally.online.add(unit);
    for (const unit of below.handsRaised) tally.handsRaised.add(unit);
  }
  group.groups.sort((a, b) => {
    if (a.name === null || b.name === null) return a.name === null ? 1 : -1;
    return (groupOrder.get(a.key) ?? Infinity) - (groupOrder.get(b.key) ?? Infinity) || collator.compare(a.name, b.name);
  });
  group.listed = tally.listed.size;
  group.online = tally.online.size;
  group.handsRaised = tally.handsRaised.size;
  return tally;
}

/**
 * The tree cut down to `shown` (a search's matches) and the groups above them. Each group keeps
 * the counts of the whole roster: searching changes the rows, not the numbers.
 */
export function filterRoster(group: RosterGroup, shown: ReadonlySet<RosterMember>): RosterGroup {
  const groups = group.groups.map((sub) => filterRoster(sub, shown)).filter((sub) => sub.members.length > 0 || sub.groups.length > 0);
  return { ...group, groups, members: group.members.filter((member) => shown.has(member)) };
}

/** Caches `initialsOf` per text: names and units repeat across every roster snapshot. */
export function memoizeInitials(initialsOf: InitialsOf): InitialsOf {
  const cache = new Map<string, string>();
  return (text) => {
    let initials = cache.get(text);
    if (initials === undefined) {
      initials = initialsOf(text).toLowerCase();
      cache.set(text, initials);
    }
    return initials;
  };
}

/** Fills the `memoizeInitials` cache for everyone, so that the first search keystroke does not pay for it. */
export function warmInitials(members: readonly RosterMember[], initialsOf: InitialsOf): void {
  for (const member of members) {
    initialsOf(member.name);
    for (const segment of member.unit) initialsOf(segment);
  }
}

/**
 * The members whose name or any unit segment contains `query`, as text or as pinyin initials
 * (`jx` finds 甲县). Without `initialsOf` (the pinyin module not loaded yet) only text matches.
 */
export function searchRoster(members: readonly RosterMember[], query: string, initialsOf?: InitialsOf): RosterMember[] {
  const needle = query.trim().toLowerCase();
  if (!needle) return [...members];
  const asciiNeedle = /^[a-z]+$/.test(needle);
  const matches = (text: string): boolean =>
    text.toLowerCase().includes(needle) || (asciiNeedle && initialsOf !== undefined && initialsOf(text).includes(needle));
  return members.filter((member) => matches(member.name) || member.unit.some(matches));
}

/**
 * The rows to draw: groups with their members and subgroups, skipping what is under a collapsed
 * group. `expandAll` (while searching) ignores `collapsed`, so every match is visible.
 */
export function rosterRows(root: RosterGroup, collapsed: ReadonlySet<string>, expandAll = false): RosterRow[] {
  const rows: RosterRow[] = [];
  const visit = (group: RosterGroup): void => {
    const expanded = expandAll || !collapsed.has(group.key);
    rows.push({ kind: 'group', key: `g:${group.key}`, group, expanded });
    if (!expanded) return;
    for (const member of group.members) rows.push({ kind: 'member', key: `m:${member.id}`, member, depth: group.depth });
    for (const sub of group.groups) visit(sub);
  };
  for (const group of root.groups) visit(group);
  return rows;
}
