package tasklist

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// now is the clock of every test: the scan's time.
var now = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// task builds a task of account 123456789012 in eu-west-1/prod with the
// given ID (the end of its ARN) and family; opts set the rest.
func task(id, family string, opts ...func(*uptime.Task)) uptime.Task {
	t := uptime.Task{
		ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/" + id, Family: family, Revision: "1",
		Cluster: "prod", ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Region: "eu-west-1",
		Account: "123456789012", LaunchType: "FARGATE", Kind: uptime.KindStandalone,
	}
	for _, o := range opts {
		o(&t)
	}
	return t
}

func startedAgo(d time.Duration) func(*uptime.Task) {
	return func(t *uptime.Task) { t.StartedAt = now.Add(-d); t.CreatedAt = t.StartedAt.Add(-20 * time.Second) }
}

// inStatus puts the task in status: created created ago and, after it ran,
// stopping stopping ago (0: not stopping).
func inStatus(status string, created, stopping time.Duration) func(*uptime.Task) {
	return func(t *uptime.Task) {
		t.Status, t.CreatedAt = status, now.Add(-created)
		if !slices.Contains(beforeRunning, status) {
			t.StartedAt = t.CreatedAt.Add(30 * time.Second)
		}
		if stopping > 0 {
			t.StoppingAt = now.Add(-stopping)
		}
	}
}

func kind(k uptime.Kind) func(*uptime.Task) { return func(t *uptime.Task) { t.Kind = k } }

// every status a source can give, one task each, plus a task from a source
// that lists running tasks only (no status) and kinds.
var fleet = []uptime.Task{
	task("running0000000000000000000000000", "db-migrate", startedAgo(26*time.Hour+3*time.Minute), withStatus(uptime.StatusRunning)),
	task("nostatus00000000000000000000000", "report", startedAgo(3*time.Hour)),
	task("service0000000000000000000000000", "web", startedAgo(30*24*time.Hour), kind(uptime.KindService)),
	task("unknown0000000000000000000000000", "legacy", startedAgo(2*time.Hour), kind(uptime.KindUnknown)),
	task("provisioning00000000000000000000", "etl", inStatus("PROVISIONING", 70*time.Minute, 0)),
	task("pending0000000000000000000000000", "etl", inStatus("PENDING", 5*time.Minute, 0)),
	task("activating000000000000000000000", "etl", inStatus("ACTIVATING", 90*time.Second, 0)),
	task("deactivating00000000000000000000", "etl", inStatus("DEACTIVATING", 50*time.Hour, 2*time.Hour)),
	task("stopping000000000000000000000000", "etl", inStatus("STOPPING", 50*time.Hour, 3*time.Hour)),
	task("deprovisioning000000000000000000", "etl", inStatus("DEPROVISIONING", 50*time.Hour, 4*time.Hour)),
	task("stopped0000000000000000000000000", "etl", inStatus("STOPPED", 50*time.Hour, 49*time.Hour)),
	task("stuckservice00000000000000000000", "web", inStatus("PENDING", 2*time.Hour, 0), kind(uptime.KindService)),
}

// withStatus sets the status alone, no time.
func withStatus(status string) func(*uptime.Task) {
	return func(t *uptime.Task) { t.Status = status }
}

// ids returns the first part of each row's task ID, as the fleet names them.
func ids(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.TrimRight(taskID(r.Task.ARN), "0")
	}
	return out
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name string
		f    Filter
		want []string // task IDs, in order
		ages []time.Duration
	}{
		{
			name: "the default: running standalone tasks (unknown kind counts), oldest first",
			want: []string{"running", "nostatus", "unknown"},
			ages: []time.Duration{26*time.Hour + 3*time.Minute, 3 * time.Hour, 2 * time.Hour},
		},
		{
			name: "stuck: every status but RUNNING and STOPPED, aged since createdAt before running and stoppingAt after",
			f:    Filter{Status: StatusStuck},
			want: []string{"deprovisioning", "stopping", "deactivating", "provisioning", "pending", "activating"},
			ages: []time.Duration{4 * time.Hour, 3 * time.Hour, 2 * time.Hour, 70 * time.Minute, 5 * time.Minute, 90 * time.Second},
		},
		{
			name: "all statuses, STOPPED never; equal ages by ARN",
			f:    Filter{Status: StatusAll},
			want: []string{"running", "deprovisioning", "nostatus", "stopping", "deactivating", "unknown", "provisioning", "pending", "activating"},
		},
		{
			name: "services only",
			f:    Filter{Kind: KindService, Status: StatusAll},
			want: []string{"service", "stuckservice"},
		},
		{
			name: "every kind",
			f:    Filter{Kind: KindAll},
			want: []string{"service", "running", "nostatus", "unknown"},
		},
		{
			name: "a family",
			f:    Filter{Family: "etl", Status: StatusAll},
			want: []string{"deprovisioning", "stopping", "deactivating", "provisioning", "pending", "activating"},
		},
		{
			name: "older than: at least that age",
			f:    Filter{OlderThan: 3 * time.Hour, Status: StatusAll},
			want: []string{"running", "deprovisioning", "nostatus", "stopping"},
		},
		{
			name: "older than the oldest: nothing",
			f:    Filter{OlderThan: 27 * time.Hour},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := Select(slices.Clone(fleet), tc.f, now)
			if got := ids(rows); !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			for i, want := range tc.ages {
				if i < len(rows) && rows[i].Age != want {
					t.Errorf("%s: age %s, want %s", ids(rows)[i], rows[i].Age, want)
				}
			}
		})
	}
}

// Ties are ordered by ARN; a start in the future is age 0, never negative;
// a task whose age cannot be known comes last and is never "older than".
func TestSelectEdges(t *testing.T) {
	tasks := []uptime.Task{
		task("b", "x", startedAgo(time.Hour)),
		task("future", "x", startedAgo(-time.Minute)),
		task("a", "x", startedAgo(time.Hour)),
		task("noage", "x", withStatus("PENDING")),
	}
	rows := Select(tasks, Filter{Status: StatusAll}, now)
	if got, want := ids(rows), []string{"a", "b", "future", "noage"}; !slices.Equal(got, want) {
		t.Fatalf("order %q, want %q", got, want)
	}
	if rows[2].Age != 0 || rows[3].KnownAge() {
		t.Errorf("future start: age %s, want 0; no createdAt: known %v, want unknown", rows[2].Age, rows[3].KnownAge())
	}
	if got := ids(Select(tasks, Filter{Status: StatusAll, OlderThan: time.Nanosecond}, now)); slices.Contains(got, "noage") {
		t.Errorf("a task of unknown age passed --older-than: %q", got)
	}
}

func TestFilterCheck(t *testing.T) {
	tests := []struct {
		f    Filter
		want string // "" for accepted
	}{
		{Filter{}, ""},
		{Filter{Status: StatusStuck, Kind: KindAll, Family: "db-migrate", OlderThan: time.Hour}, ""},
		{Filter{Status: "pending"}, `status "pending": want running, stuck or all`},
		{Filter{Kind: "oneoff"}, `kind "oneoff": want standalone, service or all`},
		{Filter{OlderThan: -time.Hour}, "older-than -1h0m0s: want 0 or more"},
		{Filter{Family: "db-migrate:42"}, `family "db-migrate:42": want a task definition family alone`},
		{Filter{Family: "arn:aws:ecs:eu-west-1:123456789012:task-definition/x"}, "without revision or ARN"},
	}
	for _, tc := range tests {
		err := tc.f.Check()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.f, err, tc.want)
		}
	}
	if err := CheckFormat("yaml"); err == nil || err.Error() != `format "yaml": want table, json or csv` {
		t.Errorf("CheckFormat(yaml) = %v", err)
	}
}

func TestAge(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{42 * time.Second, "42s"},
		{time.Minute, "1m00s"},
		{5*time.Minute + 7*time.Second, "5m07s"},
		{time.Hour - time.Nanosecond, "59m59s"},
		{time.Hour, "1h00m"},
		{26*time.Hour + 3*time.Minute + 59*time.Second, "26h03m"},
		{48*time.Hour - time.Nanosecond, "47h59m"},
		{48 * time.Hour, "2d00h"},
		{3*24*time.Hour + 4*time.Hour + 59*time.Minute, "3d04h"},
		{400 * 24 * time.Hour, "400d00h"},
	} {
		if got := Age(c.d); got != c.want {
			t.Errorf("Age(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to rewrite it after checking):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// goldenRows are rows with every kind of cell: a max-lifetime tag passed,
// not passed, empty; a stuck task; a startedBy with a control character;
// a task from another account, region and cluster.
func goldenRows(t *testing.T) []Row {
	t.Helper()
	tasks := []uptime.Task{
		task("5c2f0b9e1d2a4c3b8e7f6a5b4c3d2e1f", "db-migrate", startedAgo(26*time.Hour+3*time.Minute), func(t *uptime.Task) {
			t.Revision, t.StartedBy, t.MaxLifetimeTag, t.HasMaxLifetimeTag = "42", "ci/deploy#1234", "24h", true
		}),
		task("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "report", startedAgo(76*time.Hour+30*time.Minute), func(t *uptime.Task) {
			t.ARN = "arn:aws:ecs:us-east-1:210987654321:task/batch/0a1b2c3d4e5f60718293a4b5c6d7e8f9"
			t.Account, t.Region, t.Cluster, t.ClusterARN = "210987654321", "us-east-1", "batch", "arn:aws:ecs:us-east-1:210987654321:cluster/batch"
			t.LaunchType, t.CapacityProvider, t.StartedBy = "EC2", "", "events-rule/nightly\x1b[2J"
			t.MaxLifetimeTag, t.HasMaxLifetimeTag = "100h", true
		}),
		task("9f8e7d6c5b4a39281706f5e4d3c2b1a0", "etl", inStatus("PROVISIONING", 70*time.Minute+5*time.Second, 0), func(t *uptime.Task) {
			t.Revision, t.StartedBy, t.HasMaxLifetimeTag = "3", "airflow", true
		}),
		task("1234567890abcdef1234567890abcdef", "web", startedAgo(45*time.Second), kind(uptime.KindService), func(t *uptime.Task) {
			t.Revision, t.Service, t.StartedBy, t.CapacityProvider = "7", "web", "ecs-svc/1234567890123456789", "FARGATE_SPOT"
		}),
	}
	return Select(tasks, Filter{Status: StatusAll, Kind: KindAll}, now)
}

func TestWriteGolden(t *testing.T) {
	rows := goldenRows(t)
	oneAccount := slices.DeleteFunc(slices.Clone(rows), func(r Row) bool { return r.Task.Account != "123456789012" })
	for _, tc := range []struct {
		file, format string
		rows         []Row
		color        bool
	}{
		{"table.txt", FormatTable, rows, false},
		{"table-one-account.txt", FormatTable, oneAccount, false},
		{"table-color.txt", FormatTable, rows, true},
		{"table-empty.txt", FormatTable, nil, false},
		{"tasks.json", FormatJSON, rows, false},
		{"empty.json", FormatJSON, nil, false},
		{"tasks.csv", FormatCSV, rows, false},
		{"empty.csv", FormatCSV, nil, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, tc.format, tc.rows, tc.color); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, b.Bytes())
		})
	}
}

// Colour is all or nothing: without it no escape sequence is written
// (a startedBy's own ESC included), with it every line's text is the
// plain table's.
func TestTableColor(t *testing.T) {
	rows := goldenRows(t)
	var plain, color bytes.Buffer
	WriteTable(&plain, rows, false)
	WriteTable(&color, rows, true)
	if strings.ContainsRune(plain.String(), '\x1b') {
		t.Errorf("an escape sequence without colour:\n%q", plain.String())
	}
	stripped := color.String()
	for _, code := range []string{bold, red, yellow, reset} {
		stripped = strings.ReplaceAll(stripped, code, "")
	}
	if stripped != plain.String() {
		t.Errorf("the coloured table is not the plain one once its colours are taken out:\n%s\nvs\n%s", stripped, plain.String())
	}
	lines := strings.Split(color.String(), "\n")
	for i, want := range []string{bold + "AGE", "3d04h", red + "26h03m", yellow + "1h10m", "45s", ""} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want it to start %q", i, lines[i], want)
		}
	}
}
