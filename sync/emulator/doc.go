// Package emulator is a Gizmo-compatible HTTP server: the tests, the
// benchmarks and the demo run against it instead of the hosted service.
//
// It implements every endpoint of the API contract (docs: gizmo-api.md) with
// its validation and its errors, serves the download URLs it mints, and adds
// GET /_emulator/stats (request and non-2xx counts per route).
//
// Assets live in memory, ordered by creation; with Config.StateDir they are
// kept in state.json there (written to a temporary file and renamed) and come
// back after a restart, with the current generation's scenes and jobs. Seeded assets (Config.Assets, Seed) have ids "ast_" +
// base36 chosen by the seed, prompts cycling over robot kinds, and a status
// chosen by their index: most ready, some pending, processing or failed.
// Created assets are pending, then processing after GenDelay/2, then ready
// (or failed, with FailRate) after GenDelay. Seeded pending and processing
// assets keep their status, unless Config.SeedSettle is set: then they
// progress the same way, SeedSettle counted from their seeding, and the
// failed ones among them are drawn from the seed. Statuses are computed from
// the clock (Config.Now): no goroutine runs.
//
// Download URLs are /_download/{id}/{format}?expires=UNIX&sig=HEX, signed
// with HMAC-SHA256 over id, format and expiry. An expired or tampered URL gets
// 403 with an XML error body, as object stores answer; a download request
// carrying an Authorization header gets 400 (and is counted in Stats, so tests
// can prove the API key never reaches the download host). Export bodies come
// from the procedural robot generator (formats/procgen), kept in an LRU
// bounded in bytes; the ETag is the quoted hex SHA-256 prefix of the body.
//
// Serving is kept cheap, since the emulator shares the CPU with the client
// a benchmark measures: an asset never changes once added, so its JSON is
// encoded once per status it shows (the clock moves the status on, and a
// new status is encoded afresh); the usual export body and download query
// are read without encoding/json or url.ParseQuery, any other going the
// general way; download headers are made once per cached export.
//
// Fault injection, seeded and safe for concurrent use, can change at run time
// (SetFaults): a share of 5xx answers, a token bucket of requests per second
// beyond which API calls get 429 with Retry-After: 1, a share of downloads
// cut short after the full Content-Length was announced, slow download bodies,
// and a share of generations that end failed.
//
// With Config.API APICurrent the server speaks the current generation
// instead (current.go, jobs.go, events.go, scenes.go, ratelimit.go): the
// same assets under /v1/, creates that answer 202 with a job, jobs whose
// state comes from the clock as assets' statuses do, their events as
// Server-Sent Events in the documented or the live dialect, ZIP exports in
// the answer to POST .../export (mjcf, usd, sdf), scenes made of assets and
// edited in words, the nested error envelope, fixed-window rate limits with
// X-RateLimit-* headers and credits. What the vendor's documents leave open
// is chosen there and configurable through Config.Current.
package emulator
