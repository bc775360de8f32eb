// Package ci holds no code: its tests check the project's automation, the
// GitHub workflows under .github/workflows and the scripts under .ci.
//
// The workflow tests read the workflows with actionlint's parser: every
// action and reusable workflow pinned to a full commit SHA with its version
// in a comment, `contents: read` at the top, each write permission only on a
// job that does what needs it, and a release that builds the Dockerfile with
// the build arguments .ci/image.sh passes. testdata/workflows holds one bad
// workflow per rule, each of which must fail.
//
// The script tests run bash on .ci/dockerd.sh and .ci/run with stand-ins for
// dockerd, docker and go (testdata/fakebin): sourcing leaves the caller's
// shell options as they were, a failing function returns instead of ending
// the shell, and .ci/run stops the engine it started and removes its
// directory however the run ends, and a go.mod that is not tidy or code that
// go vet rejects stops it before an engine starts. The real engine and image build are
// exercised by .ci/run itself.
package ci
