import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RowBackup } from "../../src/db/migration/backup-rows";

/**
 * Writes a forced run's row backup to `<dir>/<UTC timestamp>-<label>.sql`
 * (never overwriting a file) and returns its path.
 *
 * @example
 * ```ts
 * await writeBackupFile("migrations/backups", backup, "local-down", new Date()) // migrations/backups/20261124T083000Z-local-down.sql
 * ```
 */
export async function writeBackupFile(dir: string, backup: RowBackup, label: string, now: Date): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const file = path.join(dir, `${stamp}-${label}.sql`);
  // 0600: the rows hold e-mails and token ciphertexts.
  await writeFile(file, backup.sql, { flag: "wx", mode: 0o600 });
  return file;
}
