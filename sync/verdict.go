package sync

import (
	"context"
	"fmt"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/formats"
	"github.com/antimlabs/gizmo/internal/archive"
)

// check is what the cache runs on a new download before recording it:
// the Validator, for URDF and MJCF models.
func (f *fetcher) check() cache.Check {
	if f.opts.Validator == nil {
		return nil
	}
	return func(ctx context.Context, e cache.Entry, files *archive.Overlay) *cache.Validation {
		if !validatable(e) {
			return nil
		}
		return f.judge(ctx, e, files)
	}
}

// needsVerdict tells whether a stored file lacks a verdict that this run
// would give it: none recorded, or one recorded by an interrupted
// validation (earlier versions kept "context canceled" as an error).
func (f *fetcher) needsVerdict(e cache.Entry) bool {
	return f.opts.Validator != nil && validatable(e) && (e.Validation == nil || e.Validation.Interrupted())
}

// recheck validates a stored file again and records the verdict, unless
// ctx ends meanwhile. The file was reported as cached already.
func (f *fetcher) recheck(ctx context.Context, j job) {
	v := f.verdict(ctx, *j.recheck)
	if v == nil {
		return
	}
	if err := f.store.SetValidation(j.id, string(j.format), *v); err != nil && ctx.Err() == nil {
		f.emit(Event{Type: EventRetry, ID: j.id, Name: j.name, Format: j.format, Reason: fmt.Sprintf("validation not recorded: %v", err)})
	}
}

// verdict validates a stored model, read from the download where its tree
// will be: validating does not unpack it. nil when ctx ends first: a
// validation cut short is no verdict.
func (f *fetcher) verdict(ctx context.Context, e cache.Entry) *cache.Validation {
	files, closer, err := f.store.Files(e)
	if err == nil {
		defer closer.Close()
	}
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return &cache.Validation{Valid: false, Errors: 1, Checked: f.now().UTC(),
			Summary: []string{fmt.Sprintf("%s: cannot be read for validation: %v", f.store.ModelPath(e), err)}}
	}
	return f.judge(ctx, e, files)
}

func (f *fetcher) judge(ctx context.Context, e cache.Entry, files Files) *cache.Validation {
	v := f.opts.Validator(ctx, f.store.ModelPath(e), files)
	if ctx.Err() != nil {
		return nil // cut short: whatever it says is about the interruption, not the model
	}
	return &cache.Validation{Valid: v.Valid, Errors: v.Errors, Warnings: v.Warnings, Checked: f.now().UTC(), Summary: v.Summary}
}

// validatable tells whether a stored file's model is one the validators
// check: URDF, MJCF or SDF (as XML).
func validatable(e cache.Entry) bool {
	return e.ModelKind == formats.KindURDF || e.ModelKind == formats.KindMJCF || e.ModelKind == formats.KindSDF
}
