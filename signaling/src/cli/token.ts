// Prints a join token (LiveKit access-token format) as the last line of stdout.
//   npm run token -- --room <meetingId> --identity <unitId> --name <显示名> [--role <role>] [--admin]
//                    [--ttl <hours>] [--no-publish] [--no-subscribe] [--hidden] [--attribute key=value …]
//   --role: operator, chair, cochair, participant (default), observer, terminal; --admin = --role chair
//   --hidden: invisible to the others and receive-only (command-centre wall screens)
//   e.g. --attribute unit=甲县/乙镇人民政府 (the roster groups units by this path)
import { parseArgs } from 'node:util';
import { mintToken } from '../auth/tokens.js';
import { loadConfig } from '../config.js';
import { isMeetingRole } from '../governance/roles.js';
import { MEETING_ROLES } from '../protocol.js';
import { meetingIdSchema } from '../protocol-schemas.js';

const usage =
  'usage: npm run token -- --room <meetingId> --identity <unitId> --name <显示名> [--role <role>] [--admin] [--ttl <hours>] [--no-publish] [--no-subscribe] [--hidden] [--attribute key=value …]';

function fail(message: string): never {
  console.error(`error: ${message}\n${usage}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      room: { type: 'string' },
      identity: { type: 'string' },
      name: { type: 'string' },
      admin: { type: 'boolean', default: false },
      role: { type: 'string' },
      ttl: { type: 'string', default: '24' },
      'no-publish': { type: 'boolean', default: false },
      'no-subscribe': { type: 'boolean', default: false },
      hidden: { type: 'boolean', default: false },
      attribute: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
const { room, identity, name, admin, ttl } = values;
if (!room || !identity || !name) fail('--room, --identity and --name are required');
const roomCheck = meetingIdSchema.safeParse(room);
if (!roomCheck.success) fail(roomCheck.error.issues[0]?.message ?? 'invalid --room');
const role = values.role ?? (admin ? 'chair' : 'participant');
if (!isMeetingRole(role)) fail(`--role ${role} is invalid: expected one of ${MEETING_ROLES.join(', ')}`);
const ttlHours = Number(ttl);
if (!(ttlHours > 0)) fail(`--ttl ${ttl} is invalid: give a positive number of hours`);

const attributes: Record<string, string> = {};
for (const pair of values.attribute) {
  const at = pair.indexOf('=');
  if (at < 1) fail(`--attribute ${pair} is invalid: give key=value`);
  attributes[pair.slice(0, at)] = pair.slice(at + 1);
}

const config = loadConfig();
const token = await mintToken(config.auth, {
  room,
  identity,
  name,
  role,
  canPublish: !values['no-publish'],
  canSubscribe: !values['no-subscribe'],
  ttlSeconds: Math.round(ttlHours * 3600),
  attributes,
  hidden: values.hidden,
});
const base = `http://localhost:${config.port}`;
console.error(`入会链接 / Join link: ${base}/m/${encodeURIComponent(room)}?token=${token}`);
console.log(token);
