-- Version 1: accounts, keys, nonces, security groups, tags, client tokens.
-- Timestamps that are read back are RFC 3339 text (exact round trip); the nonce expiry,
-- which is only compared, is integer unix microseconds.

CREATE TABLE accounts (
    id          TEXT    NOT NULL PRIMARY KEY,
    is_default  INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at  TEXT    NOT NULL
);

-- At most one default account: a racing bootstrap gets a duplicate, not a second default.
CREATE UNIQUE INDEX accounts_one_default ON accounts (is_default) WHERE is_default = 1;

CREATE TABLE access_keys (
    id          TEXT NOT NULL PRIMARY KEY,
    secret      TEXT NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    created_at  TEXT NOT NULL
);

CREATE INDEX access_keys_account ON access_keys (account_id);

CREATE TABLE nonces (
    access_key_id  TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
);

-- Lets each claim purge a few expired rows without a scan.
CREATE INDEX nonces_expiry ON nonces (expires_at);

CREATE TABLE security_groups (
    -- Creation order; AUTOINCREMENT so a deleted group's number is never reused.
    seq                  INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id                   TEXT    NOT NULL UNIQUE,
    account_id           TEXT    NOT NULL,
    region_id            TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    description          TEXT    NOT NULL,
    group_type           TEXT    NOT NULL CHECK (group_type IN ('normal', 'enterprise')),
    inner_access_policy  TEXT    NOT NULL CHECK (inner_access_policy IN ('Accept', 'Drop')),
    vpc_id               TEXT    NOT NULL,
    resource_group_id    TEXT    NOT NULL,
    creation_time        TEXT    NOT NULL
);

CREATE INDEX security_groups_account_region ON security_groups (account_id, region_id, seq);

CREATE TABLE tags (
    account_id     TEXT    NOT NULL,
    resource_type  TEXT    NOT NULL,
    resource_id    TEXT    NOT NULL,
    key            TEXT    NOT NULL,
    value          TEXT    NOT NULL,
    -- Order in which the key was first set on the resource.
    seq            INTEGER NOT NULL,
    PRIMARY KEY (account_id, resource_type, resource_id, key)
);

CREATE TABLE client_tokens (
    account_id   TEXT NOT NULL,
    token        TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    result       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (account_id, token)
);
