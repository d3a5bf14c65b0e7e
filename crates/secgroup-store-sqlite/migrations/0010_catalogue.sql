-- Version 10: what instances boot with (docs/ecs.md §9.6–§9.8): SSH key pairs (a name is
-- unique per account and region), disks (an instance's system disk and data disks; a
-- detached one keeps its row with an empty instance_id) and user data (base64, per instance).

CREATE TABLE key_pairs (
    seq                INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    account_id         TEXT    NOT NULL,
    region_id          TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    fingerprint        TEXT    NOT NULL,
    public_key         TEXT    NOT NULL,
    resource_group_id  TEXT    NOT NULL,
    creation_time      TEXT    NOT NULL,
    UNIQUE (account_id, region_id, name)
);

CREATE TABLE disks (
    seq                   INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id                    TEXT    NOT NULL UNIQUE,
    account_id            TEXT    NOT NULL,
    region_id             TEXT    NOT NULL,
    zone_id               TEXT    NOT NULL,
    instance_id           TEXT    NOT NULL,
    disk_type             TEXT    NOT NULL CHECK (disk_type IN ('system', 'data')),
    category              TEXT    NOT NULL,
    size_gib              INTEGER NOT NULL,
    device                TEXT    NOT NULL,
    delete_with_instance  INTEGER NOT NULL CHECK (delete_with_instance IN (0, 1)),
    name                  TEXT    NOT NULL,
    description           TEXT    NOT NULL,
    performance_level     TEXT    NOT NULL,
    creation_time         TEXT    NOT NULL
);

CREATE INDEX disks_account ON disks (account_id, region_id, seq);
CREATE INDEX disks_instance ON disks (account_id, instance_id);

CREATE TABLE user_data (
    account_id   TEXT NOT NULL,
    instance_id  TEXT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (account_id, instance_id)
);
