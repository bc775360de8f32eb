package doccheck

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestSlug(t *testing.T) {
	tests := []struct {
		name, heading, want string
	}{
		{"words", "Quick start", "quick-start"},
		{"punctuation dropped", "Stopping tasks (opt-in twice)", "stopping-tasks-opt-in-twice"},
		{"colon and code", "A task that ends itself: `ECS_UPTIME_MAX_LIFETIME`", "a-task-that-ends-itself-ecs_uptime_max_lifetime"},
		{"underscore and hyphen kept", "snake_case and kebab-case", "snake_case-and-kebab-case"},
		{"apostrophe", "The socket's permissions", "the-sockets-permissions"},
		{"each space a hyphen", "a  b", "a--b"},
		{"link becomes its text", "See [the guide](docs/x.md) here", "see-the-guide-here"},
		{"code keeps brackets as text", "`[x](y)` form", "xy-form"},
		{"html tag dropped", "Title <em>now</em>", "title-now"},
		{"non-ASCII letters kept", "Größe ändern", "größe-ändern"},
		{"ellipsis and slash dropped", "inject, register/monitor…", "inject-registermonitor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := slug(tc.heading); got != tc.want {
				t.Errorf("slug(%q) = %q, want %q", tc.heading, got, tc.want)
			}
		})
	}
}

func TestParseMarkdown(t *testing.T) {
	src := strings.Join([]string{
		"# Title",
		"## Usage",
		"## Usage",
		"### Usage",
		"## Usage-1",
		"```sh",
		"# not a heading [nor](a-link.md)",
		"```",
		"````",
		"```",
		"# still code",
		"````",
		"~~~",
		"# code too",
		"~~~",
		"## Closed heading ##",
		"    ## indented four: not code here, but not a heading either",
		"see `[code](no.md)` and [a link](yes.md#frag) and ![img](pic.png \"title\")",
		"[ref]: <ref target.md>",
	}, "\n")
	f := parseMarkdown(src)
	var anchors []string
	for a := range f.anchors {
		anchors = append(anchors, a)
	}
	slices.Sort(anchors)
	// github-slugger: the third "Usage" takes usage-2, and the heading
	// "Usage-1" finds usage-1 taken and becomes usage-1-1.
	want := []string{"closed-heading", "title", "usage", "usage-1", "usage-1-1", "usage-2"}
	if !slices.Equal(anchors, want) {
		t.Errorf("anchors %v, want %v", anchors, want)
	}
	wantLinks := []link{{18, "yes.md#frag"}, {18, "pic.png"}, {19, "ref target.md"}}
	if got := f.links(); !reflect.DeepEqual(got, wantLinks) {
		t.Errorf("links %v, want %v", got, wantLinks)
	}
}

// checkLinks finds each kind of broken link, and only those, naming the
// file and line.
func TestCheckLinks(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", strings.Join([]string{
		"# Top",
		"## Two words",
		"[ok same file](#two-words) [ok other](docs/a.md#a-heading) [ok dir](docs/) [ok file](main.go)",
		"[ok line](main.go#L3-L5) [ok external](https://example.com/#nothing) [ok mail](mailto:x@example.com)",
		"[ok escaped](docs/with%20space.md)",
		"[bad anchor](#two_words)",
		"[bad file](docs/missing.md)",
		"[bad other anchor](docs/a.md#nope)",
		"[bad outside](../elsewhere.md)",
		"[bad dir anchor](docs/#x)",
		"[bad code anchor](main.go#func)",
		"[bad absolute](/docs/a.md)",
	}, "\n"))
	write("docs/a.md", "# A heading\n[ok up](../README.md#top)\n[bad up](../README.md#top-1)\n")
	write("docs/with space.md", "# Spaced\n")
	write("main.go", "package main\n")
	got := checkLinks(root, []string{"README.md", "docs/a.md", "docs/with space.md"})
	want := []string{
		"README.md:6: #two_words: no heading with the anchor #two_words in README.md",
		"README.md:7: docs/missing.md: no such file or directory",
		"README.md:8: docs/a.md#nope: no heading with the anchor #nope in docs/a.md",
		"README.md:9: ../elsewhere.md: outside the repository",
		"README.md:10: docs/#x: an anchor on a directory",
		"README.md:11: main.go#func: an anchor on a file that is not Markdown",
		"README.md:12: /docs/a.md: an absolute path; use a path relative to the file",
		"docs/a.md:3: ../README.md#top-1: no heading with the anchor #top-1 in README.md",
	}
	if !slices.Equal(got, want) {
		t.Errorf("checkLinks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDocumentedVariables(t *testing.T) {
	src := strings.Join([]string{
		"# Configuration",
		"`NOT_IN_A_TABLE` is ignored.",
		"",
		"| variable | default | meaning |",
		"| --- | --- | --- |",
		"| `ECS_UPTIME_A` | `1` | mentions `ECS_UPTIME_C` outside the first cell |",
		"| `DD_X`, `DD_Y` | none | two in one cell |",
		"",
		"| flag | meaning |",
		"| --- | --- |",
		"| `NOT_A_VARIABLE` | another kind of table |",
		"",
		"| variable | default |",
		"| :-- | --: |",
		"| `ECS_UPTIME_A` | again |",
		"| `lowercase` | not a name |",
	}, "\n")
	got := documentedVariables(src)
	want := map[string][]int{"ECS_UPTIME_A": {6, 15}, "DD_X": {7}, "DD_Y": {7}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("documentedVariables = %v, want %v", got, want)
	}
}
