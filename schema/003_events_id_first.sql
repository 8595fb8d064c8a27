-- latticed schema, migration 003: the duplicate index leads with the id.
--
-- Hosts make event ids from ULIDs (wasmCloud: Uuid::from_u128(Ulid::new())),
-- which sort by time.  Keyed (id, source), the unique index that drops
-- duplicates takes each new event at its right-hand edge; keyed (source,
-- id) it took it in one place per host, so every commit rewrote a page of
-- it per host that had sent anything.  Same uniqueness, same lookups by
-- (source, id): only the column order changes.  See docs/schema.md.

CREATE UNIQUE INDEX events_id_source ON events (id, source);
DROP INDEX events_source_id;
