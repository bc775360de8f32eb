package demo

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
)

func TestHuman(t *testing.T) {
	tests := map[time.Duration]string{
		0:                                      "0h00m00s",
		26*time.Hour + 30*time.Second:          "26h00m30s",
		90*time.Minute + 1500*time.Millisecond: "1h30m01s",
		75 * time.Hour:                         "3d03h",
	}
	for d, want := range tests {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestViewPrintsTagsOnceAndContainerTagsApart(t *testing.T) {
	var out bytes.Buffer
	v := &View{Out: &out}
	task, _ := receiver.Parse("ecs.task.uptime:93630|g|#task_arn:a,task_family:f")
	ctr, _ := receiver.Parse("ecs.container.uptime:93600|g|#task_arn:a,task_family:f,ecs_container_name:migrate")
	check, err := receiver.Parse("_sc|ecs.task.lifetime|2|#task_arn:a,task_family:f|m:task f:1 has run 26h, over 24h")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC)
	v.Print(at, []receiver.Packet{task, ctr, check})
	v.Print(at, []receiver.Packet{task, ctr, check})
	s := out.String()
	if strings.Count(s, "task_family:f") != 1 {
		t.Errorf("task tags printed %d times, want once:\n%s", strings.Count(s, "task_family:f"), s)
	}
	if !strings.Contains(s, "tags: the task's, and ecs_container_name:migrate") {
		t.Errorf("container tags not shown apart from the task's:\n%s", s)
	}
	if !strings.Contains(s, "tags: the task's\n") || strings.Contains(s, "tags: the task's, and \n") {
		t.Errorf("a service check with only the task's tags is not shown as such:\n%s", s)
	}
	if strings.Count(s, "26h00m30s") != 2 || !strings.Contains(s, "ecs.container.uptime migrate") {
		t.Errorf("values not printed each cycle:\n%s", s)
	}
}

func TestEnvServesTheDemoTask(t *testing.T) {
	env, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if !strings.HasPrefix(env.MetadataURL, "http://127.0.0.1:") || !strings.HasPrefix(env.Agent.Addr(), "127.0.0.1:") {
		t.Errorf("demo listens beyond loopback: %s, %s", env.MetadataURL, env.Agent.Addr())
	}
}
