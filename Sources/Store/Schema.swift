// Schema.swift -- the store's tables, one migration per schema version.

/// The store's schema, as migrations; `PRAGMA user_version` counts the applied ones.
///
/// Prefixes are stored as three columns: `family` (4 or 6), `addr` (big-endian blob, 4 or
/// 16 bytes, so blob order is address order and a range scan finds every prefix inside a
/// network) and `plen`. Times are unix seconds.
enum Schema {
    /// `PRAGMA application_id`: "rbld". A file with another id is not ours.
    static let applicationID: Int32 = 0x7262_6C64

    /// Migration n (1-based) brings user_version from n-1 to n. Never edit a shipped one.
    static let migrations: [StaticString] = [
        // 1: the store: zones, manual entries, exclusions, delistings, hits, sources, audit,
        // change log, snapshot cache.
        """
        CREATE TABLE zones(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            settings TEXT NOT NULL,             -- ZoneSettings as JSON
            policy TEXT NOT NULL,               -- ListingPolicy as JSON
            created INTEGER NOT NULL
        );
        -- Manual listings: imported from list files (origin 0) or added by `rbld list`
        -- (origin 1). An import with replace removes only earlier imported rows.
        -- Prefix-keyed tables are WITHOUT ROWID: one B-tree, so a sorted bulk import appends.
        CREATE TABLE manual_listings(
            zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
            family INTEGER NOT NULL CHECK (family IN (4, 6)),
            addr BLOB NOT NULL,
            plen INTEGER NOT NULL,
            code INTEGER,                       -- X of 127.0.0.X; NULL = the zone default
            txt TEXT,                           -- own TXT template; NULL = the zone's
            origin INTEGER NOT NULL,            -- 0 = import, 1 = admin
            created INTEGER NOT NULL,
            expires INTEGER,                    -- NULL = never
            actor TEXT,                         -- admin rows; imports name theirs in audit_id's row
            reason TEXT,
            audit_id INTEGER,                   -- the audit row that wrote this row
            PRIMARY KEY (zone_id, family, addr, plen)
        ) WITHOUT ROWID;
        -- Exclusions (allowlist): win over everything, punch holes in wider listings.
        CREATE TABLE exclusions(
            zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
            family INTEGER NOT NULL CHECK (family IN (4, 6)),
            addr BLOB NOT NULL,
            plen INTEGER NOT NULL,
            origin INTEGER NOT NULL,            -- 0 = import, 1 = admin
            created INTEGER NOT NULL,
            actor TEXT,
            reason TEXT,
            audit_id INTEGER,
            PRIMARY KEY (zone_id, family, addr, plen)
        ) WITHOUT ROWID;
        -- Delistings: suppress scored listings inside the prefix whose last hit is not
        -- newer than `created`.
        CREATE TABLE delistings(
            zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
            family INTEGER NOT NULL CHECK (family IN (4, 6)),
            addr BLOB NOT NULL,
            plen INTEGER NOT NULL,
            created INTEGER NOT NULL,
            actor TEXT NOT NULL,
            reason TEXT NOT NULL,
            audit_id INTEGER,
            PRIMARY KEY (zone_id, family, addr, plen)
        ) WITHOUT ROWID;
        -- Hits: one distinct message (by digest) at a trap, attributed to one source.
        CREATE TABLE hits(
            id INTEGER PRIMARY KEY,
            zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
            time INTEGER NOT NULL,              -- when the message arrived at the trap
            recorded INTEGER NOT NULL,          -- when ingest stored it
            family INTEGER NOT NULL CHECK (family IN (4, 6)),
            addr BLOB NOT NULL,
            kind TEXT NOT NULL,
            trap TEXT NOT NULL,                 -- trap address, local part redacted
            reporter TEXT,                      -- the trap MTA that received it
            digest BLOB NOT NULL,
            excerpt TEXT,                       -- header excerpt, trap local part redacted
            UNIQUE (zone_id, digest)
        );
        CREATE INDEX hits_by_source ON hits(zone_id, family, addr, time);
        -- Per-source aggregates, maintained on every hit. `until` is when the current
        -- listing ends (NULL = not listed), so expiry needs no job.
        CREATE TABLE sources(
            zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
            family INTEGER NOT NULL CHECK (family IN (4, 6)),
            addr BLOB NOT NULL,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            hit_count INTEGER NOT NULL,
            score REAL NOT NULL,                -- decayed score as of last_seen
            kinds INTEGER NOT NULL,             -- kinds of the hits of the current listing
            all_kinds INTEGER NOT NULL,         -- kinds ever seen
            listed_since INTEGER,
            until INTEGER,
            last_hit_id INTEGER,
            PRIMARY KEY (zone_id, family, addr)
        ) WITHOUT ROWID;
        CREATE INDEX sources_by_until ON sources(zone_id, until) WHERE until IS NOT NULL;
        -- Every admin action and import: who, when, what, why, before and after (JSON).
        CREATE TABLE audit(
            id INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            zone_id INTEGER REFERENCES zones(id) ON DELETE SET NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            family INTEGER,
            addr BLOB,
            plen INTEGER,
            prefix TEXT,                        -- readable copy of the prefix
            reason TEXT NOT NULL,
            before TEXT,
            after TEXT
        );
        CREATE INDEX audit_by_prefix ON audit(zone_id, family, addr) WHERE family IS NOT NULL;
        -- Change log: prefixes whose served state may have changed, in commit order.
        -- family 0 = "everything may have changed" (bulk import, settings): rebuild.
        CREATE TABLE change_log(
            serial INTEGER PRIMARY KEY AUTOINCREMENT,
            zone_id INTEGER NOT NULL,
            time INTEGER NOT NULL,
            family INTEGER NOT NULL,
            addr BLOB,
            plen INTEGER
        );
        -- (No index on zone_id: readers ask for serials after a recent one, a short range of the key.)
        -- Store-wide values (`change_log_pruned_through`: the log no longer reaches back
        -- to serials at or below this).
        CREATE TABLE meta(
            key TEXT PRIMARY KEY,
            value
        );
        -- The DNS side's opaque start-up cache.
        CREATE TABLE snapshot_cache(
            zone_id INTEGER PRIMARY KEY REFERENCES zones(id) ON DELETE CASCADE,
            serial INTEGER NOT NULL,
            bytes BLOB NOT NULL
        );
        """,
        // 2: hits are deduplicated through an index of the digest's first 8 bytes instead of
        // a UNIQUE index of the whole digest (42 bytes an entry down to about 17, so a batch
        // of random digests dirties half the pages); `recordHits` still compares the whole
        // digest, so two messages are one hit only when their digests are equal. A UNIQUE
        // constraint cannot be dropped in place: the table is rebuilt (SQLite's 12-step
        // ALTER; nothing references hits, so no foreign key needs checking).
        """
        CREATE TABLE hits_v2(
            id INTEGER PRIMARY KEY,
            zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
            time INTEGER NOT NULL,              -- when the message arrived at the trap
            recorded INTEGER NOT NULL,          -- when ingest stored it
            family INTEGER NOT NULL CHECK (family IN (4, 6)),
            addr BLOB NOT NULL,
            kind TEXT NOT NULL,
            trap TEXT NOT NULL,                 -- trap address, local part redacted
            reporter TEXT,                      -- the trap MTA that received it
            digest BLOB NOT NULL,               -- unique per zone, enforced by recordHits
            excerpt TEXT                        -- header excerpt, trap local part redacted
        );
        INSERT INTO hits_v2(id, zone_id, time, recorded, family, addr, kind, trap, reporter, digest, excerpt)
            SELECT id, zone_id, time, recorded, family, addr, kind, trap, reporter, digest, excerpt FROM hits ORDER BY id;
        DROP TABLE hits;
        ALTER TABLE hits_v2 RENAME TO hits;
        CREATE INDEX hits_by_source ON hits(zone_id, family, addr, time);
        CREATE INDEX hits_by_digest ON hits(zone_id, substr(digest, 1, 8));
        """,
        // 3: no index of sources by `until`. Every hit moves its source's `until`, so the
        // index cost a delete and an insert at a random place per source and batch, while
        // only `stats` read it, for a count that a scan of `sources` gives in about 0.1 s
        // at a million sources. (The DNS side learns expiry from `Listing.expires`.)
        """
        DROP INDEX sources_by_until;
        """,
        // 4: hits are deduplicated per source: one UNIQUE index of (zone, source, digest)
        // instead of one index by digest and another by source and time. Every new hit
        // inserted into both, each at a random place; now the insert's own uniqueness check
        // finds a repeated message, and a batch sorted by source inserts in key order. The
        // digest covers the Received fields that attribution reads, so with the same trusted
        // networks a message is still one hit; attributed to another source (other trusted
        // networks) it counts for that source too. `show` reads the hits recorded last by id
        // through the same index.
        """
        DROP INDEX hits_by_digest;
        DROP INDEX hits_by_source;
        CREATE UNIQUE INDEX hits_by_source ON hits(zone_id, family, addr, digest);
        """,
        // 5: evidence strength. A hit is strong (structural evidence) or weak (wording
        // alone), and carries a key of the trap it reached, so weak hits can be counted by
        // distinct traps without the trap's address being stored. Rows from before are
        // strong, with no trap key. A source keeps when its last counting hit was (NULL:
        // `last_seen`, as every hit of such a row counted), its weak hits, until when its
        // weak evidence would list it if corroborated, and an operator's confirmation or
        // rejection of that evidence. The trap keys' secret is made once, here.
        """
        ALTER TABLE hits ADD COLUMN strength INTEGER NOT NULL DEFAULT 0;    -- 0 strong, 1 weak
        ALTER TABLE hits ADD COLUMN trap_key BLOB;                           -- keyed hash of a weak hit's trap address
        ALTER TABLE sources ADD COLUMN last_counted INTEGER;
        ALTER TABLE sources ADD COLUMN weak_hits INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN held_until INTEGER;
        ALTER TABLE sources ADD COLUMN confirmed INTEGER;
        ALTER TABLE sources ADD COLUMN rejected INTEGER;
        -- Held-back sources for `rbld hits --weak`; a source without weak evidence is no entry.
        CREATE INDEX sources_held ON sources(zone_id, held_until) WHERE held_until IS NOT NULL;
        INSERT INTO meta(key, value) VALUES ('trap_key_secret', randomblob(32));
        """,
        // 6: delisting requests from the web side (self-service and operator review): who
        // asked (client address, e-mail, reason), for which address, and the outcome. The
        // delisting itself, when made, is an ordinary delisting with its audit row.
        """
        CREATE TABLE delist_requests(
            id INTEGER PRIMARY KEY,
            zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
            time INTEGER NOT NULL,
            family INTEGER NOT NULL CHECK (family IN (4, 6)),
            addr BLOB NOT NULL,
            client TEXT NOT NULL,               -- the requesting client's address
            email TEXT NOT NULL,
            reason TEXT NOT NULL,
            status TEXT NOT NULL,               -- delisted, pending, refused, approved, denied
            note TEXT NOT NULL,                 -- why that outcome
            decided INTEGER,                    -- when an operator decided a pending request
            decided_by TEXT,
            audit_id INTEGER                    -- the audit row of the outcome
        );
        CREATE INDEX delist_requests_by_source ON delist_requests(zone_id, family, addr, time);
        CREATE INDEX delist_requests_pending ON delist_requests(zone_id, time) WHERE status = 'pending';
        """,
        // 7: IPv6 sources scored per network (the policy's `ipv6Prefix`, a /64 by default).
        // A source row keeps its key, the network's first address, and gains its length
        // (NULL: a single address, /32 or /128, as every row before). A hit's `addr` is its
        // source's, so the hits of a source are found as before; `client` keeps the address
        // that delivered it when that differs (NULL: `addr` itself). Rows from before are
        // single addresses and stay as they are.
        """
        ALTER TABLE sources ADD COLUMN plen INTEGER;
        ALTER TABLE hits ADD COLUMN client BLOB;
        """,
    ]

    static var currentVersion: Int { migrations.count }
}
