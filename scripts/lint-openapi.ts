/**
 * Part of `npm run lint`: generates the OpenAPI document from the route declarations (the app is
 * built without a database; generating the document touches none) and lints it with Redocly's CLI
 * (redocly.yaml). Exits non-zero on any error.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../apps/api/src/app.ts';
import { createInProcessHub } from '../apps/api/src/hub/in-process-hub.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { document } = createApp({ db: {} as never, hub: createInProcessHub() });
const dir = mkdtempSync(join(tmpdir(), 'synthfleet-openapi-'));
try {
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(document(), null, 2));
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/@redocly/cli/bin/cli.js'),
      'lint',
      file,
      '--config',
      join(root, 'redocly.yaml'),
      '--format',
      'stylish',
    ],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  );
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
