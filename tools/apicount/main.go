// Command apicount counts the exported identifiers of a Go package: each
// package-level func, exported method of an exported type, type, const and
// var name counts once (struct fields are counted separately). Issue 11 caps
// the root package at 110.
//
//	cd tools && GOWORK=off go run ./apicount [-v] [-max N] ..
//
// -v lists the identifiers; -max N fails when there are more than N.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"sort"
	"strings"
)

func main() {
	verbose := flag.Bool("v", false, "list the identifiers")
	limit := flag.Int("max", 0, "fail when there are more than this many (0: no limit)")
	flag.Parse()
	dir := "."
	if flag.NArg() > 0 {
		dir = flag.Arg(0)
	}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	counts := map[string]int{}
	var names []string
	fields := 0
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if !d.Name.IsExported() {
						continue
					}
					if d.Recv == nil {
						counts["func"]++
						names = append(names, "func "+d.Name.Name)
						continue
					}
					t := d.Recv.List[0].Type
					if s, ok := t.(*ast.StarExpr); ok {
						t = s.X
					}
					if id, ok := t.(*ast.Ident); ok && id.IsExported() {
						counts["method"]++
						names = append(names, "method "+id.Name+"."+d.Name.Name)
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						switch s := s.(type) {
						case *ast.TypeSpec:
							if s.Name.IsExported() {
								counts["type"]++
								names = append(names, "type "+s.Name.Name)
								if st, ok := s.Type.(*ast.StructType); ok {
									for _, fl := range st.Fields.List {
										for _, n := range fl.Names {
											if n.IsExported() {
												fields++
											}
										}
									}
								}
							}
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if n.IsExported() {
									counts[d.Tok.String()]++
									names = append(names, d.Tok.String()+" "+n.Name)
								}
							}
						}
					}
				}
			}
		}
	}
	sort.Strings(names)
	if *verbose {
		for _, n := range names {
			fmt.Println(n)
		}
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	fmt.Printf("exported identifiers: %d (func %d, method %d, type %d, const %d, var %d); exported struct fields: %d\n",
		total, counts["func"], counts["method"], counts["type"], counts["const"], counts["var"], fields)
	if *limit > 0 && total > *limit {
		fmt.Fprintf(os.Stderr, "apicount: %d exported identifiers, more than the %d allowed\n", total, *limit)
		os.Exit(1)
	}
}
