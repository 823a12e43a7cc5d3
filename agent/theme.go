package agent

// This file holds the theme candidate's way out: the theme bisect switches
// a site to while its own is turned off, and wpfix's minimal theme when
// the site has none to switch to.

import (
	"context"
	"fmt"
	"slices"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/wp"
)

// themeTarget picks the theme the active one is switched to when it is
// turned off: the first installed default theme that is neither the active
// theme (stylesheet) nor its parent (template), since switching to either
// would load the suspect again. "" means none fits: wpfix's minimal theme
// is placed instead.
func themeTarget(stylesheet, template string, defaults []string) string {
	for _, t := range defaults {
		if t != "" && t != stylesheet && t != template && !journal.IsMinimalTheme(t) {
			return t
		}
	}
	return ""
}

// minimalStyle is the minimal theme's style.css: the header that makes it
// a theme WordPress loads.
const minimalStyle = `/*
Theme Name: wpfix minimal theme
Description: Placed by wpfix while the site's own theme is turned off (wpfix bisect). wpfix restore puts the site's theme back and removes this one.
Author: wpfix
Version: 1.0
Requires at least: 4.7
Text Domain: wpfix-minimal
*/
body { max-width: 42rem; margin: 2rem auto; padding: 0 1rem; font-family: sans-serif; line-height: 1.5; }
`

// minimalIndex is the minimal theme's index.php: a whole, plain page of the
// site's name and its posts, through WordPress's own loop and hooks
// (wp_head, the content filters, wp_footer) as any theme runs them, so that
// a plugin that breaks a page breaks this one too.
const minimalIndex = `<?php
/**
 * wpfix minimal theme: a plain page, placed by wpfix while the site's own
 * theme is turned off. wpfix restore puts the site's theme back and
 * removes this folder.
 */
?><!DOCTYPE html>
<html <?php language_attributes(); ?>>
<head>
<meta charset="<?php bloginfo( 'charset' ); ?>">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title><?php echo esc_html( get_bloginfo( 'name' ) ); ?></title>
<link rel="stylesheet" href="<?php echo esc_url( get_stylesheet_uri() ); ?>">
<?php wp_head(); ?>
</head>
<body <?php body_class(); ?>>
<header>
<h1><a href="<?php echo esc_url( home_url( '/' ) ); ?>"><?php echo esc_html( get_bloginfo( 'name' ) ); ?></a></h1>
<p><?php echo esc_html( get_bloginfo( 'description' ) ); ?></p>
</header>
<main>
<?php if ( have_posts() ) : ?>
<?php while ( have_posts() ) : the_post(); ?>
<article>
<h2><a href="<?php the_permalink(); ?>"><?php the_title(); ?></a></h2>
<?php the_content(); ?>
</article>
<?php endwhile; ?>
<?php else : ?>
<p>Nothing to show here yet.</p>
<?php endif; ?>
</main>
<?php wp_footer(); ?>
</body>
</html>
`

// placeMinimalTheme places wpfix's minimal theme for the theme candidate,
// when no installed theme fits (themeTarget gave ""), before the search
// turns anything off. When it cannot be placed (a themes folder wpfix
// cannot write), the theme is no candidate: the search goes on without it,
// and it is named in b.untried, so that no verdict says the cause lies
// outside the extensions. With no candidate left the run ends here,
// inconclusive (done).
func (b *bisection) placeMinimalTheme(ctx context.Context) (done bool, err error) {
	i := slices.IndexFunc(b.cands, func(c *candidate) bool { return c.Kind == wp.KindTheme })
	if i < 0 || b.defaultTheme != "" {
		return false, nil
	}
	name := journal.MinimalThemeName(randomBytes(8))
	_, err = b.journal.PlaceTheme(ctx, journal.MinimalTheme{Name: name,
		Files: map[string][]byte{"style.css": []byte(minimalStyle), "index.php": []byte(minimalIndex)},
		Why:   "wpfix bisect: a theme to switch to while the theme " + b.cands[i].Name + " is turned off (no other default theme is installed)"})
	if err != nil {
		if ctx.Err() != nil {
			return false, err
		}
		c := b.cands[i]
		b.untried = append(b.untried, c.String())
		b.report.Notes = append(b.report.Notes, fmt.Sprintf("the %s could not be tried: no other default (twenty*) theme is installed, and wpfix's minimal theme could not be placed to switch to (%v)", c, err))
		b.cands = slices.Delete(b.cands, i, i+1)
		b.report.Candidates = slices.DeleteFunc(b.report.Candidates, func(e wp.Extension) bool { return e == c.Extension })
		if len(b.cands) == 0 {
			b.report.Verdict = VerdictInconclusive
			return true, b.finish(ctx, nil)
		}
		return false, nil
	}
	b.defaultTheme = name
	return false, nil
}

// themeTargetText says, for the plan, what the theme is switched to.
func (b *bisection) themeTargetText() string {
	if b.defaultTheme == "" && slices.ContainsFunc(b.cands, func(c *candidate) bool { return c.Kind == wp.KindTheme }) {
		return "a minimal theme wpfix places in " + b.site.journalSite().ThemePath("wpfix-minimal-…") + " (no other default theme is installed)"
	}
	return orDash(b.defaultTheme)
}
