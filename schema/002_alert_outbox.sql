-- latticed schema, migration 002: the alert outbox.
--
-- Every change of an alert (it fired, it resolved) is delivered to every
-- configured sink at least once.  The change is queued by triggers in the
-- same transaction that writes the alert, so a crash can neither lose nor
-- invent a delivery; latticed then copies each queued change into one
-- alert_deliveries row per configured sink and works those rows off with
-- retries and backoff.  See docs/alerting.md and docs/schema.md.

-- One delivery of one change of one alert to one sink.
CREATE TABLE alert_deliveries (
	-- the alert (alerts.alert_id)
	alert_id		INTEGER NOT NULL
				REFERENCES alerts (alert_id) ON DELETE CASCADE,
	-- sink name: 'log', 'command', 'nats', 'alertmanager'
	sink			TEXT NOT NULL,
	-- which change: the alert fired, or it resolved
	transition		TEXT NOT NULL
				CHECK (transition IN ('firing', 'resolved')),
	-- failed attempts so far (0 until the first failure)
	attempts		INTEGER NOT NULL DEFAULT 0,
	-- not before this time (latticed's clock); backoff after a failure
	next_attempt_ms		INTEGER NOT NULL,
	-- when the sink confirmed delivery; NULL while pending
	delivered_ms		INTEGER,
	-- the last failure, one line; NULL when none
	last_error		TEXT,
	-- when the row was queued
	queued_ms		INTEGER NOT NULL,
	next_attempt_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', next_attempt_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	delivered_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', delivered_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	queued_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', queued_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	PRIMARY KEY (alert_id, sink, transition)
) STRICT;

-- Pending deliveries by due time: what the retry timer reads.
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_ms)
	WHERE delivered_ms IS NULL;

-- Changes of alerts not yet copied into alert_deliveries (internal queue,
-- normally empty after each batch).  Filled by the triggers below.
CREATE TABLE alert_changes (
	-- queue order
	seq			INTEGER PRIMARY KEY,
	-- the alert (alerts.alert_id)
	alert_id		INTEGER NOT NULL
				REFERENCES alerts (alert_id) ON DELETE CASCADE,
	-- which change
	transition		TEXT NOT NULL
				CHECK (transition IN ('firing', 'resolved'))
) STRICT;

CREATE TRIGGER alerts_queue_firing AFTER INSERT ON alerts
BEGIN
	INSERT INTO alert_changes (alert_id, transition)
	    VALUES (new.alert_id, 'firing');
	-- an alert inserted already resolved is both changes at once
	INSERT INTO alert_changes (alert_id, transition)
	    SELECT new.alert_id, 'resolved' WHERE new.resolved_ms IS NOT NULL;
END;

CREATE TRIGGER alerts_queue_resolved AFTER UPDATE OF resolved_ms ON alerts
	WHEN old.resolved_ms IS NULL AND new.resolved_ms IS NOT NULL
BEGIN
	INSERT INTO alert_changes (alert_id, transition)
	    VALUES (new.alert_id, 'resolved');
END;

-- Active alerts of a host (resolving provider alerts of a stopped host).
CREATE INDEX alerts_active_host ON alerts (lattice, host_id, kind)
	WHERE resolved_ms IS NULL;
