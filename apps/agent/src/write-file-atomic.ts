import { rename, writeFile } from './fs-async.ts';

/** Replaces `file` whole or not at all: a crash mid-write leaves the old content, never half. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
