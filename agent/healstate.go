package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp"
)

// HealStateFile is the name of heal's per-site state in the site's state
// folder (wp-content/.wpfix/), where a cron job on the site's host and an
// admin reaching it over SSH both find it.
const HealStateFile = "heal.json"

// healStateVersion is the format of HealState.
const healStateVersion = 1

// HealState is what heal remembers of a site between runs. It is written
// atomically after each run that changes it, and read as input from a
// folder the site's user can write: every value is checked, none is a
// path or a URL wpfix acts on.
type HealState struct {
	Version int `json:"version"`
	// LastRun, LastState ("healthy", "fixed", "broken", "skipped") and
	// LastReason are the last run's outcome.
	LastRun    time.Time `json:"last_run,omitzero"`
	LastState  string    `json:"last_state,omitempty"`
	LastReason string    `json:"last_reason,omitempty"`
	// Failures counts the runs in a row that found the site broken.
	Failures int `json:"consecutive_failures"`
	// Broken says a broken notice stands (no recovered since), sent at
	// BrokenNoticed; Reminded is the last still_broken reminder.
	Broken        bool      `json:"reported_broken,omitempty"`
	BrokenSince   time.Time `json:"broken_since,omitzero"`
	BrokenNoticed time.Time `json:"broken_noticed,omitzero"`
	Reminded      time.Time `json:"reminded,omitzero"`
	// Recovered is when the last recovered notice went out.
	Recovered time.Time `json:"recovered,omitzero"`
	// BackoffSeconds is the wait before heal bisects a site it could not
	// fix again, doubling each time; NextBisect is when that may be.
	BackoffSeconds int64     `json:"backoff_seconds,omitempty"`
	NextBisect     time.Time `json:"next_bisect,omitzero"`
	// PausedUntil: an admin said "I am working on it" (heal --pause).
	PausedUntil time.Time `json:"paused_until,omitzero"`
	// Fixes are the culprits heal left disabled, and when.
	Fixes []HealFix `json:"fixes,omitempty"`
}

// HealFix is a culprit heal left disabled.
type HealFix struct {
	Extension wp.Extension `json:"extension"`
	Time      time.Time    `json:"time"`
}

// Backoff is the current backoff.
func (s *HealState) Backoff() time.Duration { return time.Duration(s.BackoffSeconds) * time.Second }

// healStore is where a site's heal state lives: the state folder on the
// site's host, or a file of the user's choosing (--state) on this
// machine.
type healStore struct {
	site journal.Site
	file string // "" for the state folder
}

func (s *Site) healStore(file string) healStore {
	return healStore{site: s.journalSite(), file: file}
}

// String says where the state is, for messages.
func (st healStore) String() string {
	if st.file != "" {
		return st.file
	}
	return st.site.Dir() + "/" + HealStateFile
}

// load reads the state; none yet is a zero state.
func (st healStore) load(ctx context.Context) (*HealState, error) {
	var (
		b   []byte
		ok  bool
		err error
	)
	if st.file != "" {
		l := remote.NewLocal()
		if b, err = l.ReadHead(ctx, st.file, journal.MaxStateFile+1); err == nil {
			ok = true
		} else if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	} else {
		b, ok, err = journal.ReadStateFile(ctx, st.site, HealStateFile)
	}
	if err != nil {
		return nil, fmt.Errorf("read heal's state %s: %w", st, err)
	}
	hs := &HealState{Version: healStateVersion}
	if !ok {
		return hs, nil
	}
	if len(b) > journal.MaxStateFile {
		return nil, badInput(fmt.Errorf("heal's state %s holds more than %d bytes: not wpfix's; remove it", st, journal.MaxStateFile))
	}
	if err := json.Unmarshal(b, hs); err != nil {
		return nil, badInput(fmt.Errorf("heal's state %s is not wpfix's (%v): remove it", st, err))
	}
	if err := hs.check(); err != nil {
		return nil, badInput(fmt.Errorf("heal's state %s: %w: remove it", st, err))
	}
	return hs, nil
}

// check refuses values heal never writes.
func (s *HealState) check() error {
	switch {
	case s.Version > healStateVersion:
		return fmt.Errorf("format version %d is newer than this wpfix's (%d)", s.Version, healStateVersion)
	case s.Failures < 0, s.BackoffSeconds < 0, s.BackoffSeconds > int64(maxBackoff/time.Second):
		return fmt.Errorf("counters out of range")
	}
	switch s.LastState {
	case "", HealHealthy, HealFixed, HealBroken, HealSkipped:
	default:
		return fmt.Errorf("last state %q", s.LastState)
	}
	for _, f := range s.Fixes {
		if !f.Extension.Valid() {
			return fmt.Errorf("fix of %q", f.Extension.String())
		}
	}
	return nil
}

// save writes the state atomically.
func (st healStore) save(ctx context.Context, hs *HealState) error {
	hs.Version = healStateVersion
	b, err := json.MarshalIndent(hs, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if st.file != "" {
		err = remote.NewLocal().WriteFile(ctx, st.file, b, 0o600)
	} else {
		err = journal.WriteStateFile(ctx, st.site, HealStateFile, b)
	}
	if err != nil {
		return fmt.Errorf("write heal's state %s: %w", st, err)
	}
	return nil
}
