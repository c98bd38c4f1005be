//go:build ignore

// exported_count prints the exported identifiers of the non-test Go files
// in each directory given, one "dir name" per line: package-level funcs,
// types, vars and consts (each name of a group), and the exported methods
// of exported types ("Type.Method"); interface methods and struct fields
// are not counted. Count them with wc -l, e.g. (issue #17, exporter/...):
//
//	go run scripts/exported_count.go exporter exporter/result exporter/lag exporter/status exporter/expiry | wc -l
//
// With -all it also prints the exported methods of unexported types
// ("type.Method", e.g. MarshalJSON): they cannot be named from outside, but
// are callable there when a value of the type is reachable (an exported
// field of that type), so they bound the count from above.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	all := flag.Bool("all", false, "also print the exported methods of unexported types")
	flag.Parse()
	for _, dir := range flag.Args() {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		fset := token.NewFileSet()
		for _, fn := range files {
			if strings.HasSuffix(fn, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, fn, nil, parser.SkipObjectResolution)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			for _, d := range f.Decls {
				for _, name := range exported(d, *all) {
					fmt.Println(dir, name)
				}
			}
		}
	}
}

// exported returns the exported names one declaration adds.
func exported(d ast.Decl, all bool) []string {
	var names []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		if name, ok := funcName(d, all); ok {
			names = append(names, name)
		}
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				if s.Name.IsExported() {
					names = append(names, s.Name.Name)
				}
			case *ast.ValueSpec:
				for _, n := range s.Names {
					if n.IsExported() {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	return names
}

// funcName names an exported function or method ("Type.Method"); methods
// of unexported types count only with all.
func funcName(d *ast.FuncDecl, all bool) (string, bool) {
	if !d.Name.IsExported() {
		return "", false
	}
	if d.Recv == nil {
		return d.Name.Name, true
	}
	t := d.Recv.List[0].Type
	if st, ok := t.(*ast.StarExpr); ok {
		t = st.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	recv := t.(*ast.Ident).Name
	if !ast.IsExported(recv) && !all {
		return "", false // cannot be named from outside
	}
	return recv + "." + d.Name.Name, true
}
