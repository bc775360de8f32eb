package singleton

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/lifetime"
)

const account = "123456789012"

// task returns a running task of family in the cluster of that region, up
// for up; id is the end of its task ID (the message shows 8 characters).
func task(region, cluster, family, id string, up time.Duration) uptime.TaskUptime {
	return uptime.TaskUptime{Uptime: up, Task: &uptime.Task{
		ARN:    "arn:aws:ecs:" + region + ":" + account + ":task/" + cluster + "/" + id,
		Family: family, Revision: "42", Cluster: cluster, Region: region, Account: account,
		ClusterARN: "arn:aws:ecs:" + region + ":" + account + ":cluster/" + cluster,
	}}
}

func prod(family, id string, up time.Duration) uptime.TaskUptime {
	return task("eu-west-1", "prod", family, id, up)
}

func stage(family, id string, up time.Duration) uptime.TaskUptime {
	return task("eu-west-1", "stage", family, id, up)
}

// noARN is a task whose source knows no cluster ARN.
func noARN(t uptime.TaskUptime) uptime.TaskUptime {
	task := *t.Task // t's task is shared with the other steps
	task.ClusterARN = ""
	t.Task = &task
	return t
}

// summary is a verdict in one line: "prod db-migrate CRITICAL 2 onset".
func summary(v Verdict) string {
	s := fmt.Sprintf("%s %s %s %d", v.Cluster, v.Family, v.State, len(v.Tasks))
	if v.Onset {
		s += " onset"
	}
	return s
}

type step struct {
	tasks  []uptime.TaskUptime
	unread []uptime.Unread
	want   []string // summaries, in order
}

func TestObserve(t *testing.T) {
	a := prod("db-migrate", "aaaaaaaa01", 3*time.Hour)
	b := prod("db-migrate", "bbbbbbbb02", time.Minute)
	c := prod("db-migrate", "cccccccc03", time.Second)
	denied := errors.New("AccessDeniedException")
	tests := []struct {
		name     string
		families []string
		steps    []step
	}{
		{"onset once, none for a third task, none on recovery, one on the next onset", []string{"db-migrate"}, []step{
			{tasks: []uptime.TaskUptime{a}, want: []string{"prod db-migrate OK 1"}},
			{tasks: []uptime.TaskUptime{a, b}, want: []string{"prod db-migrate CRITICAL 2 onset"}},
			{tasks: []uptime.TaskUptime{a, b}, want: []string{"prod db-migrate CRITICAL 2"}},
			{tasks: []uptime.TaskUptime{a, b, c}, want: []string{"prod db-migrate CRITICAL 3"}},
			{tasks: []uptime.TaskUptime{a}, want: []string{"prod db-migrate OK 1"}},
			{tasks: []uptime.TaskUptime{}, want: []string{"prod db-migrate OK 0"}},
			{tasks: []uptime.TaskUptime{b, c}, want: []string{"prod db-migrate CRITICAL 2 onset"}},
		}},
		{"already CRITICAL at start is an onset", []string{"db-migrate"}, []step{
			{tasks: []uptime.TaskUptime{a, b}, want: []string{"prod db-migrate CRITICAL 2 onset"}},
		}},
		{"families kept apart", []string{"db-migrate", "reindex"}, []step{
			{tasks: []uptime.TaskUptime{a, prod("reindex", "r1", time.Hour), prod("reindex", "r2", time.Minute)},
				want: []string{"prod db-migrate OK 1", "prod reindex CRITICAL 2 onset"}},
			{tasks: []uptime.TaskUptime{a, b, prod("reindex", "r1", time.Hour)},
				want: []string{"prod db-migrate CRITICAL 2 onset", "prod reindex OK 1"}},
		}},
		{"clusters kept apart", []string{"db-migrate"}, []step{
			{tasks: []uptime.TaskUptime{a, b, stage("db-migrate", "d1", time.Hour)},
				want: []string{"prod db-migrate CRITICAL 2 onset", "stage db-migrate OK 1"}},
			{tasks: []uptime.TaskUptime{a, stage("db-migrate", "d1", time.Hour), stage("db-migrate", "d2", time.Second)},
				want: []string{"prod db-migrate OK 1", "stage db-migrate CRITICAL 2 onset"}},
		}},
		{"same cluster name in two regions kept apart", []string{"db-migrate"}, []step{
			{tasks: []uptime.TaskUptime{a, task("us-east-1", "prod", "db-migrate", "u1", time.Hour)},
				want: []string{"prod db-migrate OK 1", "prod db-migrate OK 1"}},
		}},
		{"without cluster ARNs, region and name stand for the cluster", []string{"db-migrate"}, []step{
			{tasks: []uptime.TaskUptime{noARN(a), noARN(b), noARN(task("us-east-1", "prod", "db-migrate", "u1", time.Hour))},
				want: []string{"prod db-migrate CRITICAL 2 onset", "prod db-migrate OK 1"}},
		}},
		{"no task of the family: OK in every cluster seen, from then on", []string{"db-migrate"}, []step{
			{tasks: []uptime.TaskUptime{}, want: []string{}},
			{tasks: []uptime.TaskUptime{prod("web", "w1", time.Hour)}, want: []string{"prod db-migrate OK 0"}},
			{tasks: []uptime.TaskUptime{stage("web", "w2", time.Hour)}, want: []string{"prod db-migrate OK 0", "stage db-migrate OK 0"}},
			{tasks: []uptime.TaskUptime{}, want: []string{"prod db-migrate OK 0", "stage db-migrate OK 0"}},
		}},
		{"an unwatched family never counts", []string{"db-migrate"}, []step{
			{tasks: []uptime.TaskUptime{prod("web", "w1", time.Hour), prod("web", "w2", time.Hour), prod("db-migrate-v2", "m1", time.Hour)},
				want: []string{"prod db-migrate OK 0"}},
		}},
		{"an unread cluster sends nothing and keeps its state", []string{"db-migrate"}, []step{
			{tasks: []uptime.TaskUptime{a, b, stage("web", "w1", time.Hour)},
				want: []string{"prod db-migrate CRITICAL 2 onset", "stage db-migrate OK 0"}},
			{tasks: []uptime.TaskUptime{stage("web", "w1", time.Hour)}, unread: []uptime.Unread{{Region: "eu-west-1", Cluster: "prod", Err: denied}},
				want: []string{"stage db-migrate OK 0"}},
			{tasks: []uptime.TaskUptime{a, b, stage("web", "w1", time.Hour)},
				want: []string{"prod db-migrate CRITICAL 2", "stage db-migrate OK 0"}},
			{tasks: []uptime.TaskUptime{stage("web", "w1", time.Hour)}, unread: []uptime.Unread{{Region: "eu-west-1", Cluster: "prod", Err: denied}},
				want: []string{"stage db-migrate OK 0"}},
			{tasks: []uptime.TaskUptime{a, stage("web", "w1", time.Hour)},
				want: []string{"prod db-migrate OK 1", "stage db-migrate OK 0"}},
		}},
		{"an unread region sends nothing for any of its clusters", []string{"db-migrate"}, []step{
			{tasks: []uptime.TaskUptime{a, stage("db-migrate", "d1", time.Hour), task("us-east-1", "prod", "web", "u1", time.Hour)},
				want: []string{"prod db-migrate OK 1", "stage db-migrate OK 1", "prod db-migrate OK 0"}},
			{tasks: []uptime.TaskUptime{task("us-east-1", "prod", "web", "u1", time.Hour)}, unread: []uptime.Unread{{Region: "eu-west-1", Err: denied}},
				want: []string{"prod db-migrate OK 0"}},
		}},
		{"a family listed twice is watched once", []string{"db-migrate", "db-migrate"}, []step{
			{tasks: []uptime.TaskUptime{a, b}, want: []string{"prod db-migrate CRITICAL 2 onset"}},
		}},
		{"no family watched: no verdict", nil, []step{
			{tasks: []uptime.TaskUptime{a, b}, want: []string{}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New(tt.families)
			for i, s := range tt.steps {
				vs := w.Observe(uptime.Cycle{At: time.Now(), Tasks: s.tasks, Unread: s.unread})
				got := make([]string, 0, len(vs))
				for _, v := range vs {
					got = append(got, summary(v))
				}
				if !slices.Equal(got, s.want) {
					t.Fatalf("cycle %d:\n got %q\nwant %q", i+1, got, s.want)
				}
			}
		})
	}
}

// The tasks of a verdict come oldest first, whatever order the cycle had
// (the Tracker sorts by ARN), and carry the cluster's identity.
func TestObserveOldestFirst(t *testing.T) {
	young := prod("db-migrate", "00000000young", time.Second)
	old := prod("db-migrate", "ffffffffold", 26*time.Hour)
	mid := prod("db-migrate", "77777777mid", time.Hour)
	vs := New([]string{"db-migrate"}).Observe(uptime.Cycle{Tasks: []uptime.TaskUptime{young, mid, old}})
	if len(vs) != 1 {
		t.Fatalf("%d verdicts, want 1", len(vs))
	}
	v := vs[0]
	var got []string
	for _, tu := range v.Tasks {
		got = append(got, tu.Task.ARN)
	}
	if want := []string{old.Task.ARN, mid.Task.ARN, young.Task.ARN}; !slices.Equal(got, want) {
		t.Errorf("tasks\n got %q\nwant %q (oldest first)", got, want)
	}
	want := Cluster{ARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Name: "prod", Region: "eu-west-1", Account: account}
	if v.Cluster != want {
		t.Errorf("cluster = %+v, want %+v", v.Cluster, want)
	}
	if v.AggregationKey() != "arn:aws:ecs:eu-west-1:123456789012:cluster/prod/db-migrate" {
		t.Errorf("aggregation key = %q", v.AggregationKey())
	}
}

func TestMessages(t *testing.T) {
	cl := Cluster{ARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Name: "prod", Region: "eu-west-1", Account: account}
	ci := func(tu uptime.TaskUptime, by string) uptime.TaskUptime {
		tu.Task.StartedBy = by
		return tu
	}
	first := ci(prod("db-migrate", "5c2f0b9e8d7a4e31a6f0c1d2e3b4a596", 3*time.Hour+12*time.Minute+5*time.Second), "")
	second := ci(prod("db-migrate", "7a1b2c3d4e5f60718293a4b5c6d7e8f9", 45*time.Second), "gh-actions/deploy-db-migrate-run-98765")
	tests := []struct {
		name    string
		v       Verdict
		message string
		title   string
		text    string
	}{
		{"no task", Verdict{Cluster: cl, Family: "db-migrate", State: lifetime.OK},
			"no task of db-migrate running in prod", "", ""},
		{"one task", Verdict{Cluster: cl, Family: "db-migrate", State: lifetime.OK, Tasks: []uptime.TaskUptime{first}},
			"1 task of db-migrate running in prod: …/5c2f0b9e… up 3h12m", "", ""},
		{"two tasks, a long started_by cut", Verdict{Cluster: cl, Family: "db-migrate", State: lifetime.Critical, Tasks: []uptime.TaskUptime{first, second}},
			"2 tasks of db-migrate running in prod, want at most 1: …/5c2f0b9e… up 3h12m; …/7a1b2c3d… up 45s (by gh-actions/deploy-db…)",
			"2 tasks of db-migrate running in prod",
			"CRITICAL: 2 tasks of db-migrate running in prod, want at most 1: …/5c2f0b9e… up 3h12m; …/7a1b2c3d… up 45s (by gh-actions/deploy-db…)\n" +
				"- arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f0b9e8d7a4e31a6f0c1d2e3b4a596, db-migrate:42, up 3h12m\n" +
				"- arn:aws:ecs:eu-west-1:123456789012:task/prod/7a1b2c3d4e5f60718293a4b5c6d7e8f9, db-migrate:42, up 45s, started by gh-actions/deploy-db-migrate-run-98765\n" +
				"cluster_arn: arn:aws:ecs:eu-west-1:123456789012:cluster/prod"},
		{"five tasks: three named, the rest counted", Verdict{Cluster: cl, Family: "db-migrate", State: lifetime.Critical, Tasks: []uptime.TaskUptime{
			prod("db-migrate", "11111111aa", 5*time.Minute), prod("db-migrate", "22222222bb", 4*time.Minute), prod("db-migrate", "33333333cc", 3*time.Minute),
			prod("db-migrate", "44444444dd", 2*time.Minute), prod("db-migrate", "55555555ee", time.Minute)}},
			"5 tasks of db-migrate running in prod, want at most 1: …/11111111… up 5m; …/22222222… up 4m; …/33333333… up 3m; and 2 more",
			"5 tasks of db-migrate running in prod", ""},
		{"a cluster without a name", Verdict{Cluster: Cluster{Region: "eu-west-1"}, Family: "db-migrate", State: lifetime.OK},
			"no task of db-migrate running in an unnamed cluster in eu-west-1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := message(tt.v); got != tt.message {
				t.Errorf("message\n got %q\nwant %q", got, tt.message)
			}
			tt.v.Message = message(tt.v)
			if tt.title != "" && tt.v.EventTitle() != tt.title {
				t.Errorf("title\n got %q\nwant %q", tt.v.EventTitle(), tt.title)
			}
			if tt.text != "" && tt.v.EventText() != tt.text {
				t.Errorf("event text\n got %q\nwant %q", tt.v.EventText(), tt.text)
			}
		})
	}
}

// However many tasks run, and however long their names, the message stays
// short enough for a phone besides the family and cluster names (up to 255
// characters each in ECS), and the event text under Datadog's 4,000
// characters while it accounts for every task.
func TestLengthsBounded(t *testing.T) {
	cluster := strings.Repeat("c", 255)
	var tasks []uptime.TaskUptime
	for i := range 200 {
		tu := task("eu-west-1", cluster, "db-migrate", fmt.Sprintf("%08x%024x", i, 0), time.Duration(200-i)*time.Hour+59*time.Minute)
		tu.Task.StartedBy = strings.Repeat("x", 128) // ECS's longest startedBy
		tasks = append(tasks, tu)
	}
	v := New([]string{"db-migrate"}).Observe(uptime.Cycle{Tasks: tasks})[0]
	if n := utf8.RuneCountInString(v.Message) - len(cluster) - len("db-migrate"); n > 210 {
		t.Errorf("message is %d characters besides the names, want at most 210 (four lines of a phone): %q", n, v.Message)
	}
	if !strings.HasSuffix(v.Message, "; and 197 more") {
		t.Errorf("message %q does not count the tasks it leaves out", v.Message)
	}
	text := v.EventText()
	if n := utf8.RuneCountInString(text); n > 4000 {
		t.Errorf("event text is %d characters, want at most 4000", n)
	}
	listed := strings.Count(text, "\n- arn:")
	var more int
	if _, err := fmt.Sscanf(text[strings.LastIndex(text, "\n… and ")+1:], "… and %d more", &more); err != nil || listed+more != 200 || listed == 0 {
		t.Errorf("event text lists %d tasks and counts %d more (%v), want 200 in all:\n%s", listed, more, err, text)
	}
	if !strings.HasSuffix(text, "\ncluster_arn: arn:aws:ecs:eu-west-1:123456789012:cluster/"+cluster) {
		t.Errorf("event text does not end with the cluster ARN:\n%s", text)
	}
}

// The onset event names the ARNs of the family's tasks, oldest first, so
// that a later stage knows which tasks it judged; the check names none.
func TestJudgeNamesTheTasksOfTheOnset(t *testing.T) {
	a := prod("db-migrate", "aaaaaaaa01", 3*time.Hour)
	b := prod("db-migrate", "bbbbbbbb02", time.Minute)
	w := New([]string{"db-migrate"})
	var s uptime.Signals
	w.Judge(&uptime.Cycle{Tasks: []uptime.TaskUptime{b, a}}, &s)
	if len(s.Events) != 1 {
		t.Fatalf("%d events, want the onset", len(s.Events))
	}
	if got, want := s.Events[0].Tasks, []string{a.Task.ARN, b.Task.ARN}; !slices.Equal(got, want) {
		t.Errorf("the onset names %v, want %v", got, want)
	}
	s = uptime.Signals{}
	w.Judge(&uptime.Cycle{Tasks: []uptime.TaskUptime{a}}, &s)
	if len(s.Events) != 0 || len(s.Checks) != 1 {
		t.Errorf("after the onset: %d events, %d checks; want 0 and 1", len(s.Events), len(s.Checks))
	}
}
