package ecsapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/aws/smithy-go/middleware"
)

// scanCalls is the context key of a scan's request counter.
type scanCalls struct{}

// pace adds the rate limiter to an operation's middleware stack, in the
// Finalize step right after the SDK's retry middleware: the retry loop
// runs the steps after it once per attempt, so every attempt (the first
// and each retry, after the retryer's own backoff) waits its turn, and
// the request is signed after the wait, with the time it is sent. Wrapping
// the HTTP client would pace attempts too, but would sign before waiting
// and know nothing of the operation's context values (the scan's counter).
func (s *Source) pace(stack *middleware.Stack) error {
	return stack.Finalize.Insert(paceMiddleware{s}, "Retry", middleware.After)
}

type paceMiddleware struct{ s *Source }

func (paceMiddleware) ID() string { return "ecs-uptime/RateLimit" }

func (m paceMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	if err := m.s.limiter.Wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for the ECS API rate limit: %w", err)
	}
	m.s.calls.Add(1)
	if n, ok := ctx.Value(scanCalls{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return next.HandleFinalize(ctx, in)
}

// ownBody is the HTTP client of the ECS clients: it gives the transport a
// request body of its own, read into memory (a DescribeTasks request is a
// few kilobytes), in place of the SDK's.
//
// The SDK closes its request body as soon as the response headers arrive,
// while net/http's write loop may still be making its last read of that
// body (the check that nothing follows Content-Length); the SDK's closed
// body then answers that read with io.EOF from WriteTo, which net/http
// takes for a failed write: it closes the connection under the response
// being read, and the call fails with "deserialization failed … use of
// closed network connection" although ECS answered 200 (aws-sdk-go-v2
// issues #1825, #2737). A fast answer makes the race likely: a test
// against a local fake hit it once in a few dozen retried calls.
type ownBody struct{ next doer }

// doer is an HTTP client, as the SDK takes one.
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

func (c ownBody) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return c.next.Do(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the request body: %w", err)
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	out.ContentLength = int64(len(body))
	return c.next.Do(out)
}
