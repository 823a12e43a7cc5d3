package agent

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDiagnoseFailed(t *testing.T) {
	tests := []struct {
		name string
		rep  DiagnoseReport
		want bool
	}{
		{"healthy, nothing found", DiagnoseReport{Healthy: true}, false},
		{"healthy, a weak suspicion", DiagnoseReport{Healthy: true, Causes: []Cause{{ID: "x", Score: CauseLikely - 1}}}, false},
		{"healthy, a likely cause", DiagnoseReport{Healthy: true, Causes: []Cause{{ID: "x", Score: CauseLikely}}}, true},
		{"healthy, only a later cause likely", DiagnoseReport{Healthy: true,
			Causes: []Cause{{ID: "x", Score: 10}, {ID: "y", Score: 90}}}, false},
		{"a probe failed, no cause", DiagnoseReport{}, true},
		{"a probe failed, a weak cause", DiagnoseReport{Causes: []Cause{{ID: "x", Score: 1}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.rep.Failed())
		})
	}
}

func TestLimitsFailed(t *testing.T) {
	tests := []struct {
		name     string
		findings []Finding
		want     bool
	}{
		{"no findings", nil, false},
		{"warnings and info", []Finding{{ID: "a", Severity: SeverityWarning}, {ID: "b", Severity: SeverityInfo}}, false},
		{"an error", []Finding{{ID: "a", Severity: SeverityError}}, true},
		{"an error after a warning", []Finding{{ID: "a", Severity: SeverityWarning}, {ID: "b", Severity: SeverityError}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := LimitsReport{Findings: tt.findings}
			assert.Equal(t, tt.want, r.Failed())
		})
	}
}

func TestBisectStillBroken(t *testing.T) {
	tests := []struct {
		verdict string
		keepAll bool
		want    bool
	}{
		{VerdictHealthy, false, false},
		{VerdictHealthy, true, false},
		{VerdictCulpritFound, false, false},
		{VerdictCulpritFound, true, true}, // --keep-all put it back
		{VerdictNotExtension, false, true},
		{VerdictNotExtension, true, true},
		{VerdictInconclusive, false, true},
		{VerdictInconclusive, true, true},
	}
	for _, tt := range tests {
		r := Report{Verdict: tt.verdict}
		assert.Equal(t, tt.want, r.StillBroken(tt.keepAll), "%s, keepAll %v", tt.verdict, tt.keepAll)
	}
}
