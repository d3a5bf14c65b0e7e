-- Version 12: elastic network interfaces (docs/ecs.md §10). A secondary interface is a row
-- of its own with its memberships; the primary interface stays on its instance. Every
-- private address of every interface is a row of private_ip_addresses, so that the schema
-- hands out no address twice in a vSwitch, whatever races the domain loses. Tags live in
-- `tags` (resource type `eni`).

CREATE TABLE network_interfaces (
    seq                INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id                 TEXT    NOT NULL UNIQUE,
    account_id         TEXT    NOT NULL,
    region_id          TEXT    NOT NULL,
    zone_id            TEXT    NOT NULL,
    vpc_id             TEXT    NOT NULL,
    vswitch_id         TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    description        TEXT    NOT NULL,
    resource_group_id  TEXT    NOT NULL,
    -- Empty while the interface is Available.
    instance_id        TEXT    NOT NULL,
    device_index       INTEGER NOT NULL,
    mac_address        TEXT    NOT NULL,
    primary_ip         TEXT    NOT NULL,
    creation_time      TEXT    NOT NULL
);

CREATE INDEX network_interfaces_account_region ON network_interfaces (account_id, region_id, seq);
CREATE INDEX network_interfaces_account_vpc ON network_interfaces (account_id, vpc_id);

CREATE TABLE network_interface_security_groups (
    network_interface_id  TEXT    NOT NULL,
    security_group_id     TEXT    NOT NULL,
    position              INTEGER NOT NULL,
    PRIMARY KEY (network_interface_id, security_group_id)
) WITHOUT ROWID;

CREATE INDEX network_interface_security_groups_group
    ON network_interface_security_groups (security_group_id, network_interface_id);

CREATE TABLE private_ip_addresses (
    vswitch_id            TEXT    NOT NULL,
    private_ip            TEXT    NOT NULL,
    account_id            TEXT    NOT NULL,
    region_id             TEXT    NOT NULL,
    network_interface_id  TEXT    NOT NULL,
    -- 1 for the interface's primary address.
    is_primary            INTEGER NOT NULL CHECK (is_primary IN (0, 1)),
    -- Assignment order among an interface's secondary addresses.
    seq                   INTEGER NOT NULL,
    PRIMARY KEY (vswitch_id, private_ip)
) WITHOUT ROWID;

CREATE INDEX private_ip_addresses_interface ON private_ip_addresses (network_interface_id, seq);
CREATE INDEX private_ip_addresses_account ON private_ip_addresses (account_id, region_id);

-- The primary addresses of the instances that exist already.
INSERT INTO private_ip_addresses
    (vswitch_id, private_ip, account_id, region_id, network_interface_id, is_primary, seq)
SELECT vswitch_id, private_ip, account_id, region_id, network_interface_id, 1, 0 FROM instances;
