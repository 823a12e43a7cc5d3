package agent

import "time"

// The statuses of a check (DESIGN.md: `ok|warning|error`).
const (
	CheckOK      = "ok"
	CheckWarning = "warning"
	CheckError   = "error"
)

// The states of a site in wpfix check.
const (
	SiteHealthy     = "healthy"
	SiteUnhealthy   = "unhealthy"
	SiteUnreachable = "unreachable"
)

// Check is one read-only check of a site: a stable id (DESIGN.md: probe,
// database, versions, journal, recovery-mode, logs, limits, disk, tls,
// debug, autoload, uploads-php, cron, plugins), its status and a one-line
// reason.
type Check struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Message string `json:"message"`
	// DurationMS is how long the check took.
	DurationMS int64 `json:"duration_ms"`
}

// SiteCheck is what wpfix check found of one site; its JSON keys are the
// contract of DESIGN.md.
type SiteCheck struct {
	Name       string  `json:"name"`
	Target     string  `json:"target"`
	URL        string  `json:"url"`
	State      string  `json:"state"`
	Status     int     `json:"status"`
	DurationMS int64   `json:"duration_ms"`
	Checks     []Check `json:"checks"`
	// Fix is what --fix did (heal's report), null without it.
	Fix *HealReport `json:"fix"`
	// Error says why the site is unreachable.
	Error string `json:"error,omitempty"`
	// Tags are the inventory's, for selection and labels.
	Tags []string `json:"tags,omitempty"`

	// ProbeSeconds is the probe's duration, for the metrics.
	ProbeSeconds float64 `json:"-"`
	// TLSExpiry is when the site's certificate expires (zero: no TLS, or
	// not read), for the metrics.
	TLSExpiry time.Time `json:"-"`
	// Checked is when the checks ran, for the metrics.
	Checked time.Time `json:"-"`
}

// Worst is the worst status among the site's checks.
func (s *SiteCheck) Worst() string {
	w := CheckOK
	for _, c := range s.Checks {
		switch {
		case c.Status == CheckError:
			return CheckError
		case c.Status == CheckWarning:
			w = CheckWarning
		}
	}
	return w
}

// FleetSummary counts the sites by state.
type FleetSummary struct {
	Sites       int `json:"sites"`
	Healthy     int `json:"healthy"`
	Unhealthy   int `json:"unhealthy"`
	Unreachable int `json:"unreachable"`
}

// FleetReport is one run of wpfix check over many sites.
type FleetReport struct {
	Version    int          `json:"version"`
	Started    time.Time    `json:"started"`
	DurationMS int64        `json:"duration_ms"`
	Summary    FleetSummary `json:"summary"`
	Sites      []*SiteCheck `json:"sites"`
	// Interrupted says the run was cut short (Ctrl-C, its deadline): the
	// sites not checked are missing.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Failed reports whether any site is unhealthy or unreachable (exit 1).
func (r *FleetReport) Failed() bool { return r.Summary.Unhealthy+r.Summary.Unreachable > 0 }
