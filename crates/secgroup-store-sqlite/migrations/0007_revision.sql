-- Version 7: the change revision, one global counter that every committed write closure
-- increases by one inside its own savepoint (see job.rs), so a closure that fails or
-- panics rolls its increase back with the rest of its writes. One row; a database that
-- already holds data starts at 0 like a new one: the revision only has to grow from here.

CREATE TABLE revision (
    id        INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    revision  INTEGER NOT NULL CHECK (revision >= 0)
);
INSERT INTO revision (id, revision) VALUES (1, 0);
