-- The audit trail (docs/actiontrail.md): one row per recorded call, appended in the same
-- transaction as the call's change (or after the rollback of a refused call). Times are
-- microseconds since the epoch, so ranges compare as numbers.
CREATE TABLE audit_events (
    seq            BIGSERIAL PRIMARY KEY,
    event_id       TEXT    NOT NULL,
    account_id     TEXT    NOT NULL,
    event_time_us  BIGINT  NOT NULL,
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
CREATE INDEX audit_events_by_account ON audit_events (account_id, seq);
CREATE INDEX audit_events_by_time ON audit_events (event_time_us);

-- The resources each event touched, to look events up by resource.
CREATE TABLE audit_event_resources (
    seq            BIGINT  NOT NULL,
    account_id     TEXT    NOT NULL,
    resource_id    TEXT    NOT NULL,
    resource_type  TEXT    NOT NULL,
    PRIMARY KEY (seq, resource_id)
);
CREATE INDEX audit_event_resources_by_id ON audit_event_resources (account_id, resource_id, seq);
