package fleet

import (
	"errors"
	"slices"
	"strings"
)

// ErrSelection is what every *SelectionError is (errors.Is): a selection
// that names nothing, which is a mistake in the command line.
var ErrSelection = errors.New("bad selection")

// SelectionError is an argument or a --tag that selects no site.
type SelectionError struct {
	// Arg is the argument or tag as given.
	Arg string
	Msg string
}

// Error writes ARG: MSG.
func (e *SelectionError) Error() string { return e.Arg + ": " + e.Msg }

// Is makes errors.Is(err, ErrSelection) hold.
func (e *SelectionError) Is(target error) bool { return target == ErrSelection }

// Select returns the sites a run covers, each once, in the order they are
// first named.
//
// With no args, every site of the inventory. Else each arg is, in this
// order: the name of a site of the inventory (for a WP-CLI user, @name
// too); @tag, the sites with that tag (a WP-CLI group); or a target, a site
// of its own named after it (AdHoc). An arg that is none of these is an
// error, and so is a bare word (no /) that is no name when there is an
// inventory: a misspelt name is likelier than a folder here (./word).
//
// tags (--tag, repeatable) then keep the sites that have any of them: a
// union, as WP-CLI's groups and Ansible's --limit a:b are, so --tag eu
// --tag us covers both regions. A target from the command line has no
// tags, so it is left out by any --tag. A tag that no site of the
// inventory has is an error, as it is most likely misspelt; so is a
// selection that leaves no site.
//
// inv may be nil when there is no inventory.
func Select(inv *Inventory, args, tags []string) ([]Site, error) {
	var all []Site
	if inv != nil {
		all = inv.Sites
	}
	var picked []Site
	seen := map[string]bool{}
	add := func(s Site) {
		if !seen[s.Name] {
			seen[s.Name] = true
			picked = append(picked, s)
		}
	}
	if len(args) == 0 {
		for _, s := range all {
			add(s)
		}
	}
	for _, arg := range args {
		if s, ok := byName(all, arg); ok {
			add(s)
			continue
		}
		if tag, ok := strings.CutPrefix(arg, "@"); ok {
			if s, ok := byName(all, tag); ok {
				add(s)
				continue
			}
			n := 0
			for _, s := range all {
				if s.HasTag(tag) {
					add(s)
					n++
				}
			}
			if n == 0 {
				return nil, &SelectionError{Arg: arg, Msg: "no site of the inventory has this name or tag" + tagsHint(all)}
			}
			continue
		}
		s, err := AdHoc(arg)
		if err == nil && inv != nil && !strings.Contains(arg, "/") {
			// A bare word is a folder here to remote.ParseTarget; next to
			// an inventory it is far more likely a misspelt name.
			return nil, &SelectionError{Arg: arg, Msg: "not a site of " + inv.File + " (for a folder here, write ./" + arg + ")"}
		}
		if err != nil {
			msg := err.Error()
			if inv != nil {
				msg = "not a site of " + inv.File + ", and not a target: " + msg
			}
			return nil, &SelectionError{Arg: arg, Msg: msg}
		}
		add(s)
	}
	if len(tags) == 0 {
		if len(picked) == 0 && len(args) == 0 {
			return nil, &SelectionError{Arg: "sites", Msg: "none: give TARGETs, or an inventory with sites"}
		}
		return picked, nil
	}
	for _, tag := range tags {
		if !slices.ContainsFunc(all, func(s Site) bool { return s.HasTag(tag) }) {
			return nil, &SelectionError{Arg: "--tag " + tag, Msg: "no site of the inventory has this tag" + tagsHint(all)}
		}
	}
	kept := picked[:0:0]
	for _, s := range picked {
		if slices.ContainsFunc(tags, s.HasTag) {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		return nil, &SelectionError{Arg: "--tag " + strings.Join(tags, " --tag "), Msg: "none of the sites named has the tag"}
	}
	return kept, nil
}

func byName(sites []Site, name string) (Site, bool) {
	for _, s := range sites {
		if s.Name == name {
			return s, true
		}
	}
	return Site{}, false
}

// tagsHint lists the tags there are, for an error about one that is not.
func tagsHint(sites []Site) string {
	var tags []string
	for _, s := range sites {
		for _, t := range s.Tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	if len(tags) == 0 {
		return " (no site has a tag)"
	}
	slices.Sort(tags)
	return " (tags: " + strings.Join(tags, ", ") + ")"
}
