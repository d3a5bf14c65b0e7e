-- Version 4: the data-plane agents' reports (`secgroup agent`, DescribeDataplaneStatus).
-- One row per agent, replaced by each report. Written outside the change revision (no
-- revision lock, no bump, no NOTIFY): a report is not a change of state (the agent waits
-- on the revision).

CREATE TABLE dataplane_agents (
    agent_id           TEXT   NOT NULL PRIMARY KEY,
    host               TEXT   NOT NULL,
    applied_revision   BIGINT NOT NULL CHECK (applied_revision >= 0),
    -- NULL before the first apply.
    last_applied_time  TEXT,
    -- JSON object: account id -> Running instances of it enforced.
    instance_counts    TEXT   NOT NULL,
    last_error         TEXT   NOT NULL,
    updated_at         TEXT   NOT NULL
);
