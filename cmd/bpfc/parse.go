package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/bpfc/bpfc/parser"
	"github.com/spf13/cobra"
)

// newParseCmd builds "bpfc parse": parse and resolve an expression and
// print the resolved tree.
func newParseCmd(s *streams) *cobra.Command {
	var asJSON, syntax bool
	var file string
	cmd := &cobra.Command{
		Use:   "parse [--json] [-F FILE] EXPRESSION...",
		Short: "Parse and resolve a filter expression and print its tree",
		Long: "parse reads a pcap-filter expression (the words joined by spaces, as\n" +
			"tcpdump does, or the contents of -F FILE), resolves qualifier\n" +
			"inheritance and names, and prints the resolved tree: the canonical\n" +
			"text, then one node per line. With --json it prints the tree as JSON.",
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := readExpression(s, args, file)
			if err != nil {
				return err
			}
			e, err := parser.Parse(src)
			if err == nil && !syntax {
				e, err = parser.Resolve(context.Background(), e, nil)
			}
			if err != nil {
				fmt.Fprintf(s.err, "bpfc: %s\n", parser.FormatError(src, err))
				return silentError{exitError}
			}
			if asJSON {
				enc := json.NewEncoder(s.out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(nodeJSON(e))
			}
			writeTree(s.out, e)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tree as JSON")
	cmd.Flags().BoolVar(&syntax, "syntax", false, "print the parsed tree as written, before resolving")
	cmd.Flags().StringVarP(&file, "file", "F", "", "read the expression from `FILE` ('-' for standard input)")
	return cmd
}

// writeTree prints the canonical text of e and then its nodes, indented.
func writeTree(w io.Writer, e parser.Expr) {
	if e == nil {
		fmt.Fprintln(w, "(empty expression: accepts every packet)")
		return
	}
	fmt.Fprintln(w, e.String())
	var walk func(n parser.Node, depth int)
	walk = func(n parser.Node, depth int) {
		ind := strings.Repeat("  ", depth)
		switch x := n.(type) {
		case *parser.Binary:
			fmt.Fprintf(w, "%s%s\n", ind, x.Op)
			walk(x.X, depth+1)
			walk(x.Y, depth+1)
		case *parser.Not:
			fmt.Fprintf(w, "%snot\n", ind)
			walk(x.X, depth+1)
		case *parser.Paren:
			fmt.Fprintf(w, "%s( )\n", ind)
			walk(x.X, depth+1)
		case *parser.Relation:
			fmt.Fprintf(w, "%sRelation %s  %s\n", ind, x.Op, x)
		default:
			fmt.Fprintf(w, "%s%s  %s\n", ind, strings.TrimPrefix(fmt.Sprintf("%T", n), "*parser."), fields(n))
		}
	}
	walk(e, 0)
}

// fields renders a leaf's fields as key=value, zero values left out.
func fields(n parser.Node) string {
	v := reflect.ValueOf(n).Elem()
	var parts []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.IsZero() || f.Type() == reflect.TypeOf(parser.Pos{}) {
			continue
		}
		val := f.Interface()
		switch x := val.(type) {
		case fmt.Stringer:
			val = x.String()
		case string:
			val = fmt.Sprintf("%q", x)
		}
		if f.Kind() == reflect.Pointer || f.Kind() == reflect.Interface {
			if s, ok := f.Interface().(fmt.Stringer); ok {
				val = s.String()
			}
		}
		parts = append(parts, fmt.Sprintf("%s=%v", v.Type().Field(i).Name, val))
	}
	return strings.Join(parts, " ")
}

// nodeJSON turns a tree into JSON-ready maps: every node has a "node" key
// naming its type, positions are "line:col" strings, enums their text.
func nodeJSON(n any) any {
	if n == nil {
		return nil
	}
	v := reflect.ValueOf(n)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return n
	}
	if _, ok := n.(parser.Address); ok {
		return fmt.Sprint(n)
	}
	m := map[string]any{"node": v.Type().Name()}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		if f.IsZero() && f.Kind() != reflect.Bool {
			continue
		}
		switch x := f.Interface().(type) {
		case parser.Pos:
			m[name] = x.String()
		case parser.Proto, parser.Dir, parser.Type, parser.BoolOp, parser.RelOp, parser.ArithOp, parser.Transport:
			m[name] = fmt.Sprint(x)
		case parser.Address:
			m[name] = x.String()
		case parser.Node, *parser.ID:
			m[name] = nodeJSON(x)
		case byte:
			m[name] = string(rune(x))
		default:
			m[name] = x
		}
	}
	return m
}
