-- Version 2: security-group rules, prefix lists and their entries.
-- Rules are stored as the domain's flat `RuleRow` columns. Rule identity (no two equal
-- rules in a group) is the domain's check, made inside the write transaction, so no
-- unique constraint stands for it here.

CREATE TABLE rules (
    -- Creation order; AUTOINCREMENT so a deleted rule's number is never reused.
    seq                 INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id                  TEXT    NOT NULL UNIQUE,
    account_id          TEXT    NOT NULL,
    security_group_id   TEXT    NOT NULL,
    direction           TEXT    NOT NULL CHECK (direction IN ('ingress', 'egress')),
    ip_protocol         TEXT    NOT NULL,
    -- `a/b`
    port_range          TEXT    NOT NULL,
    -- `a/b`, or empty for none.
    source_port_range   TEXT    NOT NULL,
    policy              TEXT    NOT NULL CHECK (policy IN ('Accept', 'Drop')),
    priority            INTEGER NOT NULL,
    peer_kind           TEXT    NOT NULL
                                CHECK (peer_kind IN ('cidr', 'ipv6', 'group', 'prefix_list')),
    -- The block, group id or prefix list id.
    peer_value          TEXT    NOT NULL,
    -- Owner account of a group peer; empty otherwise.
    peer_owner_account  TEXT    NOT NULL,
    -- Quintuple rule's own block, or empty.
    local_cidr          TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    create_time         TEXT    NOT NULL
);

-- A group's rules in creation order.
CREATE INDEX rules_group ON rules (account_id, security_group_id, seq);
-- Which groups name a group or a prefix list as their peer.
CREATE INDEX rules_peer ON rules (peer_kind, peer_value);

CREATE TABLE prefix_lists (
    -- Creation order; AUTOINCREMENT so a deleted list's number is never reused.
    seq                INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id                 TEXT    NOT NULL UNIQUE,
    account_id         TEXT    NOT NULL,
    region_id          TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    description        TEXT    NOT NULL,
    address_family     TEXT    NOT NULL CHECK (address_family IN ('IPv4', 'IPv6')),
    max_entries        INTEGER NOT NULL,
    resource_group_id  TEXT    NOT NULL,
    creation_time      TEXT    NOT NULL
);

CREATE INDEX prefix_lists_account_region ON prefix_lists (account_id, region_id, seq);

-- Entries belong to a list by its (globally unique) id; they are reached only through a
-- list row of the right account.
CREATE TABLE prefix_list_entries (
    prefix_list_id  TEXT    NOT NULL,
    -- Order within the list, from 0.
    position        INTEGER NOT NULL,
    cidr            TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    PRIMARY KEY (prefix_list_id, cidr)
);
