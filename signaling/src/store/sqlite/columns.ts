// Converting between records and rows.

/** Arrays and settings live in TEXT columns as JSON. */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/**
 * `record` with `changes` applied, skipping keys whose value is undefined (a Partial may spell out
 * `{ pin: undefined }`, which means "unchanged", not "set to nothing").
 */
export function applyChanges<T extends object>(record: T, changes: Partial<T>): T {
  const updated = { ...record };
  for (const [key, value] of Object.entries(changes)) {
    if (value !== undefined) (updated as Record<string, unknown>)[key] = value;
  }
  return updated;
}
