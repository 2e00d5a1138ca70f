//go:build race

package idlist

// raceEnabled: under the race detector, sync.Pool drops items at random.
const raceEnabled = true
