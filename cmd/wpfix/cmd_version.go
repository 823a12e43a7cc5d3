package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Set at link time by make build and make release, from git:
// -ldflags "-X main.version=v1.2.3 -X main.commit=<hash> -X main.modified=false".
var (
	// version is the release this binary was built as (git describe). When
	// empty, the module version recorded by
	// `go install github.com/wpfix/wpfix/cmd/wpfix@v1.2.3` is used instead.
	version = ""
	// commit is the full hash of the commit built, and modified "true" when
	// the tree had uncommitted changes. When commit is empty, what the go
	// command recorded (vcs.revision, vcs.modified) is used instead; a build
	// from a tarball records none, so only these name its commit.
	commit   = ""
	modified = ""
)

// buildInfo is what `wpfix version` reports about the binary.
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"` // empty when the build recorded none
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
}

// readBuildInfo describes the running binary.
func readBuildInfo() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return newBuildInfo(version, bi).withCommit(commit, modified)
}

// newBuildInfo combines the link-time version with what the go command
// recorded in the binary; bi may be nil.
func newBuildInfo(linked string, bi *debug.BuildInfo) buildInfo {
	info := buildInfo{
		Version: linked,
		Go:      runtime.Version(),
		OS:      runtime.GOOS,
		Arch:    runtime.GOARCH,
	}
	if bi == nil {
		bi = &debug.BuildInfo{}
	}
	if info.Version == "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// withCommit returns b with the commit set at link time, which wins over
// the one the go command recorded; linked empty leaves b as it is.
func (b buildInfo) withCommit(linked, modified string) buildInfo {
	if linked == "" {
		return b
	}
	b.Commit, b.Modified = linked, modified == "true"
	return b
}

// String returns the one line `wpfix version` prints, such as
// "wpfix v1.2.3 (0123abcd…, modified, go1.26.8, linux/amd64)"; the commit
// and "modified" are left out when the build recorded no commit.
func (b buildInfo) String() string {
	var details []string
	if b.Commit != "" {
		details = append(details, b.Commit)
		if b.Modified {
			details = append(details, "modified")
		}
	}
	details = append(details, b.Go, b.OS+"/"+b.Arch)
	return fmt.Sprintf("wpfix %s (%s)", b.Version, strings.Join(details, ", "))
}

// versionOptions are the flags of wpfix version: none of its own.
type versionOptions struct{}

// AddFlags declares version's flags: none.
func (o *versionOptions) AddFlags(f *pflag.FlagSet) {}

func newVersionCommand(g *globalOptions) *cobra.Command {
	var o versionOptions
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of wpfix",
		Long: `Print the version of wpfix, the commit it was built from, and the Go
version, operating system and architecture it was built with.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(cmd.Context(), o, *g, newTerminal(cmd))
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// runVersion prints what this binary is, on term.
func runVersion(ctx context.Context, o versionOptions, g globalOptions, term *terminal) error {
	info := readBuildInfo()
	return printResult(term.Out, g, info, jsonLine, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, info)
		return err
	})
}
