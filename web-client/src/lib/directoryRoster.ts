// The roster of a scheduled meeting: its unit directory (city → county/district → town/street,
// departments) as the tree, with every invited unit listed whether anyone has joined for it or not.
// Turns the directory and the members online into the RosterMember list buildRoster groups.
import type { MeetingDirectory } from '@cityconf/signaling/protocol';
import type { RosterMember } from './roster';

export interface DirectoryRoster {
  /** The members online (placed by their unit) and one offline row per invited unit nobody joined for. */
  members: RosterMember[];
  /** Group key → directory position, so that groups keep the directory's order. */
  groupOrder: Map<string, number>;
  /** The units the roster counts (在线 x / y): the invited units of the directory. */
  countedUnits: Set<string>;
}

/** Offline rows' ids: `unit:<unitId>`. */
export const offlineUnitRowId = (unitId: string): string => `unit:${unitId}`;

/**
 * Places each member by `unitId`: a unit with units below it (or a root) is a group, and its own
 * row sits inside it; any other unit is a row in its parent's group. Feeds keep their own path
 * (无人机与视频源), in groups after the directory's. Other members whose unit is not in the
 * directory (operators, guests) get no unit path: buildRoster puts them under "other".
 */
export function directoryRoster(directory: MeetingDirectory, online: readonly RosterMember[]): DirectoryRoster {
  const units = new Map(directory.units.map((unit, order) => [unit.id, { ...unit, order }]));
  const hasChildren = new Set(directory.units.flatMap((unit) => (unit.parentId ? [unit.parentId] : [])));
  const paths = new Map<string, string[]>();
  const groupOrder = new Map<string, number>();
  const pathOf = (unitId: string): string[] => {
    const cached = paths.get(unitId);
    if (cached) return cached;
    const unit = units.get(unitId);
    if (!unit) return [];
    const parentPath = unit.parentId && units.has(unit.parentId) ? pathOf(unit.parentId) : [];
    const isGroup = hasChildren.has(unit.id) || parentPath.length === 0;
    const path = isGroup ? [...parentPath, unit.name] : parentPath;
    if (isGroup) groupOrder.set(path.join('/'), unit.order);
    paths.set(unitId, path);
    return path;
  };

  const joined = new Set<string>();
  const members = online.map((member): RosterMember => {
    const unit = member.unitId === undefined ? undefined : units.get(member.unitId);
    if (member.feed && !unit) {
      if (member.unit.length > 0) groupOrder.set(member.unit.join('/'), units.size);
      return member;
    }
    if (!unit) return { ...member, unit: [] };
    joined.add(unit.id);
    return { ...member, unit: pathOf(unit.id), order: unit.order };
  });
  for (const unitId of directory.invitedUnitIds) {
    const unit = units.get(unitId);
    if (!unit || joined.has(unitId)) continue;
    members.push({
      id: offlineUnitRowId(unitId),
      name: unit.name,
      unit: pathOf(unitId),
      unitId,
      online: false,
      order: unit.order,
      isSelf: false,
      isAdmin: false,
      handRaised: false,
      microphoneOn: false,
      cameraOn: false,
    });
  }
  return { members, groupOrder, countedUnits: new Set(directory.invitedUnitIds) };
}
