// Package testpcap reads classic pcap files whole, for tests and test
// generators: a small, strict reader with no dependencies.
package testpcap
