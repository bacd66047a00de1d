package cbpf

import (
	"errors"
	"testing"

	"golang.org/x/net/bpf"
)

// r is a raw instruction, for tables.
func r(op uint16, jt, jf uint8, k uint32) bpf.RawInstruction {
	return bpf.RawInstruction{Op: op, Jt: jt, Jf: jf, K: k}
}

var (
	retOK  = r(bpfRET|bpfK, 0, 0, 0xffff)
	retAcc = r(bpfRET|bpfA, 0, 0, 0)
)

// validationCases are shared with the kernel agreement test: want is nil
// for a program the kernel accepts, else the rule it breaks.
var validationCases = []struct {
	name string
	prog []bpf.RawInstruction
	want error
	// index is the instruction named by the error (ignored when want is nil).
	index int
}{
	{"ret k", []bpf.RawInstruction{retOK}, nil, 0},
	{"ret a", []bpf.RawInstruction{retAcc}, nil, 0},
	{"empty", nil, ErrEmpty, -1},
	{"too long", append(make([]bpf.RawInstruction, MaxInstructions), retOK), ErrTooLong, -1},
	{"max length", append(repeat(r(bpfLD|bpfIMM, 0, 0, 1), MaxInstructions-1), retOK), nil, 0},
	{"no return", []bpf.RawInstruction{r(bpfLD|bpfIMM, 0, 0, 1)}, ErrNoReturn, 0},
	{"return not last", []bpf.RawInstruction{retOK, r(bpfMISC|bpfTAX, 0, 0, 0)}, ErrNoReturn, 1},
	{"unknown opcode", []bpf.RawInstruction{r(0xff, 0, 0, 0), retOK}, ErrBadOpcode, 0},
	{"ld imm with size", []bpf.RawInstruction{r(bpfLD|bpfB|bpfIMM, 0, 0, 0), retOK}, ErrBadOpcode, 0},
	{"ldx abs (seccomp only)", []bpf.RawInstruction{r(bpfLDX|bpfW|bpfABS, 0, 0, 0), retOK}, ErrBadOpcode, 0},
	{"ldx msh word", []bpf.RawInstruction{r(bpfLDX|bpfW|bpfMSH, 0, 0, 14), retOK}, ErrBadOpcode, 0},
	{"high opcode bits", []bpf.RawInstruction{r(0x100|bpfRET, 0, 0, 0)}, ErrBadOpcode, 0},
	{"ret x", []bpf.RawInstruction{r(bpfRET|0x08, 0, 0, 0)}, ErrBadOpcode, 0},
	{"neg with x bit", []bpf.RawInstruction{r(bpfALU|bpfNEG|bpfX, 0, 0, 0), retOK}, ErrBadOpcode, 0},
	{"xor k", []bpf.RawInstruction{r(bpfALU|bpfXOR|bpfK, 0, 0, 3), retAcc}, nil, 0},
	{"div k 0", []bpf.RawInstruction{r(bpfALU|bpfDIV|bpfK, 0, 0, 0), retAcc}, ErrDivByZero, 0},
	{"mod k 0", []bpf.RawInstruction{r(bpfALU|bpfMOD|bpfK, 0, 0, 0), retAcc}, ErrDivByZero, 0},
	{"div x", []bpf.RawInstruction{r(bpfALU|bpfDIV|bpfX, 0, 0, 0), retAcc}, nil, 0},
	{"lsh k 31", []bpf.RawInstruction{r(bpfALU|bpfLSH|bpfK, 0, 0, 31), retAcc}, nil, 0},
	{"lsh k 32", []bpf.RawInstruction{r(bpfALU|bpfLSH|bpfK, 0, 0, 32), retAcc}, ErrShiftRange, 0},
	{"rsh k 99", []bpf.RawInstruction{r(bpfALU|bpfRSH|bpfK, 0, 0, 99), retAcc}, ErrShiftRange, 0},
	{"st 15", []bpf.RawInstruction{r(bpfST, 0, 0, 15), retOK}, nil, 0},
	{"st 16", []bpf.RawInstruction{r(bpfST, 0, 0, 16), retOK}, ErrScratchIndex, 0},
	{"ldx mem 16", []bpf.RawInstruction{r(bpfLDX|bpfMEM, 0, 0, 16), retOK}, ErrScratchIndex, 0},
	{"ld mem uninit", []bpf.RawInstruction{r(bpfLD|bpfMEM, 0, 0, 3), retAcc}, ErrScratchUninit, 0},
	{"st then ld", []bpf.RawInstruction{r(bpfST, 0, 0, 3), r(bpfLD|bpfMEM, 0, 0, 3), retAcc}, nil, 0},
	{"stx then ldx", []bpf.RawInstruction{r(bpfSTX, 0, 0, 7), r(bpfLDX|bpfMEM, 0, 0, 7), retAcc}, nil, 0},
	{"written on one branch only", []bpf.RawInstruction{
		r(bpfJMP|bpfJEQ|bpfK, 0, 1, 1),
		r(bpfST, 0, 0, 2),
		r(bpfLD|bpfMEM, 0, 0, 2),
		retAcc,
	}, ErrScratchUninit, 2},
	{"written on both branches", []bpf.RawInstruction{
		r(bpfJMP|bpfJEQ|bpfK, 0, 2, 1),
		r(bpfST, 0, 0, 2),
		r(bpfJMP|bpfJA, 0, 0, 1),
		r(bpfSTX, 0, 0, 2),
		r(bpfLD|bpfMEM, 0, 0, 2),
		retAcc,
	}, nil, 0},
	{"dead code after ret keeps state", []bpf.RawInstruction{
		r(bpfST, 0, 0, 0),
		retOK,
		r(bpfLD|bpfMEM, 0, 0, 0),
		retAcc,
	}, nil, 0},
	{"dead code after ja is unchecked", []bpf.RawInstruction{
		r(bpfJMP|bpfJA, 0, 0, 1),
		r(bpfLD|bpfMEM, 0, 0, 9),
		retAcc,
	}, nil, 0},
	{"join of ret fallthrough and jump", []bpf.RawInstruction{
		r(bpfJMP|bpfJEQ|bpfK, 2, 0, 1),
		r(bpfST, 0, 0, 0),
		retOK,
		r(bpfLD|bpfMEM, 0, 0, 0),
		retAcc,
	}, ErrScratchUninit, 3},
	{"ja to last", []bpf.RawInstruction{r(bpfJMP|bpfJA, 0, 0, 0), retOK}, nil, 0},
	{"ja past end", []bpf.RawInstruction{r(bpfJMP|bpfJA, 0, 0, 1), retOK}, ErrJumpOutOfRange, 0},
	{"ja huge", []bpf.RawInstruction{r(bpfJMP|bpfJA, 0, 0, 0xffffffff), retOK}, ErrJumpOutOfRange, 0},
	{"jt past end", []bpf.RawInstruction{r(bpfJMP|bpfJGT|bpfK, 1, 0, 0), retOK}, ErrJumpOutOfRange, 0},
	{"jf past end", []bpf.RawInstruction{r(bpfJMP|bpfJSET|bpfX, 0, 1, 0), retOK}, ErrJumpOutOfRange, 0},
	{"cond jump as last", []bpf.RawInstruction{retOK, r(bpfJMP|bpfJGE|bpfK, 0, 0, 0)}, ErrJumpOutOfRange, 1},
	{"ancillary protocol", []bpf.RawInstruction{r(bpfLD|bpfH|bpfABS, 0, 0, SKFAdOff+SKFAdProtocol), retAcc}, nil, 0},
	{"ancillary byte load", []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, SKFAdOff+SKFAdVLANTPID), retAcc}, nil, 0},
	{"ancillary unknown", []bpf.RawInstruction{r(bpfLD|bpfW|bpfABS, 0, 0, SKFAdOff+SKFAdMax), retAcc}, ErrBadAncillary, 0},
	{"ancillary unaligned", []bpf.RawInstruction{r(bpfLD|bpfW|bpfABS, 0, 0, SKFAdOff+2), retAcc}, ErrBadAncillary, 0},
	{"ancillary -1", []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, 0xffffffff), retAcc}, ErrBadAncillary, 0},
	{"net offset", []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, SKFNetOff+9), retAcc}, nil, 0},
	{"link offset", []bpf.RawInstruction{r(bpfLD|bpfH|bpfABS, 0, 0, SKFLLOff+12), retAcc}, nil, 0},
	{"just below ancillary", []bpf.RawInstruction{r(bpfLD|bpfW|bpfABS, 0, 0, SKFAdOff-1), retAcc}, nil, 0},
	{"ind load at ancillary offset", []bpf.RawInstruction{r(bpfLD|bpfW|bpfIND, 0, 0, SKFAdOff+SKFAdMax), retAcc}, nil, 0},
	{"msh at ancillary offset", []bpf.RawInstruction{r(bpfLDX|bpfB|bpfMSH, 0, 0, SKFAdOff), retAcc}, nil, 0},
}

func repeat(ins bpf.RawInstruction, n int) []bpf.RawInstruction {
	out := make([]bpf.RawInstruction, n)
	for i := range out {
		out[i] = ins
	}
	return out
}

func TestValidateRaw(t *testing.T) {
	for _, tc := range validationCases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateRaw(tc.prog)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ValidateRaw: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("ValidateRaw: %v, want %v", err, tc.want)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ValidateRaw: %T, want *ValidationError", err)
			}
			if ve.Index != tc.index {
				t.Errorf("Index = %d, want %d (%v)", ve.Index, tc.index, err)
			}
			if (ve.Index >= 0) != (ve.Insn != "") {
				t.Errorf("Index %d with Insn %q", ve.Index, ve.Insn)
			}
		})
	}
}

func TestValidateMessage(t *testing.T) {
	p := &Program{Instructions: []bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.ALUOpConstant{Op: bpf.ALUOpDiv, Val: 0},
		bpf.RetA{},
	}}
	err := p.Validate()
	const want = "instruction 1 (div #0): division by zero"
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %q", err, want)
	}
}

func TestValidateTyped(t *testing.T) {
	tests := []struct {
		name string
		ins  []bpf.Instruction
		want error
	}{
		{"tcp port 80 head", []bpf.Instruction{bpf.LoadAbsolute{Off: 12, Size: 2}, bpf.RetConstant{Val: 262144}}, nil},
		{"scratch 16", []bpf.Instruction{bpf.StoreScratch{Src: bpf.RegA, N: 16}, bpf.RetA{}}, ErrScratchIndex},
		{"bad load size", []bpf.Instruction{bpf.LoadAbsolute{Off: 12, Size: 3}, bpf.RetA{}}, ErrBadOpcode},
		{"raw unknown", []bpf.Instruction{bpf.RawInstruction{Op: 0xee}, bpf.RetA{}}, ErrBadOpcode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Program{Instructions: tc.ins}).Validate()
			if !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
				t.Errorf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}
