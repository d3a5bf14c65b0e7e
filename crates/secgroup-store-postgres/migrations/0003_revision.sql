-- Version 3: the change revision, one global counter that every committed write
-- transaction increases by one just before it commits (see store.rs). Every write
-- transaction first takes `LOCK TABLE revision IN EXCLUSIVE MODE`, so writers of all
-- nodes take turns on this row instead of failing each other to serialize; plain reads
-- (ACCESS SHARE) are not blocked by it. A database that already holds data starts at 0
-- like a new one: the revision only has to grow from here.

CREATE TABLE revision (
    id        SMALLINT NOT NULL PRIMARY KEY CHECK (id = 1),
    revision  BIGINT   NOT NULL CHECK (revision >= 0)
);
INSERT INTO revision (id, revision) VALUES (1, 0);
