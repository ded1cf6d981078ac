/**
 * Schema migrations of the store's metadata database, applied in order inside one
 * transaction each; `PRAGMA user_version` records how many have run. Never edit a
 * migration that has shipped: add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: images, their blobs and layers, tags, per-driver snapshots, containers, settings.
  `
  CREATE TABLE images (
    id              TEXT PRIMARY KEY,
    manifest_digest TEXT NOT NULL,
    created         TEXT NOT NULL,
    size            INTEGER NOT NULL,
    parent          TEXT,
    added           TEXT NOT NULL,
    last_tag_time   TEXT
  );
  CREATE TABLE layers (
    diff_id         TEXT PRIMARY KEY,
    blob_digest     TEXT NOT NULL,
    blob_media_type TEXT NOT NULL,
    blob_size       INTEGER NOT NULL,
    size            INTEGER NOT NULL
  );
  CREATE TABLE image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    idx      INTEGER NOT NULL,
    diff_id  TEXT NOT NULL REFERENCES layers(diff_id),
    chain_id TEXT NOT NULL,
    PRIMARY KEY (image_id, idx)
  );
  CREATE INDEX image_layers_chain ON image_layers(chain_id);
  CREATE TABLE image_blobs (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    digest   TEXT NOT NULL,
    PRIMARY KEY (image_id, digest)
  );
  CREATE INDEX image_blobs_digest ON image_blobs(digest);
  CREATE TABLE tags (
    name     TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id),
    created  TEXT NOT NULL
  );
  CREATE INDEX tags_image ON tags(image_id);
  CREATE TABLE repo_digests (
    name     TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
  );
  CREATE TABLE snapshots (
    driver   TEXT NOT NULL,
    chain_id TEXT NOT NULL,
    created  TEXT NOT NULL,
    PRIMARY KEY (driver, chain_id)
  );
  CREATE TABLE containers (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    image_id  TEXT NOT NULL REFERENCES images(id),
    driver    TEXT NOT NULL,
    created   TEXT NOT NULL,
    config    TEXT NOT NULL,
    state     TEXT NOT NULL
  );
  CREATE INDEX containers_image ON containers(image_id);
  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: registries. Compressed variants of layers (an imported layer gzipped for a push keeps
  // one digest, so a second push uploads nothing), and the repositories a blob is known to
  // be in (cross-repository mounts on push, docker's v2metadata).
  `
  CREATE TABLE layer_variants (
    diff_id     TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    blob_digest TEXT NOT NULL,
    blob_size   INTEGER NOT NULL,
    PRIMARY KEY (diff_id, media_type)
  );
  CREATE TABLE blob_sources (
    digest     TEXT NOT NULL,
    repository TEXT NOT NULL,
    PRIMARY KEY (digest, repository)
  );
  `,
  // 3: the build cache (docker's classic builder): the image a step made, keyed by the image
  // it started from ("" for scratch) and the step's cache key (instruction, build args a RUN
  // uses, content hash of COPY/ADD sources). A row goes with its image.
  `
  CREATE TABLE build_cache (
    parent_id TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    image_id  TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    created   TEXT NOT NULL,
    PRIMARY KEY (parent_id, cache_key)
  );
  CREATE INDEX build_cache_image ON build_cache(image_id);
  `,
];
