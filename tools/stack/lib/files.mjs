// Small file helpers shared by the stack tools.
import { existsSync, readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';

/** Last `maxLines` lines of a text. */
export function tailText(text, maxLines = 40) {
  const lines = String(text).trimEnd().split('\n');
  return lines.slice(-maxLines).join('\n');
}

/** Last `maxLines` lines of a file, or '' if it does not exist. Reads the whole file: meant for logs of a few MB. */
export function tailFile(path, maxLines = 40) {
  if (!existsSync(path)) return '';
  return tailText(readFileSync(path, 'utf8'), maxLines);
}

/** Writes through a temp file + rename so readers never see a half-written file. */
export function writeFileAtomic(path, content) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/** Parses a Java-style `key=value` properties text (comments and blank lines skipped; no escapes). */
export function parseProperties(text) {
  const result = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq > 0) result[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  }
  return result;
}

/** Reads a pid file; returns undefined when it is missing or does not hold a number. */
export function readPidFile(path) {
  if (!existsSync(path)) return undefined;
  const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Removes a pid file, but only if it still names `pid` (a newer process may have replaced it). */
export function removePidFile(path, pid) {
  if (readPidFile(path) === pid) rmSync(path, { force: true });
}
