package receiver

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		line string
		want Packet
		bad  bool
	}{
		{line: "ecs.task.uptime:93630.25|g|#task_arn:arn:aws:ecs:r:1:task/c/x,env:prod",
			want: Packet{Kind: Metric, Name: "ecs.task.uptime", Value: 93630.25, Type: "g", Tags: []string{"task_arn:arn:aws:ecs:r:1:task/c/x", "env:prod"}, Fields: map[string]string{}}},
		{line: "m:1|c|@0.5|c:ci-abc",
			want: Packet{Kind: Metric, Name: "m", Value: 1, Type: "c", Fields: map[string]string{"@": "0.5", "c": "ci-abc"}}},
		{line: "_sc|ecs.task.lifetime|2|#task_arn:x|m:task has run 26h|over 24h",
			want: Packet{Kind: ServiceCheck, Name: "ecs.task.lifetime", Status: 2, Text: "task has run 26h|over 24h", Tags: []string{"task_arn:x"}, Fields: map[string]string{}}},
		{line: `_e{5,12}:title|line1\nline2|k:arn|t:error|#a:b`,
			want: Packet{Kind: Event, Name: "title", Text: "line1\nline2", Tags: []string{"a:b"}, Fields: map[string]string{"k": "arn", "t": "error"}}},
		{line: "_e{2,2}:ab|cd",
			want: Packet{Kind: Event, Name: "ab", Text: "cd", Fields: map[string]string{}}},
		{line: "novalue|g", bad: true},
		{line: "m:abc|g", bad: true},
		{line: "m:1", bad: true},
		{line: "_sc|name|7", bad: true},
		{line: "_sc||0", bad: true},
		{line: "_e{9,2}:ab|cd", bad: true},
		{line: "_e{1,1}:ab|cd", bad: true},
		{line: "m:1|g|weird", bad: true},
	}
	for _, tc := range tests {
		got, err := Parse(tc.line)
		if tc.bad {
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want an error", tc.line, got)
			}
			continue
		}
		tc.want.Raw = tc.line
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q)\n got %+v, %v\nwant %+v", tc.line, got, err, tc.want)
		}
	}
}
