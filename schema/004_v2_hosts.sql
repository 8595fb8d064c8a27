-- latticed schema, migration 004: wasmCloud 2 hosts.
--
-- A wasmCloud 2 host (washlet, v2.x) publishes no lattice CloudEvents: it
-- only sends a HostHeartbeat (wasmcloud.runtime.v2, JSON) every 15 s on
-- runtime.operator.heartbeat.<host_id>.  latticed keeps those hosts in the
-- same hosts table; `generation` tells them apart and the new columns hold
-- what only a v2 heartbeat reports.  Every new column is NULL for a v1 host
-- (and until a v2 heartbeat carried it).  See docs/schema.md.
--
-- ALTER TABLE ADD COLUMN keeps the table STRICT; a CHECK on an added column
-- is verified against the existing rows, which all take the DEFAULT 'v1'.

ALTER TABLE hosts ADD COLUMN generation TEXT NOT NULL DEFAULT 'v1'
	CHECK (generation = 'v1' OR generation = 'v2');
ALTER TABLE hosts ADD COLUMN hostname TEXT;
ALTER TABLE hosts ADD COLUMN environment TEXT;
ALTER TABLE hosts ADD COLUMN started_ms INTEGER;
ALTER TABLE hosts ADD COLUMN os_name TEXT;
ALTER TABLE hosts ADD COLUMN os_arch TEXT;
ALTER TABLE hosts ADD COLUMN os_kernel TEXT;
ALTER TABLE hosts ADD COLUMN cpu_usage REAL;
ALTER TABLE hosts ADD COLUMN memory_total INTEGER
	CHECK (memory_total >= 0);
ALTER TABLE hosts ADD COLUMN memory_free INTEGER
	CHECK (memory_free >= 0);
ALTER TABLE hosts ADD COLUMN component_count INTEGER
	CHECK (component_count >= 0);
ALTER TABLE hosts ADD COLUMN workload_count INTEGER
	CHECK (workload_count >= 0);
ALTER TABLE hosts ADD COLUMN http_port INTEGER
	CHECK (http_port >= 0 AND http_port <= 4294967295);
ALTER TABLE hosts ADD COLUMN imports TEXT;
ALTER TABLE hosts ADD COLUMN exports TEXT;
ALTER TABLE hosts ADD COLUMN started_at TEXT GENERATED ALWAYS AS (strftime(
	'%Y-%m-%dT%H:%M:%fZ', started_ms / 1000.0, 'unixepoch')) VIRTUAL;
