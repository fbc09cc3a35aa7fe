package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// usedKeys are the messages the code asks for: the literal key of every
// i18n.T(lang, "…") and i18n.Key("…") in the module's Go files, generated
// templates (*_templ.go) included, with where each is used.
func usedKeys(t *testing.T, root string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "node_modules" || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); ok && x.Name == "i18n" {
					name = fn.Sel.Name
				}
			case *ast.Ident:
				if f.Name.Name == "i18n" {
					name = fn.Name
				}
			}
			arg := -1
			switch name {
			case "T":
				arg = 1
			case "Key":
				arg = 0
			}
			if arg < 0 || len(call.Args) <= arg {
				return true
			}
			if lit, ok := call.Args[arg].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if key, err := strconv.Unquote(lit.Value); err == nil {
					keys[key] = fset.Position(lit.Pos()).String()
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatalf("failed to read the module's Go files: %v", err)
	}
	return keys
}

// Every message the code uses has a translation in every language: a
// template or a definition that asks for a message the catalogues lack
// fails here (it would show in English on a German page).
func TestKeysTranslated(t *testing.T) {
	t.Parallel()
	keys := usedKeys(t, filepath.Join("..", ".."))
	if len(keys) < 100 {
		t.Fatalf("found only %d messages in the code: is the walk broken?", len(keys))
	}
	var missing []string
	for key, where := range keys {
		for _, lang := range Langs[1:] {
			if msg, ok := translations[lang][key]; !ok || msg == "" {
				missing = append(missing, where+": "+lang+" lacks "+strconv.Quote(key))
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
}

// A translation keeps its message's verbs: "%s" and "%d" in the same order,
// so an argument never lands in the wrong place or shows as %!d.
func TestTranslationsKeepVerbs(t *testing.T) {
	t.Parallel()
	verbs := func(s string) string {
		var out []string
		for i := 0; i+1 < len(s); i++ {
			if s[i] == '%' {
				out = append(out, s[i:i+2])
				i++
			}
		}
		return strings.Join(out, " ")
	}
	for lang, msgs := range translations {
		for key, msg := range msgs {
			if verbs(key) != verbs(msg) {
				t.Errorf("%s %q has verbs %q, its English %q has %q", lang, msg, verbs(msg), key, verbs(key))
			}
		}
	}
}
