// Package golden holds what the differential tests and their generator
// share about the golden files of testdata/golden: the notation of kept
// packets and the list of known gaps.
package golden
