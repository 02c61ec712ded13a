import type { Unit } from '../store/types.js';

const collator = new Intl.Collator('zh-CN');

/** Siblings by sortOrder, then by name in Chinese (pinyin) order, then by id. */
function compareSiblings(a: Unit, b: Unit): number {
  return a.sortOrder - b.sortOrder || collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The unit directory as a tree, built once from a list. A unit whose parent is not in the list is
 * treated as a root, so that nothing disappears from the tree; a parent cycle (which validation
 * keeps out of the store) cannot make any method loop.
 */
export class UnitTree {
  private readonly byId = new Map<string, Unit>();
  /** Sorted children by parent id; the roots under null. */
  private readonly childrenOf = new Map<string | null, Unit[]>();

  constructor(units: Unit[]) {
    for (const unit of units) this.byId.set(unit.id, unit);
    for (const unit of this.byId.values()) {
      const parent = unit.parentId !== null && this.byId.has(unit.parentId) && unit.parentId !== unit.id ? unit.parentId : null;
      const siblings = this.childrenOf.get(parent);
      if (siblings) siblings.push(unit);
      else this.childrenOf.set(parent, [unit]);
    }
    for (const siblings of this.childrenOf.values()) siblings.sort(compareSiblings);
  }

  get(id: string): Unit | undefined {
    return this.byId.get(id);
  }

  /** The units directly under `id` (the roots for null), in display order. */
  children(id: string | null): Unit[] {
    return [...(this.childrenOf.get(id) ?? [])];
  }

  roots(): Unit[] {
    return this.children(null);
  }

  /** `id` and every unit under it, depth first, parents before children; [] for an unknown id. */
  subtreeIds(id: string): string[] {
    if (!this.byId.has(id)) return [];
    const ids: string[] = [];
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      ids.push(next);
      const children = this.childrenOf.get(next) ?? [];
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!.id);
    }
    return ids;
  }

  /** The units from the root down to `id`; [] for an unknown id. */
  path(id: string): Unit[] {
    const path: Unit[] = [];
    const seen = new Set<string>();
    for (let unit = this.byId.get(id); unit && !seen.has(unit.id); unit = unit.parentId === null ? undefined : this.byId.get(unit.parentId)) {
      seen.add(unit.id);
      path.push(unit);
    }
    return path.reverse();
  }

  /** Names from the root down to `id`, joined by '/': "江州市/甲县/甲县城关镇人民政府". */
  pathName(id: string): string {
    return this.path(id)
      .map((unit) => unit.name)
      .join('/');
  }
}
