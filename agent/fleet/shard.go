package fleet

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// JobIndexEnv is the variable Kubernetes sets in each pod of an Indexed
// Job: the pod's index, from 0. With --shards N it picks the shard.
const JobIndexEnv = "JOB_COMPLETION_INDEX"

// Shard is one part of N of a run: the sites one machine checks. The zero
// Shard is the whole run.
type Shard struct {
	// Index is the shard, from 0 to Count-1.
	Index int
	// Count is how many shards there are; 0 or 1 for one.
	Count int
}

// ParseShard reads --shard I/N, with I from 1 to N, as Playwright's
// --shard=1/3 does.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || strings.HasPrefix(i, "+") || strings.HasPrefix(n, "+") {
		return Shard{}, fmt.Errorf("--shard %q: want I/N, like 1/3 for the first of three", s)
	}
	if count < 1 || index < 1 || index > count {
		return Shard{}, fmt.Errorf("--shard %q: want I from 1 to N, and N at least 1", s)
	}
	return Shard{Index: index - 1, Count: count}, nil
}

// JobShard is the shard of a pod of a Kubernetes Indexed Job: --shards
// count, with index the value of JOB_COMPLETION_INDEX (from 0; "" when it
// is not set).
func JobShard(count int, index string) (Shard, error) {
	if count < 1 {
		return Shard{}, fmt.Errorf("--shards %d: want at least 1", count)
	}
	if index == "" {
		return Shard{}, fmt.Errorf("--shards %d: %s is not set; Kubernetes sets it in an Indexed Job (completionMode: Indexed), else give --shard I/N", count, JobIndexEnv)
	}
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 || i >= count || strings.HasPrefix(index, "+") {
		return Shard{}, fmt.Errorf("--shards %d: %s=%q is not an index from 0 to %d: make the Job's completions equal to --shards", count, JobIndexEnv, index, count-1)
	}
	return Shard{Index: i, Count: count}, nil
}

// String writes the shard as --shard takes it: I/N from 1.
func (s Shard) String() string {
	if s.Count <= 1 {
		return "1/1"
	}
	return fmt.Sprintf("%d/%d", s.Index+1, s.Count)
}

// Has reports whether the site named name is in the shard.
func (s Shard) Has(name string) bool {
	return s.Count <= 1 || ShardOf(name, s.Count) == s.Index
}

// Filter returns the sites in the shard, in their order.
func (s Shard) Filter(sites []Site) []Site {
	var out []Site
	for _, site := range sites {
		if s.Has(site.Name) {
			out = append(out, site)
		}
	}
	return out
}

// ShardOf returns the shard, from 0 to count-1, of the site named name. It
// depends on the name and count only: not on the other sites, their order,
// the machine or the Go version. It is the jump consistent hash (Lamping
// and Veach, 2014) of the first 8 bytes of the name's SHA-256, so the
// shards are even, and going from N to N+1 shards moves only the sites the
// new shard takes (1 in N+1), not most of them as a hash mod N would.
func ShardOf(name string, count int) int {
	if count <= 1 {
		return 0
	}
	sum := sha256.Sum256([]byte(name))
	key := binary.BigEndian.Uint64(sum[:8])
	var b, j int64 = -1, 0
	for j < int64(count) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}
