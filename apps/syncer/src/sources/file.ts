import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Logger } from '../logger.ts';
import type { Source, SourceSink } from '../source.ts';

export type FileSourceOptions = {
  dir: string;
  /** Subdirectories (relative to `dir`) whose manifests are left out. */
  exclude?: readonly string[];
  /** apiVersions to take; documents of other groups are ignored like other kinds. */
  apiVersions: readonly string[];
  logger: Logger;
  /** A re-read this often catches changes that file watching misses (network mounts, some editors). */
  pollMs?: number;
};

type Doc = { file: string; object: unknown; apiVersion: string };

async function listYaml(dir: string, exclude: readonly string[] = []): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name) && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => {
      const rel = relative(dir, file).split(sep).join('/');
      return !exclude.some((x) => rel.startsWith(`${x}/`));
    })
    .sort();
}

/**
 * SyntheticTest manifests from a directory (and its subdirectories): every `*.yaml`/`*.yml` file,
 * several documents per file allowed. Re-read on change and every `pollMs`. A file that stops
 * parsing keeps its last good objects, so a half-saved edit deletes nothing.
 */
export function createFileSource(opts: FileSourceOptions): Source {
  const log = opts.logger.child({ dir: opts.dir });
  const lastGood = new Map<string, Doc[]>();
  const broken = new Map<string, string>();
  let stopped = false;
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let reading: Promise<void> = Promise.resolve();
  let again = false;

  async function readFileDocs(file: string): Promise<Doc[]> {
    const text = await readFile(file, 'utf8');
    const docs = parseAllDocuments(text);
    const out: Doc[] = [];
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length > 0) throw new Error(doc.errors[0]?.message ?? 'YAML error');
      const object = doc.toJS() as { apiVersion?: unknown; kind?: unknown } | null;
      if (!object || typeof object !== 'object') continue;
      if (object.kind !== 'SyntheticTest' || typeof object.apiVersion !== 'string') continue;
      if (!opts.apiVersions.includes(object.apiVersion)) continue;
      out.push({ file, object, apiVersion: object.apiVersion });
    }
    return out;
  }

  async function readAll(sink: SourceSink): Promise<boolean> {
    let files: string[];
    try {
      files = await listYaml(opts.dir, opts.exclude);
    } catch (err) {
      // An unreadable directory is not an empty one: keep what we have.
      log.error({ err: (err as Error).message }, 'cannot read the manifest directory');
      return false;
    }
    const present = new Set(files);
    for (const f of [...lastGood.keys()]) if (!present.has(f)) lastGood.delete(f);
    for (const file of files) {
      try {
        lastGood.set(file, await readFileDocs(file));
        if (broken.delete(file)) log.info({ file: relative(opts.dir, file) }, 'manifest parses again');
      } catch (err) {
        const message = (err as Error).message;
        if (broken.get(file) !== message) {
          log.error(
            { file: relative(opts.dir, file), err: message },
            lastGood.has(file) ? 'manifest does not parse; keeping its last good objects' : 'manifest does not parse',
          );
        }
        broken.set(file, message);
      }
    }
    const byVersion = new Map<string, unknown[]>(opts.apiVersions.map((v) => [v, []]));
    const seen = new Map<string, string>();
    for (const docs of lastGood.values()) {
      for (const d of docs) {
        const meta = (d.object as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
        const key = `${d.apiVersion} ${meta?.namespace ?? 'default'}/${String(meta?.name)}`;
        const other = seen.get(key);
        if (other !== undefined)
          log.warn(
            { test: key, files: [other, d.file].map((f) => relative(opts.dir, f)) },
            'defined twice; the later file wins',
          );
        seen.set(key, d.file);
        byVersion.get(d.apiVersion)?.push(d.object);
      }
    }
    for (const [apiVersion, objects] of byVersion) sink.replace(apiVersion, null, objects);
    // Only a directory that was read is a complete list: a snapshot before that would delete.
    sink.ready();
    return true;
  }

  function schedule(sink: SourceSink) {
    if (stopped) return;
    // One read at a time; a change during a read makes one more read after it.
    if (again) return;
    again = true;
    reading = reading.then(async () => {
      again = false;
      if (!stopped) await readAll(sink);
    });
  }

  return {
    describe: `directory ${opts.dir}`,
    start(sink) {
      reading = readAll(sink).then(() => undefined);
      try {
        watcher = watch(opts.dir, { recursive: true }, () => {
          clearTimeout(debounce);
          debounce = setTimeout(() => schedule(sink), 100);
        });
        watcher.on('error', (err) => log.warn({ err: err.message }, 'file watching failed; polling only'));
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot watch the directory; polling only');
      }
      poll = setInterval(() => schedule(sink), opts.pollMs ?? 5000);
    },
    async stop() {
      stopped = true;
      watcher?.close();
      clearInterval(poll);
      clearTimeout(debounce);
      await reading;
    },
  };
}
