// Password hashes for accounts: scrypt with a random salt, stored as `scrypt$<salt b64>$<hash b64>`.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type BinaryLike } from 'node:crypto';

const SALT_BYTES = 16;
const HASH_BYTES = 64;
const PREFIX = 'scrypt';

/** With Node's default cost (N = 16384, r = 8, p = 1): tens of ms and 16 MiB per hash. */
function scrypt(password: BinaryLike, salt: Buffer, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, length, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scrypt(password.normalize('NFC'), salt, HASH_BYTES);
  return `${PREFIX}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** False for a wrong password and for a hash this module did not make. */
export async function verifyPassword(password: string, passwordHash: string): Promise<boolean> {
  const [prefix, saltText, hashText, ...rest] = passwordHash.split('$');
  if (prefix !== PREFIX || saltText === undefined || hashText === undefined || rest.length > 0) return false;
  const salt = Buffer.from(saltText, 'base64');
  const expected = Buffer.from(hashText, 'base64');
  if (salt.length === 0 || expected.length === 0 || expected.length > 1024) return false;
  const actual = await scrypt(password.normalize('NFC'), salt, expected.length);
  return timingSafeEqual(actual, expected);
}
