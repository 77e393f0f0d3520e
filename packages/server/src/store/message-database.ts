import Database from 'better-sqlite3';
import { ErrorCode, MailwrightError } from '@mailwright/core';

/** Marks an SQLite file as Mailwright's message database (`PRAGMA application_id`): "MWRT". */
export const APPLICATION_ID = 0x4d575254;

/**
 * The schema, one migration per version, applied in order on start inside one transaction.
 * A migration is never changed once released: a change is a new one at the end.
 */
const MIGRATIONS: readonly string[] = [
  // 1: messages with their records, raw bytes, recipient index and full-text index; sessions.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    received_ms INTEGER NOT NULL,
    size INTEGER NOT NULL,
    listener TEXT NOT NULL,
    -- The CapturedMessage as JSON, with the summary of its verdicts.
    record TEXT NOT NULL,
    -- The whole authentication record as JSON, once computed.
    authentication TEXT,
    -- The whole protection record (S/MIME, OpenPGP) as JSON, once examined.
    protection TEXT
  );
  CREATE INDEX messages_received ON messages (received_ms);
  CREATE TABLE message_raw (seq INTEGER PRIMARY KEY, raw BLOB NOT NULL);
  -- The decrypted inner message of an encrypted one, when a registered key decrypted it.
  CREATE TABLE message_decrypted (seq INTEGER PRIMARY KEY, raw BLOB NOT NULL);
  -- Envelope recipients and To/Cc addresses, lower-cased: what a full-address "to" filter looks up.
  CREATE TABLE message_addresses (address TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (address, seq)) WITHOUT ROWID;
  CREATE INDEX message_addresses_seq ON message_addresses (seq);
  -- Subject and text body: the "text" filter, substrings through trigrams. Messages are added to
  -- it after their 250, as the CPU allows (meta.indexed_seq: every message up to it is in it).
  CREATE VIRTUAL TABLE message_text USING fts5 (subject, body, tokenize = 'trigram');
  CREATE TABLE sessions (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    listener TEXT NOT NULL,
    closed INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    -- The SmtpSession as JSON: the snapshot last saved.
    record TEXT NOT NULL
  );
  CREATE INDEX sessions_listener ON sessions (listener, n);
  `,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

function invalid(path: string, message: string, cause?: unknown): MailwrightError {
  return new MailwrightError(ErrorCode.STORAGE_INVALID, `Cannot use the message database ${path}: ${message}`, { cause });
}

/**
 * Opens (creating it when missing) the message database at `path` in WAL mode and brings its
 * schema to {@link SCHEMA_VERSION}. Throws `STORAGE_INVALID` for a file that is not an SQLite
 * database, a corrupt one, another application's, or one written by a newer Mailwright.
 */
export function openMessageDatabase(path: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 5_000 });
  } catch (error) {
    throw invalid(path, (error as Error).message, error);
  }
  try {
    // The first statement reads the header: a foreign or damaged file fails here.
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").get() as { n: number }).n;
    if (applicationId !== APPLICATION_ID && (applicationId !== 0 || tables > 0)) {
      throw invalid(path, 'it is not a Mailwright message database (it belongs to another application); move it away or choose another --data-dir');
    }
    db.pragma('journal_mode = WAL');
    // A commit is written to the WAL at once; the store flushes the WAL to the disk itself
    // (fdatasync, off the event loop) before it answers the commit's writers: see openSqliteStore.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = OFF');
    db.pragma('cache_size = -16000');
    // Fewer, larger checkpoints: each one writes the database file and flushes it to disk.
    db.pragma('wal_autocheckpoint = 8192');
    const current = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'schema_migrations'").get() as { n: number };
    if (current.n === 0 && tables > 0) throw invalid(path, 'it has no schema version table');
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const version = (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
    if (version > SCHEMA_VERSION) {
      throw invalid(
        path,
        `it was written by a newer Mailwright (schema version ${version}; this one knows up to ${SCHEMA_VERSION}); upgrade Mailwright or use another --data-dir`,
      );
    }
    if (version < SCHEMA_VERSION) {
      const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
      db.transaction(() => {
        for (let next = version + 1; next <= SCHEMA_VERSION; next++) {
          db.exec(MIGRATIONS[next - 1] as string);
          record.run(next, new Date().toISOString());
        }
        db.pragma(`application_id = ${APPLICATION_ID}`);
      })();
    }
    return db;
  } catch (error) {
    db.close();
    if (error instanceof MailwrightError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB') throw invalid(path, 'it is not an SQLite database; move it away or choose another --data-dir', error);
    if (code === 'SQLITE_CORRUPT') throw invalid(path, 'it is damaged; move it away (restore a backup) or choose another --data-dir', error);
    throw invalid(path, (error as Error).message, error);
  }
}
