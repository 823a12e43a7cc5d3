package fleet

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func siteNames(n int) []Site {
	sites := make([]Site, n)
	for i := range sites {
		sites[i] = Site{Name: fmt.Sprintf("client-%04d.example", i)}
	}
	return sites
}

// TestShardPartition: over 1 to 5 shards (and more), every site is in
// exactly one shard.
func TestShardPartition(t *testing.T) {
	sites := siteNames(1000)
	for n := 1; n <= 16; n++ {
		count := map[string]int{}
		for i := 1; i <= n; i++ {
			s, err := ParseShard(fmt.Sprintf("%d/%d", i, n))
			require.NoError(t, err)
			for _, site := range s.Filter(sites) {
				count[site.Name]++
			}
		}
		require.Len(t, count, len(sites), "%d shards: every site in a shard", n)
		for name, c := range count {
			require.Equal(t, 1, c, "%d shards: %s in exactly one", n, name)
		}
	}
}

// TestShardStable: a site's shard is a function of its name and the count:
// the same whatever the order or the other sites, and the same as this
// test recorded it (so it does not change between versions of wpfix, Go
// or machines: a site stays on its machine).
func TestShardStable(t *testing.T) {
	sites := siteNames(300)
	before := map[string]int{}
	for _, s := range sites {
		before[s.Name] = ShardOf(s.Name, 5)
	}
	shuffled := append([]Site(nil), sites[:150]...)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	shard := Shard{Index: 2, Count: 5}
	for _, s := range shard.Filter(shuffled) {
		assert.Equal(t, 2, before[s.Name])
	}
	// Recorded values, computed apart from this code (a few lines of
	// Python: hashlib.sha256, then the jump hash): a change here moves
	// sites between machines.
	for name, want := range map[string][3]int{ // shards of 2, 3 and 5, from 0
		"acme":                      {1, 1, 1},
		"bistro":                    {0, 0, 0},
		"deploy@web1:/var/www/acme": {0, 0, 0},
		"":                          {1, 2, 2},
	} {
		assert.Equal(t, want, [3]int{ShardOf(name, 2), ShardOf(name, 3), ShardOf(name, 5)}, "%q", name)
	}
}

// TestShardBalance: 1000 names spread evenly: no shard of 2 to 10 is more
// than 20% off its share.
func TestShardBalance(t *testing.T) {
	sites := siteNames(1000)
	for n := 2; n <= 10; n++ {
		counts := make([]int, n)
		for _, s := range sites {
			counts[ShardOf(s.Name, n)]++
		}
		share := float64(len(sites)) / float64(n)
		for i, c := range counts {
			assert.InDelta(t, share, c, share*0.2, "%d shards: shard %d has %d", n, i+1, c)
		}
	}
}

// TestShardGrow: from N to N+1 shards a site stays where it was or moves
// to the new shard, so adding a machine moves about 1 site in N+1.
func TestShardGrow(t *testing.T) {
	sites := siteNames(1000)
	for n := 1; n < 10; n++ {
		moved := 0
		for _, s := range sites {
			a, b := ShardOf(s.Name, n), ShardOf(s.Name, n+1)
			if a != b {
				require.Equal(t, n, b, "%s: moves only to the new shard", s.Name)
				moved++
			}
		}
		assert.InDelta(t, float64(len(sites))/float64(n+1), moved, 40, "%d→%d shards", n, n+1)
	}
}

// TestParseShard: I/N from 1, as Playwright; the Kubernetes index from 0.
func TestParseShard(t *testing.T) {
	s, err := ParseShard("1/3")
	require.NoError(t, err)
	assert.Equal(t, Shard{Index: 0, Count: 3}, s)
	assert.Equal(t, "1/3", s.String())
	s, err = ParseShard("3/3")
	require.NoError(t, err)
	assert.Equal(t, Shard{Index: 2, Count: 3}, s)
	for _, bad := range []string{"", "3", "0/3", "4/3", "1/0", "-1/3", "+1/3", "a/b", "1/3/4", " 1/3"} {
		_, err := ParseShard(bad)
		assert.Error(t, err, "%q", bad)
	}

	s, err = JobShard(4, "0")
	require.NoError(t, err)
	assert.Equal(t, Shard{Index: 0, Count: 4}, s)
	assert.Equal(t, "1/4", s.String())
	s, err = JobShard(4, "3")
	require.NoError(t, err)
	assert.Equal(t, "4/4", s.String())
	_, err = JobShard(4, "")
	assert.EqualError(t, err, "--shards 4: JOB_COMPLETION_INDEX is not set; Kubernetes sets it in an Indexed Job (completionMode: Indexed), else give --shard I/N")
	_, err = JobShard(4, "4")
	assert.EqualError(t, err, `--shards 4: JOB_COMPLETION_INDEX="4" is not an index from 0 to 3: make the Job's completions equal to --shards`)
	_, err = JobShard(0, "0")
	assert.Error(t, err)

	assert.True(t, Shard{}.Has("anything"), "the zero Shard is the whole run")
	assert.Equal(t, "1/1", Shard{}.String())
}
