package agent

import (
	"slices"
	"strings"
)

// This file holds the verdicts: what a report says about the site once a
// command is done, so that the CLI, heal and check answer alike.

// CauseLikely is the score from which a ranked cause is taken as what is
// wrong with the site, not a mere suspicion.
const CauseLikely = 50

// Failed reports whether diagnose found the site in trouble: a probe (of
// the site, or of its origin) failed, or the likeliest cause scores at
// least CauseLikely.
func (r *DiagnoseReport) Failed() bool {
	return !r.Healthy || len(r.Causes) > 0 && r.Causes[0].Score >= CauseLikely
}

// Failed reports whether a finding is an error: a limit that makes the
// site fail, as against one that may under load.
func (r *LimitsReport) Failed() bool {
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// StillBroken reports whether the site is still broken when the bisection
// ends: the cause is outside the extensions, the search was inconclusive
// (a dry run of a broken site among them), or keepAll put the culprit back.
// keepAll is BisectOptions.KeepAll of the run.
func (r *Report) StillBroken(keepAll bool) bool {
	switch r.Verdict {
	case VerdictNotExtension, VerdictInconclusive:
		return true
	case VerdictCulpritFound:
		return keepAll
	}
	return false
}

// outsideClaim is what a not_extension note says of the cause; a report
// that names a candidate it could not try must not say it.
const outsideClaim = "outside its plugins and theme"

// settleUntried keeps the verdict from claiming that the cause lies
// outside the extensions while a candidate could not be tried (untried
// names each, "theme mytheme"): not_extension becomes inconclusive, and
// the note that claimed it says instead what was not tried. Any other
// verdict stands: a culprit found among the others is found.
func (r *Report) settleUntried(untried []string) {
	if r.Verdict != VerdictNotExtension || len(untried) == 0 {
		return
	}
	r.Verdict = VerdictInconclusive
	r.Notes = slices.DeleteFunc(r.Notes, func(n string) bool { return strings.Contains(n, outsideClaim) })
	r.Notes = append(r.Notes, "the site fails with every candidate that could be tried turned off, but not every one could be tried ("+
		strings.Join(untried, ", ")+"): the cause may lie there, or outside the extensions")
}
