package ci

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// repoRoot is the repository's top directory, from this package's.
const repoRoot = "../.."

var (
	// pinnedAction is OWNER/REPO[/PATH]@<full commit SHA>.
	pinnedAction = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$`)
	// pinnedImage is docker://IMAGE@sha256:<digest>.
	pinnedImage = regexp.MustCompile(`^docker://[^@\s]+@sha256:[0-9a-f]{64}$`)
	// versionComment ends the line of a pinned uses: "@<sha> # v1.2.3".
	versionComment = regexp.MustCompile(`@[0-9a-f]{40}\s+#\s*(v\d+(\.\d+)*(-[0-9A-Za-z.-]+)?)\s*$`)
)

// writeNeeds says, for each scope a job may write, what the job must do to
// need it. Any other scope, and any of these without the need, is more than
// the job needs.
var writeNeeds = map[string]struct {
	does string
	by   func(*actionlint.Job) bool
}{
	"contents":     {"create a GitHub release (gh release create)", createsRelease},
	"packages":     {"log in to ghcr.io to push an image (docker/login-action)", logsInToGHCR},
	"id-token":     {"sign attestations (actions/attest)", attests},
	"attestations": {"store attestations (actions/attest)", attests},
}

func usesAction(j *actionlint.Job, name string) bool {
	for _, s := range j.Steps {
		if a, ok := s.Exec.(*actionlint.ExecAction); ok && a.Uses != nil && strings.HasPrefix(a.Uses.Value, name+"@") {
			return true
		}
	}
	return false
}

func runs(j *actionlint.Job, command string) bool {
	for _, s := range j.Steps {
		if r, ok := s.Exec.(*actionlint.ExecRun); ok && r.Run != nil && strings.Contains(r.Run.Value, command) {
			return true
		}
	}
	return false
}

func createsRelease(j *actionlint.Job) bool { return runs(j, "gh release create") }

func attests(j *actionlint.Job) bool {
	return usesAction(j, "actions/attest") || usesAction(j, "actions/attest-build-provenance")
}

func logsInToGHCR(j *actionlint.Job) bool {
	for _, s := range j.Steps {
		a, ok := s.Exec.(*actionlint.ExecAction)
		if !ok || a.Uses == nil || !strings.HasPrefix(a.Uses.Value, "docker/login-action@") {
			continue
		}
		if in := a.Inputs["registry"]; in != nil && in.Value != nil && in.Value.Value == "ghcr.io" {
			return true
		}
	}
	return false
}

// pin is one pinned uses: and the version its comment names.
type pin struct {
	action, sha, version, at string
}

// checkWorkflow returns what is wrong with one workflow file, each problem
// as "NAME:LINE: what", and the pins it found.
func checkWorkflow(name string, src []byte) (problems []string, pins []pin) {
	report := func(pos *actionlint.Pos, format string, args ...any) {
		line := 0
		if pos != nil {
			line = pos.Line
		}
		problems = append(problems, fmt.Sprintf("%s:%d: %s", name, line, fmt.Sprintf(format, args...)))
	}
	w, errs := actionlint.Parse(src)
	for _, e := range errs {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", name, e.Line, e.Message))
	}
	if w == nil {
		return problems, nil
	}
	lines := strings.Split(string(src), "\n")
	checkUses := func(uses *actionlint.String) {
		ref := uses.Value
		switch {
		case strings.HasPrefix(ref, "./"):
			return // an action or workflow of this repository
		case strings.HasPrefix(ref, "docker://"):
			if !pinnedImage.MatchString(ref) {
				report(uses.Pos, "uses %s is not pinned: want docker://IMAGE@sha256:<digest>", ref)
			}
			return
		case !pinnedAction.MatchString(ref):
			report(uses.Pos, "uses %s is not pinned: want OWNER/REPO@<40-hex commit SHA> # vX.Y.Z", ref)
			return
		}
		m := versionComment.FindStringSubmatch(lines[uses.Pos.Line-1])
		if m == nil {
			report(uses.Pos, "uses %s has no version comment: want # vX.Y.Z, the tag the SHA was read at", ref)
			return
		}
		action, sha, _ := strings.Cut(ref, "@")
		pins = append(pins, pin{action, sha, m[1], fmt.Sprintf("%s:%d", name, uses.Pos.Line)})
	}

	// The top level grants what every job gets by default: reading the
	// repository, nothing more.
	switch top := w.Permissions; {
	case top == nil:
		report(nil, "no top-level permissions: want contents: read (the default token can write)")
	case top.All != nil:
		report(top.Pos, "top-level permissions: %s: want contents: read, and write access on the job that needs it", top.All.Value)
	default:
		for _, s := range sortedScopes(top) {
			if v := s.Value.Value; v != "none" && (s.Name.Value != "contents" || v != "read") {
				report(s.Name.Pos, "top-level permissions: %s: %s: only contents: read belongs at the top; give it to the job that needs it", s.Name.Value, v)
			}
		}
	}

	for _, id := range slices.Sorted(maps.Keys(w.Jobs)) {
		j := w.Jobs[id]
		if j.WorkflowCall != nil && j.WorkflowCall.Uses != nil {
			checkUses(j.WorkflowCall.Uses)
		}
		for _, s := range j.Steps {
			if a, ok := s.Exec.(*actionlint.ExecAction); ok && a.Uses != nil {
				checkUses(a.Uses)
			}
		}
		p := j.Permissions
		if p == nil {
			continue // the top level's contents: read
		}
		if p.All != nil {
			report(p.Pos, "job %s: permissions: %s: list the scopes it needs", id, p.All.Value)
			continue
		}
		readsContents := false
		for _, s := range sortedScopes(p) {
			scope, v := s.Name.Value, s.Value.Value
			switch {
			case v == "none":
			case scope == "contents" && v == "read":
				readsContents = true
			case v == "write":
				need, known := writeNeeds[scope]
				switch {
				case !known:
					report(s.Name.Pos, "job %s: %s: write is more than any job here needs", id, scope)
				case !need.by(j):
					report(s.Name.Pos, "job %s: %s: write is only for a job that does %s, which this one does not", id, scope, need.does)
				}
				if scope == "contents" {
					readsContents = true
				}
			default:
				report(s.Name.Pos, "job %s: %s: %s is more than any job here needs", id, scope, v)
			}
		}
		if usesAction(j, "actions/checkout") && !readsContents {
			report(p.Pos, "job %s checks out the repository but its permissions leave out contents: read", id)
		}
	}
	return problems, pins
}

func sortedScopes(p *actionlint.Permissions) []*actionlint.PermissionScope {
	var scopes []*actionlint.PermissionScope
	for _, k := range slices.Sorted(maps.Keys(p.Scopes)) {
		scopes = append(scopes, p.Scopes[k])
	}
	return scopes
}

// workflows returns the repository's workflow files by name.
func workflows(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, ".github", "workflows", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	for _, want := range []string{"ci.yml", "release.yml"} {
		if files[want] == nil {
			t.Fatalf(".github/workflows/%s is missing (found %v)", want, slices.Sorted(maps.Keys(files)))
		}
	}
	return files
}

func TestWorkflowsArePinnedWithLeastPermissions(t *testing.T) {
	bySHA := map[string]pin{}    // action@sha -> first pin
	byAction := map[string]pin{} // action -> first pin
	for name, src := range workflows(t) {
		problems, pins := checkWorkflow(name, src)
		for _, p := range problems {
			t.Error(p)
		}
		if len(pins) == 0 {
			t.Errorf("%s: no pinned uses: found; is this the workflow?", name)
		}
		// One version of each action across the workflows, and one
		// version per SHA.
		for _, p := range pins {
			if first, ok := byAction[p.action]; ok && (first.sha != p.sha || first.version != p.version) {
				t.Errorf("%s: %s@%s # %s, but %s has @%s # %s: pin one version everywhere",
					p.at, p.action, p.sha, p.version, first.at, first.sha, first.version)
			}
			if first, ok := bySHA[p.action+"@"+p.sha]; ok && first.version != p.version {
				t.Errorf("%s: %s@%s is # %s here and # %s at %s", p.at, p.action, p.sha, p.version, first.version, first.at)
			}
			if _, ok := byAction[p.action]; !ok {
				byAction[p.action] = p
			}
			if _, ok := bySHA[p.action+"@"+p.sha]; !ok {
				bySHA[p.action+"@"+p.sha] = p
			}
		}
	}
}

// Each fixture breaks one rule, and only that one.
func TestBadWorkflowsFail(t *testing.T) {
	tests := []struct {
		fixture, want string
	}{
		{"tag-ref.yml", "uses actions/checkout@v7 is not pinned"},
		{"short-sha.yml", "uses actions/checkout@3d3c42e is not pinned"},
		{"branch-reusable-workflow.yml", "uses octo-org/workflows/.github/workflows/build.yml@main is not pinned"},
		{"docker-tag.yml", "uses docker://alpine:3.20 is not pinned"},
		{"no-version-comment.yml", "has no version comment"},
		{"no-top-permissions.yml", "no top-level permissions"},
		{"top-write-all.yml", "top-level permissions: write-all"},
		{"top-packages-write.yml", "top-level permissions: packages: write"},
		{"job-write-all.yml", "job build: permissions: write-all"},
		{"packages-write-without-push.yml", "job build: packages: write is only for a job that does log in to ghcr.io"},
		{"id-token-without-attest.yml", "job build: id-token: write is only for a job that does sign attestations"},
		{"contents-write-without-release.yml", "job build: contents: write is only for a job that does create a GitHub release"},
		{"other-write.yml", "job build: issues: write is more than any job here needs"},
		{"other-read.yml", "job build: pull-requests: read is more than any job here needs"},
		{"checkout-without-contents.yml", "job push checks out the repository but its permissions leave out contents: read"},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "workflows", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			problems, _ := checkWorkflow(tc.fixture, src)
			if len(problems) != 1 || !strings.Contains(problems[0], tc.want) {
				t.Errorf("problems:\n  %s\nwant exactly one, containing %q", strings.Join(problems, "\n  "), tc.want)
			}
		})
	}
}

// buildArgs returns the names in a build-args input, one NAME=value a line.
func buildArgs(v string) []string {
	var names []string
	for _, line := range strings.Split(v, "\n") {
		if name, _, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func input(a *actionlint.ExecAction, name string) string {
	if in := a.Inputs[name]; in != nil && in.Value != nil {
		return in.Value.Value
	}
	return ""
}

// The release builds the image and the binaries the way .ci/image.sh builds
// the image CI tests: `docker build` of the repository's Dockerfile with the
// same build arguments, all of them ARGs of the Dockerfile. GO_IMAGE is the
// one .ci/image.sh passes and the release does not (a hosted runner pulls
// the Dockerfile's pinned golang image; CI here has no registry), which
// release.yml says.
func TestReleaseBuildsTheDockerfileAsImageShDoes(t *testing.T) {
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(repoRoot, path))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	dockerfileArgs := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(read("Dockerfile"), -1) {
		dockerfileArgs[m[1]] = true
	}
	var imageSh []string
	for _, m := range regexp.MustCompile(`--build-arg ([A-Z_]+)=`).FindAllStringSubmatch(read(".ci/image.sh"), -1) {
		imageSh = append(imageSh, m[1])
	}
	slices.Sort(imageSh)
	if len(imageSh) == 0 {
		t.Fatal(".ci/image.sh passes no --build-arg: has its docker build changed?")
	}
	want := slices.DeleteFunc(slices.Clone(imageSh), func(a string) bool { return a == "GO_IMAGE" })

	w, errs := actionlint.Parse([]byte(read(".github/workflows/release.yml")))
	if len(errs) > 0 {
		t.Fatalf("release.yml: %v", errs)
	}
	var image, sidecar, binaries *actionlint.ExecAction
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			a, ok := s.Exec.(*actionlint.ExecAction)
			if !ok || !strings.HasPrefix(a.Uses.Value, "docker/build-push-action@") {
				continue
			}
			switch {
			case input(a, "push") == "true" && strings.Contains(input(a, "build-args"), "GO_TAGS=noapi"):
				sidecar = a
			case input(a, "push") == "true":
				image = a
			case strings.HasPrefix(input(a, "outputs"), "type=local,"):
				binaries = a
			default:
				t.Errorf("release.yml:%d: a build-push-action step that neither pushes nor writes files", a.Uses.Pos.Line)
			}
		}
	}
	if image == nil || sidecar == nil || binaries == nil {
		t.Fatalf("release.yml: want build-push-action steps that push the image and the sidecar image (GO_TAGS=noapi) and one that writes the binaries (type=local); image %v, sidecar %v, binaries %v", image != nil, sidecar != nil, binaries != nil)
	}
	// The sidecar image is the image built without the api source, and
	// nothing else differs.
	if got, want := input(sidecar, "build-args"), strings.TrimRight(input(image, "build-args"), "\n")+"\nGO_TAGS=noapi"; strings.TrimRight(got, "\n") != want {
		t.Errorf("the sidecar image's build-args are not the image's plus GO_TAGS=noapi:\n%s\nwant\n%s", got, want)
	}
	if input(sidecar, "platforms") != input(image, "platforms") || input(sidecar, "sbom") != input(image, "sbom") || input(sidecar, "provenance") != input(image, "provenance") {
		t.Error("the sidecar image is not built for the image's platforms with its SBOM and provenance")
	}
	for _, step := range []struct {
		name      string
		a         *actionlint.ExecAction
		platforms []string
	}{
		{"image", image, []string{"linux/amd64", "linux/arm64"}},
		{"binaries", binaries, []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64"}},
	} {
		a := step.a
		if c := input(a, "context"); c != "." {
			t.Errorf("%s step: context %q, want . (the checkout, as .ci/image.sh builds)", step.name, c)
		}
		if f := input(a, "file"); f != "" {
			t.Errorf("%s step: file %q, want the repository's Dockerfile", step.name, f)
		}
		got := buildArgs(input(a, "build-args"))
		for _, name := range got {
			if !dockerfileArgs[name] {
				t.Errorf("%s step: build-arg %s is no ARG of the Dockerfile", step.name, name)
			}
		}
		for _, name := range want {
			if !slices.Contains(got, name) {
				t.Errorf("%s step: build-args %v lack %s, which .ci/image.sh passes", step.name, got, name)
			}
		}
		if slices.Contains(got, "GO_IMAGE") {
			t.Errorf("%s step: passes GO_IMAGE; the release builds with the Dockerfile's pinned golang image", step.name)
		}
		platforms := strings.Split(input(a, "platforms"), ",")
		slices.Sort(platforms)
		if !slices.Equal(platforms, step.platforms) {
			t.Errorf("%s step: platforms %v, want %v", step.name, platforms, step.platforms)
		}
	}
	if input(image, "build-args") != input(binaries, "build-args") {
		t.Errorf("the image and binaries steps pass different build-args, so the linux binaries are not the image's:\n%s\n%s",
			input(image, "build-args"), input(binaries, "build-args"))
	}
	if input(image, "sbom") != "true" || !strings.HasPrefix(input(image, "provenance"), "mode=") {
		t.Errorf("image step: sbom %q, provenance %q: want an SBOM and a provenance attestation", input(image, "sbom"), input(image, "provenance"))
	}
}

// CI on a hosted runner is the script CI runs here, not a second list of
// steps that could drift from it.
func TestCIWorkflowRunsCIRun(t *testing.T) {
	w, errs := actionlint.Parse(workflows(t)["ci.yml"])
	if len(errs) > 0 {
		t.Fatalf("ci.yml: %v", errs)
	}
	found := false
	for _, j := range w.Jobs {
		found = found || runs(j, "bash .ci/run")
	}
	if !found {
		t.Error("ci.yml: no step runs bash .ci/run")
	}
}
