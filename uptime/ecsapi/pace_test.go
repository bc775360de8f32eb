package ecsapi

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// closedEOF is a request body like the SDK's: once closed, WriteTo answers
// io.EOF, which io.Copy passes on as an error.
type closedEOF struct {
	mu     sync.Mutex
	r      *strings.Reader
	closed bool
}

func (b *closedEOF) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, io.EOF
	}
	return b.r.Read(p)
}

func (b *closedEOF) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, io.EOF
	}
	return b.r.WriteTo(w)
}

func (b *closedEOF) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// lateReader stands for net/http's write loop: it keeps the body it was
// given and makes its last read after Do has returned.
type lateReader struct{ body io.ReadCloser }

func (l *lateReader) Do(req *http.Request) (*http.Response, error) {
	l.body = req.Body
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
}

// TestOwnBodySurvivesTheSDKClosingItsBody: the SDK closes its request body
// when Do returns; the body the transport reads must not be that one.
func TestOwnBodySurvivesTheSDKClosingItsBody(t *testing.T) {
	const payload = `{"cluster":"prod","tasks":["a","b"]}`
	for _, tc := range []struct {
		name    string
		client  func(*lateReader) doer
		wantErr bool
	}{
		{"the SDK's body, as net/http would get it without ownBody", func(l *lateReader) doer { return l }, true},
		{"ownBody", func(l *lateReader) doer { return ownBody{l} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sdkBody := &closedEOF{r: strings.NewReader(payload)}
			req, err := http.NewRequest(http.MethodPost, "http://ecs.example/", sdkBody)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = int64(len(payload))
			late := &lateReader{}
			if _, err := tc.client(late).Do(req); err != nil {
				t.Fatal(err)
			}
			sdkBody.Close() // what the SDK does once the response headers are in
			var got strings.Builder
			_, err = io.Copy(&got, late.body)
			if gotErr := err != nil || got.String() != payload; gotErr != tc.wantErr {
				t.Errorf("reading the body after the SDK closed its own: %q, %v; want failure %v", got.String(), err, tc.wantErr)
			}
			if tc.wantErr && !errors.Is(err, io.EOF) {
				t.Errorf("err = %v, want io.EOF, the error net/http takes for a failed write", err)
			}
		})
	}
}
