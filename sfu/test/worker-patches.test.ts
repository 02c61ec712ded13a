// The C++ side of patches/mediasoup+3.8.4.patch that a browser test cannot reach in reasonable
// time: VP8/VP9 picture ids wrap at 32767 only after 18–36 minutes of video. Compiles the
// patched SeqManager with a small native check (sfu/test/native/seq-manager.cpp) and runs it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const worker = fileURLToPath(new URL('../../node_modules/mediasoup/worker/', import.meta.url));
const check = fileURLToPath(new URL('./native/seq-manager.cpp', import.meta.url));

it('keeps 15-bit VP8/VP9 picture ids ordered and gap-free across their wrap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cityconf-native-'));
  try {
    const binary = join(dir, 'seq-manager');
    execFileSync(
      'g++',
      [
        '-std=c++11',
        ...['include', 'deps/libuv/libuv/include', 'deps/json/single_include'].flatMap((dir) => ['-I', join(worker, dir)]),
        join(worker, 'src/RTC/SeqManager.cpp'),
        check,
        '-o',
        binary,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 },
    );
    expect(execFileSync(binary, { encoding: 'utf8' })).toContain('all checks passed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
