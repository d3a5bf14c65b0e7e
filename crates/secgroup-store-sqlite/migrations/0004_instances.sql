-- Version 4: ECS instances (with their primary network interface) and their security-group
-- memberships. Ids are globally unique; every query also names the account. Tags live in
-- `tags` (resource type `instance`).

CREATE TABLE instances (
    -- Creation order; AUTOINCREMENT so a deleted instance's number is never reused.
    seq                   INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id                    TEXT    NOT NULL UNIQUE,
    account_id            TEXT    NOT NULL,
    region_id             TEXT    NOT NULL,
    zone_id               TEXT    NOT NULL,
    vpc_id                TEXT    NOT NULL,
    vswitch_id            TEXT    NOT NULL,
    name                  TEXT    NOT NULL,
    description           TEXT    NOT NULL,
    host_name             TEXT    NOT NULL,
    instance_type         TEXT    NOT NULL,
    image_id              TEXT    NOT NULL,
    -- The state last written and when it was entered; transient states settle in the domain.
    status                TEXT    NOT NULL
                                  CHECK (status IN ('Pending', 'Starting', 'Running', 'Stopping', 'Stopped')),
    status_since          TEXT    NOT NULL,
    creation_time         TEXT    NOT NULL,
    network_interface_id  TEXT    NOT NULL UNIQUE,
    mac_address           TEXT    NOT NULL,
    private_ip            TEXT    NOT NULL,
    -- The domain's JSON object of echoed, unsimulated attributes.
    attributes            TEXT    NOT NULL,
    -- No address is handed out twice in a vSwitch, whatever races the domain loses.
    UNIQUE (vswitch_id, private_ip)
);

CREATE INDEX instances_account_region ON instances (account_id, region_id, seq);
-- DeleteVpc counts the instances of a VPC.
CREATE INDEX instances_account_vpc ON instances (account_id, vpc_id);

-- The groups of an instance's primary interface, in the order they were joined.
CREATE TABLE instance_security_groups (
    instance_id        TEXT    NOT NULL,
    security_group_id  TEXT    NOT NULL,
    position           INTEGER NOT NULL,
    PRIMARY KEY (instance_id, security_group_id)
) WITHOUT ROWID;

-- The members of a group: DescribeInstances by SecurityGroupId, DeleteSecurityGroup, EcsCount.
CREATE INDEX instance_security_groups_group ON instance_security_groups (security_group_id, instance_id);
