package main

// jsonType is the JSON type of a glossary field.
type jsonType string

const (
	jsonString  jsonType = "string"
	jsonNumber  jsonType = "number"
	jsonBool    jsonType = "boolean"
	jsonArray   jsonType = "array"
	jsonObject  jsonType = "object"
	jsonPath    jsonType = "path"            // a string: an absolute path
	jsonTime    jsonType = "time"            // a string: RFC 3339, UTC
	jsonSeconds jsonType = "seconds"         // a number of seconds
	jsonOpaque  jsonType = "verbatim object" // passed on as the server sent it; not walked
)

// jsonField is one field name of the --json output.
type jsonField struct {
	name string
	typ  jsonType
}

// jsonGlossary is every field name the commands print with --json, with
// its type. The README's "JSON field glossary" says the same in words.
var jsonGlossary = glossary(
	jsonField{"id", jsonString},
	jsonField{"name", jsonString},
	jsonField{"prompt", jsonString},
	jsonField{"status", jsonString},
	jsonField{"error", jsonString},
	jsonField{"tags", jsonArray},
	jsonField{"created_at", jsonTime},
	jsonField{"formats", jsonArray},
	jsonField{"format", jsonString},
	jsonField{"assets", jsonArray},
	jsonField{"asset", jsonString},
	jsonField{"scene", jsonString},
	jsonField{"job", jsonString},
	jsonField{"asset_count", jsonNumber},
	jsonField{"revision", jsonString},
	jsonField{"edits", jsonArray},
	jsonField{"recovered", jsonBool},
	jsonField{"total", jsonNumber},
	jsonField{"offset", jsonNumber},
	jsonField{"limit", jsonNumber},
	jsonField{"remaining", jsonNumber},
	jsonField{"reset", jsonTime},
	jsonField{"api_url", jsonString},
	jsonField{"generation", jsonString},
	jsonField{"detected", jsonString},
	jsonField{"whoami", jsonOpaque},
	jsonField{"assets_total", jsonNumber},
	jsonField{"rate_limit", jsonObject},
	jsonField{"full_sync", jsonObject},
	jsonField{"requests", jsonNumber},
	jsonField{"duration_seconds", jsonSeconds},
	jsonField{"event", jsonString},
	jsonField{"time", jsonTime},
	jsonField{"seq", jsonNumber},
	jsonField{"stage", jsonString},
	jsonField{"terminal", jsonBool},
	jsonField{"data", jsonOpaque},
	jsonField{"bytes", jsonNumber},
	jsonField{"size", jsonNumber},
	jsonField{"sha256", jsonString},
	jsonField{"model", jsonPath},
	jsonField{"tree", jsonPath},
	jsonField{"path", jsonPath},
	jsonField{"valid", jsonBool},
	jsonField{"reason", jsonString},
	jsonField{"count", jsonNumber},
	jsonField{"complete", jsonBool},
	jsonField{"summary", jsonObject},
	jsonField{"assets_seen", jsonNumber},
	jsonField{"scenes_seen", jsonNumber},
	jsonField{"assets_ready", jsonNumber},
	jsonField{"assets_pending", jsonNumber},
	jsonField{"generation_failed", jsonNumber},
	jsonField{"assets_vanished", jsonNumber},
	jsonField{"assets_pruned", jsonNumber},
	jsonField{"assets_cached", jsonNumber},
	jsonField{"files_new", jsonNumber},
	jsonField{"files_skipped", jsonNumber},
	jsonField{"files_failed", jsonNumber},
	jsonField{"files_planned", jsonNumber},
	jsonField{"bytes_planned", jsonNumber},
	jsonField{"files_not_offered", jsonNumber},
	jsonField{"files_unknown_format", jsonNumber},
	jsonField{"unknown_formats", jsonArray},
	jsonField{"listing_complete", jsonBool},
	jsonField{"failures", jsonArray},
	jsonField{"kind", jsonString},
	jsonField{"etag", jsonString},
	jsonField{"vanished", jsonBool},
	jsonField{"unpacked", jsonBool},
	jsonField{"fetched_at", jsonTime},
	jsonField{"validation", jsonObject},
	jsonField{"error_count", jsonNumber},
	jsonField{"warning_count", jsonNumber},
	jsonField{"checked", jsonTime},
	jsonField{"root", jsonPath},
	jsonField{"schema_version", jsonNumber},
	jsonField{"entries", jsonNumber},
	jsonField{"blobs", jsonNumber},
	jsonField{"trees", jsonNumber},
	jsonField{"temp_files", jsonNumber},
	jsonField{"download_bytes", jsonNumber},
	jsonField{"disk_bytes", jsonNumber},
	jsonField{"problems", jsonArray},
	jsonField{"detail", jsonString},
	jsonField{"repaired", jsonBool},
	jsonField{"unresolved", jsonNumber},
	jsonField{"unreadable", jsonNumber},
	jsonField{"dry_run", jsonBool},
	jsonField{"removed", jsonArray},
	jsonField{"pruned", jsonArray},
	jsonField{"layouts", jsonArray},
	jsonField{"project", jsonPath},
	jsonField{"placed", jsonArray},
	jsonField{"target", jsonPath},
	jsonField{"layout", jsonString},
	jsonField{"slug", jsonString},
	jsonField{"scene_file", jsonPath},
	jsonField{"noop", jsonBool},
	jsonField{"folders_written", jsonNumber},
	jsonField{"folders_repaired", jsonNumber},
	jsonField{"folders_removed", jsonNumber},
	jsonField{"notes", jsonArray},
	jsonField{"unplaced", jsonArray},
	jsonField{"named", jsonBool},
	jsonField{"errors", jsonArray},
	jsonField{"warnings", jsonArray},
	jsonField{"not_checked", jsonArray},
	jsonField{"severity", jsonString},
	jsonField{"rule", jsonString},
	jsonField{"message", jsonString},
	jsonField{"file", jsonString},
	jsonField{"line", jsonNumber},
	jsonField{"col", jsonNumber},
	jsonField{"element", jsonString},
	jsonField{"via", jsonArray},
	jsonField{"first", jsonBool},
	jsonField{"children", jsonArray},
	jsonField{"joint", jsonObject},
	jsonField{"type", jsonString},
	jsonField{"axis", jsonArray},
	jsonField{"lower", jsonNumber},
	jsonField{"upper", jsonNumber},
	jsonField{"registry", jsonPath},
	jsonField{"projects", jsonArray},
	jsonField{"registered", jsonBool},
	jsonField{"added", jsonBool},
	jsonField{"service_file", jsonPath},
	jsonField{"key_file", jsonPath},
	jsonField{"enable", jsonString},
	jsonField{"ref", jsonString},
	jsonField{"digest", jsonString},
	jsonField{"blobs_uploaded", jsonNumber},
	jsonField{"blobs_present", jsonNumber},
	jsonField{"bytes_uploaded", jsonNumber},
	jsonField{"stored", jsonNumber},
	jsonField{"present", jsonNumber},
	jsonField{"bytes_fetched", jsonNumber},
)

func glossary(fs ...jsonField) map[string]jsonField {
	m := map[string]jsonField{}
	for _, f := range fs {
		m[f.name] = f
	}
	return m
}
