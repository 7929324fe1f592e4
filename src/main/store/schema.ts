/**
 * The database schema, as the ordered list of migrations that builds it.
 *
 * PRAGMA application_id marks the file as Headway's, so another program's SQLite file is
 * recognised and refused; PRAGMA user_version counts the migrations applied. A released
 * migration is never edited: a schema change is a new migration appended to the list.
 *
 * Conventions: times are INTEGER milliseconds since the Unix epoch; JSON columns hold text
 * written by JSON.stringify; child rows cascade from their run, so deleting a run is one
 * DELETE.
 */

/** "Hdwy" in ASCII, as a big-endian 32-bit integer (SQLite stores it at header offset 68). */
export const APPLICATION_ID = 0x48647779;

export const MIGRATIONS: readonly string[] = [
  // 1: runs, per-iteration metrics, checkpoints.
  `
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    scenario TEXT NOT NULL,
    params TEXT NOT NULL,
    algo TEXT NOT NULL,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    preset TEXT,
    backend TEXT,
    app_version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'finished', 'failed', 'interrupted')),
    status_message TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT '',
    parent_run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    parent_relation TEXT CHECK (parent_relation IN ('resume', 'fork')),
    parent_checkpoint_id INTEGER,
    iterations INTEGER NOT NULL DEFAULT 0,
    env_steps INTEGER NOT NULL DEFAULT 0,
    wall_time_s REAL NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ended_at INTEGER,
    writer_host TEXT,
    writer_pid INTEGER,
    heartbeat_at INTEGER
  );
  CREATE INDEX runs_by_created ON runs (created_at);
  CREATE INDEX runs_by_status ON runs (status);
  CREATE INDEX runs_by_parent ON runs (parent_run_id);

  CREATE TABLE iterations (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    iteration INTEGER NOT NULL,
    env_steps INTEGER NOT NULL,
    wall_time_s REAL NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, iteration)
  ) WITHOUT ROWID;

  CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (run_id, name)
  );

  -- value is NULL where the learner reported NaN (SQLite has no NaN).
  CREATE TABLE metrics (
    series_id INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    iteration INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (series_id, iteration)
  ) WITHOUT ROWID;

  -- data last: listing checkpoints never reads the blob's overflow pages.
  CREATE TABLE checkpoints (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    iteration INTEGER NOT NULL,
    env_steps INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('periodic', 'best')),
    eval_return REAL,
    meta TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    data BLOB NOT NULL
  );
  CREATE INDEX checkpoints_by_run ON checkpoints (run_id, iteration);
  `,
  // 2: recorded episodes, their trajectories in chunks of steps (layout: trajectoryCodec.ts).
  `
  CREATE TABLE episodes (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    checkpoint_id INTEGER,
    iteration INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('eval', 'train')),
    seed INTEGER NOT NULL,
    scenario TEXT NOT NULL,
    env TEXT NOT NULL,
    n_vehicles INTEGER NOT NULL,
    n_agents INTEGER NOT NULL,
    obs_dim INTEGER NOT NULL,
    action_param_dim INTEGER NOT NULL,
    n_reward_terms INTEGER NOT NULL,
    chunk_steps INTEGER NOT NULL,
    steps INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    episode_return REAL,
    collisions INTEGER,
    stats TEXT NOT NULL DEFAULT '{}',
    writer_host TEXT NOT NULL,
    writer_pid INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
  );
  CREATE INDEX episodes_by_run ON episodes (run_id, kind, iteration);
  CREATE INDEX episodes_in_flight ON episodes (complete) WHERE complete = 0;

  CREATE TABLE episode_chunks (
    episode_id INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    first_step INTEGER NOT NULL,
    n_steps INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (episode_id, first_step)
  );
  `,
  // 3: exact actions (float64 [n_steps, n_agents] per chunk; NULL in older episodes), the
  // disturbances an episode was played with (JSON list), and forks: episodes continuing a
  // parent episode from one of its steps under another policy.
  `
  ALTER TABLE episode_chunks ADD COLUMN actions BLOB;
  ALTER TABLE episodes ADD COLUMN disturbances TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE episodes ADD COLUMN parent_episode_id INTEGER REFERENCES episodes (id) ON DELETE SET NULL;
  ALTER TABLE episodes ADD COLUMN parent_step INTEGER;
  ALTER TABLE episodes ADD COLUMN fork_policy TEXT;
  CREATE INDEX episodes_by_parent ON episodes (parent_episode_id);
  `,
  // 4: sweeps (\`headway sweep\`): a grid of runs recorded by name with the sweep file (JSON),
  // one row per cell of the grid (key scenario/learner/seed/preset) with the run training it:
  // NULL until its run has started, and again if that run is deleted (the cell is then missing).
  `
  CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    file TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE sweep_runs (
    sweep_id INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
    cell TEXT NOT NULL,
    -- the order the cells were added in (the grid's order), for listing them
    position INTEGER NOT NULL,
    run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    PRIMARY KEY (sweep_id, cell)
  ) WITHOUT ROWID;
  CREATE INDEX sweep_runs_by_run ON sweep_runs (run_id);
  `,
];

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;
