package docker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/moby/moby/client"

	"ecs-uptime/uptime/docker"
	"ecs-uptime/uptime/docker/dockertest"
)

// naiveRead is what a source without the event stream does each cycle:
// list the labelled containers, then inspect every one for its start time.
func naiveRead(ctx context.Context, c *client.Client) error {
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", docker.LabelTaskARN)})
	if err != nil {
		return err
	}
	for _, s := range list.Items {
		if _, err := c.ContainerInspect(ctx, s.ID, client.ContainerInspectOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkRead measures one read (one cycle's engine work) with 10 and
// then 200 labelled containers on the engine, naive (list + inspect each)
// against the source (one list; inspects only for what events named), and
// reports the engine API calls per read. It needs an engine with nothing
// else labelled on it (bash .ci/dockerd.sh starts one):
//
//	go test -run '^$' -bench BenchmarkRead -benchtime 100x ./uptime/docker
func BenchmarkRead(b *testing.B) {
	host := dockertest.Host(b)
	arn := dockertest.TaskARN("eu-west-1", "123456789012", "bench")
	have := 0
	for _, n := range []int{10, 200} {
		startContainers(b, host, arn, have, n)
		have = n
		for _, impl := range []string{"naive", "events"} {
			b.Run(fmt.Sprintf("%s/containers=%d", impl, n), func(b *testing.B) {
				calls := &calls{inspects: map[string]int{}}
				c, err := docker.NewClient(host, client.WithHTTPRequestHook(calls.hook))
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				src := docker.New(c, nil)
				defer src.Close()
				ctx := context.Background()
				read := func() error { return naiveRead(ctx, c) }
				if impl == "events" {
					read = func() error { _, err := src.Tasks(ctx); return err }
				}
				if err := read(); err != nil { // the first read: full sync, version negotiation
					b.Fatal(err)
				}
				calls.reset()
				b.ResetTimer()
				for range b.N {
					if err := read(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				lists, inspects := calls.reset()
				total := lists
				for _, k := range inspects {
					total += k
				}
				b.ReportMetric(float64(total)/float64(b.N), "api-calls/read")
			})
		}
	}
}

// startContainers starts containers from..to-1 of one task, a few at a
// time, and removes them when the benchmark ends.
func startContainers(b *testing.B, host, arn string, from, to int) {
	b.Helper()
	img := dockertest.Image(b)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				id, err := dockertest.RunErr(host, img, dockertest.Container{TaskARN: arn, Cluster: "bench", Family: "bench", Version: "1", Name: fmt.Sprintf("c%03d", i)})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					b.Cleanup(func() { _, _ = dockertest.DockerErr(host, "rm", "-f", id) })
				}
				mu.Unlock()
			}
		})
	}
	for i := from; i < to; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		b.Fatalf("starting %d containers: %d failed, first: %v", to-from, len(errs), errs[0])
	}
}
