package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"testing"

	"golang.org/x/term"
)

// demoStdout is where TestDemo's transcript goes: under WPFIX_DEMO=1 (make
// demo) the process's standard output, which then carries nothing else;
// nil in the test suite, where the transcript goes to the test's log.
var demoStdout *os.File

// demoShown says TestDemo ran to its end.
var demoShown bool

// runTests is m.Run for TestMain. Under WPFIX_DEMO=1 it runs TestDemo
// alone and keeps the test harness's own words (=== RUN, the logs, PASS)
// out of sight: they go to a file, shown on standard error only when the
// demo failed or could not run (skipped, e.g. without root), so `make demo`
// prints the transcript and nothing else.
func runTests(m *testing.M) int {
	if os.Getenv("WPFIX_DEMO") != "1" {
		return m.Run()
	}
	flag.Parse()
	for name, value := range map[string]string{"test.run": "^TestDemo$", "test.v": "true", "test.count": "1"} {
		if err := flag.Set(name, value); err != nil {
			fmt.Fprintf(os.Stderr, "demo: set -%s: %v\n", name, err)
			return 1
		}
	}
	harness, err := os.CreateTemp("", "wpfix-demo-harness-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		return 1
	}
	defer os.Remove(harness.Name())
	defer harness.Close()
	demoStdout, os.Stdout = os.Stdout, harness
	code := m.Run()
	os.Stdout = demoStdout
	if code == 0 && demoShown {
		return 0
	}
	fmt.Fprintln(os.Stderr, "make demo: TestDemo did not run to its end (it failed or was skipped); its log:")
	if _, err := harness.Seek(0, io.SeekStart); err == nil {
		io.Copy(os.Stderr, harness)
	}
	return max(code, 1)
}

// demoLive says the demo's output is a terminal: then what wpfix shows
// goes there as it is, escape sequences and all, for the terminal to draw.
func demoLive() bool {
	return demoStdout != nil && term.IsTerminal(int(demoStdout.Fd()))
}
