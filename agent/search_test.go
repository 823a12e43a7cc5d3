package agent

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// siteModel is a site in memory: whether it fails with exactly the candidates in enabled (ascending)
// enabled.
type siteModel func(enabled []int) bool

// failTogether fails when every candidate of some set is enabled: plugins that break a site alone or
// only together. Sites like this are monotone: enabling more never fixes them.
func failTogether(sets ...[]int) siteModel {
	return func(enabled []int) bool {
		for _, s := range sets {
			if hasAll(s, enabled) {
				return true
			}
		}
		return false
	}
}

func hasAll(s, enabled []int) bool {
	for _, i := range s {
		if _, ok := slices.BinarySearch(enabled, i); !ok {
			return false
		}
	}
	return true
}

// failChain is a site that is not monotone: it fails with all candidates but the first j of perm
// enabled, for j up to n-2, and with nothing else. Its only 1-minimal failing set is the last two
// of perm, and the prefix search cannot see that, which leaves it to ddmin.
func failChain(perm []int) siteModel {
	n := len(perm)
	return func(enabled []int) bool {
		j := n - len(enabled)
		if j > n-2 {
			return false
		}
		for _, i := range perm[:j] {
			if _, ok := slices.BinarySearch(enabled, i); ok {
				return false
			}
		}
		return true
	}
}

// failScrambled is a deterministic site with no structure at all: it fails with a pseudo-random
// fraction p of the sets, and with all n (Minimize's precondition).
func failScrambled(n int, seed uint64, p float64) siteModel {
	return func(enabled []int) bool {
		if len(enabled) == n {
			return true
		}
		h := fnv.New64a()
		fmt.Fprint(h, seed, enabled)
		return len(enabled) > 0 && float64(h.Sum64()%1000)/1000 < p
	}
}

// modelTest turns a site model into a Test that holds Minimize to its promises as it goes: enabled is
// ascending and within 0..n-1, and never a set probed before, nor all (the caller's own probe); none
// only while every probe so far has failed, and then last. calls counts its calls.
func modelTest(t *testing.T, n int, fails siteModel, calls *int) Test {
	seen := map[string]bool{}
	passed, none := false, false
	return func(ctx context.Context, enabled []int) (bool, error) {
		if calls != nil {
			*calls++
		}
		k := fmt.Sprint(enabled)
		require.False(t, seen[k], "set %v probed twice", enabled)
		seen[k] = true
		require.True(t, slices.IsSorted(enabled), "enabled %v not ascending", enabled)
		require.False(t, none && fails(nil), "probed %v after none failed: the search was over", enabled)
		if len(enabled) == 0 {
			require.False(t, passed, "probed none after a probe passed: that showed the cause is not outside")
			none = true
			failed := fails(enabled)
			passed = passed || !failed
			return failed, nil
		}
		require.Less(t, len(enabled), n, "probed all: the caller knows that fails")
		require.GreaterOrEqual(t, enabled[0], 0)
		require.Less(t, enabled[len(enabled)-1], n)
		failed := fails(enabled)
		passed = passed || !failed
		return failed, nil
	}
}

// assertOneMinimal checks that culprits fail and that removing any one of them does not.
func assertOneMinimal(t *testing.T, fails siteModel, culprits []int) {
	t.Helper()
	assert.True(t, fails(culprits), "culprits %v do not fail", culprits)
	for i := range culprits {
		rest := slices.Delete(slices.Clone(culprits), i, i+1)
		assert.False(t, fails(rest), "culprits %v still fail without %d", culprits, culprits[i])
	}
}

// upTo lists 0..n-1.
func upTo(n int) []int {
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return all
}

func ceilLog2(n int) int { return bits.Len(uint(n - 1)) }

func TestMinimizeSingleCulprit(t *testing.T) {
	// A culprit costs ⌈log2 n⌉ probes to bisect the prefixes of order plus one more: the suspect
	// alone, or, for the first in order, whose prefix of length 1 is the suspect alone already,
	// none enabled (every probe so far failed: only that tells it from a cause outside the
	// candidates). When n is not a power of two the bisection reaches 2^⌈log2 n⌉ − n of the
	// positions, the first among them, one level early.
	tests := []struct {
		n     int
		costs map[int]int // probes → how many positions cost that many
	}{
		{1, map[int]int{1: 1}},
		{2, map[int]int{2: 2}},
		{3, map[int]int{2: 1, 3: 2}},
		{7, map[int]int{3: 1, 4: 6}},
		{8, map[int]int{4: 8}},
		{63, map[int]int{6: 1, 7: 62}},
		{64, map[int]int{7: 64}},
		{65, map[int]int{7: 63, 8: 2}},
		{100, map[int]int{7: 28, 8: 72}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d", tt.n), func(t *testing.T) {
			costs := map[int]int{}
			for c := range tt.n {
				var calls int
				got, probes, err := Minimize(t.Context(), tt.n, nil, modelTest(t, tt.n, failTogether([]int{c}), &calls))
				require.NoError(t, err)
				assert.Equal(t, []int{c}, got)
				assert.Equal(t, calls, probes)
				assert.LessOrEqual(t, probes, ceilLog2(tt.n)+1, "culprit %d", c)
				costs[probes]++
			}
			assert.Equal(t, tt.costs, costs)
		})
	}
}

// TestMinimizeKnownNonePasses: when the caller knows none enabled passes (a probe of its own
// passed), the first candidate costs the bisection alone, and none is never probed.
func TestMinimizeKnownNonePasses(t *testing.T) {
	for _, n := range []int{1, 2, 3, 8, 63, 64, 65} {
		for c := range n {
			test := modelTest(t, n, failTogether([]int{c}), nil)
			got, probes, err := minimize(t.Context(), n, nil, func(ctx context.Context, enabled []int) (bool, error) {
				require.NotEmpty(t, enabled, "n=%d: probed none, known to pass", n)
				return test(ctx, enabled)
			}, probeBudget(n), true)
			require.NoError(t, err)
			assert.Equal(t, []int{c}, got)
			if c == 0 {
				assert.Equal(t, bits.Len(uint(n))-1, probes, "n=%d: the first candidate: ⌊log2 n⌋ halvings", n)
			}
			assert.LessOrEqual(t, probes, ceilLog2(n)+1, "n=%d, culprit %d", n, c)
		}
	}
}

// TestMinimizeOutsideCause: a site that fails whatever is enabled (php-fpm down, a broken
// wp-config.php). Every prefix fails, down to the first candidate alone; then none enabled fails
// too, and Minimize blames nothing: ⌊log2 n⌋ + 1 probes, the last of them none enabled.
func TestMinimizeOutsideCause(t *testing.T) {
	always := func([]int) bool { return true }
	for _, tt := range []struct{ n, probes int }{
		{1, 1}, {2, 2}, {3, 2}, {8, 4}, {63, 6}, {64, 7}, {65, 7}, {100, 7},
	} {
		t.Run(fmt.Sprintf("n=%d", tt.n), func(t *testing.T) {
			var last []int
			test := modelTest(t, tt.n, always, nil)
			got, probes, err := Minimize(t.Context(), tt.n, nil, func(ctx context.Context, enabled []int) (bool, error) {
				last = enabled
				return test(ctx, enabled)
			})
			require.NoError(t, err)
			assert.Empty(t, got, "no candidate is to blame")
			assert.Equal(t, tt.probes, probes)
			assert.Empty(t, last, "none enabled is the last probe")
		})
	}
	t.Run("blamed order", func(t *testing.T) {
		order := append([]int{50}, slices.DeleteFunc(upTo(64), func(i int) bool { return i == 50 })...)
		got, probes, err := Minimize(t.Context(), 64, order, modelTest(t, 64, always, nil))
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.Equal(t, 7, probes)
	})
	t.Run("a site that needs a candidate", func(t *testing.T) {
		// Not outside, not monotone: the site fails with none enabled (the theme calls a plugin's
		// function), and with candidate 9. Some probe passes, so none is never asked: 9 is found.
		fails := func(enabled []int) bool { return len(enabled) == 0 || slices.Contains(enabled, 9) }
		got, probes, err := Minimize(t.Context(), 64, nil, modelTest(t, 64, fails, nil))
		require.NoError(t, err)
		assert.Equal(t, []int{9}, got)
		assert.Equal(t, 7, probes)
	})
}

// TestMinimizeFlaky: a site that answers one probe wrongly. Since no set is probed twice, the
// wrong answer stands; what Minimize returns then is for the caller's confirmation to catch.
func TestMinimizeFlaky(t *testing.T) {
	const n = 64
	always := func([]int) bool { return true }
	tests := []struct {
		name       string
		fails      siteModel
		flip       int // the probe, from 1, answered wrongly
		want       []int
		wantProbes int
	}{
		// The outside cause hides behind a pass: 32 is blamed, none enabled is never probed (a
		// probe passed), and bisect's confirmation, still failing, sends it to a next round
		// that asks everything off afresh.
		{"outside cause, the first probe passes", always, 1, []int{32}, 7},
		// Everything off fails by chance: nothing blamed, as when bisect's own probe with
		// everything off failed by chance before it was deferred.
		{"culprit first, everything off fails", failTogether([]int{0}), 7, nil, 7},
		// The culprit alone passes by chance: it is blamed with its neighbour, as a pair; the
		// confirmation passes, and bisect then leaves off whichever member suffices.
		{"culprit first, the culprit alone passes", failTogether([]int{0}), 6, []int{0, 1}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			test := modelTest(t, n, func(enabled []int) bool {
				return tt.fails(enabled) != (calls == tt.flip)
			}, &calls)
			got, probes, err := Minimize(t.Context(), n, nil, test)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantProbes, probes)
		})
	}
}

// minimizePairCosts runs Minimize on every pair of n culprits that fail only together.
func minimizePairCosts(t *testing.T, n int) (costs map[[2]int]int, maxProbes int, mean float64) {
	costs = map[[2]int]int{}
	total := 0
	for a := range n {
		for b := a + 1; b < n; b++ {
			fails := failTogether([]int{a, b})
			got, probes, err := Minimize(t.Context(), n, nil, modelTest(t, n, fails, nil))
			require.NoError(t, err)
			require.Equal(t, []int{a, b}, got)
			costs[[2]int{a, b}] = probes
			maxProbes = max(maxProbes, probes)
			total += probes
		}
	}
	return costs, maxProbes, float64(total) / float64(len(costs))
}

func TestMinimizePairs(t *testing.T) {
	const n = 64
	d := ceilLog2(n)
	tests := []struct {
		name string
		a, b int
	}{
		{"first two", 0, 1},
		{"adjacent at the front", 3, 4},
		{"adjacent across the middle", 31, 32},
		{"adjacent at the end", 62, 63},
		{"first and last", 0, 63},
		{"far apart", 5, 58},
		{"near the end", 40, 60},
		{"second and second to last", 1, 62},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fails := failTogether([]int{tt.a, tt.b})
			got, probes, err := Minimize(t.Context(), n, nil, modelTest(t, n, fails, nil))
			require.NoError(t, err)
			assert.Equal(t, []int{tt.a, tt.b}, got)
			// Bisect for b, test b alone, bisect the prefix before b for a, test {a, b}, test a alone.
			assert.LessOrEqual(t, probes, 2*d+3)
			t.Logf("pair {%d, %d}: %d probes", tt.a, tt.b, probes)
		})
	}
	t.Run("every pair", func(t *testing.T) {
		_, maxProbes, mean := minimizePairCosts(t, n)
		t.Logf("all %d pairs among %d: max %d probes, mean %.2f", n*(n-1)/2, n, maxProbes, mean)
		assert.LessOrEqual(t, maxProbes, 2*d+3)
	})
}

func TestMinimizeInteractions(t *testing.T) {
	perm := rand.New(rand.NewPCG(1, 2)).Perm(16)
	tests := []struct {
		name  string
		n     int
		fails siteModel
		want  [][]int // any one of these is right
	}{
		{"triple", 64, failTogether([]int{3, 30, 50}), [][]int{{3, 30, 50}}},
		{"adjacent triple", 64, failTogether([]int{20, 21, 22}), [][]int{{20, 21, 22}}},
		{"two independent culprits", 64, failTogether([]int{10}, []int{40}), [][]int{{10}, {40}}},
		{"culprit with either of two partners", 64, failTogether([]int{5, 20}, []int{20, 50}), [][]int{{5, 20}, {20, 50}}},
		{"a pair and a culprit alone", 64, failTogether([]int{7, 9}, []int{30}), [][]int{{7, 9}, {30}}},
		{"overlapping pairs", 64, failTogether([]int{1, 2}, []int{2, 3}), [][]int{{1, 2}, {2, 3}}},
		{"pair of two", 2, failTogether([]int{0, 1}), [][]int{{0, 1}}},
		{"all eight together", 8, failTogether([]int{0, 1, 2, 3, 4, 5, 6, 7}), [][]int{{0, 1, 2, 3, 4, 5, 6, 7}}},
		{"not monotone", 16, failChain(perm), [][]int{slices.Sorted(slices.Values(perm[14:]))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, probes, err := Minimize(t.Context(), tt.n, nil, modelTest(t, tt.n, tt.fails, nil))
			require.NoError(t, err)
			assert.Contains(t, tt.want, got)
			assertOneMinimal(t, tt.fails, got)
			t.Logf("%v: %d probes", got, probes)
		})
	}
}

func TestMinimizeOrder(t *testing.T) {
	const n = 64
	blame := func(first ...int) []int { // first, then the rest ascending
		rest := slices.DeleteFunc(upTo(n), func(i int) bool { return slices.Contains(first, i) })
		return append(first, rest...)
	}
	tests := []struct {
		name       string
		fails      siteModel
		order      []int
		want       []int
		wantProbes int
	}{
		// The first in order costs the bisection and none enabled, which bisect probed itself
		// before it deferred that probe to here.
		{"culprit blamed first", failTogether([]int{50}), blame(50), []int{50}, 7},
		{"culprit blamed second", failTogether([]int{50}), blame(7, 50), []int{50}, 7},
		{"culprit not blamed", failTogether([]int{50}), nil, []int{50}, 7},
		{"pair blamed first", failTogether([]int{10, 60}), blame(10, 60), []int{10, 60}, 7},
		{"pair blamed first, other way round", failTogether([]int{10, 60}), blame(60, 10), []int{10, 60}, 7},
		{"pair not blamed", failTogether([]int{10, 60}), nil, []int{10, 60}, 15},
		{"order reversed", failTogether([]int{63}), blame(63, 62, 61), []int{63}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, probes, err := Minimize(t.Context(), n, tt.order, modelTest(t, n, tt.fails, nil))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantProbes, probes)
		})
	}
}

func TestMinimizeMemoises(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		fails siteModel
	}{
		{"single", 64, failTogether([]int{17})},
		{"pair", 64, failTogether([]int{17, 18})},
		{"triple", 40, failTogether([]int{0, 20, 39})},
		{"all together", 12, failTogether([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})},
		{"not monotone", 24, failChain(rand.New(rand.NewPCG(3, 4)).Perm(24))},
		{"no structure", 24, failScrambled(24, 5, 0.3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			calls := 0
			test := func(_ context.Context, enabled []int) (bool, error) {
				calls++
				k := fmt.Sprint(enabled)
				require.False(t, seen[k], "set %v probed twice", enabled)
				seen[k] = true
				return tt.fails(enabled), nil
			}
			_, probes, err := Minimize(t.Context(), tt.n, nil, test)
			require.NoError(t, err)
			assert.Equal(t, calls, probes)
		})
	}
}

func TestMinimizeBudget(t *testing.T) {
	coin := rand.New(rand.NewPCG(6, 7))
	flaky := func([]int) bool { return coin.IntN(2) == 0 }
	tests := []struct {
		name   string
		n      int
		fails  siteModel
		budget int
	}{
		{"not monotone, budget too small", 32, failChain(rand.New(rand.NewPCG(8, 9)).Perm(32)), 250},
		{"flaky, budget too small", 32, flaky, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failing := [][]int{upTo(tt.n)} // all fail: the caller probed that
			test := func(_ context.Context, enabled []int) (bool, error) {
				failed := tt.fails(enabled)
				if failed {
					failing = append(failing, enabled)
				}
				return failed, nil
			}
			got, probes, err := minimize(t.Context(), tt.n, nil, test, tt.budget, true)
			require.ErrorIs(t, err, ErrProbeBudget)
			assert.Equal(t, tt.budget, probes)
			smallest := slices.MinFunc(failing, func(a, b []int) int { return len(a) - len(b) })
			assert.Len(t, got, len(smallest), "not the smallest failing set seen")
			assert.Contains(t, failing, got)
			t.Log(err)
		})
	}
	t.Run("the not monotone site needs more", func(t *testing.T) {
		fails := tests[0].fails
		_, probes, err := Minimize(t.Context(), tests[0].n, nil, modelTest(t, tests[0].n, fails, nil))
		require.NoError(t, err)
		assert.Greater(t, probes, tests[0].budget)
	})
	t.Run("flaky sites end within the budget", func(t *testing.T) {
		for seed := range uint64(50) {
			r := rand.New(rand.NewPCG(seed, 10))
			n := 1 + r.IntN(64)
			allFailed, noneLast := true, false
			test := func(_ context.Context, enabled []int) (bool, error) {
				failed := r.IntN(2) == 0
				allFailed = allFailed && failed
				noneLast = len(enabled) == 0
				return failed, nil
			}
			got, probes, err := Minimize(t.Context(), n, nil, test)
			if err != nil {
				require.ErrorIs(t, err, ErrProbeBudget)
			}
			if len(got) == 0 {
				// Nothing blamed only as a cause outside would be: every answer a failure,
				// the last of them with none enabled.
				assert.True(t, allFailed && noneLast, "seed %d: nothing blamed, yet a probe passed", seed)
				assert.NoError(t, err)
			}
			assert.LessOrEqual(t, probes, probeBudget(n))
		}
	})
}

func TestMinimizeContext(t *testing.T) {
	t.Run("cancelled mid-search", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		calls := 0
		fails := failTogether([]int{5, 50})
		test := func(_ context.Context, enabled []int) (bool, error) {
			calls++
			if calls == 3 {
				cancel() // e.g. Ctrl-C during the third probe, which the Test lets finish
			}
			return fails(enabled), nil
		}
		got, probes, err := Minimize(ctx, 64, nil, test)
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, got)
		assert.Equal(t, 3, probes, "probed after the cancellation")
	})
	t.Run("probe interrupted by the cancellation", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		calls := 0
		test := func(ctx context.Context, enabled []int) (bool, error) {
			if calls++; calls == 2 {
				cancel()
				return false, ctx.Err()
			}
			return slices.Contains(enabled, 0), nil
		}
		got, probes, err := Minimize(ctx, 64, nil, test)
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, got)
		assert.Equal(t, 2, probes)
	})
	t.Run("probe error", func(t *testing.T) {
		errRefused := errors.New("connection refused")
		calls := 0
		test := func(_ context.Context, enabled []int) (bool, error) {
			if calls++; calls == 2 {
				return false, errRefused
			}
			return slices.Contains(enabled, 0), nil
		}
		got, probes, err := Minimize(t.Context(), 64, nil, test)
		require.ErrorIs(t, err, errRefused)
		// The first probe enables 32 candidates and fails, so the second enables 16.
		assert.EqualError(t, err, "probe with 16 candidates enabled: connection refused")
		assert.Nil(t, got)
		assert.Equal(t, 2, probes)
	})
}

func TestMinimizeInput(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		order   []int
		wantErr string
	}{
		{"no candidates", 0, nil, "minimize: 0 candidates"},
		{"negative", -1, nil, "minimize: -1 candidates"},
		{"order too short", 3, []int{0, 1}, "not a permutation"},
		{"order too long", 2, []int{0, 1, 2}, "not a permutation"},
		{"repeated index", 3, []int{0, 1, 1}, "not a permutation"},
		{"index out of range", 3, []int{0, 1, 3}, "not a permutation"},
		{"negative index", 3, []int{0, -1, 2}, "not a permutation"},
		{"empty order", 3, []int{}, "not a permutation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			test := func(context.Context, []int) (bool, error) {
				t.Fatal("probed despite bad input")
				return false, nil
			}
			got, probes, err := Minimize(t.Context(), tt.n, tt.order, test)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Nil(t, got)
			assert.Zero(t, probes)
		})
	}
}

// TestMinimizeProperty runs Minimize on random monotone sites: one to three sets of one to three
// culprits among up to 40 candidates, failing when any set is fully enabled. A 1-minimal failing
// set of such a site is one of its sets that contains no other.
func TestMinimizeProperty(t *testing.T) {
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 11))
		n := 1 + r.IntN(40)
		sets := make([][]int, 1+r.IntN(3))
		for i := range sets {
			size := min(1+r.IntN(3), n)
			sets[i] = slices.Sorted(slices.Values(r.Perm(n)[:size]))
		}
		order := []int(nil)
		if r.IntN(2) == 0 {
			order = r.Perm(n)
		}
		fails := failTogether(sets...)
		got, probes, err := Minimize(t.Context(), n, order, modelTest(t, n, fails, nil))
		require.NoError(t, err, "seed %d", seed)
		assert.Contains(t, sets, got, "seed %d: %v is not a culprit set of %v", seed, got, sets)
		assertOneMinimal(t, fails, got)
		// Each culprit costs a bisection and a test alone, each but the last a test of its removal.
		assert.LessOrEqual(t, probes, len(got)*(ceilLog2(n)+2)-1, "seed %d: %d probes for %v", seed, probes, sets)
	}
}

// TestMinimizeAnySite runs Minimize on deterministic sites with no structure, where the prefix
// search proves nothing and ddmin must finish: whatever comes out is 1-minimal.
func TestMinimizeAnySite(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 12))
		n := 1 + r.IntN(40)
		fails := failScrambled(n, seed, r.Float64())
		var order []int
		if r.IntN(2) == 0 {
			order = r.Perm(n)
		}
		got, probes, err := Minimize(t.Context(), n, order, modelTest(t, n, fails, nil))
		require.NoError(t, err, "seed %d", seed)
		assertOneMinimal(t, fails, got)
		assert.LessOrEqual(t, probes, probeBudget(n))
	}
}

// TestMinimizeProbeTable asserts, and logs as a table, what finding
// culprits among 64 candidates costs. README's Figures: bisect finds one
// culprit among 64 in 9 probes, of which Minimize's are six to bisect and
// one to test the suspect alone (or, for the first candidate, everything
// off); the baseline and the confirming one are bisect's own. A cause
// outside the extensions costs the baseline and Minimize's seven, the last
// of them everything off, and needs no confirmation: 8.
func TestMinimizeProbeTable(t *testing.T) {
	const n = 64
	const bisectOwn = 2 // baseline, confirm
	d := ceilLog2(n)
	var b strings.Builder
	fmt.Fprintf(&b, "probes for a single culprit among %d, by position:\n", n)
	maxSingle := 0
	for c := range n {
		_, probes, err := Minimize(t.Context(), n, nil, modelTest(t, n, failTogether([]int{c}), nil))
		require.NoError(t, err)
		// Six to bisect and one alone; the first candidate is tested alone
		// by the bisection already, and costs everything off instead.
		assert.Equal(t, d+1, probes, "single culprit %d among %d", c, n)
		maxSingle = max(maxSingle, probes)
		fmt.Fprintf(&b, "%3d", probes)
		if c%16 == 15 {
			b.WriteByte('\n')
		}
	}
	assert.Equal(t, 9, maxSingle+bisectOwn, "README: 9 probes for one culprit among 64")
	got, outside, err := Minimize(t.Context(), n, nil, modelTest(t, n, func([]int) bool { return true }, nil))
	require.NoError(t, err)
	require.Empty(t, got)
	assert.Equal(t, 8, 1+outside, "README: 8 probes for a cause outside 64 extensions")
	fmt.Fprintf(&b, "a cause outside the candidates: %d\n", outside)
	costs, maxProbes, mean := minimizePairCosts(t, n)
	at := []int{0, 1, 7, 15, 31, 32, 47, 62, 63}
	fmt.Fprintf(&b, "probes for a pair that fails only together (row: first, column: second):\n    ")
	for _, y := range at {
		fmt.Fprintf(&b, "%4d", y)
	}
	for _, x := range at {
		fmt.Fprintf(&b, "\n%4d", x)
		for _, y := range at {
			if y <= x {
				fmt.Fprintf(&b, "%4s", "")
				continue
			}
			fmt.Fprintf(&b, "%4d", costs[[2]int{x, y}])
		}
	}
	fmt.Fprintf(&b, "\nall %d pairs: max %d, mean %.2f", len(costs), maxProbes, mean)
	t.Log(b.String())

	// A pair: bisect for the second, test it alone, bisect the prefix
	// before it for the first, test the two, test the first alone.
	assert.Len(t, costs, n*(n-1)/2)
	for pair, probes := range costs {
		assert.LessOrEqual(t, probes, 2*d+3, "pair %v", pair)
		assert.GreaterOrEqual(t, probes, d+1, "pair %v", pair)
	}
	assert.Equal(t, 2*d+3, maxProbes, "the worst pair")
	assert.Equal(t, d+1, costs[[2]int{0, 1}], "the first two: one bisection, then each alone")
	// The mean stays near the worst case: most pairs cost two full
	// bisections. Measured 14.29 among 64.
	assert.InDelta(t, 14.29, mean, 0.005, "mean probes for a pair among %d", n)
	assert.Less(t, mean, float64(2*d+3))
}
