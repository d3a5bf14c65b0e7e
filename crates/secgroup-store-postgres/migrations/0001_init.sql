-- Version 1: the whole schema of the SQLite backend's versions 1-4, in PostgreSQL terms.
-- Same tables, same meaning: timestamps read back are RFC 3339 text (exact round trip);
-- the nonce expiry, only compared, is unix microseconds; `seq` is creation order.

CREATE TABLE accounts (
    id          TEXT    NOT NULL PRIMARY KEY,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TEXT    NOT NULL
);
-- At most one default account: a racing bootstrap gets a duplicate, not a second default.
CREATE UNIQUE INDEX accounts_one_default ON accounts (is_default) WHERE is_default;

CREATE TABLE access_keys (
    id          TEXT NOT NULL PRIMARY KEY,
    secret      TEXT NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    created_at  TEXT NOT NULL
);
CREATE INDEX access_keys_account ON access_keys (account_id);

-- The primary key refuses a replayed nonce, whichever node sees it.
CREATE TABLE nonces (
    access_key_id  TEXT   NOT NULL,
    nonce          TEXT   NOT NULL,
    expires_at     BIGINT NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
);
CREATE INDEX nonces_expiry ON nonces (expires_at);

CREATE TABLE security_groups (
    seq                  BIGSERIAL PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE,
    account_id           TEXT NOT NULL,
    region_id            TEXT NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL,
    group_type           TEXT NOT NULL CHECK (group_type IN ('normal', 'enterprise')),
    inner_access_policy  TEXT NOT NULL CHECK (inner_access_policy IN ('Accept', 'Drop')),
    vpc_id               TEXT NOT NULL,
    resource_group_id    TEXT NOT NULL,
    creation_time        TEXT NOT NULL
);
CREATE INDEX security_groups_account_region ON security_groups (account_id, region_id, seq);
CREATE INDEX security_groups_account_vpc ON security_groups (account_id, vpc_id);

CREATE TABLE tags (
    account_id     TEXT   NOT NULL,
    resource_type  TEXT   NOT NULL,
    resource_id    TEXT   NOT NULL,
    key            TEXT   NOT NULL,
    value          TEXT   NOT NULL,
    seq            BIGINT NOT NULL,
    PRIMARY KEY (account_id, resource_type, resource_id, key)
);

-- The primary key makes a concurrent duplicate ClientToken a unique violation.
CREATE TABLE client_tokens (
    account_id   TEXT NOT NULL,
    token        TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    result       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (account_id, token)
);

-- Rules as the domain's flat `RuleRow` columns. Identity and quotas are the domain's
-- checks, made inside a SERIALIZABLE transaction, so racing writers cannot both pass.
CREATE TABLE rules (
    seq                 BIGSERIAL PRIMARY KEY,
    id                  TEXT   NOT NULL UNIQUE,
    account_id          TEXT   NOT NULL,
    security_group_id   TEXT   NOT NULL,
    direction           TEXT   NOT NULL CHECK (direction IN ('ingress', 'egress')),
    ip_protocol         TEXT   NOT NULL,
    port_range          TEXT   NOT NULL,
    source_port_range   TEXT   NOT NULL,
    policy              TEXT   NOT NULL CHECK (policy IN ('Accept', 'Drop')),
    priority            BIGINT NOT NULL,
    peer_kind           TEXT   NOT NULL
                               CHECK (peer_kind IN ('cidr', 'ipv6', 'group', 'prefix_list')),
    peer_value          TEXT   NOT NULL,
    peer_owner_account  TEXT   NOT NULL,
    local_cidr          TEXT   NOT NULL,
    description         TEXT   NOT NULL,
    create_time         TEXT   NOT NULL
);
CREATE INDEX rules_group ON rules (account_id, security_group_id, seq);
CREATE INDEX rules_peer ON rules (peer_kind, peer_value);

CREATE TABLE prefix_lists (
    seq                BIGSERIAL PRIMARY KEY,
    id                 TEXT   NOT NULL UNIQUE,
    account_id         TEXT   NOT NULL,
    region_id          TEXT   NOT NULL,
    name               TEXT   NOT NULL,
    description        TEXT   NOT NULL,
    address_family     TEXT   NOT NULL CHECK (address_family IN ('IPv4', 'IPv6')),
    max_entries        BIGINT NOT NULL,
    resource_group_id  TEXT   NOT NULL,
    creation_time      TEXT   NOT NULL
);
CREATE INDEX prefix_lists_account_region ON prefix_lists (account_id, region_id, seq);

CREATE TABLE prefix_list_entries (
    prefix_list_id  TEXT   NOT NULL,
    position        BIGINT NOT NULL,
    cidr            TEXT   NOT NULL,
    description     TEXT   NOT NULL,
    PRIMARY KEY (prefix_list_id, cidr)
);

CREATE TABLE vpcs (
    seq                  BIGSERIAL PRIMARY KEY,
    id                   TEXT    NOT NULL UNIQUE,
    account_id           TEXT    NOT NULL,
    region_id            TEXT    NOT NULL,
    cidr_block           TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    description          TEXT    NOT NULL,
    resource_group_id    TEXT    NOT NULL,
    vrouter_id           TEXT    NOT NULL,
    route_table_id       TEXT    NOT NULL,
    user_cidrs           TEXT    NOT NULL,
    enable_ipv6          BOOLEAN NOT NULL,
    ipv6_cidr_block      TEXT    NOT NULL,
    enable_dns_hostname  BOOLEAN NOT NULL,
    creation_time        TEXT    NOT NULL
);
CREATE INDEX vpcs_account_region ON vpcs (account_id, region_id, seq);

CREATE TABLE vswitches (
    seq            BIGSERIAL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    account_id     TEXT NOT NULL,
    region_id      TEXT NOT NULL,
    vpc_id         TEXT NOT NULL,
    zone_id        TEXT NOT NULL,
    cidr_block     TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    creation_time  TEXT NOT NULL
);
CREATE INDEX vswitches_account_region ON vswitches (account_id, region_id, seq);

CREATE TABLE instances (
    seq                   BIGSERIAL PRIMARY KEY,
    id                    TEXT NOT NULL UNIQUE,
    account_id            TEXT NOT NULL,
    region_id             TEXT NOT NULL,
    zone_id               TEXT NOT NULL,
    vpc_id                TEXT NOT NULL,
    vswitch_id            TEXT NOT NULL,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL,
    host_name             TEXT NOT NULL,
    instance_type         TEXT NOT NULL,
    image_id              TEXT NOT NULL,
    status                TEXT NOT NULL
                          CHECK (status IN ('Pending', 'Starting', 'Running', 'Stopping', 'Stopped')),
    status_since          TEXT NOT NULL,
    creation_time         TEXT NOT NULL,
    network_interface_id  TEXT NOT NULL UNIQUE,
    mac_address           TEXT NOT NULL,
    private_ip            TEXT NOT NULL,
    attributes            TEXT NOT NULL,
    -- No address is handed out twice in a vSwitch, whichever node allocates it.
    UNIQUE (vswitch_id, private_ip)
);
CREATE INDEX instances_account_region ON instances (account_id, region_id, seq);
CREATE INDEX instances_account_vpc ON instances (account_id, vpc_id);

CREATE TABLE instance_security_groups (
    instance_id        TEXT   NOT NULL,
    security_group_id  TEXT   NOT NULL,
    position           BIGINT NOT NULL,
    PRIMARY KEY (instance_id, security_group_id)
);
CREATE INDEX instance_security_groups_group
    ON instance_security_groups (security_group_id, instance_id);
