package agent

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
