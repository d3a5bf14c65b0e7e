-- Version 5: NIS network paths and reachability analyses (more-apis.md §6).
-- A path's parameters are its canonical JSON (`PathSpec::to_json`): two paths of an account
-- in a region with equal parameters are one path, which the unique index enforces even
-- against concurrent writers.

CREATE TABLE network_paths (
    seq                INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id                 TEXT    NOT NULL UNIQUE,
    account_id         TEXT    NOT NULL,
    region_id          TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    description        TEXT    NOT NULL,
    resource_group_id  TEXT    NOT NULL,
    parameters         TEXT    NOT NULL,
    creation_time      TEXT    NOT NULL,
    UNIQUE (account_id, region_id, parameters)
);

CREATE INDEX network_paths_account ON network_paths (account_id, seq);

-- An analysis keeps its own copy of the parameters and its result: it reads back as it was
-- when it ran, even after its path is deleted or the network changes.
CREATE TABLE network_reachable_analyses (
    id               TEXT    NOT NULL PRIMARY KEY,
    account_id       TEXT    NOT NULL,
    region_id        TEXT    NOT NULL,
    network_path_id  TEXT    NOT NULL,
    parameters       TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('init', 'finish', 'error', 'timeout')),
    reachable        INTEGER NOT NULL CHECK (reachable IN (0, 1)),
    result           TEXT    NOT NULL,
    creation_time    TEXT    NOT NULL
);

CREATE INDEX network_reachable_analyses_account ON network_reachable_analyses (account_id);
