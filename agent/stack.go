package agent

import (
	"context"

	"github.com/wpfix/wpfix/wp/server"
)

// ReadStack reads the web stack of the site's host once (its running
// servers and their configs) for Logs and Limits to share: pass it in
// LogsOptions.Stack and LimitsOptions.Stack. Each warning, such as a config
// file that could not be read and why, is logged to the site's logger.
func ReadStack(ctx context.Context, s *Site) (*server.Stack, error) {
	st, err := server.ReadStack(ctx, s.Host)
	if err != nil {
		return nil, err
	}
	logWarnings(s, "server config", st.Warnings)
	return st, nil
}

// logWarnings logs each warning to the site's logger, under msg.
func logWarnings(s *Site, msg string, warnings []server.Warning) {
	log := s.logger()
	for _, w := range warnings {
		log.Warn(msg, "file", w.File, "line", w.Line, "directive", w.Directive, "problem", w.Message)
	}
}

// siteOf is what the stack's site view takes of the WordPress install.
func siteOf(s *Site) server.Site {
	return server.Site{Root: s.WP.Root, ContentDir: s.WP.ContentDir, ConfigFile: s.WP.ConfigFile,
		DebugLog: s.WP.Config.DebugLogFile(s.WP.ContentDir)}
}
