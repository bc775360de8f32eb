package doccheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ecs-uptime/uptime/config"
)

// maxReadme is the most README.md may weigh: a front page that says what
// ecs-uptime does, which mode to pick, how to start and where to read on.
// The guide lives under docs/.
const maxReadme = 15000

// Every relative link and #anchor of every tracked Markdown file resolves:
// the file or directory exists in the repository, and the anchor is a
// heading of the Markdown file it names (GitHub's slugs).
func TestLinksResolve(t *testing.T) {
	files, err := markdownFiles(repoRoot)
	if err != nil {
		t.Fatalf("list the Markdown files: %v", err)
	}
	for _, want := range []string{"README.md", "docs/configuration.md", "bench/README.md"} {
		if !slices.Contains(files, want) {
			t.Fatalf("the Markdown files %v lack %s: the listing no longer finds them", files, want)
		}
	}
	for _, bad := range checkLinks(repoRoot, files) {
		t.Error(bad)
	}
}

// docs/configuration.md lists, in its "variable" tables, exactly the
// variables that uptime/config reads, each once.
func TestConfigurationReferenceListsEveryVariable(t *testing.T) {
	const page = "docs/configuration.md"
	b, err := os.ReadFile(filepath.Join(repoRoot, page))
	if err != nil {
		t.Fatal(err)
	}
	documented := documentedVariables(string(b))
	read := config.Variables()
	if len(read) < 10 {
		t.Fatalf("config.Variables() = %v: too few to be the whole configuration", read)
	}
	var missing, extra, twice []string
	for _, v := range read {
		if len(documented[v]) == 0 {
			missing = append(missing, v)
		}
	}
	for v, lines := range documented {
		if !slices.Contains(read, v) {
			extra = append(extra, v)
		}
		if len(lines) > 1 {
			twice = append(twice, v)
		}
	}
	slices.Sort(extra)
	slices.Sort(twice)
	if len(missing) > 0 {
		t.Errorf("%s lacks variables that uptime/config reads: add a row for each to the table of the mode that reads it: %s",
			page, strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		t.Errorf("%s lists variables that uptime/config does not read: remove them, or move them out of the variable tables: %s",
			page, strings.Join(extra, ", "))
	}
	for _, v := range twice {
		t.Errorf("%s lists %s more than once (lines %v)", page, v, documented[v])
	}
}

// README.md is a front page, not the manual.
func TestReadmeSize(t *testing.T) {
	info, err := os.Stat(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.Size(); n > maxReadme {
		t.Errorf("README.md is %d bytes, over %d: move the detail to a page under docs/ and link it", n, maxReadme)
	}
}
