//go:build linux

package netnstest

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"
)

// Blast sends UDP frames (UDPFrame's) from A to B, to port 53 and port 54
// in turn, the i-th with sequence number i, until stop is set, resting
// pause after every 64 frames (0: no rest); the channel then gives how
// many it sent. The sequence numbers are written into a frame made once,
// so its UDP checksum is wrong, which nothing on a packet socket checks.
func (n *NS) Blast(t testing.TB, stop *atomic.Bool, pause time.Duration) <-chan int {
	t.Helper()
	send := n.Sender(t, n.A)
	var fr [2][]byte
	for i, port := range []int{53, 54} {
		f, err := UDPFrame(n.MACA, n.MACB, port, 0)
		if err != nil {
			t.Fatal(err)
		}
		fr[i] = f
	}
	done := make(chan int, 1)
	go func() {
		i := 0
		for ; !stop.Load(); i++ {
			f := fr[i%2]
			binary.BigEndian.PutUint32(f[seqOff:], uint32(i))
			send.Send(f)
			if pause > 0 && i%64 == 63 {
				time.Sleep(pause)
			}
		}
		done <- i
	}()
	return done
}

// seqOff is where UDPFrame puts its sequence number: after the
// Ethernet, IPv4 and UDP headers.
const seqOff = 14 + 20 + 8

// DstPort returns the UDP destination port of a frame UDPFrame made.
func DstPort(frame []byte) int { return int(binary.BigEndian.Uint16(frame[36:])) }

// Seq returns the sequence number of a frame UDPFrame made.
func Seq(frame []byte) uint32 { return binary.BigEndian.Uint32(frame[seqOff:]) }

// Data returns the frames' bytes, as sent.
func Data(frames []Frame) [][]byte {
	out := make([][]byte, len(frames))
	for i, f := range frames {
		out[i] = f.Data
	}
	return out
}

// SendAll returns a function that sends the frames through s, for the
// tests that send once a capture listens.
func SendAll(s *Sender, frames []Frame) func() {
	return func() {
		for _, f := range frames {
			s.Send(f.Data)
		}
	}
}
