package prepare

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/antimlabs/gizmo/cache"
)

// validate checks the model of what will be placed, unless the cache
// recorded it as valid when it was stored; an invalid one stops the run
// (InvalidError), and a new verdict is recorded so that the next slow run
// skips the model.
func (s *slow) validate(ctx context.Context, needs []need, entries map[need]cache.Entry) error {
	if s.o.Validate == nil {
		return nil
	}
	for _, n := range needs {
		e := entries[n]
		if e.Validation != nil && e.Validation.Valid && e.Validation.Errors == 0 {
			continue // validated when it was stored
		}
		v := s.o.Validate(ctx, filepath.Join(s.cache.TreePath(e), filepath.FromSlash(e.Model)), nil)
		if v.Err != nil {
			return fmt.Errorf("validate asset %s (%s) %s: %w", n.id, s.name(n.id), n.f.Short(), v.Err)
		}
		if err := ctx.Err(); err != nil {
			return err // cut short: the verdict is about the interruption
		}
		if !v.Valid {
			return &InvalidError{Asset: fmt.Sprintf("%s (%s)", n.id, s.name(n.id)), Format: n.f, Problems: v.Summary}
		}
		rec := cache.Validation{Valid: true, Errors: v.Errors, Warnings: v.Warnings, Checked: time.Now()}
		if err := s.cache.SetValidation(n.id, string(n.f), rec); err != nil {
			s.logf("warning: recording the validation of %s %s: %v", n.id, n.f.Short(), err)
		}
	}
	return nil
}
