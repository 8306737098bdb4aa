import type { RowBackup } from "../../src/db/migration/backup-rows";
import type { Bookmark } from "./take-bookmark";
import { writeBackupFile } from "./write-backup-file";

/**
 * Writes a forced run's row backup; when a Time Travel bookmark was taken
 * before the run, it goes into the file name and, with its restore command,
 * into the file's first line. Returns the file's path.
 *
 * @example
 * ```ts
 * await saveRunBackup(backup, { dir: "migrations/backups", label: "remote-down", bookmark, now: new Date() })
 * // migrations/backups/20261124T083000Z-remote-down-00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683.sql
 * ```
 */
export function saveRunBackup(
  backup: RowBackup,
  { dir, label, bookmark, now }: { dir: string; label: string; bookmark: Bookmark | undefined; now: Date },
): Promise<string> {
  if (!bookmark) return writeBackupFile(dir, backup, label, now);
  const sql = `-- Time Travel bookmark taken before this run: ${bookmark.bookmark} (${bookmark.restoreCommand})\n${backup.sql}`;
  return writeBackupFile(dir, { ...backup, sql }, `${label}-${bookmark.bookmark}`, now);
}
