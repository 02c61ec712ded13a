// /api/units: the unit directory (单位目录) — one unit at a time, or whole files in and out.
import { z } from 'zod';
import { UnitTree } from '../directory/unitTree.js';
import {
  parseUnitsCsv,
  parseUnitsJson,
  UnitImportError,
  unitsToCsv,
  unitsToJson,
  validateUnitDirectory,
} from '../directory/unitImport.js';
import type { Store, Unit } from '../store/types.js';
import type { ApiContext } from './ApiDeps.js';
import { ApiError, notFound } from './ApiError.js';
import { attachment, json, noContent } from './reply.js';
import { route, type Route } from './Route.js';
import { createUnitBody, importQuery, itemsOf, unitParams, unitSchema, updateUnitBody } from './schemas.js';

const TAG = 'units';

/** Every unit, in directory pre-order (each unit followed by its subtree, siblings by sortOrder). */
export function unitsInTreeOrder(tree: UnitTree): Unit[] {
  return tree.roots().flatMap((root) => tree.subtreeIds(root.id).map((id) => tree.get(id)!));
}

export const directoryOf = (store: Store): UnitTree => new UnitTree(store.units.list());

function getUnit(store: Store, id: string): Unit {
  const unit = store.units.get(id);
  if (!unit) throw notFound(`unit "${id}"`, 'list the directory with GET /api/units');
  return unit;
}

/** validateUnitDirectory, with its issues as a 400 (one unit) or a 422 (an imported file). */
function validate(incoming: Unit[], existing: Unit[], mode: 'merge' | 'replace', asImport: boolean): void {
  try {
    validateUnitDirectory(incoming, existing, mode);
  } catch (error) {
    if (!(error instanceof UnitImportError)) throw error;
    throw importError(error, asImport);
  }
}

function importError(error: UnitImportError, asImport: boolean): ApiError {
  if (!asImport) {
    const issues = error.issues.map(({ field, message }) => ({ ...(field ? { field } : {}), message }));
    return new ApiError('BAD_REQUEST', `the unit does not fit the directory: ${issues.map((issue) => issue.message).join('; ')}`, issues);
  }
  return new ApiError(
    'INVALID_IMPORT',
    `the file has ${error.issues.length} problem(s) and nothing was imported: fix the rows listed in "issues" and import it again`,
    error.issues,
  );
}

function parseImport(kind: string, body: unknown): Unit[] {
  try {
    return kind === 'csv' ? parseUnitsCsv(body as string) : parseUnitsJson(body);
  } catch (error) {
    if (error instanceof UnitImportError) throw importError(error, true);
    throw error;
  }
}

export function unitRoutes(api: ApiContext): Route[] {
  const { store } = api;
  return [
    route({
      method: 'GET',
      path: '/api/units',
      summary: 'List the directory in tree order',
      tag: TAG,
      access: 'operator',
      responses: { 200: { description: 'every unit, each followed by its subtree', schema: itemsOf(unitSchema) } },
      handle: () => json({ items: unitsInTreeOrder(directoryOf(store)) }),
    }),
    route({
      method: 'GET',
      path: '/api/units/export.csv',
      summary: 'Export the directory as CSV (UTF-8 with BOM, opens in Excel)',
      tag: TAG,
      access: 'operator',
      responses: { 200: { description: 'the directory, importable as is', contentType: 'text/csv' } },
      handle: () => attachment(unitsToCsv(unitsInTreeOrder(directoryOf(store))), 'text/csv; charset=utf-8', 'units.csv'),
    }),
    route({
      method: 'GET',
      path: '/api/units/export.json',
      summary: 'Export the directory as JSON',
      tag: TAG,
      access: 'operator',
      responses: { 200: { description: 'the directory, importable as is' } },
      handle: () =>
        attachment(
          JSON.stringify(unitsToJson(unitsInTreeOrder(directoryOf(store))), null, 2),
          'application/json; charset=utf-8',
          'units.json',
        ),
    }),
    route({
      method: 'POST',
      path: '/api/units/import',
      summary: 'Import a directory file (CSV header id,name,level,parent_id[,sort_order,sip_uri], or JSON)',
      tag: TAG,
      access: 'operator',
      query: importQuery,
      body: z.unknown().meta({ description: 'CSV text (text/csv) or a JSON array of units (application/json)' }),
      bodyKinds: ['csv', 'json'],
      responses: {
        200: {
          description: 'all rows imported in one transaction (422 INVALID_IMPORT with row numbers, and nothing applied, otherwise)',
          schema: z.strictObject({ imported: z.number().int(), mode: importQuery.shape.mode }),
        },
      },
      handle: ({ query, body, bodyKind }) => {
        if (bodyKind === 'empty') throw new ApiError('BAD_REQUEST', 'the body is empty: send the file as text/csv or application/json');
        const incoming = parseImport(bodyKind, body);
        validate(incoming, store.units.list(), query.mode, true);
        store.transaction(() => (query.mode === 'replace' ? store.units.replaceAll(incoming) : store.units.upsertMany(incoming)));
        api.logger.info({ imported: incoming.length, mode: query.mode }, 'unit directory imported');
        return json({ imported: incoming.length, mode: query.mode });
      },
    }),
    route({
      method: 'GET',
      path: '/api/units/{id}',
      summary: 'One unit',
      tag: TAG,
      access: 'operator',
      params: unitParams,
      responses: { 200: { description: 'the unit', schema: unitSchema } },
      handle: ({ params }) => json(getUnit(store, params.id)),
    }),
    route({
      method: 'POST',
      path: '/api/units',
      summary: 'Add one unit',
      tag: TAG,
      access: 'operator',
      body: createUnitBody,
      responses: { 201: { description: 'the unit', schema: unitSchema } },
      handle: ({ body }) => {
        if (store.units.get(body.id)) throw new ApiError('CONFLICT', `unit "${body.id}" exists already: change it with PATCH /api/units/${body.id}`);
        validate([body], store.units.list(), 'merge', false);
        store.units.upsertMany([body]);
        return json(body, 201);
      },
    }),
    route({
      method: 'PATCH',
      path: '/api/units/{id}',
      summary: 'Change one unit (name, level, parent, order, SIP URI)',
      tag: TAG,
      access: 'operator',
      params: unitParams,
      body: updateUnitBody,
      responses: { 200: { description: 'the changed unit', schema: unitSchema } },
      handle: ({ params, body }) => {
        const unit: Unit = { ...getUnit(store, params.id), ...body };
        validate([unit], store.units.list(), 'merge', false);
        store.units.upsertMany([unit]);
        return json(unit);
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/units/{id}',
      summary: 'Delete one unit (not one with units under it)',
      tag: TAG,
      access: 'operator',
      params: unitParams,
      responses: { 204: { description: 'deleted' } },
      handle: ({ params }) => {
        const tree = directoryOf(store);
        if (!tree.get(params.id)) throw notFound(`unit "${params.id}"`, 'list the directory with GET /api/units');
        const children = tree.children(params.id);
        if (children.length > 0) {
          throw new ApiError(
            'CONFLICT',
            `unit "${params.id}" has ${children.length} unit(s) under it: delete or move them first (PATCH their parentId)`,
          );
        }
        store.units.delete(params.id);
        return noContent;
      },
    }),
  ];
}
