package wptest

import "embed"

//go:embed php/*.php
var assets embed.FS

func mustAsset(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic("wptest: missing embedded " + name)
	}
	return string(b)
}
