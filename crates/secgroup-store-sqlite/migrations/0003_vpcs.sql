-- Version 3: VPCs and vSwitches.
-- Ids are globally unique; every query also names the account, so another account's rows
-- are never read or changed. Tags live in `tags` (resource types `VPC`, `VSWITCH`).

CREATE TABLE vpcs (
    -- Creation order; AUTOINCREMENT so a deleted VPC's number is never reused.
    seq                  INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id                   TEXT    NOT NULL UNIQUE,
    account_id           TEXT    NOT NULL,
    region_id            TEXT    NOT NULL,
    cidr_block           TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    description          TEXT    NOT NULL,
    resource_group_id    TEXT    NOT NULL,
    vrouter_id           TEXT    NOT NULL,
    route_table_id       TEXT    NOT NULL,
    -- Comma-separated canonical blocks (at most three), or empty.
    user_cidrs           TEXT    NOT NULL,
    enable_ipv6          INTEGER NOT NULL CHECK (enable_ipv6 IN (0, 1)),
    ipv6_cidr_block      TEXT    NOT NULL,
    enable_dns_hostname  INTEGER NOT NULL CHECK (enable_dns_hostname IN (0, 1)),
    creation_time        TEXT    NOT NULL
);

CREATE INDEX vpcs_account_region ON vpcs (account_id, region_id, seq);

CREATE TABLE vswitches (
    -- Creation order; AUTOINCREMENT so a deleted vSwitch's number is never reused.
    seq            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL UNIQUE,
    account_id     TEXT    NOT NULL,
    region_id      TEXT    NOT NULL,
    vpc_id         TEXT    NOT NULL,
    zone_id        TEXT    NOT NULL,
    cidr_block     TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL,
    creation_time  TEXT    NOT NULL
);

CREATE INDEX vswitches_account_region ON vswitches (account_id, region_id, seq);

-- DeleteVpc counts the security groups of a VPC.
CREATE INDEX security_groups_account_vpc ON security_groups (account_id, vpc_id);
