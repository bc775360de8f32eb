package ecsapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// scanCalls is the context key of a scan's request counter.
type scanCalls struct{}

// pace returns the API option that adds limiter to an operation's
// middleware stack, in the Finalize step right after the SDK's retry
// middleware: the retry loop runs the steps after it once per attempt, so
// every attempt (the first and each retry, after the retryer's own
// backoff) waits its turn, and the request is signed after the wait, with
// the time it is sent. Wrapping the HTTP client would pace attempts too,
// but would sign before waiting and know nothing of the operation's
// context values (the scan's counter). A nil limiter only counts.
func (s *Source) pace(limiter *rate.Limiter) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Insert(paceMiddleware{s, limiter}, "Retry", middleware.After)
	}
}

type paceMiddleware struct {
	s       *Source
	limiter *rate.Limiter
}

func (paceMiddleware) ID() string { return "ecs-uptime/RateLimit" }

func (m paceMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	if m.limiter != nil {
		if err := m.limiter.Wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for the ECS API rate limit: %w", err)
		}
	}
	m.s.calls.Add(1)
	if n, ok := ctx.Value(scanCalls{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return next.HandleFinalize(ctx, in)
}

// target returns the ECS client of an account and region (account "": the
// credentials' own, when the Source reads it alone), made at its first
// use with a rate limiter of its own: each account has its own ECS
// request buckets in each region.
func (s *Source) target(account, region string) *ecsTarget {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := target{account, region}
	if t := s.targets[key]; t != nil {
		return t
	}
	creds := s.cfg.Credentials
	if a := s.accts[account]; a != nil {
		creds = a.creds
	}
	t := &ecsTarget{limiter: rate.NewLimiter(rate.Limit(s.rate), 1)}
	t.client = ecs.NewFromConfig(s.cfg, func(o *ecs.Options) {
		o.Region = region
		o.Credentials = creds
		o.APIOptions = append(slices.Clone(o.APIOptions), s.pace(t.limiter))
		// One HTTP client for every account-region (see New).
		if s.http != nil {
			o.HTTPClient = s.http
		}
		o.HTTPClient = ownBody{o.HTTPClient}
	})
	s.targets[key] = t
	return t
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
