package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd"
	"ecs-uptime/uptime/ecsmeta"
)

// tenContainerTask is a v4 /task answer with ten running containers.
func tenContainerTask(b *testing.B) []byte {
	type ctr struct {
		DockerId, Name, DockerName, Image, KnownStatus, Type string
		StartedAt                                            time.Time
		Labels                                               map[string]string
	}
	task := struct {
		Cluster, TaskARN, Family, Revision, AvailabilityZone, ServiceName string
		Containers                                                        []ctr
	}{Cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f0b9e8d7a4e31a6f0c1d2e3b4a596",
		Family: "api", Revision: "7", AvailabilityZone: "eu-west-1b", ServiceName: "api"}
	for i := range 10 {
		task.Containers = append(task.Containers, ctr{
			DockerId: fmt.Sprintf("5c2f0b9e8d7a4e31a6f0c1d2e3b4a596-%d", 1000000+i), Name: fmt.Sprintf("c%d", i), DockerName: fmt.Sprintf("c%d", i),
			Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:2026.11", KnownStatus: "RUNNING", Type: "NORMAL",
			StartedAt: time.Now().Add(-time.Duration(i+1) * time.Hour),
			Labels:    map[string]string{"com.amazonaws.ecs.container-name": fmt.Sprintf("c%d", i)},
		})
	}
	doc, err := json.Marshal(task)
	if err != nil {
		b.Fatal(err)
	}
	return doc
}

// benchRig serves the ten-container task on loopback and binds a UDP
// socket as the Agent, reading it when read is set (so that its buffer
// never fills on a long run); both close when the benchmark ends. It
// returns the metadata base URL and the Agent's address.
func benchRig(b *testing.B, read bool) (endpoint, agent string) {
	b.Helper()
	doc := tenContainerTask(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(doc) }))
	b.Cleanup(srv.Close)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	if read {
		go func() {
			buf := make([]byte, 65536)
			for {
				if _, _, err := conn.ReadFrom(buf); err != nil {
					return
				}
			}
		}()
	}
	return srv.URL + "/v4/abc", conn.LocalAddr().String()
}

// BenchmarkCycle measures one whole collection cycle as production runs it:
// read the task over HTTP on loopback, apply the uptime rules, send and
// flush the gauges over UDP. The target is under 0.2 ms per cycle for a
// ten-container task.
func BenchmarkCycle(b *testing.B) {
	for _, containerMetrics := range []bool{false, true} {
		b.Run(fmt.Sprintf("10_containers/container_metrics=%v", containerMetrics), func(b *testing.B) {
			endpoint, agent := benchRig(b, false) // an Agent that is bound but never reads
			src, _ := ecsmeta.New(endpoint)
			sink, err := dogstatsd.New(dogstatsd.Options{Addr: agent})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			pipe := &uptime.Pipeline{Stages: []uptime.Stage{uptime.Gauges{Containers: containerMetrics}}, Output: sink}
			r := &uptime.Runner{Source: src, Sink: pipe, Tracker: uptime.NewTracker(nil, nil), Interval: time.Minute, Log: slog.New(slog.DiscardHandler)}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Cycle(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
