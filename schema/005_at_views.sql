-- latticed schema, migration 005: the *_at columns move into views.
--
-- SQLite computes a VIRTUAL generated column whenever it writes the row,
-- whether or not anything reads it: one strftime() per *_at column per
-- INSERT or UPDATE (about 0.65 us each; a host row has five and is
-- updated by most events).  The tables latticed writes therefore lose
-- their *_at columns and take internal names (latticed_hosts, ...); views
-- with the public names present exactly the columns of version 4, in the
-- same order, with each *_at computed from its *_ms only when a query
-- reads it.  Readers keep querying hosts, events, alerts, ...; latticed
-- itself writes the latticed_* tables.  See docs/schema.md.
--
-- ALTER TABLE RENAME carries the indexes, the foreign keys of
-- components/providers (-> hosts) and alert_deliveries/alert_changes
-- (-> alerts) and the alert triggers over to the new names.  DROP COLUMN
-- of a VIRTUAL column edits the schema only: no row is rewritten.  No
-- *_at column was indexed or stored, so none needs to be kept.

-- It selects * from alerts: made again below over the new view.
DROP VIEW active_alerts;

ALTER TABLE hosts RENAME TO latticed_hosts;
ALTER TABLE latticed_hosts DROP COLUMN first_seen_at;
ALTER TABLE latticed_hosts DROP COLUMN last_seen_at;
ALTER TABLE latticed_hosts DROP COLUMN last_heartbeat_at;
ALTER TABLE latticed_hosts DROP COLUMN status_changed_at;
ALTER TABLE latticed_hosts DROP COLUMN started_at;

ALTER TABLE components RENAME TO latticed_components;
ALTER TABLE latticed_components DROP COLUMN updated_at;

ALTER TABLE providers RENAME TO latticed_providers;
ALTER TABLE latticed_providers DROP COLUMN health_checked_at;
ALTER TABLE latticed_providers DROP COLUMN updated_at;

ALTER TABLE links RENAME TO latticed_links;
ALTER TABLE latticed_links DROP COLUMN updated_at;

ALTER TABLE configs RENAME TO latticed_configs;
ALTER TABLE latticed_configs DROP COLUMN updated_at;

ALTER TABLE events RENAME TO latticed_events;
ALTER TABLE latticed_events DROP COLUMN time_at;
ALTER TABLE latticed_events DROP COLUMN received_at;

ALTER TABLE rejected_events RENAME TO latticed_rejected_events;
ALTER TABLE latticed_rejected_events DROP COLUMN received_at;

ALTER TABLE alerts RENAME TO latticed_alerts;
ALTER TABLE latticed_alerts DROP COLUMN fired_at;
ALTER TABLE latticed_alerts DROP COLUMN resolved_at;

-- ALTER TABLE RENAME leaves the statistics of ANALYZE (PRAGMA optimize)
-- under the old names, where no table would find them: move them along.
-- ANALYZE sqlite_schema makes sqlite_stat1 if it is missing and analyses
-- nothing else.  (A build with STAT4 also keeps sqlite_stat4 rows under the
-- old names: unused until the next ANALYZE, which PRAGMA optimize runs.)
ANALYZE sqlite_schema;
UPDATE sqlite_stat1 SET tbl = 'latticed_' || tbl,
	idx = CASE WHEN idx LIKE 'sqlite\_autoindex\_%' ESCAPE '\'
	    THEN 'sqlite_autoindex_latticed_' || substr(idx, 18) ELSE idx END
	WHERE tbl IN ('hosts', 'components', 'providers', 'links', 'configs',
	    'events', 'rejected_events', 'alerts');

-- The public names.  Each view lists the columns of its version 4 table
-- in table order.  CAST(... AS TEXT) gives each *_at the TEXT affinity of
-- the column it replaces, so comparisons convert as they did (*_at > 5
-- compares text); a view's column has no declared type.  The views are
-- simple (one table, no aggregate), so SQLite flattens them into the
-- reader's query and uses the tables' indexes.

CREATE VIEW hosts AS SELECT
	lattice, host_id, status, friendly_name, version, labels,
	uptime_seconds, stop_reason, first_seen_ms, last_seen_ms,
	last_heartbeat_ms, heartbeat_interval_ms, status_changed_ms, state_ms,
	inventory_hash,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', first_seen_ms / 1000.0,
	    'unixepoch') AS TEXT) AS first_seen_at,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', last_seen_ms / 1000.0,
	    'unixepoch') AS TEXT) AS last_seen_at,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', last_heartbeat_ms / 1000.0,
	    'unixepoch') AS TEXT) AS last_heartbeat_at,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', status_changed_ms / 1000.0,
	    'unixepoch') AS TEXT) AS status_changed_at,
	generation, hostname, environment, started_ms, os_name, os_arch,
	os_kernel, cpu_usage, memory_total, memory_free, component_count,
	workload_count, http_port, imports, exports,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', started_ms / 1000.0,
	    'unixepoch') AS TEXT) AS started_at
FROM latticed_hosts;

CREATE VIEW components AS SELECT
	lattice, host_id, component_id, image_ref, name, max_instances,
	revision, annotations, updated_ms,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', updated_ms / 1000.0,
	    'unixepoch') AS TEXT) AS updated_at
FROM latticed_components;

CREATE VIEW providers AS SELECT
	lattice, host_id, provider_id, link_name, image_ref, name,
	contract_id, revision, annotations, health, health_checked_ms,
	updated_ms,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', health_checked_ms / 1000.0,
	    'unixepoch') AS TEXT) AS health_checked_at,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', updated_ms / 1000.0,
	    'unixepoch') AS TEXT) AS updated_at
FROM latticed_providers;

CREATE VIEW links AS SELECT
	lattice, source_id, name, wit_namespace, wit_package, target,
	interfaces, source_config, target_config, legacy_values, updated_ms,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', updated_ms / 1000.0,
	    'unixepoch') AS TEXT) AS updated_at
FROM latticed_links;

CREATE VIEW configs AS SELECT
	lattice, config_name, legacy_keys, updated_ms,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', updated_ms / 1000.0,
	    'unixepoch') AS TEXT) AS updated_at
FROM latticed_configs;

CREATE VIEW events AS SELECT
	seq, lattice, subject, type, source, id, host_id, time_ms, time_raw,
	received_ms, outcome, data,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', time_ms / 1000.0,
	    'unixepoch') AS TEXT) AS time_at,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', received_ms / 1000.0,
	    'unixepoch') AS TEXT) AS received_at
FROM latticed_events;

CREATE VIEW rejected_events AS SELECT
	seq, received_ms, lattice, subject, reason, error, field, raw,
	raw_size,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', received_ms / 1000.0,
	    'unixepoch') AS TEXT) AS received_at
FROM latticed_rejected_events;

CREATE VIEW alerts AS SELECT
	alert_id, lattice, kind, severity, entity, host_id, summary, details,
	fired_ms, resolved_ms,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', fired_ms / 1000.0,
	    'unixepoch') AS TEXT) AS fired_at,
	CAST(strftime('%Y-%m-%dT%H:%M:%fZ', resolved_ms / 1000.0,
	    'unixepoch') AS TEXT) AS resolved_at
FROM latticed_alerts;

CREATE VIEW active_alerts AS
	SELECT * FROM alerts WHERE resolved_ms IS NULL;

-- docs/alerting.md promises that an operator may resolve an alert by hand
-- (UPDATE alerts SET resolved_ms = ... WHERE alert_id = ...) and that the
-- change is delivered like any other: the view passes an UPDATE on to the
-- table, where the alerts_queue_resolved trigger queues the delivery.
-- Every column a table UPDATE could set is passed on (the *_at ones are
-- computed and cannot be set).
CREATE TRIGGER alerts_update INSTEAD OF UPDATE ON alerts
BEGIN
	UPDATE latticed_alerts SET alert_id = new.alert_id,
	    lattice = new.lattice, kind = new.kind, severity = new.severity,
	    entity = new.entity, host_id = new.host_id,
	    summary = new.summary, details = new.details,
	    fired_ms = new.fired_ms, resolved_ms = new.resolved_ms
	    WHERE alert_id = old.alert_id;
END;
