// Package testenv holds the checks tests make of the machine before they
// use kernel features.
package testenv
