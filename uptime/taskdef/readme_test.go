package taskdef_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// task-definitions/README.md lists every file of the folder in its table,
// each as a link.
func TestReadmeListsEveryFile(t *testing.T) {
	readme := readDefs(t, "README.md")
	var files []string
	err := filepath.WalkDir("../../task-definitions", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "README.md" {
			return err
		}
		rel, _ := filepath.Rel("../../task-definitions", path)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.Contains(readme, "| [`"+f+"`]("+f+") |") {
			t.Errorf("README.md's table does not list %s", f)
		}
	}
}

// replaceable is one value of a raw JSON file that a user must replace:
// the example account in it, or a log group and region.
type replaceable struct{ file, field, value string }

// Every value that a user must replace in a raw JSON file (one that names
// AWS's example account, a log region, a log group) is in the README's
// table of values to replace, for that file, and the table lists nothing
// else: registering a file as shipped cannot work, and nothing may say so
// only by omission.
func TestReadmeListsEveryValueToReplace(t *testing.T) {
	files, err := filepath.Glob("../../task-definitions/*.json")
	if err != nil {
		t.Fatal(err)
	}
	iam, err := filepath.Glob("../../task-definitions/iam/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var found []replaceable
	for _, f := range append(files, iam...) {
		var doc any
		if err := json.Unmarshal([]byte(readDefs(t, strings.TrimPrefix(f, "../../task-definitions/"))), &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		found = append(found, toReplace(filepath.Base(f), "", doc)...)
	}
	if len(found) < 10 {
		t.Fatalf("found %d values to replace; the walk no longer reads the files", len(found))
	}

	// | `value` | `field` of … | what | `file`, `file` |
	readme := readDefs(t, "README.md")
	start := strings.Index(readme, "| value in the file | field | what to put there | files |")
	if start < 0 {
		t.Fatal("README.md has no table of values to replace")
	}
	code := regexp.MustCompile("`([^`]+)`")
	listed := map[replaceable]bool{}
	for _, line := range strings.Split(readme[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "| ") {
			break
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 4 {
			t.Fatalf("row %q: want 4 cells", line)
		}
		value := code.FindStringSubmatch(cells[0])
		field := code.FindStringSubmatch(cells[1])
		if value == nil || field == nil {
			t.Fatalf("row %q: want the value and the field in backquotes", line)
		}
		for _, f := range code.FindAllStringSubmatch(cells[3], -1) {
			listed[replaceable{f[1], field[1], value[1]}] = true
		}
	}
	seen := map[replaceable]bool{}
	for _, r := range found {
		if !listed[r] && !seen[r] {
			t.Errorf("%s: %s %q is not in README.md's table of values to replace", r.file, r.field, r.value)
		}
		seen[r] = true
	}
	for r := range listed {
		if !seen[r] {
			t.Errorf("README.md's table lists %s %q in %s, which the file does not have", r.field, r.value, r.file)
		}
	}
}

// toReplace walks a JSON document for the values a user must replace.
func toReplace(file, key string, v any) []replaceable {
	var out []replaceable
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range v {
				if !yield(k) {
					return
				}
			}
		}) {
			out = append(out, toReplace(file, k, v[k])...)
		}
	case []any:
		for _, e := range v {
			out = append(out, toReplace(file, key, e)...)
		}
	case string:
		if strings.Contains(v, exampleAccount) || key == "awslogs-region" || key == "awslogs-group" {
			out = append(out, replaceable{file, key, v})
		}
	default:
		if v != nil && strings.Contains(fmt.Sprint(v), exampleAccount) {
			out = append(out, replaceable{file, key, fmt.Sprint(v)})
		}
	}
	return out
}

func readDefs(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../task-definitions/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
