package tasklist

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"ecs-uptime/uptime"
)

// Output formats Write takes.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
)

// Formats lists the output formats, the default first.
var Formats = []string{FormatTable, FormatJSON, FormatCSV}

// CheckFormat reports a format that Write does not take.
func CheckFormat(format string) error {
	switch format {
	case FormatTable, FormatJSON, FormatCSV:
		return nil
	}
	return fmt.Errorf("format %q: want %s", format, oneOf(Formats))
}

// Write writes rows in format (see WriteTable, WriteJSON, WriteCSV); color
// applies to the table only.
func Write(w io.Writer, format string, rows []Row, color bool) error {
	switch format {
	case FormatTable:
		return WriteTable(w, rows, color)
	case FormatJSON:
		return WriteJSON(w, rows)
	case FormatCSV:
		return WriteCSV(w, rows)
	}
	return CheckFormat(format)
}

// ANSI colours of the table: the header bold, a task past its max-lifetime
// tag red, a task in a status other than RUNNING yellow.
const (
	bold   = "\x1b[1m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// WriteTable writes rows as a table aligned with text/tabwriter, under a
// header line that is written even when there is no row: AGE (see Age),
// ACCOUNT (only when the rows span more than one account), REGION,
// CLUSTER, TASK (family:revision), ID (the task ID's first 8 characters),
// STATUS, LAUNCH, STARTED BY, MAX LIFETIME (the max-lifetime tag's value).
// A cell that is not known is "-". Control characters in a value (a
// startedBy or a tag is anyone's text) are written as '?', so that no
// value can move the terminal's cursor or break a line. With color, whole
// lines are coloured after alignment, so that the escape sequences never
// count as width.
func WriteTable(w io.Writer, rows []Row, color bool) error {
	accounts := spansAccounts(rows)
	var buf bytes.Buffer // the aligned table, to colour
	bw := bufio.NewWriter(w)
	out := io.Writer(bw) // tabwriter writes each cell and its padding apart
	if color {
		out = &buf
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	head := []string{"AGE", "ACCOUNT", "REGION", "CLUSTER", "TASK", "ID", "STATUS", "LAUNCH", "STARTED BY", "MAX LIFETIME"}
	if !accounts {
		head = append(head[:1], head[2:]...)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	cells := make([]string, 0, len(head))
	for i := range rows {
		r, t := &rows[i], rows[i].Task
		age := "-"
		if r.KnownAge() {
			age = Age(r.Age)
		}
		cells = append(cells[:0], age)
		if accounts {
			cells = append(cells, t.Account)
		}
		maxLife := t.MaxLifetimeTag // "" below: "-", no tag
		if t.HasMaxLifetimeTag && maxLife == "" {
			maxLife = `""` // the tag with no value, which is not a duration
		}
		cells = append(cells, t.Region, t.Cluster, taskName(t), shortID(t.ARN), status(t), t.LaunchType, t.StartedBy, maxLife)
		for j, c := range cells {
			cells[j] = cell(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write the table: %w", err)
	}
	if !color {
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write the table: %w", err)
		}
		return nil
	}
	var colored strings.Builder
	for i, line := range strings.SplitAfter(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case i == 0:
			line = bold + line + reset
		case overMaxLifetime(&rows[i-1]):
			line = red + line + reset
		case !rows[i-1].Task.Running():
			line = yellow + line + reset
		}
		colored.WriteString(line + "\n")
	}
	_, err := io.WriteString(w, colored.String())
	return err
}

// spansAccounts reports whether the rows belong to more than one account.
func spansAccounts(rows []Row) bool {
	for i := range rows {
		if rows[i].Task.Account != rows[0].Task.Account {
			return true
		}
	}
	return false
}

// overMaxLifetime reports whether a running task has run at least the max
// lifetime its tag gives.
func overMaxLifetime(r *Row) bool {
	if !r.Task.Running() || !r.Task.HasMaxLifetimeTag || !r.KnownAge() {
		return false
	}
	d, err := time.ParseDuration(r.Task.MaxLifetimeTag)
	return err == nil && d > 0 && r.Age >= d
}

// cell makes a value safe for one table cell: "-" when empty, every
// control character (tab and newline included) as '?'.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// taskName is family:revision, or the family alone without a revision.
func taskName(t *uptime.Task) string {
	if t.Revision == "" {
		return t.Family
	}
	return t.Family + ":" + t.Revision
}

// taskID is the last part of a task ARN.
func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// shortID is the first 8 characters of the task ID, as messages name a
// task ("5c2f0b9e").
func shortID(arn string) string {
	id := taskID(arn)
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// status is the task's lastStatus; RUNNING from a source that lists
// running tasks only.
func status(t *uptime.Task) string {
	if t.Status == "" {
		return uptime.StatusRunning
	}
	return t.Status
}

// record is one task in the JSON output.
type record struct {
	TaskARN          string    `json:"task_arn"`
	ClusterARN       string    `json:"cluster_arn,omitempty"`
	Account          string    `json:"account"`
	Region           string    `json:"region"`
	Cluster          string    `json:"cluster"`
	Family           string    `json:"family"`
	Revision         string    `json:"revision"`
	ID               string    `json:"id"`
	Status           string    `json:"status"`
	Kind             string    `json:"kind"`
	Service          string    `json:"service,omitempty"`
	LaunchType       string    `json:"launch_type,omitempty"`
	CapacityProvider string    `json:"capacity_provider,omitempty"`
	StartedBy        string    `json:"started_by,omitempty"`
	MaxLifetime      *string   `json:"max_lifetime,omitempty"`
	CreatedAt        time.Time `json:"created_at,omitzero"`
	StartedAt        time.Time `json:"started_at,omitzero"`
	StoppingAt       time.Time `json:"stopping_at,omitzero"`
	Since            time.Time `json:"since,omitzero"`
	AgeSeconds       *int64    `json:"age_seconds"`
}

// WriteJSON writes rows as one JSON array, indented, of one object per
// task, an object at a time: the full task and cluster ARNs, account, region, cluster, family,
// revision, task ID, status, kind, service, launch type, capacity
// provider, startedBy, the max-lifetime tag's value (absent without the
// tag), createdAt, startedAt and stoppingAt as RFC 3339 times in UTC (each
// absent when unknown), since (when the age starts) and age_seconds (whole
// seconds, null when unknown). No row is an empty array, [].
func WriteJSON(w io.Writer, rows []Row) error {
	if len(rows) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer // one object
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	for i := range rows {
		r, t := &rows[i], rows[i].Task
		rec := record{
			TaskARN: t.ARN, ClusterARN: t.ClusterARN, Account: t.Account, Region: t.Region, Cluster: t.Cluster,
			Family: t.Family, Revision: t.Revision, ID: taskID(t.ARN), Status: status(t), Kind: t.Kind.String(),
			Service: t.Service, LaunchType: t.LaunchType, CapacityProvider: t.CapacityProvider, StartedBy: t.StartedBy,
			CreatedAt: utc(t.CreatedAt), StartedAt: utc(t.StartedAt), StoppingAt: utc(t.StoppingAt), Since: utc(r.Since),
		}
		if t.HasMaxLifetimeTag {
			rec.MaxLifetime = &t.MaxLifetimeTag
		}
		if r.KnownAge() {
			s := int64(r.Age / time.Second)
			rec.AgeSeconds = &s
		}
		buf.Reset()
		if i == 0 {
			buf.WriteString("[\n  ")
		} else {
			buf.WriteString(",\n  ")
		}
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	bw.WriteString("\n]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// csvHeader names the CSV columns: the table's, with the age in whole
// seconds (empty when unknown), the account always, the full task ID,
// then since (RFC 3339, UTC) and the task ARN.
var csvHeader = []string{"age_seconds", "account", "region", "cluster", "task", "id", "status", "launch", "started_by", "max_lifetime", "since", "task_arn"}

// WriteCSV writes rows as CSV (RFC 4180, with encoding/csv) under a header
// line (see csvHeader), written even when there is no row. Values are
// written as they are: a cell a spreadsheet would take for a formula is
// not altered.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for i := range rows {
		r, t := &rows[i], rows[i].Task
		age, since := "", ""
		if r.KnownAge() {
			age = strconv.FormatInt(int64(r.Age/time.Second), 10)
			since = r.Since.UTC().Format(time.RFC3339Nano)
		}
		cw.Write([]string{age, t.Account, t.Region, t.Cluster, taskName(t), taskID(t.ARN), status(t), t.LaunchType, t.StartedBy, t.MaxLifetimeTag, since, t.ARN})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}
