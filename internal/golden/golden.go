package golden

import (
	"errors"
	"os"
	"strconv"
	"strings"
)

// Ranges formats sorted packet indices as "0-3,7,9-12" ("-" when empty).
func Ranges(idx []int) string {
	if len(idx) == 0 {
		return "-"
	}
	var sb strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(idx[i]))
		if j > i {
			sb.WriteString("-" + strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	return sb.String()
}

// KnownGaps reads the "capture<TAB>expression" lines of a known-gaps file
// ('#' lines are comments); a missing file is an empty list.
func KnownGaps(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m, nil
}
