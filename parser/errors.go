package parser

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on what Parse accepts.
const (
	// MaxLen is the longest filter text Parse accepts, in bytes.
	MaxLen = 4 << 20
	// MaxDepth is the deepest nesting of parentheses, "not" and
	// arithmetic Parse accepts.
	MaxDepth = 1000
)

// Sentinel errors a caller may test with errors.Is.
var (
	// ErrSyntax marks an expression that does not follow the grammar.
	ErrSyntax = errors.New("syntax error")
	// ErrLimit marks an expression over MaxLen or MaxDepth.
	ErrLimit = errors.New("limit exceeded")
	// ErrResolve marks an expression that parses but names or numbers
	// something libpcap refuses: an unknown host, a port over 65535 ...
	ErrResolve = errors.New("invalid value")
)

// Error is an error at a position of the filter text.
type Error struct {
	Pos Pos
	Msg string
	// Kind is ErrSyntax, ErrLimit or ErrResolve.
	Kind error
	// Err is the underlying error, if any (e.g. from a Resolver).
	Err error
}

// Error returns "line:column: message".
func (e *Error) Error() string {
	return e.Pos.String() + ": " + e.Msg
}

// Unwrap returns the error's kind and its underlying error.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// ErrorList is a list of errors, sorted by position. Parse and Resolve
// stop at the first error, so their lists hold one; the type exists for
// callers that collect errors.
type ErrorList []*Error

// Error returns the first error's message, with a count of the others.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Err returns l as an error, or nil if l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Unwrap returns the errors of the list.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// FormatError renders err for a person: each positioned error on a line
// "line:col: message", then the offending line of src and a caret under
// the column, indented by two spaces:
//
//	1:10: expected a port number or service name after 'port', found end of input
//	  tcp port
//	           ^
//
// Other errors are rendered with their Error method.
func FormatError(src string, err error) string {
	var list ErrorList
	var one *Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = ErrorList{one}
	default:
		return err.Error()
	}
	var b strings.Builder
	for i, e := range list {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
		line, col := caretLine(src, e.Pos)
		if line == "" && col == 0 {
			continue
		}
		b.WriteString("\n  ")
		b.WriteString(line)
		b.WriteString("\n  ")
		b.WriteString(strings.Repeat(" ", col))
		b.WriteByte('^')
	}
	return b.String()
}

// caretLine returns the line of src holding pos, with tabs and control
// characters shown as spaces, and the number of characters before pos on
// it. Very long lines are cut around pos.
func caretLine(src string, pos Pos) (string, int) {
	off := pos.Offset
	if off < 0 || off > len(src) {
		return "", 0
	}
	start := strings.LastIndexByte(src[:off], '\n') + 1
	end := strings.IndexByte(src[off:], '\n')
	if end < 0 {
		end = len(src)
	} else {
		end += off
	}
	const window = 60
	prefix, suffix := "", ""
	if off-start > window {
		start = off - window
		for start < off && !utf8.RuneStart(src[start]) {
			start++
		}
		prefix = "..."
	}
	if end-off > window {
		end = off + window
		for end > off && end < len(src) && !utf8.RuneStart(src[end]) {
			end--
		}
		suffix = "..."
	}
	var b strings.Builder
	b.WriteString(prefix)
	col := utf8.RuneCountInString(prefix)
	for i, r := range src[start:end] {
		if start+i == off {
			col = utf8.RuneCountInString(b.String())
		}
		if r < ' ' || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
	}
	if off == end {
		col = utf8.RuneCountInString(b.String())
	}
	b.WriteString(suffix)
	return b.String(), col
}
