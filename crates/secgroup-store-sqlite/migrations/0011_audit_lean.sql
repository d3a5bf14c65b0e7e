-- The audit trail with fewer B-trees to write per event (BENCHMARKS.md, "Paced requests"):
-- every recorded call inserted into seven (the table, its AUTOINCREMENT counter, two indexes,
-- the resources table, its key and its index); now into four.
-- * `seq` is a plain rowid key: the largest plus one, so it still only grows while any
--   event is kept (purging removes the oldest first).
-- * No index by time: events are appended in time order, so the purge walks `seq` from the
--   oldest and stops at the first event young enough to keep.
-- * The resources table is clustered on its key (WITHOUT ROWID): one B-tree instead of two.
CREATE TABLE audit_events_lean (
    seq            INTEGER PRIMARY KEY,
    event_id       TEXT    NOT NULL,
    account_id     TEXT    NOT NULL,
    event_time_us  INTEGER NOT NULL,
    access_key_id  TEXT    NOT NULL,
    source_ip      TEXT    NOT NULL,
    product        TEXT    NOT NULL,
    version        TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    region_id      TEXT    NOT NULL,
    request_id     TEXT    NOT NULL,
    parameters     TEXT    NOT NULL,
    resources      TEXT    NOT NULL,
    error_code     TEXT,
    error_message  TEXT
);
INSERT INTO audit_events_lean SELECT * FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_lean RENAME TO audit_events;
CREATE INDEX audit_events_by_account ON audit_events (account_id, seq);

CREATE TABLE audit_event_resources_lean (
    seq            INTEGER NOT NULL,
    account_id     TEXT    NOT NULL,
    resource_id    TEXT    NOT NULL,
    resource_type  TEXT    NOT NULL,
    PRIMARY KEY (seq, resource_id)
) WITHOUT ROWID;
INSERT INTO audit_event_resources_lean SELECT seq, account_id, resource_id, resource_type
    FROM audit_event_resources;
DROP TABLE audit_event_resources;
ALTER TABLE audit_event_resources_lean RENAME TO audit_event_resources;
CREATE INDEX audit_event_resources_by_id ON audit_event_resources (account_id, resource_id, seq);
