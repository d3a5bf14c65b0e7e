-- Version 8: the data plane across hosts (README "Data plane"). Each agent reports its
-- host's underlay address; the control plane places each started instance on one live
-- host (one row per instance: never two hosts at once, whichever node places it) and
-- gives each VPC with a placed instance a VXLAN network identifier (one per VPC, unique,
-- 1001..=16777215).

ALTER TABLE dataplane_agents ADD COLUMN underlay_address TEXT NOT NULL DEFAULT '';

CREATE TABLE instance_placements (
    instance_id  TEXT NOT NULL PRIMARY KEY,
    host         TEXT NOT NULL,
    placed_at    TEXT NOT NULL
);

CREATE INDEX instance_placements_host ON instance_placements (host);

CREATE TABLE vpc_vnis (
    vpc_id  TEXT    NOT NULL PRIMARY KEY,
    vni     INTEGER NOT NULL UNIQUE CHECK (vni BETWEEN 1 AND 16777215)
);
