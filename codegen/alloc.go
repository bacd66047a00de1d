package codegen

// chunked allocates values of T from chunks of memory that it keeps: a
// graph's blocks, threading's fact nodes and the compiler's preds. The
// graphs and compilers that own them are pooled, so that compiling many
// filters allocates that memory once; reset frees all of it for the next
// compilation.
type chunked[T any] struct {
	bufs      [][]T
	cur, next int // the next free value is bufs[cur][next]
	held      int // the values bufs hold
}

// maxChunk is the most values a chunk holds: chunks double from the
// first size up to it.
const maxChunk = 4096

// alloc returns a free value, as it was left: the caller sets all of it.
// The first chunk holds first values.
func (a *chunked[T]) alloc(first int) *T {
	for a.cur < len(a.bufs) && a.next == len(a.bufs[a.cur]) {
		a.cur++
		a.next = 0
	}
	if a.cur == len(a.bufs) {
		n := first
		if k := len(a.bufs); k > 0 {
			n = min(2*len(a.bufs[k-1]), maxChunk)
		}
		a.bufs = append(a.bufs, make([]T, n))
		a.held += n
	}
	p := &a.bufs[a.cur][a.next]
	a.next++
	return p
}

// reset frees every value, dropping what the values used point to.
func (a *chunked[T]) reset() {
	clearUsed(a.bufs, a.cur, a.next)
	a.cur, a.next = 0, 0
}

// clearUsed clears the elements of chunks that an allocation up to
// chunks[cur][next] has used: a small compilation after a large one
// must not clear the large one's chunks again, nor all of a chunk it
// took a few elements of.
func clearUsed[T any](chunks [][]T, cur, next int) {
	for i := 0; i < cur && i < len(chunks); i++ {
		clear(chunks[i])
	}
	if cur < len(chunks) {
		clear(chunks[cur][:next])
	}
}
