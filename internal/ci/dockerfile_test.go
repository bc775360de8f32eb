package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Dockerfile's header shows how to build a release image by hand; the
// version it stamps at a tag is the one the release workflow and
// .ci/image.sh stamp there: 1.2.3 at v1.2.3, without the "v" (the release
// checks `ecs-uptime version` for exactly that).
func TestDockerfileHeaderStampsAsTheRelease(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash: .ci/image.sh is a bash script")
	}
	df, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^#.*--build-arg VERSION="\$\((.+?)\)"`).FindSubmatch(df)
	if m == nil {
		t.Fatal(`the Dockerfile's header has no --build-arg VERSION="$(…)"`)
	}
	imageSh, err := filepath.Abs(filepath.Join(repoRoot, ".ci/image.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(script string) string {
		t.Helper()
		cmd := exec.Command("bash", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("git init -q . && git commit -q --allow-empty -m release && git tag -a v1.2.3 -m 1.2.3")
	header := run(string(m[1]))
	ci := run(". " + imageSh + " && image_version")
	if header != "1.2.3" || ci != "1.2.3" {
		t.Errorf("at the tag v1.2.3 the Dockerfile's header stamps %q and .ci/image.sh %q; the release stamps 1.2.3", header, ci)
	}
}

// The release workflow's header says what a pre-release pushes: when the
// workflow tags a -sidecar twin with the full version, the pre-release's
// twin is named too (the README's pre-release paragraph follows it).
func TestReleaseHeaderNamesThePreReleaseTwin(t *testing.T) {
	wf, err := os.ReadFile(filepath.Join(repoRoot, ".github/workflows/release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(wf)
	twin := strings.Contains(s, "suffix=-sidecar") && strings.Contains(s, "type=semver,pattern={{version}}")
	header, _, _ := strings.Cut(s, "\nname:")
	header = strings.Join(strings.Fields(strings.ReplaceAll(header, "#", " ")), " ")
	if twin && !strings.Contains(header, "A pre-release tag (v1.3.0-rc.1) gets its own image tags only, :1.3.0-rc.1 and :1.3.0-rc.1-sidecar") {
		t.Errorf("release.yml pushes a -sidecar twin for every version, and its header's pre-release sentence does not name it:\n%s", header)
	}
}
