-- latticed schema, migration 001: the lattice model.
--
-- This file is a public interface: operators query these tables directly
-- while latticed writes (WAL mode).  Released migrations are never edited;
-- changes come as new numbered files.  See docs/schema.md for every table
-- and column with example queries.
--
-- CHECKs list their values with OR rather than IN (...): SQLite 3.40
-- builds a temporary table for an IN list of more than two values on
-- every insert, which showed up in the fold's profile.
--
-- Conventions
--   * Every time is stored twice: *_ms is INTEGER milliseconds since the
--     Unix epoch (UTC) for programs, *_at is the same instant as ISO 8601
--     text ('2026-11-25T20:13:47.123Z') for people and for SQLite's date
--     functions.  The *_at columns are generated, so they cost no storage.
--   * JSON columns hold valid JSON text (objects or arrays as documented).
--   * Rows in the current-state tables (hosts, components, providers,
--     links, configs) describe the lattice as latticed last saw it; the
--     events table is the history.

CREATE TABLE hosts (
	lattice			TEXT NOT NULL,
	host_id			TEXT NOT NULL,
	status			TEXT NOT NULL
				CHECK (status = 'up' OR status = 'stale' OR
				status = 'stopped'),
	friendly_name		TEXT,
	version			TEXT,
	labels			TEXT NOT NULL DEFAULT '{}',
	uptime_seconds		INTEGER,
	stop_reason		TEXT,
	first_seen_ms		INTEGER NOT NULL,
	last_seen_ms		INTEGER NOT NULL,
	last_heartbeat_ms	INTEGER,
	heartbeat_interval_ms	INTEGER,
	status_changed_ms	INTEGER NOT NULL,
	state_ms		INTEGER NOT NULL,
	inventory_hash		INTEGER,
	first_seen_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', first_seen_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	last_seen_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', last_seen_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	last_heartbeat_at	TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', last_heartbeat_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	status_changed_at	TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', status_changed_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	PRIMARY KEY (lattice, host_id)
) STRICT;

CREATE INDEX hosts_status ON hosts (status, lattice);

CREATE TABLE components (
	lattice			TEXT NOT NULL,
	host_id			TEXT NOT NULL,
	component_id		TEXT NOT NULL,
	image_ref		TEXT,
	name			TEXT,
	max_instances		INTEGER NOT NULL CHECK (max_instances > 0),
	revision		INTEGER,
	annotations		TEXT NOT NULL DEFAULT '{}',
	updated_ms		INTEGER NOT NULL,
	updated_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', updated_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	PRIMARY KEY (lattice, host_id, component_id),
	FOREIGN KEY (lattice, host_id) REFERENCES hosts (lattice, host_id)
		ON DELETE CASCADE
) STRICT;

CREATE INDEX components_by_id ON components (component_id, lattice);

CREATE TABLE providers (
	lattice			TEXT NOT NULL,
	host_id			TEXT NOT NULL,
	provider_id		TEXT NOT NULL,
	link_name		TEXT NOT NULL DEFAULT 'default',
	image_ref		TEXT,
	name			TEXT,
	contract_id		TEXT,
	revision		INTEGER,
	annotations		TEXT NOT NULL DEFAULT '{}',
	health			TEXT NOT NULL DEFAULT 'unknown'
				CHECK (health = 'unknown' OR health = 'passing'
				OR health = 'failing'),
	health_checked_ms	INTEGER,
	updated_ms		INTEGER NOT NULL,
	health_checked_at	TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', health_checked_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	updated_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', updated_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	PRIMARY KEY (lattice, host_id, provider_id, link_name),
	FOREIGN KEY (lattice, host_id) REFERENCES hosts (lattice, host_id)
		ON DELETE CASCADE
) STRICT;

CREATE INDEX providers_by_id ON providers (provider_id, lattice);

CREATE TABLE links (
	lattice			TEXT NOT NULL,
	source_id		TEXT NOT NULL,
	name			TEXT NOT NULL,
	wit_namespace		TEXT NOT NULL,
	wit_package		TEXT NOT NULL,
	target			TEXT,
	interfaces		TEXT NOT NULL DEFAULT '[]',
	source_config		TEXT NOT NULL DEFAULT '[]',
	target_config		TEXT NOT NULL DEFAULT '[]',
	legacy_values		TEXT,
	updated_ms		INTEGER NOT NULL,
	updated_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', updated_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	PRIMARY KEY (lattice, source_id, name, wit_namespace, wit_package)
) STRICT;

CREATE TABLE configs (
	lattice			TEXT NOT NULL,
	config_name		TEXT NOT NULL,
	legacy_keys		TEXT,
	updated_ms		INTEGER NOT NULL,
	updated_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', updated_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	PRIMARY KEY (lattice, config_name)
) STRICT;

CREATE TABLE events (
	seq			INTEGER PRIMARY KEY,
	lattice			TEXT NOT NULL,
	subject			TEXT NOT NULL,
	type			TEXT NOT NULL,
	source			TEXT NOT NULL,
	id			TEXT NOT NULL,
	host_id			TEXT,
	time_ms			INTEGER NOT NULL,
	time_raw		TEXT,
	received_ms		INTEGER NOT NULL,
	outcome			TEXT NOT NULL
				CHECK (outcome = 'applied' OR
				outcome = 'unchanged' OR
				outcome = 'superseded' OR
				outcome = 'recorded'),
	data			TEXT,
	time_at			TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', time_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	received_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', received_ms / 1000.0,
				'unixepoch')) VIRTUAL
) STRICT;

-- CloudEvents: the same (source, id) is the same event.  This index is how
-- latticed drops duplicates, in the transaction that applies the event.
CREATE UNIQUE INDEX events_source_id ON events (source, id);
CREATE INDEX events_host ON events (lattice, host_id, time_ms);
CREATE INDEX events_received ON events (received_ms);

CREATE TABLE rejected_events (
	seq			INTEGER PRIMARY KEY,
	received_ms		INTEGER NOT NULL,
	lattice			TEXT,
	subject			TEXT,
	reason			TEXT NOT NULL,
	error			TEXT NOT NULL
				CHECK (error = 'parse' OR error = 'invalid' OR
				error = 'limit' OR error = 'unsupported' OR
				error = 'poison'),
	field			TEXT,
	raw			BLOB NOT NULL,
	raw_size		INTEGER NOT NULL,
	received_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', received_ms / 1000.0,
				'unixepoch')) VIRTUAL
) STRICT;

CREATE INDEX rejected_received ON rejected_events (received_ms);

CREATE TABLE alerts (
	alert_id		INTEGER PRIMARY KEY,
	lattice			TEXT NOT NULL,
	kind			TEXT NOT NULL,
	severity		TEXT NOT NULL
				CHECK (severity = 'info' OR
				severity = 'warning' OR
				severity = 'critical'),
	entity			TEXT NOT NULL,
	host_id			TEXT,
	summary			TEXT NOT NULL,
	details			TEXT NOT NULL DEFAULT '{}',
	fired_ms		INTEGER NOT NULL,
	resolved_ms		INTEGER,
	fired_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', fired_ms / 1000.0,
				'unixepoch')) VIRTUAL,
	resolved_at		TEXT GENERATED ALWAYS AS (strftime(
				'%Y-%m-%dT%H:%M:%fZ', resolved_ms / 1000.0,
				'unixepoch')) VIRTUAL
) STRICT;

-- At most one unresolved alert per (lattice, kind, entity): one alert per
-- change, never one per sweep.
CREATE UNIQUE INDEX alerts_one_active ON alerts (lattice, kind, entity)
	WHERE resolved_ms IS NULL;

CREATE VIEW active_alerts AS
	SELECT * FROM alerts WHERE resolved_ms IS NULL;

-- Small internal key/value state (JetStream position, etc.).  Not part of
-- the public interface; documented for completeness.
CREATE TABLE latticed_state (
	key			TEXT PRIMARY KEY,
	value			ANY
) STRICT;
