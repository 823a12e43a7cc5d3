package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Test reports whether the site fails when exactly the candidates in enabled (indices into the
// candidate list, ascending) are enabled and all others disabled. It is one HTTP probe of the site.
type Test func(ctx context.Context, enabled []int) (failed bool, err error)

// ErrProbeBudget marks a search that used up its probes (see Minimize) before it could prove a
// failing set 1-minimal: the site's failures do not follow from which candidates are enabled in
// any simple way: they come and go, or candidates hide one another's failures.
var ErrProbeBudget = errors.New("probe budget used up")

// probeBudget is how many probes Minimize may send for n candidates: n² + 10. Culprits that fail
// alone or together cost O(k·log n); ddmin, reached only when the site's answers contradict every
// monotone explanation, costs O(n²) (at most 0.81·n² on the worst sites we tried). Since no set is
// probed twice, even a flaky site looks deterministic and the search ends anyway: the budget caps
// cost, it does not break loops.
func probeBudget(n int) int { return n*n + 10 }

// Minimize returns a 1-minimal failing set of candidates: enabling exactly them fails, and removing
// any one of them does not. Precondition the caller has checked with its own probe: enabling all n
// candidates fails. order is the order to search in (indices, e.g. the ones recent logs blame
// first); nil means 0..n-1.
//
// Whether enabling none fails Minimize finds out itself, and only when its answers need it: while
// some probe has passed, the site works with some candidates on, so the cause is among them and
// none enabled is taken to pass (as on any site where enabling more never fixes anything); when
// every probe so far has failed and the search is down to the first candidate alone, that probe
// alone tells a culprit from a cause outside the candidates. An empty result with no error means
// the site fails with none enabled: no candidate is to blame.
//
// Minimize never probes a set twice, nor all n; probes counts the calls of test. One culprit costs
// at most ⌈log2 n⌉+1 probes (7 among 64, 1 for n = 1): the bisection of the prefixes of order, then
// the suspect alone, or, for the first in order, which the bisection tests alone already, none
// enabled. A cause outside the candidates costs ⌊log2 n⌋+1: every prefix fails, then none enabled
// fails. k culprits that fail only together cost at most k(⌈log2 n⌉+2)−1 (15 for a pair among 64).
// For a deterministic site the result is 1-minimal, ascending (a single culprit's with none enabled
// taken to pass, as above, unless it was probed). After probeBudget(n) probes
// Minimize gives up and returns the smallest failing set it saw with an error wrapping
// ErrProbeBudget; on a probe error or cancellation it returns no culprits.
func Minimize(ctx context.Context, n int, order []int, test Test) (culprits []int, probes int, err error) {
	return minimize(ctx, n, order, test, probeBudget(n), false)
}

// minimize is Minimize with a budget, and nonePasses: the caller knows already that enabling none
// passes (a probe of its own passed), so the search never asks.
func minimize(ctx context.Context, n int, order []int, test Test, budget int, nonePasses bool) ([]int, int, error) {
	if n <= 0 {
		return nil, 0, fmt.Errorf("minimize: %d candidates", n)
	}
	if order == nil {
		order = make([]int, n)
		for i := range order {
			order[i] = i
		}
	} else if !isPermutation(order, n) {
		return nil, 0, fmt.Errorf("minimize: order %v is not a permutation of 0..%d", order, n-1)
	}
	s := &search{n: n, test: test, budget: budget, seen: map[string]bool{}, best: slices.Sorted(slices.Values(order))}
	if nonePasses {
		s.seen[s.key(nil)] = false
	}
	s.seen[s.key(order)] = true

	culprits, err := s.run(ctx, order)
	if errors.Is(err, ErrProbeBudget) {
		return s.best, s.probes, fmt.Errorf("%w after %d probes: the smallest failing set seen has %d candidates; the site may fail intermittently",
			ErrProbeBudget, s.probes, len(s.best))
	}
	if err != nil {
		return nil, s.probes, err
	}
	slices.Sort(culprits)
	return culprits, s.probes, nil
}

func isPermutation(order []int, n int) bool {
	if len(order) != n {
		return false
	}
	seen := make([]bool, n)
	for _, i := range order {
		if i < 0 || i >= n || seen[i] {
			return false
		}
		seen[i] = true
	}
	return true
}

// search is one run of Minimize: the answers so far, so that no set is probed twice.
type search struct {
	n      int
	test   Test
	budget int
	probes int
	seen   map[string]bool // answers by set (key)
	best   []int           // the smallest failing set seen, ascending
}

// key identifies a set whatever the order of its elements.
func (s *search) key(set []int) string {
	b := make([]byte, (s.n+7)/8)
	for _, i := range set {
		b[i/8] |= 1 << (i % 8)
	}
	return string(b)
}

// fails answers from memory if it can, else probes the site. Memory includes none enabled passing
// once any probe has passed (see Minimize).
func (s *search) fails(ctx context.Context, set []int) (bool, error) {
	k := s.key(set)
	if failed, ok := s.seen[k]; ok {
		return failed, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if s.probes >= s.budget {
		return false, ErrProbeBudget
	}
	enabled := slices.Sorted(slices.Values(set)) // a copy: test may keep or change it
	s.probes++
	failed, err := s.test(ctx, enabled)
	if err != nil {
		return false, fmt.Errorf("probe with %d candidates enabled: %w", len(enabled), err)
	}
	s.seen[k] = failed
	if none := s.key(nil); !failed && k != none {
		// The site works with some candidates on: the cause is among them, not outside. Taken
		// as none enabled passing, unless that was probed.
		if _, ok := s.seen[none]; !ok {
			s.seen[none] = false
		}
	}
	if failed && len(enabled) < len(s.best) {
		s.best = enabled
	}
	return failed, nil
}

// run finds the culprits by prefix search and proves them 1-minimal, falling back on ddmin when
// the proof fails.
func (s *search) run(ctx context.Context, order []int) ([]int, error) {
	found, err := s.prefixSearch(ctx, order)
	if err != nil {
		return nil, err
	}
	// found ∖ {x} is mostly known already (found grew by one element at a time, each prefix
	// checked alone); the rest costs a probe each. A removal that still fails means the site is not
	// monotone, and ddmin takes over from that smaller set. For a single culprit the removal is
	// none enabled: known once any probe has passed, else probed here, the one place Minimize asks,
	// and failing means a cause outside the candidates.
	for i := range found {
		rest := slices.Delete(slices.Clone(found), i, i+1)
		failed, err := s.fails(ctx, rest)
		if err != nil {
			return nil, err
		}
		if failed && len(rest) == 0 {
			return nil, nil
		}
		if failed {
			return s.ddmin(ctx, rest)
		}
	}
	return found, nil
}

// prefixSearch collects culprits one at a time: the shortest failing prefix of the candidates ends
// with one, and if that one does not fail alone, its partners are among the candidates before it.
// Each round keeps two facts: found alone passes (in the first round, found is none enabled, taken
// to pass until run's proof asks), found ∪ cand fails. Since no set is probed twice,
// the answers it acts on never contradict each other, so every round shortens cand and the search
// ends with a failing found even when the site is not monotone.
func (s *search) prefixSearch(ctx context.Context, order []int) ([]int, error) {
	var found []int
	cand := order
	for {
		lo, hi := 0, len(cand) // found ∪ cand[:lo] passes, found ∪ cand[:hi] fails
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2 // rounding down favours the front of order, where blame points
			failed, err := s.fails(ctx, append(slices.Clip(found), cand[:mid]...))
			if err != nil {
				return nil, err
			}
			if failed {
				hi = mid
			} else {
				lo = mid
			}
		}
		found = append(found, cand[hi-1])
		cand = cand[:hi-1]
		failed, err := s.fails(ctx, found)
		if err != nil {
			return nil, err
		}
		if failed {
			return found, nil
		}
	}
}

// ddmin is Zeller and Hildebrandt's minimizing delta debugging ("Simplifying and Isolating
// Failure-Inducing Input", 2002), from a failing set: try each of gran parts, then each complement,
// and split finer when neither fails. At gran = len(c) it has tried every set with one element
// removed, so what it returns is 1-minimal for any deterministic site.
func (s *search) ddmin(ctx context.Context, c []int) ([]int, error) {
	gran := 2
	for len(c) > 1 {
		parts := make([][]int, gran)
		for i := range parts {
			parts[i] = c[i*len(c)/gran : (i+1)*len(c)/gran]
		}
		next, nextGran := []int(nil), 0
		for _, p := range parts {
			failed, err := s.fails(ctx, p)
			if err != nil {
				return nil, err
			}
			if failed {
				next, nextGran = p, 2
				break
			}
		}
		if next == nil && gran > 2 { // with two parts the complements are the parts
			for i := range parts {
				comp := slices.Concat(c[:i*len(c)/gran], c[(i+1)*len(c)/gran:])
				failed, err := s.fails(ctx, comp)
				if err != nil {
					return nil, err
				}
				if failed {
					next, nextGran = comp, gran-1
					break
				}
			}
		}
		switch {
		case next != nil:
			c, gran = slices.Clone(next), max(nextGran, 2)
		case gran < len(c):
			gran = min(2*gran, len(c))
		default:
			return c, nil
		}
	}
	return c, nil
}
