import type BetterSqlite3 from 'better-sqlite3';

/**
 * The SQLite store's schema, version 2, and the migration of a version-1 file to it.
 *
 * Version 2 keeps a run's input and its calls in one table, `journal`, under an integer agent id
 * (`agents.id`): the input is the row whose `call` is `''`, each journaled call a row named by its
 * call id. Pruning a finished run is one range delete (`agent_id = ? AND seq BETWEEN ? AND ?`
 * covers the runs that end together), and no primary key repeats the agent's name. Short-term
 * memory lives in `key_memory`. For people (and for the store's reader, which reads both
 * versions through the same names), the views `inputs`, `calls` and `memory` show the rows in the
 * version-1 shape, with the agent's name; inserting, updating and deleting through them works
 * (`INSTEAD OF` triggers; the advice of a `JournalCorruptError` deletes a row so). The writer
 * never goes through them.
 */

/** `PRAGMA user_version` of the schema this code writes. */
export const SCHEMA_VERSION = 2;
/** The version a writer migrates in place when it opens the file (see {@link migrateV1}). */
export const MIGRATABLE_VERSION = 1;

/** The tables a version-2 store must have (`owners` and `repairs` are informational and added when missing). */
export const TABLES_V2: readonly string[] = ['agents', 'journal', 'key_memory'];
/** The tables of a version-1 store. */
export const TABLES_V1: readonly string[] = ['agents', 'calls', 'inputs', 'memory'];

/** Who holds each agent's writer lock (informational, for messages; the lock itself is the lock file). */
export const OWNERS =
  'CREATE TABLE IF NOT EXISTS owners (agent TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL) WITHOUT ROWID';

const TABLES = `
CREATE TABLE agents (id INTEGER PRIMARY KEY, agent TEXT NOT NULL UNIQUE, next_seq INTEGER NOT NULL, position TEXT);
CREATE TABLE journal (agent_id INTEGER NOT NULL, seq INTEGER NOT NULL, call TEXT NOT NULL, fingerprint TEXT,
  state INTEGER, value TEXT, PRIMARY KEY (agent_id, seq, call)) WITHOUT ROWID;
CREATE TABLE key_memory (agent_id INTEGER NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (agent_id, key)) WITHOUT ROWID;
`;

/** The version-1 shapes, by agent name: for `sqlite3` users and the store reader. */
const VIEWS = `
CREATE VIEW inputs (agent, seq, input) AS
  SELECT a.agent, j.seq, j.value FROM journal j JOIN agents a ON a.id = j.agent_id WHERE j.call = '';
CREATE VIEW calls (agent, seq, id, fingerprint, state, value) AS
  SELECT a.agent, j.seq, j.call, j.fingerprint, j.state, j.value FROM journal j JOIN agents a ON a.id = j.agent_id WHERE j.call <> '';
CREATE VIEW memory (agent, key, data) AS
  SELECT a.agent, m.key, m.data FROM key_memory m JOIN agents a ON a.id = m.agent_id;
CREATE TRIGGER inputs_insert INSTEAD OF INSERT ON inputs BEGIN
  INSERT OR IGNORE INTO agents (agent, next_seq) VALUES (new.agent, 0);
  INSERT INTO journal (agent_id, seq, call, value) VALUES ((SELECT id FROM agents WHERE agent = new.agent), new.seq, '', new.input);
END;
CREATE TRIGGER inputs_update INSTEAD OF UPDATE OF input ON inputs BEGIN
  UPDATE journal SET value = new.input WHERE agent_id = (SELECT id FROM agents WHERE agent = old.agent) AND seq = old.seq AND call = '';
END;
CREATE TRIGGER inputs_delete INSTEAD OF DELETE ON inputs BEGIN
  DELETE FROM journal WHERE agent_id = (SELECT id FROM agents WHERE agent = old.agent) AND seq = old.seq AND call = '';
END;
CREATE TRIGGER calls_insert INSTEAD OF INSERT ON calls BEGIN
  INSERT OR IGNORE INTO agents (agent, next_seq) VALUES (new.agent, 0);
  INSERT INTO journal (agent_id, seq, call, fingerprint, state, value)
    VALUES ((SELECT id FROM agents WHERE agent = new.agent), new.seq, new.id, new.fingerprint, new.state, new.value);
END;
CREATE TRIGGER calls_update INSTEAD OF UPDATE OF fingerprint, state, value ON calls BEGIN
  UPDATE journal SET fingerprint = new.fingerprint, state = new.state, value = new.value
    WHERE agent_id = (SELECT id FROM agents WHERE agent = old.agent) AND seq = old.seq AND call = old.id;
END;
CREATE TRIGGER calls_delete INSTEAD OF DELETE ON calls BEGIN
  DELETE FROM journal WHERE agent_id = (SELECT id FROM agents WHERE agent = old.agent) AND seq = old.seq AND call = old.id;
END;
CREATE TRIGGER memory_insert INSTEAD OF INSERT ON memory BEGIN
  INSERT OR IGNORE INTO agents (agent, next_seq) VALUES (new.agent, 0);
  INSERT INTO key_memory (agent_id, key, data) VALUES ((SELECT id FROM agents WHERE agent = new.agent), new.key, new.data);
END;
CREATE TRIGGER memory_update INSTEAD OF UPDATE OF data ON memory BEGIN
  UPDATE key_memory SET data = new.data WHERE agent_id = (SELECT id FROM agents WHERE agent = old.agent) AND key = old.key;
END;
CREATE TRIGGER memory_delete INSTEAD OF DELETE ON memory BEGIN
  DELETE FROM key_memory WHERE agent_id = (SELECT id FROM agents WHERE agent = old.agent) AND key = old.key;
END;
`;

/** Creates the version-2 schema in an empty file (the caller runs it in a transaction, after setting WAL). */
export function createSchema(db: BetterSqlite3.Database, applicationId: number): void {
  db.exec(TABLES);
  db.exec(VIEWS);
  db.exec(OWNERS);
  db.pragma(`application_id = ${applicationId}`);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

/**
 * Migrates a version-1 file to version 2 in place, in one transaction (all or nothing): every
 * agent (those with only memory rows too) gets an id, inputs and calls move into `journal`,
 * memory into `key_memory`, the version-1 tables are dropped and the views take their names.
 * `owners` and `repairs` keep their shape. Returns the rows moved.
 */
export function migrateV1(db: BetterSqlite3.Database): { agents: number; inputs: number; calls: number; keys: number } {
  return db.transaction(() => {
    db.exec('ALTER TABLE agents RENAME TO v1_agents');
    db.exec(TABLES);
    let agents = db
      .prepare('INSERT INTO agents (agent, next_seq, position) SELECT agent, next_seq, position FROM v1_agents')
      .run().changes;
    // An agent with rows but no head row (one that only ever wrote memory) gets an id too.
    for (const table of ['memory', 'inputs', 'calls'])
      agents += db
        .prepare(
          `INSERT OR IGNORE INTO agents (agent, next_seq, position) SELECT DISTINCT agent, 0, NULL FROM ${table}`,
        )
        .run().changes;
    const inputs = db
      .prepare(
        "INSERT INTO journal (agent_id, seq, call, value) SELECT a.id, i.seq, '', i.input FROM inputs i JOIN agents a ON a.agent = i.agent",
      )
      .run().changes;
    const calls = db
      .prepare(
        'INSERT INTO journal (agent_id, seq, call, fingerprint, state, value) ' +
          'SELECT a.id, c.seq, c.id, c.fingerprint, c.state, c.value FROM calls c JOIN agents a ON a.agent = c.agent',
      )
      .run().changes;
    const keys = db
      .prepare(
        'INSERT INTO key_memory (agent_id, key, data) SELECT a.id, m.key, m.data FROM memory m JOIN agents a ON a.agent = m.agent',
      )
      .run().changes;
    db.exec('DROP TABLE inputs; DROP TABLE calls; DROP TABLE memory; DROP TABLE v1_agents;');
    db.exec(VIEWS);
    db.exec(OWNERS);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return { agents, inputs, calls, keys };
  })();
}
