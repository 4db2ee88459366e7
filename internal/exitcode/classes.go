package exitcode

// Interrupted is the exit code of a command stopped by Ctrl-C or SIGTERM
// (128 + SIGINT, as shells report it).
const Interrupted = 130

// Class is one documented exit code: its number, the short stable word that
// names it in errors printed with --json ({"error": {"code": Name, ...}}),
// a summary used as the message of an error that carries no text of its own,
// and what it means, as the README's "Exit codes" table and
// "gizmo help exit-codes" say it (Markdown, one line).
type Class struct {
	Code    int
	Name    string
	Summary string
	Meaning string
}

// Classes lists every exit code gizmo uses, in order. The README's table
// is checked against it by a test in cmd/gizmo.
var Classes = []Class{
	{OK, "ok", "success", "success"},
	{Failure, "failure", "the command failed",
		"failure not listed below: the server is unreachable, does not answer within `--request-timeout`, is not the Gizmo API (HTML, wrong JSON, endless lists, refused redirects, no generation gizmo knows), a download is too large; the asset is not ready; a generation or edit failed; 402 no credits left; an I/O error"},
	{Usage, "usage", "bad usage",
		"usage: bad flags, arguments, format names or manifest (`gizmo.toml`); a special file (FIFO, device) given to `validate`; something the server's API generation lacks (URDF in the current one, scenes in the alpha one)"},
	{NotFound, "not_found", "not found",
		"not found: no such asset, scene, job, file or cache entry (`cache path` of something not cached; `prepare --offline` missing files); a folder given to `validate` that holds no model"},
	{Invalid, "invalid", "invalid content (the report says what)",
		"invalid content: a model, archive or cache entry has errors (`validate`, `prepare`, `cache verify`, `tree`)"},
	{Partial, "partial", "some items failed (the report says which)",
		"partial: some items failed while others succeeded (`sync`, whose run where every file failed exits 1; `prepare` when an asset the manifest names failed on Gizmo or is gone, the rest placed)"},
	{Auth, "auth", "authentication failed",
		"authentication: the API key is missing, wrong, or refused (401/403), or the key file is readable by others"},
	{Locked, "locked", "differs from gizmo.lock",
		"locked: `prepare --locked` found a difference from `gizmo.lock`, or `prepare` found pins in `gizmo.lock` that the cache and Gizmo cannot honour (never rewritten without `--update`)"},
	{NotRunning, "not_running", "no agent is running",
		"not running: `gizmo agent status` found no agent on this cache"},
	{Busy, "busy", "another agent holds this cache",
		"busy: another `gizmo agent run` holds this cache (one agent per cache)"},
	{Interrupted, "interrupted", "interrupted", "interrupted (Ctrl-C, SIGTERM)"},
}

// ClassOf returns the class of exit code code; a code gizmo does not
// document gets the class of Failure with its own number.
func ClassOf(code int) Class {
	for _, c := range Classes {
		if c.Code == code {
			return c
		}
	}
	c := Classes[Failure]
	c.Code = code
	return c
}
