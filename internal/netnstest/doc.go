// Package netnstest gives privileged tests a network namespace of their
// own, with a veth pair in it, and removes it afterwards: the tests send
// frames on one end and capture on the other, and nothing outside the
// namespace is touched or addressed.
//
// The namespace is made with iproute2 (`ip netns add`, which mounts it
// under /run/netns) and the veth pair is created inside it (`ip -n NS
// link add`), with IPv6 off and no addresses, so the kernel sends
// nothing of its own on it. Go code runs in the namespace through Do: a
// new goroutine locks itself to its OS thread, switches that thread into
// the namespace with setns(2), runs the function and exits without
// unlocking, so the thread, now in the wrong namespace, is destroyed and
// never reused by the scheduler. A socket keeps the namespace it was
// made in: one opened inside Do can be used afterwards from any
// goroutine. Commands run in the namespace through `ip netns exec`.
//
// Everything here needs Linux.
package netnstest
