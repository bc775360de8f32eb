// Package demo holds what `ecs-uptime demo` needs besides the real loop: an
// embedded task (a database migration whose container started 26 hours
// ago, after an init container), a task metadata v4 endpoint serving it on
// loopback, a DogStatsD listener standing in for the Agent, and a view that
// prints what the Agent receives. Nothing here reaches AWS or the network.
package demo

import (
	_ "embed"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/ecsmeta/fakeendpoint"
)

// TaskJSON is the demo task as the v4 endpoint's /task answers it, with
// timestamps from a fixed day; Start moves them relative to now.
//
//go:embed task.json
var TaskJSON []byte

// MigrationAge is how long ago the demo's migrate container started.
const MigrationAge = 26 * time.Hour

// Env is a demo environment: an endpoint and a listener on loopback.
type Env struct {
	MetadataURL string // what ECS_CONTAINER_METADATA_URI_V4 would hold
	Agent       *receiver.Server
	srv         *http.Server
}

// Start serves the demo task on 127.0.0.1 and listens for DogStatsD on a
// free UDP port of 127.0.0.1.
func Start() (*Env, error) {
	task, err := fakeendpoint.NewTask(TaskJSON, "migrate", MigrationAge, time.Now())
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo metadata endpoint: %w", err)
	}
	agent, err := receiver.ListenUDP("127.0.0.1:0")
	if err != nil {
		ln.Close()
		return nil, err
	}
	e := &Env{
		MetadataURL: "http://" + ln.Addr().String() + "/v4/5c2f0b9e8d7a4e31a6f0c1d2e3b4a596-2913574840",
		Agent:       agent,
		srv:         &http.Server{Handler: task, ReadHeaderTimeout: time.Second},
	}
	go e.srv.Serve(ln)
	return e, nil
}

// Close stops the endpoint and the listener.
func (e *Env) Close() error {
	e.srv.Close()
	return e.Agent.Close()
}

// View prints received packets readably: the first time a series appears,
// with its tags (for container series, only those the task series does not
// already show); afterwards, one line per value.
type View struct {
	Out      io.Writer
	seen     map[string]bool
	taskTags map[string]bool
}

// Print writes the packets of one delivery.
func (v *View) Print(at time.Time, packets []receiver.Packet) {
	if v.seen == nil {
		v.seen = map[string]bool{}
	}
	for _, p := range packets {
		label := p.Name
		if c, ok := p.Tag("ecs_container_name"); ok {
			label += " " + c
		}
		switch p.Kind {
		case receiver.Metric:
			fmt.Fprintf(v.Out, "%s  %-42s %12s  (%.1f s)\n", at.Format("15:04:05"), label, Human(time.Duration(p.Value*float64(time.Second))), p.Value)
		case receiver.ServiceCheck:
			fmt.Fprintf(v.Out, "%s  %-42s %12s  %s\n", at.Format("15:04:05"), label, [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[p.Status], p.Text)
		case receiver.Event:
			fmt.Fprintf(v.Out, "%s  event: %s\n", at.Format("15:04:05"), p.Name)
		}
		key := string(p.Kind) + label
		if v.seen[key] {
			continue
		}
		v.seen[key] = true
		var tags []string
		for _, t := range p.Tags {
			if !v.taskTags[t] {
				tags = append(tags, t)
			}
		}
		sort.Strings(tags)
		switch {
		case len(tags) == 0:
			fmt.Fprintf(v.Out, "          tags: the task's\n")
		case len(tags) < len(p.Tags):
			fmt.Fprintf(v.Out, "          tags: the task's, and %s\n", strings.Join(tags, "\n                "))
		default:
			fmt.Fprintf(v.Out, "          tags: %s\n", strings.Join(tags, "\n                "))
		}
		if p.Name == "ecs.task.uptime" && v.taskTags == nil {
			v.taskTags = map[string]bool{}
			for _, t := range p.Tags {
				v.taskTags[t] = true
			}
		}
	}
}

// Human writes a duration as Datadog users read ages: 26h00m30s, 3d02h…
func Human(d time.Duration) string {
	d = d.Truncate(time.Second)
	if d >= 72*time.Hour {
		days := d / (24 * time.Hour)
		return fmt.Sprintf("%dd%02dh", days, (d-days*24*time.Hour)/time.Hour)
	}
	h, m, s := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
}
