package parser

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Resolver looks up the host names of "host NAME". The system resolver
// (SystemResolver) is the default; tests use a fake.
type Resolver interface {
	// LookupHost returns the IPv4 and IPv6 addresses of name.
	LookupHost(ctx context.Context, name string) ([]netip.Addr, error)
}

// NetworkResolver is implemented by a Resolver that also knows network
// names ("net NAME", getnetbyname and /etc/networks in libpcap).
type NetworkResolver interface {
	// LookupNetwork returns the network number of name, e.g. 127 for
	// "loopback" (which "net loopback" widens to 127.0.0.0/8).
	LookupNetwork(ctx context.Context, name string) (uint32, error)
}

// EtherResolver is implemented by a Resolver that also knows link-layer
// host names ("ether host NAME", /etc/ethers in libpcap).
type EtherResolver interface {
	// LookupEther returns the MAC address of name.
	LookupEther(ctx context.Context, name string) (MAC, error)
}

// ErrNotFound is what a Resolver returns for a name it does not know.
var ErrNotFound = errors.New("name not found")

// SystemResolver resolves host names with net.DefaultResolver, network
// names with /etc/networks and link-layer names with /etc/ethers.
var SystemResolver Resolver = systemResolver{}

type systemResolver struct{}

// LookupHost implements Resolver.
func (systemResolver) LookupHost(ctx context.Context, name string) ([]netip.Addr, error) {
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil, err
	}
	for i, a := range ips {
		ips[i] = a.Unmap()
	}
	return ips, nil
}

// LookupNetwork implements NetworkResolver with /etc/networks.
func (systemResolver) LookupNetwork(_ context.Context, name string) (uint32, error) {
	var found uint32
	err := scanFile("/etc/networks", func(f []string) bool {
		if len(f) < 2 {
			return false
		}
		for _, n := range append([]string{f[0]}, f[2:]...) {
			if n == name {
				if v, ok := parseNetNumber(f[1]); ok {
					found = v
					return true
				}
			}
		}
		return false
	})
	if err != nil {
		return 0, err
	}
	if found == 0 {
		return 0, ErrNotFound
	}
	return found, nil
}

// LookupEther implements EtherResolver with /etc/ethers.
func (systemResolver) LookupEther(_ context.Context, name string) (MAC, error) {
	var found MAC
	ok := false
	err := scanFile("/etc/ethers", func(f []string) bool {
		if len(f) >= 2 && f[1] == name {
			if m, good := parseMAC(f[0]); good {
				found, ok = m, true
				return true
			}
		}
		return false
	})
	if err != nil {
		return MAC{}, err
	}
	if !ok {
		return MAC{}, ErrNotFound
	}
	return found, nil
}

// scanFile calls fn with the fields of each line of path, comments
// removed, until fn returns true. A missing file is not an error.
func scanFile(path string, fn func([]string) bool) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if fn(strings.Fields(line)) {
			return nil
		}
	}
	return sc.Err()
}

// parseNetNumber reads a network number as inet_network does: up to
// four dotted parts, the last part filling the low bits.
func parseNetNumber(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, false
	}
	var v uint32
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 0, 8)
		if err != nil {
			return 0, false
		}
		v = v<<8 | uint32(n)
	}
	return v, true
}

// parseMAC reads a MAC address in any of libpcap's forms.
func parseMAC(s string) (MAC, bool) {
	var m MAC
	var digits []byte
	groups := 0
	flush := func() bool {
		if len(digits) == 0 {
			return false
		}
		for len(digits) > 0 {
			n := 2 - len(digits)%2
			if n > len(digits) {
				n = len(digits)
			}
			if groups >= 6 {
				return false
			}
			v, err := strconv.ParseUint(string(digits[:n]), 16, 8)
			if err != nil {
				return false
			}
			m[groups] = byte(v)
			groups++
			digits = digits[n:]
		}
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isHex(c):
			digits = append(digits, c)
		case c == ':' || c == '-' || c == '.':
			if !flush() {
				return m, false
			}
		default:
			return m, false
		}
	}
	if !flush() || groups != 6 {
		return m, false
	}
	return m, true
}
