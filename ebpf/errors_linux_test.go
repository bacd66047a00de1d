package ebpf

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLoadErrorPermission: a load the kernel refuses for lack of
// privilege is ErrPermission, which the CLI turns into its message for
// unprivileged users, and not a verifier error.
func TestLoadErrorPermission(t *testing.T) {
	for _, errno := range []error{unix.EPERM, unix.EACCES} {
		err := loadError(SchedCLS, fmt.Errorf("load program: %w", errno))
		if !errors.Is(err, ErrPermission) || errors.Is(err, ErrVerifier) {
			t.Errorf("%v: got %v, want ErrPermission", errno, err)
		}
		if !errors.Is(err, errno) {
			t.Errorf("%v: the kernel's error is lost: %v", errno, err)
		}
	}
	if err := loadError(XDP, unix.EINVAL); errors.Is(err, ErrPermission) {
		t.Errorf("EINVAL taken for a permission error: %v", err)
	}
}
