package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/internal/testpcap"
)

func readAll(t *testing.T, r io.Reader) (*FileReader, []Packet, error) {
	t.Helper()
	fr, err := NewFileReader(r)
	if err != nil {
		return nil, nil, err
	}
	var out []Packet
	for {
		p, err := fr.Next()
		if err == io.EOF {
			return fr, out, nil
		}
		if err != nil {
			return fr, out, err
		}
		p.Data = append([]byte(nil), p.Data...)
		out = append(out, p)
	}
}

// TestFileRoundTrip reads each test capture, writes its packets back out
// and checks the records (lengths and bytes) and header survive.
func TestFileRoundTrip(t *testing.T) {
	for _, name := range []string{"en10mb", "linux_sll", "null", "raw", "ipv6"} {
		t.Run(name, func(t *testing.T) {
			path := "../testdata/pcaps/" + name + ".pcap"
			ref, err := testpcap.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fr, pkts, err := readAll(t, bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fr.LinkType(), cbpf.LinkTypeFromPcap(ref.LinkType); got != want {
				t.Errorf("link type %v, want %v", got, want)
			}
			if len(pkts) != len(ref.Records) {
				t.Fatalf("%d packets, want %d", len(pkts), len(ref.Records))
			}
			var out bytes.Buffer
			w, err := NewFileWriter(&out, fr.LinkType(), fr.Snaplen(), fr.Nanosecond())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pkts {
				if err := w.Write(p); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes()[24:], b[24:]) {
				t.Errorf("records written differ from the input's")
			}
			back, err := testpcap.Read(writeTemp(t, out.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if back.LinkType != ref.LinkType || back.Snaplen != ref.Snaplen {
				t.Errorf("header: link type %d snaplen %d, want %d %d", back.LinkType, back.Snaplen, ref.LinkType, ref.Snaplen)
			}
		})
	}
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return f.Name()
}

// TestFileBad checks that broken files give ErrFormat with the packet and
// byte offset, and that the packets before the damage are still read.
func TestFileBad(t *testing.T) {
	good, err := os.ReadFile("../testdata/pcaps/raw.pcap")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := testpcap.Read("../testdata/pcaps/raw.pcap")
	if err != nil {
		t.Fatal(err)
	}
	first := 24 + 16 + len(ref.Records[0].Data)
	tests := []struct {
		name    string
		data    []byte
		header  bool   // the error comes from NewFileReader
		want    string // in the message
		packets int    // read before the error
	}{
		{"empty", nil, true, "empty", 0},
		{"short header", good[:10], true, "bad capture file", 0},
		{"not a capture", []byte(strings.Repeat("hello world ", 10)), true, "bad capture file", 0},
		{"cut in record header", good[:first+8], false, "packet 2 (record at byte " + itoa(first) + ")", 1},
		{"cut in record data", good[:first+20], false, "packet 2", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, pkts, err := readAll(t, bytes.NewReader(tt.data))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %v is not ErrFormat", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if len(pkts) != tt.packets {
				t.Errorf("%d packets read before the error, want %d", len(pkts), tt.packets)
			}
		})
	}
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// TestFileLargeRecord checks records larger than the read buffer (read by
// copy, not in place), next to small ones, and cut short. A record longer
// than libpcap's largest snapshot length (262,144) comes back cut to it,
// as libpcap reads it.
func TestFileLargeRecord(t *testing.T) {
	big := bytes.Repeat([]byte{0xab}, readBufSize+1000)
	small := []byte{1, 2, 3, 4}
	var b bytes.Buffer
	w, err := NewFileWriter(&b, cbpf.LinkEN10MB, 1<<20, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range [][]byte{small, big, small} {
		if err := w.Write(Packet{Data: d, Info: Info{Sec: uint32(i), Len: len(d) + 1}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	_, pkts, err := readAll(t, bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 3 || !bytes.Equal(pkts[1].Data, big[:cbpf.DefaultSnaplen]) || !bytes.Equal(pkts[2].Data, small) || pkts[1].Info.Len != len(big)+1 {
		t.Errorf("read back %d packets, not the 3 written (the big one cut to the snapshot length)", len(pkts))
	}
	cut := b.Len() - 16 - len(small) - 500
	_, pkts, err = readAll(t, bytes.NewReader(b.Bytes()[:cut]))
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "packet 2 (record at byte 44)") || len(pkts) != 1 {
		t.Errorf("cut in the large record: %d packets, error %v", len(pkts), err)
	}
}

// FuzzFileReader reads arbitrary bytes as a capture file: no panic, an
// error or io.EOF at the end, and every packet within its record.
func FuzzFileReader(f *testing.F) {
	for _, name := range []string{"raw", "ipv6"} {
		b, err := os.ReadFile("../testdata/pcaps/" + name + ".pcap")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := NewFileReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i := 0; ; i++ {
			p, err := fr.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !strings.Contains(err.Error(), "packet ") {
					t.Fatalf("error %q names no packet", err)
				}
				return
			}
			if len(p.Data) != p.Info.CapLen || len(p.Data) > len(data) {
				t.Fatalf("packet %d: %d bytes, captured length %d, file %d bytes", i+1, len(p.Data), p.Info.CapLen, len(data))
			}
		}
	})
}
