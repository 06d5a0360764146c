//go:build race

package timeline

// raceEnabled: built with the race detector, which the tests run under.
const raceEnabled = true
