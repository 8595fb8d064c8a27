-- latticectl fixture: load after schema/001_init.sql.
-- Two lattices (default, prod), hosts in every status, one of each
-- current-state row kind, events, one active and one resolved alert, and
-- hostile strings: a raw ESC sequence and newline in a label, a friendly
-- name with C1, bidi override, DEL and invalid UTF-8 bytes.
-- Times are fixed (2025-11-25T20:13:47.123Z = 1764101627123) so the
-- expected outputs never change.
PRAGMA user_version = 1;

INSERT INTO hosts (lattice, host_id, status, friendly_name, version, labels,
    uptime_seconds, stop_reason, first_seen_ms, last_seen_ms,
    last_heartbeat_ms, heartbeat_interval_ms, status_changed_ms, state_ms,
    inventory_hash) VALUES
('default', 'NAUPHOST0001', 'up', 'quiet-sun-4821', '1.9.2',
    '{"evil":"\u001b[31mred\nline","region":"eu-west"}',
    3600, NULL, 1764098027123, 1764101627123, 1764101627123, 30000,
    1764098027123, 1764101627123, 42),
('default', 'NBSTALEHOST2', 'stale', 'old-moon-' || char(27) || ']0;pwned'
    || char(7) || char(10) || 'x' || char(127) || char(155) || char(8238)
    || CAST(x'ff' AS TEXT) || 'end',
    '1.0.0',
    '{"note":"' || char(27) || '[2J' || char(10) || 'second line"}',
    120, NULL, 1764090000000, 1764100000000, 1764100000000, 30000,
    1764100090000, 1764100000000, NULL),
('prod', 'NCSTOPPED003', 'stopped', 'brave-star', '1.9.2', '{}',
    86400, 'shutdown', 1764000000000, 1764101000000, 1764100990000, 30000,
    1764101000000, 1764101000000, 7),
('prod', 'NDUPHOST0004', 'up', NULL, '1.9.2', '{"zone":"b"}',
    NULL, NULL, 1764100000000, 1764101627000, NULL, NULL,
    1764100000000, 1764101627000, NULL);

INSERT INTO components (lattice, host_id, component_id, image_ref, name,
    max_instances, revision, annotations, updated_ms) VALUES
('default', 'NAUPHOST0001', 'http-hello', 'ghcr.io/wasmcloud/hello:0.1.0',
    'Hello', 4, 1, '{"wasmcloud.dev/appspec":"hello"}', 1764100000000),
('default', 'NBSTALEHOST2', 'kv-counter', 'ghcr.io/wasmcloud/kvc:0.2.0',
    NULL, 1, NULL, '{}', 1764090000000),
('prod', 'NDUPHOST0004', 'echo', 'file:///srv/echo.wasm', 'Echo', 10, 3,
    '{}', 1764101500000);

INSERT INTO providers (lattice, host_id, provider_id, link_name, image_ref,
    name, contract_id, revision, annotations, health, health_checked_ms,
    updated_ms) VALUES
('default', 'NAUPHOST0001', 'httpserver', 'default',
    'ghcr.io/wasmcloud/http-server:0.23.0', 'HTTP Server', NULL, NULL,
    '{}', 'passing', 1764101600000, 1764100000000),
('prod', 'NDUPHOST0004', 'kv-redis', 'cache',
    'ghcr.io/wasmcloud/keyvalue-redis:0.28.1', NULL, 'wasmcloud:keyvalue',
    2, '{"a":"b"}', 'failing', 1764101620000, 1764101500000);

INSERT INTO links (lattice, source_id, name, wit_namespace, wit_package,
    target, interfaces, source_config, target_config, legacy_values,
    updated_ms) VALUES
('default', 'httpserver', 'default', 'wasi', 'http', 'http-hello',
    '["incoming-handler"]', '["listen-config"]', '[]', NULL, 1764100100000),
('prod', 'echo', 'cache', 'wasi', 'keyvalue', 'kv-redis',
    '["store","atomics","batch","watch","a-very-long-interface-name"]',
    '[]', '["redis-url"]', NULL, 1764101510000);

INSERT INTO configs (lattice, config_name, legacy_keys, updated_ms) VALUES
('default', 'listen-config', '["address"]', 1764100050000),
('prod', 'redis-url', NULL, 1764101505000);

INSERT INTO events (seq, lattice, subject, type, source, id, host_id,
    time_ms, time_raw, received_ms, outcome, data) VALUES
(1, 'default', 'wasmbus.evt.default.host_started',
    'com.wasmcloud.lattice.host_started', 'NAUPHOST0001', 'ev-1',
    'NAUPHOST0001', 1764098027123, '2025-11-25T19:13:47.123Z',
    1764098027200, 'applied',
    '{"labels":{"region":"eu-west"}}'),
(2, 'default', 'wasmbus.evt.default.host_heartbeat',
    'com.wasmcloud.lattice.host_heartbeat', 'NBSTALEHOST2', 'ev-2',
    'NBSTALEHOST2', 1764100000000, '2025-11-25T19:46:40Z', 1764100000050,
    'applied', '{"uptime_seconds":120}'),
(3, 'default', 'wasmbus.evt.default.config_set',
    'com.wasmcloud.lattice.config_set', 'NAUPHOST0001', 'ev-3', NULL,
    1764100050000, NULL, 1764100050010, 'applied',
    '{"config_name":"listen-config"}'),
(4, 'prod', 'wasmbus.evt.prod.host_stopped',
    'com.wasmcloud.lattice.host_stopped', 'NCSTOPPED003', 'ev-4',
    'NCSTOPPED003', 1764101000000, NULL, 1764101000020, 'applied',
    '{"reason":"shutdown"}'),
(5, 'prod', 'wasmbus.evt.prod.host_heartbeat',
    'com.wasmcloud.lattice.host_heartbeat', 'NDUPHOST0004', 'ev-5',
    'NDUPHOST0004', 1764101627000, NULL, 1764101627010, 'unchanged',
    '[1,2.5,true]'),
(6, 'default', 'wasmbus.evt.default.host_heartbeat',
    'com.wasmcloud.lattice.host_heartbeat', 'NAUPHOST0001', 'ev-6',
    'NAUPHOST0001', 1764101627123, NULL, 1764101627130, 'superseded',
    '"just a string"');

INSERT INTO alerts (alert_id, lattice, kind, severity, entity, host_id,
    summary, details, fired_ms, resolved_ms) VALUES
(1, 'prod', 'host_stopped', 'info', 'host:NCSTOPPED003', 'NCSTOPPED003',
    'host brave-star stopped (shutdown)', '{"reason":"shutdown"}',
    1764101000000, 1764101300000),
(2, 'default', 'host_stale', 'warning', 'host:NBSTALEHOST2',
    'NBSTALEHOST2', 'host old-moon silent for 90s',
    '{"last_seen_ms":1764100000000,"interval_ms":30000}', 1764100090000,
    NULL);
