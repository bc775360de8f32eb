package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The README's Quick start states what its two commands need, as the
// repository has it: the Go version of go.mod, a C compiler for -race, the
// disk the caches take, and the way to the deploy flow without Go, which
// relies on the image's entrypoint being the binary.
func TestReadmeQuickStart(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	start := strings.Index(readme, "## Quick start")
	end := strings.Index(readme, "\n## Install")
	if start < 0 || end < start {
		t.Fatal("README has no Quick start followed by Install")
	}
	quick := readme[start:end]
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	for _, want := range []string{
		"**Go " + goLine[1] + " or later**",
		"**A C compiler**",
		"`-race`",
		"**About 1.7 GB of disk**",
		"`docker run --rm -i IMAGE inject …`",
		"(see [Install](#install))",
	} {
		if !strings.Contains(quick, want) {
			t.Errorf("Quick start lacks %s", want)
		}
	}
	// The Quick start's test command is the one CI runs.
	const testCmd = "go test -race -count=1 ./..."
	if !strings.Contains(quick, "\n"+testCmd+" ") {
		t.Errorf("Quick start lacks the line %q", testCmd)
	}
	if !strings.Contains(readRepoFile(t, ".ci/run"), "\n"+testCmd+"\n") {
		t.Errorf(".ci/run does not run %q, the Quick start's test command", testCmd)
	}
	if !strings.Contains(readRepoFile(t, "Dockerfile"), "\nENTRYPOINT [\"/ecs-uptime\"]\n") {
		t.Error(`the Dockerfile's ENTRYPOINT is not ["/ecs-uptime"]: "docker run IMAGE inject" would not run the inject command`)
	}
}

// Every flag the README and the guide (docs/, and the READMEs beside the
// files they describe) give inject and monitor, whether run as ecs-uptime
// or through the image, is one the command has.
func TestDocFlagsExist(t *testing.T) {
	var pages []string
	for _, pattern := range []string{"../../*.md", "../../docs/*.md", "../../*/README.md"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, m...)
	}
	if !slices.Contains(pages, "../../docs/sidecar.md") {
		t.Fatalf("pages %v lack docs/sidecar.md, where inject is described", pages)
	}
	// "ecs-uptime inject --image X --critical 2h", "ecs-uptime:1.2.3 monitor --family x",
	// up to the end of the line or of the inline code span.
	use := regexp.MustCompile("ecs-uptime(?::[^ `]+)? (inject|monitor)((?: [^`\\n|>]*)?)")
	flagRE := regexp.MustCompile(` --([a-z][a-z-]*)`)
	helps := map[string]string{}
	seen := 0
	for _, page := range pages {
		checkFlags(t, page, readRepoFile(t, strings.TrimPrefix(page, "../../")), use, flagRE, helps, &seen)
	}
	if seen < 5 {
		t.Errorf("found %d flags of inject and monitor in %v; the pattern no longer reads them", seen, pages)
	}
}

func checkFlags(t *testing.T, page, text string, use, flagRE *regexp.Regexp, helps map[string]string, seen *int) {
	t.Helper()
	for _, m := range use.FindAllStringSubmatch(text, -1) {
		cmd := m[1]
		if _, ok := helps[cmd]; !ok {
			out, _ := command(cmd, "--help").CombinedOutput()
			helps[cmd] = string(out)
		}
		for _, f := range flagRE.FindAllStringSubmatch(m[2], -1) {
			*seen++
			if f[1] == "help" || strings.Contains(helps[cmd], "\n  -"+f[1]+" ") || strings.Contains(helps[cmd], "\n  -"+f[1]+"\n") {
				continue
			}
			t.Errorf("%s: ecs-uptime %s --%s: no such flag (in %q)", strings.TrimPrefix(page, "../../"), cmd, f[1], strings.TrimSpace(m[0]))
		}
	}
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The guide says what the release workflow pushes for a pre-release tag,
// and how to build from a clone.
func TestReadmeReleaseAndBuild(t *testing.T) {
	for page, wants := range map[string][]string{
		"docs/development.md": {"pushes only `:1.3.0-rc.1` and its twin `:1.3.0-rc.1-sidecar`"},
		"docs/install.md":     {"go build -o ecs-uptime ./cmd/ecs-uptime", "go build -tags noapi -o ecs-uptime ./cmd/ecs-uptime"},
	} {
		text := readRepoFile(t, page)
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %s", page, want)
			}
		}
	}
	wf := readRepoFile(t, ".github/workflows/release.yml")
	if !strings.Contains(wf, "suffix=-sidecar") || !strings.Contains(wf, "type=semver,pattern={{version}}") {
		t.Error("release.yml no longer tags the -sidecar twin with the full version: update the pre-release sentence of docs/development.md")
	}
}
