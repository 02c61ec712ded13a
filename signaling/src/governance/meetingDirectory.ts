import { UnitTree } from '../directory/unitTree.js';
import type { DirectoryUnit, MeetingDirectory } from '../protocol.js';
import type { MeetingRecord, Unit } from '../store/types.js';

/** The units a meeting involves (chair, co-chairs, main venue, invited, observers). */
export function meetingUnitIds(record: MeetingRecord): string[] {
  const ids = [record.chairUnitId, ...record.coChairUnitIds, record.mainVenueUnitId, ...record.invitedUnitIds, ...record.observerUnitIds];
  return [...new Set(ids.filter((id): id is string => id !== null))];
}

/**
 * The part of the unit directory the meeting's roster shows: every unit the meeting involves and
 * their ancestors, parents before children. Units missing from the directory (deleted since the
 * meeting was scheduled) are left out. Null for a meeting that invites nobody (ad-hoc).
 */
export function meetingDirectory(record: MeetingRecord, units: Unit[]): MeetingDirectory | null {
  if (record.invitedUnitIds.length === 0) return null;
  const tree = new UnitTree(units);
  const included = new Set<string>();
  for (const id of meetingUnitIds(record)) for (const unit of tree.path(id)) included.add(unit.id);

  const ordered: DirectoryUnit[] = [];
  const visit = (unit: Unit): void => {
    if (!included.has(unit.id)) return;
    ordered.push({ id: unit.id, name: unit.name, level: unit.level, parentId: unit.parentId });
    for (const child of tree.children(unit.id)) visit(child);
  };
  for (const root of tree.roots()) visit(root);
  if (ordered.length === 0) return null; // none of its units is in the directory (any more)
  return { units: ordered, invitedUnitIds: record.invitedUnitIds.filter((id) => tree.get(id)) };
}
