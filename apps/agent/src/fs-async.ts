/**
 * The file calls the agent makes, as promises over node:fs's callbacks. Not node:fs/promises:
 * loading it brings readline and the REPL's history module with it, ~1 MB of RSS an idle
 * agent does without.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';

export const appendFile = promisify(fs.appendFile);
export const mkdir = promisify(fs.mkdir);
export const readdir = promisify(fs.readdir);
export const readFile = promisify(fs.readFile);
export const rename = promisify(fs.rename);
export const stat = promisify(fs.stat);
export const unlink = promisify(fs.unlink);
export const writeFile = promisify(fs.writeFile);
